//! Isolation: what turns a process into a *container*.
//!
//! In the default [`IsolationMode::Process`] a container is a process group in cgroups, nothing
//! more (lab 01's first chapter). The two other modes wrap it in Linux namespaces, as real
//! runtimes do:
//!
//! - [`namespaces`] decides which namespaces a pod owns and in which order a container joins them.
//! - [`mounts`] plans the mount namespace of a container: its root file system, an overlay of a
//!   read-only image and a writable layer, and a fresh `/proc`.
//! - [`rootfs`] assembles an image's root file system from the host's binaries.
//! - [`network`] gives a pod in [`IsolationMode::Root`] a network namespace, a veth pair and a
//!   real IP on a host bridge.
//! - [`helper`] is the code that runs in the helper process (`skiff-image pod-sandbox` and
//!   `skiff-image pod-enter`), where it is safe to call `unshare(2)` and `fork(2)`.

pub mod helper;
pub mod mounts;
pub mod namespaces;
pub mod network;
pub mod rootfs;
mod sys;

use std::fmt;
use std::str::FromStr;

pub use mounts::{MountStep, mount_plan};
pub use namespaces::{Namespace, join_order, sandbox_namespaces};

// ANCHOR: isolation_mode
/// How strongly a runtime isolates its pods from the host and from each other.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum IsolationMode {
    /// Plain processes in cgroups with a loopback pod IP: works everywhere, no privilege needed.
    #[default]
    Process,
    /// User, pid, uts and ipc namespaces per pod and a mount namespace per container, created
    /// through an unprivileged user namespace (as rootless Podman does). No root needed.
    Rootless,
    /// Pid, uts, ipc and network namespaces per pod, a mount namespace per container, and a
    /// veth pair to a host bridge with a real pod IP. Needs root.
    Root,
}
// ANCHOR_END: isolation_mode

impl IsolationMode {
    /// Every mode, weakest first.
    pub const ALL: [IsolationMode; 3] = [
        IsolationMode::Process,
        IsolationMode::Rootless,
        IsolationMode::Root,
    ];

    /// The mode's name, as accepted by [`IsolationMode::from_str`].
    pub fn name(self) -> &'static str {
        match self {
            IsolationMode::Process => "process",
            IsolationMode::Rootless => "rootless",
            IsolationMode::Root => "root",
        }
    }

    /// Does this mode wrap containers in namespaces?
    pub fn uses_namespaces(self) -> bool {
        self != IsolationMode::Process
    }
}

impl fmt::Display for IsolationMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for IsolationMode {
    type Err = crate::RuntimeError;

    /// Parses `process`, `rootless` or `root`.
    fn from_str(text: &str) -> crate::Result<Self> {
        IsolationMode::ALL
            .into_iter()
            .find(|mode| mode.name() == text)
            .ok_or_else(|| {
                crate::RuntimeError::invalid(
                    "isolation",
                    format!("must be one of process, rootless, root; got {text:?}"),
                )
            })
    }
}
