//! Finding out which cgroup controllers this process may use, in which version, and where.
//!
//! Two files tell the whole story. `/proc/self/cgroup` says which group this process is in for
//! each hierarchy (`4:memory:/some/path` for v1, `0::/some/path` for v2), and
//! `/proc/self/mountinfo` says where each hierarchy is mounted. A controller mounted on its own
//! (v1) hierarchy can only be used there; otherwise it may be available in the v2 hierarchy,
//! if that group's `cgroup.controllers` lists it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{CgroupVersion, Controller};

/// Where groups for one controller are created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControllerDir {
    /// The hierarchy's version.
    pub version: CgroupVersion,
    /// The directory of this process's own group in that hierarchy; the runtime's groups go
    /// below it, so they stay inside whatever limits this process already lives under.
    pub dir: PathBuf,
}

/// For each controller, where (and whether) the runtime can create groups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CgroupLayout {
    dirs: BTreeMap<Controller, ControllerDir>,
}

/// One cgroup file system mount, from `/proc/self/mountinfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CgroupMount {
    /// The path inside the hierarchy that is mounted (usually `/`).
    root: String,
    /// Where it is mounted, e.g. `/sys/fs/cgroup/memory`.
    mount_point: PathBuf,
    /// v1 or v2.
    version: CgroupVersion,
    /// For v1, the controllers bound to this hierarchy (from the super options).
    controllers: Vec<String>,
}

impl CgroupLayout {
    /// A layout with no controller at all (cgroups unavailable or disabled).
    pub fn none() -> Self {
        CgroupLayout::default()
    }

    /// Reads this process's cgroup membership and the mount table of the machine.
    pub fn detect() -> Self {
        let membership = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        Self::from_proc(&membership, &mountinfo, |dir| {
            std::fs::read_to_string(dir.join("cgroup.controllers")).unwrap_or_default()
        })
    }

    /// The pure part of [`CgroupLayout::detect`]: `v2_controllers` reads the
    /// `cgroup.controllers` file of a v2 directory.
    pub fn from_proc(
        membership: &str,
        mountinfo: &str,
        v2_controllers: impl Fn(&Path) -> String,
    ) -> Self {
        let mounts = parse_mounts(mountinfo);
        let mut dirs = BTreeMap::new();
        for controller in Controller::ALL {
            if let Some(dir) = v1_dir(controller, membership, &mounts)
                .or_else(|| v2_dir(controller, membership, &mounts, &v2_controllers))
            {
                dirs.insert(controller, dir);
            }
        }
        CgroupLayout { dirs }
    }

    /// Where groups for this controller go, if it is usable.
    pub fn dir(&self, controller: Controller) -> Option<&ControllerDir> {
        self.dirs.get(&controller)
    }

    /// The same layout without one controller (used when creating its group fails).
    pub fn without(mut self, controller: Controller) -> Self {
        self.dirs.remove(&controller);
        self
    }
}

/// The v1 directory for `controller`: a `cgroup` mount that lists it, joined with this
/// process's path in that hierarchy (relative to the mount's root).
fn v1_dir(
    controller: Controller,
    membership: &str,
    mounts: &[CgroupMount],
) -> Option<ControllerDir> {
    let mount = mounts.iter().find(|m| {
        m.version == CgroupVersion::V1 && m.controllers.iter().any(|c| c == controller.name())
    })?;
    let own_path = membership.lines().find_map(|line| {
        let mut fields = line.splitn(3, ':');
        let (_id, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
        controllers
            .split(',')
            .any(|c| c == controller.name())
            .then_some(path)
    })?;
    Some(ControllerDir {
        version: CgroupVersion::V1,
        dir: join_below_root(mount, own_path),
    })
}

/// The v2 directory for `controller`: the unified mount joined with this process's `0::` path,
/// if that group's `cgroup.controllers` offers the controller.
fn v2_dir(
    controller: Controller,
    membership: &str,
    mounts: &[CgroupMount],
    v2_controllers: &impl Fn(&Path) -> String,
) -> Option<ControllerDir> {
    let mount = mounts.iter().find(|m| m.version == CgroupVersion::V2)?;
    let own_path = membership
        .lines()
        .find_map(|line| line.strip_prefix("0::"))?;
    let dir = join_below_root(mount, own_path);
    let offered = v2_controllers(&dir);
    offered
        .split_whitespace()
        .any(|c| c == controller.name())
        .then_some(ControllerDir {
            version: CgroupVersion::V2,
            dir,
        })
}

/// `mount_point` + (`own_path` without the mount's root): inside a container the hierarchy is
/// often mounted from a sub-directory, and `/proc/self/cgroup` still shows the full path.
fn join_below_root(mount: &CgroupMount, own_path: &str) -> PathBuf {
    let relative = own_path
        .strip_prefix(mount.root.as_str())
        .unwrap_or(own_path);
    mount.mount_point.join(relative.trim_start_matches('/'))
}

/// The cgroup mounts of a mountinfo table. A line reads
/// `id parent dev root mount_point options [optional...] - fstype source super_options`.
fn parse_mounts(mountinfo: &str) -> Vec<CgroupMount> {
    mountinfo
        .lines()
        .filter_map(|line| {
            let (before, after) = line.split_once(" - ")?;
            let before: Vec<&str> = before.split(' ').collect();
            let after: Vec<&str> = after.split(' ').collect();
            let (root, mount_point) = (*before.get(3)?, *before.get(4)?);
            let (fstype, super_options) = (*after.first()?, after.get(2).copied().unwrap_or(""));
            let version = match fstype {
                "cgroup" => CgroupVersion::V1,
                "cgroup2" => CgroupVersion::V2,
                _ => return None,
            };
            Some(CgroupMount {
                root: root.to_string(),
                mount_point: PathBuf::from(mount_point),
                version,
                controllers: super_options.split(',').map(str::to_string).collect(),
            })
        })
        .collect()
}
