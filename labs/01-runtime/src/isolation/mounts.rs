//! The mount namespace of a container: what gets mounted where, as a plan of plain data.
//!
//! Planning is kept apart from doing: [`mount_plan`] is a pure function (tested on any machine),
//! and the helper process executes its steps one by one with [`MountStep::apply`].

use std::fmt;
use std::path::{Path, PathBuf};

use super::sys;

// ANCHOR: mount_step
/// One step in setting up a container's file system view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountStep {
    /// Stop mount events propagating to the host: everything below happens in our copy only.
    MakePrivate,
    /// A fresh, empty, in-memory file system at `target` (it disappears with the namespace).
    Tmpfs {
        /// Where to mount it.
        target: PathBuf,
    },
    /// Creates a directory (a mount point or an overlay's working directory).
    CreateDir {
        /// The directory.
        path: PathBuf,
    },
    /// An overlay: reads fall through to `lower` (the image, never written), writes land in
    /// `upper` (the container's own layer); `work` is overlayfs's scratch space.
    Overlay {
        /// The read-only image layer.
        lower: PathBuf,
        /// The writable layer.
        upper: PathBuf,
        /// overlayfs's work directory, on the same file system as `upper`.
        work: PathBuf,
        /// Where the merged view appears.
        target: PathBuf,
    },
    /// A fresh `/proc`: it shows the processes of the pid namespace of the mounting process.
    Proc {
        /// Where to mount it.
        target: PathBuf,
    },
    /// Makes a host device file (`/dev/null`, ...) visible at `target` with a bind mount: an
    /// unprivileged user namespace cannot create device nodes, but it can bind existing ones.
    BindDevice {
        /// The host's device file.
        source: PathBuf,
        /// The (created, empty) file it is bound over.
        target: PathBuf,
    },
    /// Makes a host file or directory (a volume, the pod's hosts file) visible at `target`, in
    /// the container's writable layer (so the image is never changed).
    Bind {
        /// The host's file or directory.
        source: PathBuf,
        /// Where it appears; created (an empty file or directory, like `source`) if missing.
        target: PathBuf,
    },
    /// Makes `new_root` the root directory and detaches the old root, so the host's files are
    /// gone from this namespace altogether (a `chroot` would only hide them).
    PivotRoot {
        /// The future `/`.
        new_root: PathBuf,
    },
}
// ANCHOR_END: mount_step

/// The device files a container gets.
pub const DEVICES: [&str; 4] = ["null", "zero", "random", "urandom"];

// ANCHOR: mount_plan
/// The steps that give a container its root file system: `image` (read-only) overlaid with a
/// writable layer kept in a tmpfs at `layer_dir`, a fresh `/proc` and the [`DEVICES`], then
/// `pivot_root` into it.
///
/// Inside `layer_dir` (in this order): `upper` and `work` for overlayfs, `root` for the merged
/// view. The tmpfs comes first because overlayfs wants `upper` and `work` on one file system
/// that is not itself an overlay, and because a tmpfs vanishes with the namespace: nothing is
/// left to clean up on the host.
pub fn mount_plan(image: &Path, layer_dir: &Path) -> Vec<MountStep> {
    // EXERCISE(containers-mount-namespace): MakePrivate; Tmpfs at layer_dir; CreateDir upper, work, root; Overlay (image, upper, work) on root; Proc on root/proc; BindDevice /dev/<d> on root/dev/<d> for each of DEVICES; PivotRoot root
    let root = layer_dir.join("root");
    let mut plan = vec![
        MountStep::MakePrivate,
        MountStep::Tmpfs {
            target: layer_dir.to_path_buf(),
        },
    ];
    for dir in ["upper", "work", "root"] {
        plan.push(MountStep::CreateDir {
            path: layer_dir.join(dir),
        });
    }
    plan.push(MountStep::Overlay {
        lower: image.to_path_buf(),
        upper: layer_dir.join("upper"),
        work: layer_dir.join("work"),
        target: root.clone(),
    });
    plan.push(MountStep::Proc {
        target: root.join("proc"),
    });
    for device in DEVICES {
        plan.push(MountStep::BindDevice {
            source: Path::new("/dev").join(device),
            target: root.join("dev").join(device),
        });
    }
    plan.push(MountStep::PivotRoot { new_root: root });
    plan
    // END EXERCISE
}
// ANCHOR_END: mount_plan

