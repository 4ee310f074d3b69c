//! Creating, filling, watching and removing the cgroups of the runtime and of its containers.
//!
//! Layout: `<own group>/<runtime name>/<container id>` in every hierarchy the runtime uses, e.g.
//! `/sys/fs/cgroup/memory/skiff-1234-1/c-3`. Every container joins a group in *every* usable
//! controller, even without a limit, because a group is also the one reliable list of all its
//! processes: a grandchild that left the process group is still in the cgroup.

use std::collections::BTreeMap;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::{CgroupLayout, CgroupVersion, Controller, LimitFile, LimitSupport, limit_files};
use crate::config::ResourceLimits;
use crate::error::{Result, RuntimeError};

/// The parent groups of one runtime instance, one per usable controller.
#[derive(Debug, Default)]
pub struct RuntimeCgroups {
    parents: BTreeMap<Controller, (CgroupVersion, PathBuf)>,
}

/// The groups of one container.
#[derive(Debug, Clone)]
pub struct ContainerCgroup {
    /// The container's directory for each controller (v2 controllers share one directory).
    dirs: BTreeMap<Controller, (CgroupVersion, PathBuf)>,
}

impl RuntimeCgroups {
    /// No cgroups: every limit falls back to rlimits or is not enforced.
    pub fn none() -> Self {
        RuntimeCgroups::default()
    }

    /// Creates `<own group>/<name>` for every controller of `layout`. A controller whose group
    /// cannot be created (read-only file system, not root, v2 "no internal processes" rule) is
    /// left out, with a warning, rather than failing the runtime.
    pub fn create(layout: &CgroupLayout, name: &str) -> Self {
        let mut parents = BTreeMap::new();
        for controller in Controller::ALL {
            let Some(own) = layout.dir(controller) else {
                continue;
            };
            let parent = own.dir.join(name);
            match make_parent(own.version, &own.dir, &parent, controller) {
                Ok(()) => {
                    parents.insert(controller, (own.version, parent));
                }
                Err(error) => tracing::warn!(
                    controller = controller.name(),
                    %error,
                    "cgroup controller unusable, falling back"
                ),
            }
        }
        RuntimeCgroups { parents }
    }

    /// How limits of this controller are enforced.
    pub fn support(&self, controller: Controller) -> LimitSupport {
        match (self.parents.get(&controller), controller) {
            (Some((version, _)), _) => LimitSupport::Cgroup(*version),
            (None, Controller::Memory | Controller::Pids) => LimitSupport::Rlimit,
            (None, Controller::Cpu) => LimitSupport::NotEnforced,
        }
    }

    /// Creates the groups of one container and writes its limits into them.
    pub fn create_container(&self, id: &str, limits: &ResourceLimits) -> Result<ContainerCgroup> {
        let dirs: BTreeMap<_, _> = self
            .parents
            .iter()
            .map(|(controller, (version, parent))| (*controller, (*version, parent.join(id))))
            .collect();
        let group = ContainerCgroup { dirs };
        // All or nothing: a limit the kernel refuses must not leave half a group behind.
        group.fill(limits).inspect_err(|_| group.remove())?;
        Ok(group)
    }

    /// Removes the runtime's parent groups, and any container group still inside them (one
    /// whose container was never recorded, because creating it failed half-way).
    pub fn remove(&self) {
        let unique: BTreeMap<&PathBuf, ()> = self.parents.values().map(|(_, p)| (p, ())).collect();
        for parent in unique.keys() {
            let children = std::fs::read_dir(parent).into_iter().flatten().flatten();
            for child in children.filter(|entry| entry.path().is_dir()) {
                remove_dir(&child.path());
            }
            remove_dir(parent);
        }
    }
}

impl ContainerCgroup {
    /// Creates the group's directories and writes the limits. What to write is worked out
    /// first, so that nothing is created when that fails.
    fn fill(&self, limits: &ResourceLimits) -> Result<()> {
        let writes: Vec<(PathBuf, LimitFile)> = [CgroupVersion::V1, CgroupVersion::V2]
            .into_iter()
            .flat_map(|version| {
                limit_files(limits, version)
                    .into_iter()
                    .map(move |file| (version, file))
            })
            .filter_map(|(version, file)| match self.dirs.get(&file.controller) {
                Some((v, dir)) if *v == version => Some((dir.join(file.file), file)),
                _ => None,
            })
            .collect();
        for dir in self.unique_dirs() {
            create_dir(dir)?;
        }
        for (path, file) in writes {
            write_file(&path, &file.value)?;
        }
        Ok(())
    }

