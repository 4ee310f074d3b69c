//! Which namespaces a pod owns, and the order in which a container joins them.

use std::fmt;

use super::IsolationMode;
use crate::error::{Result, RuntimeError};

// ANCHOR: namespace
/// A kind of Linux namespace: each one gives its members a private view of one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Namespace {
    /// User and group ids: uid 0 inside can be an ordinary user outside.
    User,
    /// Process ids: the first process inside is PID 1 and only the namespace's processes are seen.
    Pid,
    /// The mount table: a root file system and a `/proc` of its own.
    Mount,
    /// The host name (UTS = "Unix Time-sharing System", the struct `uname` fills).
    Uts,
    /// System V IPC and POSIX message queues.
    Ipc,
    /// Network interfaces, addresses, routes and ports.
    Net,
}
// ANCHOR_END: namespace

impl Namespace {
    /// Every namespace kind skiff uses.
    pub const ALL: [Namespace; 6] = [
        Namespace::User,
        Namespace::Pid,
        Namespace::Mount,
        Namespace::Uts,
        Namespace::Ipc,
        Namespace::Net,
    ];

    /// The file name under `/proc/<pid>/ns/` (also the name used on the helper's command line).
    pub fn proc_name(self) -> &'static str {
        match self {
            Namespace::User => "user",
            Namespace::Pid => "pid",
            Namespace::Mount => "mnt",
            Namespace::Uts => "uts",
            Namespace::Ipc => "ipc",
            Namespace::Net => "net",
        }
    }

    /// The `CLONE_NEW*` flag that `unshare(2)` and `setns(2)` take for it.
    pub fn clone_flag(self) -> libc::c_int {
        match self {
            Namespace::User => libc::CLONE_NEWUSER,
            Namespace::Pid => libc::CLONE_NEWPID,
            Namespace::Mount => libc::CLONE_NEWNS,
            Namespace::Uts => libc::CLONE_NEWUTS,
            Namespace::Ipc => libc::CLONE_NEWIPC,
            Namespace::Net => libc::CLONE_NEWNET,
        }
    }

    /// Parses a comma-separated list of `/proc/<pid>/ns/` names, e.g. `user,pid,uts`.
    pub fn parse_list(text: &str) -> Result<Vec<Namespace>> {
        text.split(',')
            .filter(|name| !name.is_empty())
            .map(|name| {
                Namespace::ALL
                    .into_iter()
                    .find(|ns| ns.proc_name() == name)
                    .ok_or_else(|| {
                        RuntimeError::invalid(
                            "namespaces",
                            format!("unknown namespace {name:?} (user, pid, mnt, uts, ipc, net)"),
                        )
                    })
            })
            .collect()
    }

    /// Formats a list the way [`Namespace::parse_list`] reads it.
    pub fn format_list(namespaces: &[Namespace]) -> String {
        let names: Vec<&str> = namespaces.iter().map(|ns| ns.proc_name()).collect();
        names.join(",")
    }
}

impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.proc_name())
    }
}

// ANCHOR: sandbox_namespaces
/// The namespaces a pod sandbox owns in `mode`, in the order they must be created.
///
/// A pod shares pid, uts and ipc (and, in `Root` mode, net) between its containers, so the
/// sandbox owns those. Mount is *not* in the list: every container gets a mount namespace of
/// its own, because every container has its own image. `Rootless` adds a user namespace and
/// puts it first: creating it is what grants the unprivileged caller the right to create the
/// others.
pub fn sandbox_namespaces(mode: IsolationMode) -> Vec<Namespace> {
    // EXERCISE(containers-namespaces): Process owns none; Rootless: User first, then Pid, Uts, Ipc; Root: Pid, Uts, Ipc, Net (no User)
    match mode {
        IsolationMode::Process => Vec::new(),
        IsolationMode::Rootless => vec![
            Namespace::User,
            Namespace::Pid,
            Namespace::Uts,
            Namespace::Ipc,
        ],
        IsolationMode::Root => vec![
            Namespace::Pid,
            Namespace::Uts,
            Namespace::Ipc,
            Namespace::Net,
        ],
    }
    // END EXERCISE
}
// ANCHOR_END: sandbox_namespaces

// ANCHOR: join_order
/// The order in which a container joins its pod's namespaces with `setns(2)`.
///
/// The user namespace comes first: joining it is what gives the process the capabilities it
/// needs to join the others (they are owned by it). The mount namespace is never joined: a
/// container makes its own. Otherwise the order of `pod` is kept, without duplicates.
pub fn join_order(pod: &[Namespace]) -> Vec<Namespace> {
    // EXERCISE(containers-join-pod): User first if present, then the others in the given order; drop Mount and duplicates
    let mut order = Vec::new();
    if pod.contains(&Namespace::User) {
        order.push(Namespace::User);
    }
    for &namespace in pod {
        if namespace != Namespace::Mount && !order.contains(&namespace) {
            order.push(namespace);
        }
    }
    order
    // END EXERCISE
}
// ANCHOR_END: join_order
