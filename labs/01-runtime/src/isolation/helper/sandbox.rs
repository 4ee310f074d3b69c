//! `pod-sandbox`: creates a pod's namespaces and becomes its PID 1.

use std::io::Write;

use super::{READY_PREFIX, SandboxArgs, step};
use crate::error::Result;
use crate::isolation::namespaces::Namespace;
use crate::isolation::sys;

// ANCHOR: run_sandbox
/// `pod-sandbox`: creates the pod's namespaces and becomes (through one fork) its init.
pub(super) fn run(args: &SandboxArgs) -> Result<()> {
    // Our ids as the host knows them: the user namespace below will map root to them.
    let (uid, gid) = sys::user_ids();
    if let Some(netns) = &args.netns {
        let file = step(
            format!("opening {}", netns.display()),
            std::fs::File::open(netns),
        )?;
        step(
            "joining the pod network",
            sys::setns(&file, libc::CLONE_NEWNET),
        )?;
    }
    let flags = args
        .namespaces
        .iter()
        .filter(|ns| !(**ns == Namespace::Net && args.netns.is_some()))
        .fold(0, |flags, ns| flags | ns.clone_flag());
    step(
        format!("unshare({})", Namespace::format_list(&args.namespaces)),
        sys::unshare(flags),
    )?;
    if args.namespaces.contains(&Namespace::User) {
        map_root_to(uid, gid)?;
    }
    step("sethostname", sys::sethostname(&args.hostname))?;
    // The new pid namespace holds our *children*: the first one is its PID 1.
    let init = step("fork", sys::fork())?;
    if init == 0 {
        sys::die_with_parent();
        pod_init();
    }
    println!("{READY_PREFIX}{init}");
    let _ = std::io::stdout().flush();
    sys::outlive_termination_signals();
    let end = step("waiting for the pod's init", sys::wait_for(init))?;
    sys::end_like(end)
}
// ANCHOR_END: run_sandbox

// ANCHOR: map_root
/// Maps uid and gid 0 inside the new user namespace to our own ids outside: "root" in the pod
/// is us, and no one else. An unprivileged process may write exactly this one-line map, once,
/// and for the gid map only after giving up `setgroups` (else it could drop a group that
/// denies it access to a file, and gain access).
fn map_root_to(uid: libc::uid_t, gid: libc::gid_t) -> Result<()> {
    let write = |file: &str, text: String| {
        step(
            format!("writing /proc/self/{file}"),
            std::fs::write(format!("/proc/self/{file}"), text),
        )
    };
    write("uid_map", format!("0 {uid} 1\n"))?;
    write("setgroups", "deny\n".into())?;
    write("gid_map", format!("0 {gid} 1\n"))
}
// ANCHOR_END: map_root

// ANCHOR: pod_init
/// The pod's PID 1 (what Kubernetes' `pause` container does): hold the namespaces open, reap
/// every orphan that the kernel hands to it, and exit on SIGTERM or SIGINT. The kernel delivers
/// to a namespace's init only the signals it has handlers for, so without this loop a stray
/// SIGTERM would do nothing, and zombies would pile up.
fn pod_init() -> ! {
    loop {
        match sys::wait_for_signal(&[libc::SIGCHLD, libc::SIGTERM, libc::SIGINT]) {
            libc::SIGCHLD => sys::reap_ended_children(),
            _ => std::process::exit(0),
        }
    }
}
// ANCHOR_END: pod_init