    /// Every distinct directory of this container (v2 controllers share one).
    fn unique_dirs(&self) -> Vec<&PathBuf> {
        let mut dirs: Vec<&PathBuf> = self.dirs.values().map(|(_, dir)| dir).collect();
        dirs.sort();
        dirs.dedup();
        dirs
    }

    /// The directory of this container's group for one controller.
    pub fn dir(&self, controller: Controller) -> Option<&Path> {
        self.dirs.get(&controller).map(|(_, dir)| dir.as_path())
    }

    /// The `cgroup.procs` files the new process must write itself into, as C strings prepared
    /// *before* forking: between fork and exec the child may not allocate.
    pub fn procs_files(&self) -> Vec<CString> {
        self.unique_dirs()
            .into_iter()
            .map(|dir| {
                CString::new(dir.join("cgroup.procs").as_os_str().as_bytes())
                    .expect("cgroup paths contain no NUL byte")
            })
            .collect()
    }

    /// Did the kernel's OOM killer kill a process of this group?
    pub fn oom_killed(&self) -> bool {
        let Some((version, dir)) = self.dirs.get(&Controller::Memory) else {
            return false;
        };
        let (file, key) = match version {
            CgroupVersion::V1 => ("memory.oom_control", "oom_kill"),
            CgroupVersion::V2 => ("memory.events", "oom_kill"),
        };
        let text = std::fs::read_to_string(dir.join(file)).unwrap_or_default();
        counter(&text, key).is_some_and(|kills| kills > 0)
    }

    /// The pids of every process still in the group (any controller's list will do).
    pub fn pids(&self) -> Vec<i32> {
        let mut pids: Vec<i32> = self
            .unique_dirs()
            .into_iter()
            .flat_map(|dir| {
                std::fs::read_to_string(dir.join("cgroup.procs"))
                    .unwrap_or_default()
                    .lines()
                    .filter_map(|l| l.trim().parse().ok())
                    .collect::<Vec<i32>>()
            })
            .collect();
        pids.sort_unstable();
        pids.dedup();
        pids
    }

    /// Removes the groups. The kernel refuses while a process is still inside, so the caller
    /// kills and reaps first; a short retry covers processes that are dying but not yet gone.
    pub fn remove(&self) {
        for dir in self.unique_dirs() {
            remove_dir(dir);
        }
    }
}

/// Creates a runtime parent group; in v2 also enables the controller for the groups below.
fn make_parent(
    version: CgroupVersion,
    own: &Path,
    parent: &Path,
    controller: Controller,
) -> Result<()> {
    create_dir(parent)?;
    if version == CgroupVersion::V2 {
        let enable = format!("+{}", controller.name());
        // A v2 controller is only available to children whose parent enabled it in its
        // `cgroup.subtree_control`; both our own group and the runtime's group must do so.
        write_file(&own.join("cgroup.subtree_control"), &enable)
            .and_then(|()| write_file(&parent.join("cgroup.subtree_control"), &enable))
            .inspect_err(|_| remove_dir(parent))?;
    }
    Ok(())
}

fn create_dir(dir: &Path) -> Result<()> {
    match std::fs::create_dir(dir) {
        Err(error) if error.kind() != std::io::ErrorKind::AlreadyExists => Err(RuntimeError::io(
            format!("creating cgroup {}", dir.display()),
            error,
        )),
        _ => Ok(()),
    }
}

fn write_file(path: &Path, value: &str) -> Result<()> {
    std::fs::write(path, value).map_err(|error| {
        RuntimeError::io(format!("writing {value:?} to {}", path.display()), error)
    })
}

/// `rmdir` with a bounded retry: a process that was just killed leaves its group a moment later.
fn remove_dir(dir: &Path) {
    for _ in 0..100 {
        match std::fs::remove_dir(dir) {
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return,
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(10)),
            Ok(()) => return,
        }
    }
    tracing::warn!(dir = %dir.display(), "could not remove cgroup");
}

/// The value of `key` in a flat-keyed file such as `memory.events` (`oom_kill 1`).
fn counter(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (name, value) = line.split_once(' ')?;
        (name == key).then(|| value.trim().parse().ok()).flatten()
    })
}
