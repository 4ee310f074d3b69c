//! `pod-enter`: joins a pod's namespaces and runs a container's program in its own root file
//! system.

use std::os::unix::process::CommandExt;

use super::{EnterArgs, step};
use crate::error::{Result, RuntimeError};
use crate::isolation::mounts::{mount_plan, with_mounts};
use crate::isolation::namespaces::join_order;
use crate::isolation::sys::{self, ChildEnd};

// ANCHOR: run_enter
/// `pod-enter`: joins the pod's namespaces, makes a mount namespace with the container's root
/// file system, and runs the program there, as a child (so that it is inside the pod's pid
/// namespace) whose end this process then mirrors.
pub(super) fn run(args: &EnterArgs) -> Result<()> {
    let order = join_order(&args.namespaces);
    // Open every namespace file first: once in the pod's user namespace, the host's /proc may
    // no longer be ours to read.
    let files = order
        .iter()
        .map(|ns| {
            let path = format!("/proc/{}/ns/{}", args.pod_pid, ns.proc_name());
            step(format!("opening {path}"), std::fs::File::open(&path))
        })
        .collect::<Result<Vec<_>>>()?;
    for (ns, file) in order.iter().zip(&files) {
        step(format!("setns({ns})"), sys::setns(file, ns.clone_flag()))?;
    }
    step("unshare(mnt)", sys::unshare(libc::CLONE_NEWNS))?;
    // The runtime's SIGTERM reaches this process too (same process group): survive it, and
    // let the container's program decide.
    sys::outlive_termination_signals();
    let child = step("fork", sys::fork())?;
    if child == 0 {
        sys::die_with_parent();
        let error = become_container(args);
        eprintln!("skiff-image pod-enter: {error}");
        std::process::exit(127);
    }
    let end: ChildEnd = step("waiting for the container", sys::wait_for(child))?;
    sys::end_like(end)
}

/// In the forked child: mounts the root file system, moves into it and execs the program.
/// Returns only on failure.
fn become_container(args: &EnterArgs) -> RuntimeError {
    let plan = match with_mounts(mount_plan(&args.image, &args.layer_dir), &args.mounts) {
        Ok(plan) => plan,
        Err(error) => return error,
    };
    for mount in plan {
        if let Err(error) = mount.apply() {
            return RuntimeError::io(mount.to_string(), error);
        }
    }
    if let Err(error) = std::env::set_current_dir(&args.workdir) {
        return RuntimeError::io_at("changing to", &args.workdir, error);
    }
    let error = std::process::Command::new(&args.command[0])
        .args(&args.command[1..])
        .exec();
    RuntimeError::io(format!("executing {}", args.command[0]), error)
}
// ANCHOR_END: run_enter