impl MountStep {
    /// Executes the step with the matching system calls. Runs in the helper process, inside
    /// the container's new mount namespace.
    pub fn apply(&self) -> std::io::Result<()> {
        match self {
            MountStep::MakePrivate => sys::mount_private_recursive(Path::new("/")),
            MountStep::Tmpfs { target } => sys::mount_fs("tmpfs", target, "mode=0755"),
            MountStep::CreateDir { path } => std::fs::create_dir_all(path),
            MountStep::Overlay {
                lower,
                upper,
                work,
                target,
            } => {
                let options = format!(
                    "lowerdir={},upperdir={},workdir={}",
                    lower.display(),
                    upper.display(),
                    work.display()
                );
                sys::mount_fs("overlay", target, &options)
            }
            MountStep::Proc { target } => sys::mount_fs("proc", target, ""),
            MountStep::BindDevice { source, target } => {
                // The mount point must exist; it is created in the writable layer.
                std::fs::File::create(target)?;
                sys::bind_mount(source, target)
            }
            MountStep::Bind { source, target } => {
                if source.is_dir() {
                    std::fs::create_dir_all(target)?;
                } else {
                    if let Some(parent) = target.parent() {
                        std::fs::create_dir_all(parent)?;
                    }
                    if std::fs::symlink_metadata(target).is_err() {
                        std::fs::File::create(target)?;
                    }
                }
                sys::bind_mount(source, target)
            }
            MountStep::PivotRoot { new_root } => sys::pivot_root(new_root),
        }
    }
}

impl fmt::Display for MountStep {
    /// The step as the equivalent shell command, for the chapter and for error messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MountStep::MakePrivate => write!(f, "mount --make-rprivate /"),
            MountStep::Tmpfs { target } => write!(f, "mount -t tmpfs tmpfs {}", target.display()),
            MountStep::CreateDir { path } => write!(f, "mkdir -p {}", path.display()),
            MountStep::Overlay {
                lower,
                upper,
                work,
                target,
            } => write!(
                f,
                "mount -t overlay overlay -o lowerdir={},upperdir={},workdir={} {}",
                lower.display(),
                upper.display(),
                work.display(),
                target.display()
            ),
            MountStep::Proc { target } => write!(f, "mount -t proc proc {}", target.display()),
            MountStep::BindDevice { source, target } | MountStep::Bind { source, target } => {
                write!(f, "mount --bind {} {}", source.display(), target.display())
            }
            MountStep::PivotRoot { new_root } => {
                write!(f, "pivot_root {} (old root detached)", new_root.display())
            }
        }
    }
}

// ANCHOR: with_mounts
/// `plan` with a [`MountStep::Bind`] for each of `mounts` (host path, path in the container)
/// just before the `pivot_root`: the host paths are still reachable then, and the targets are
/// in the new root (`<layer_dir>/root`).
pub fn with_mounts(
    mut plan: Vec<MountStep>,
    mounts: &[(PathBuf, PathBuf)],
) -> crate::Result<Vec<MountStep>> {
    let Some(at) = plan
        .iter()
        .position(|step| matches!(step, MountStep::PivotRoot { .. }))
    else {
        return Ok(plan);
    };
    let MountStep::PivotRoot { new_root } = plan[at].clone() else {
        unreachable!("found above");
    };
    let mut binds = Vec::new();
    for (index, (host, inside)) in mounts.iter().enumerate() {
        let relative = crate::config::mount_relative_path(inside).map_err(|reason| {
            crate::RuntimeError::invalid(format!("mounts[{index}].container_path"), reason)
        })?;
        binds.push(MountStep::Bind {
            source: host.clone(),
            target: new_root.join(relative),
        });
    }
    plan.splice(at..at, binds);
    Ok(plan)
}
// ANCHOR_END: with_mounts
