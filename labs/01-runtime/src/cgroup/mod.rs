//! Resource limits with Linux control groups (cgroups), v1 and v2.
//!
//! A cgroup is a directory in a special file system. Writing a pid into its `cgroup.procs`
//! moves that process (and its future children) into the group; writing numbers into its other
//! files limits what the whole group may use. The runtime gives each container its own group.
//!
//! - [`detect`] finds, per controller, where this process may create groups and in which version.
//! - [`limits`] computes which file gets which value for a container's limits.
//! - [`group`] creates, fills, watches and removes the groups of one container.

pub mod detect;
pub mod group;
pub mod limits;

use std::fmt;

pub use detect::CgroupLayout;
pub use group::{ContainerCgroup, RuntimeCgroups};
pub use limits::{LimitFile, limit_files};

/// The two cgroup file system layouts the kernel offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CgroupVersion {
    /// One hierarchy per controller (`/sys/fs/cgroup/memory/...`), files like `memory.limit_in_bytes`.
    V1,
    /// One unified hierarchy for every controller, files like `memory.max`.
    V2,
}

/// The three controllers the runtime uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Controller {
    /// Limits memory; the kernel OOM-kills inside the group when it is over.
    Memory,
    /// Limits CPU time per period (the CFS bandwidth quota).
    Cpu,
    /// Limits the number of processes and threads.
    Pids,
}

impl Controller {
    /// Every controller, in the order limits are applied.
    pub const ALL: [Controller; 3] = [Controller::Memory, Controller::Cpu, Controller::Pids];

    /// The kernel's name for it, as in `/proc/self/cgroup` and `cgroup.controllers`.
    pub fn name(self) -> &'static str {
        match self {
            Controller::Memory => "memory",
            Controller::Cpu => "cpu",
            Controller::Pids => "pids",
        }
    }
}

/// How the runtime enforces one kind of limit on this machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitSupport {
    /// With a cgroup of this version.
    Cgroup(CgroupVersion),
    /// With a per-process rlimit (weaker: see the chapter).
    Rlimit,
    /// Not at all: the limit is accepted and ignored (and a warning is logged).
    NotEnforced,
}

impl fmt::Display for LimitSupport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LimitSupport::Cgroup(CgroupVersion::V1) => f.write_str("cgroup v1"),
            LimitSupport::Cgroup(CgroupVersion::V2) => f.write_str("cgroup v2"),
            LimitSupport::Rlimit => f.write_str("rlimit fallback (no cgroup)"),
            LimitSupport::NotEnforced => f.write_str("not enforced (no cgroup, no rlimit)"),
        }
    }
}
