//! What the kubelet asks for: the CRI-shaped configs of a pod sandbox and of a container.
//!
//! These mirror `PodSandboxConfig` and `ContainerConfig` of Kubernetes' CRI, cut down to what
//! skiff runs. They are the runtime's own types on purpose: the runtime knows nothing about
//! Pods, just as containerd knows nothing about them; the kubelet translates.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use crate::error::{Result, RuntimeError};

// ANCHOR: sandbox_config
/// Everything the runtime needs to know to set up a pod's sandbox (its shared "box").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodSandboxConfig {
    /// The pod's name (a DNS-1123 label); containers see it as `POD_NAME` and `HOSTNAME`.
    pub name: String,
    /// The pod's namespace (a DNS-1123 label); containers see it as `POD_NAMESPACE`.
    pub namespace: String,
    /// The pod's uid, unique over time even when a pod with the same name is recreated.
    pub uid: String,
    /// Labels, used by `list_pod_sandboxes` filters.
    pub labels: BTreeMap<String, String>,
}
// ANCHOR_END: sandbox_config

// ANCHOR: container_config
/// Everything the runtime needs to know to create one container inside a sandbox.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerConfig {
    /// The container's name within its pod (a DNS-1123 label).
    pub name: String,
    /// The image: `skiff/<program>:<tag>` for a built-in program, anything else names a host
    /// command (see [`crate::image`]).
    pub image: String,
    /// Replaces the image's entrypoint (like `command` in a Pod spec) when not empty.
    pub command: Vec<String>,
    /// Arguments given to the entrypoint (like `args` in a Pod spec).
    pub args: Vec<String>,
    /// Environment variables, in order; later ones win over earlier ones and over the pod's.
    pub env: Vec<(String, String)>,
    /// The directory the process starts in; by default the sandbox's own directory (in
    /// `process` mode, the container's mount root when it has [`Mount`]s).
    pub working_dir: Option<PathBuf>,
    /// Memory, CPU and process-count limits, enforced with cgroups where the machine allows.
    pub limits: ResourceLimits,
    /// Labels, used by `list_containers` filters.
    pub labels: BTreeMap<String, String>,
    /// Host files and directories that appear at paths inside the container (see [`Mount`]).
    pub mounts: Vec<Mount>,
}

/// Resource limits of one container. `None` means "no limit".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResourceLimits {
    /// Maximum memory in bytes; going over it gets the container OOM-killed.
    pub memory_bytes: Option<u64>,
    /// CPU time in thousandths of a CPU (`500` = half a core), enforced as a CFS quota.
    pub cpu_millicores: Option<u64>,
    /// Maximum number of processes (and threads) in the container.
    pub pids: Option<u64>,
}
// ANCHOR_END: container_config

// ANCHOR: mount
/// A host file or directory that appears at `container_path` (CRI's `Mount`): the kubelet's
/// volumes and the pod's hosts file. In a namespaced pod it is bind-mounted into the
/// container's root file system. In `process` mode there is no root file system of its own:
/// the container gets a directory standing for `/` (its *mount root*, given to the process as
/// `SKIFF_ROOT` and used as its working directory) where `container_path` is a symlink to
/// `host_path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// The file or directory on the host; it must exist when the container is created.
    pub host_path: PathBuf,
    /// Where it appears in the container: absolute, without `..`, not `/` itself.
    pub container_path: PathBuf,
}
// ANCHOR_END: mount

/// The environment variable naming a `process`-mode container's mount root (see [`Mount`]).
pub const ROOT_ENV: &str = "SKIFF_ROOT";

/// The smallest memory limit accepted: below 1 MiB no program can even be loaded.
pub const MIN_MEMORY_BYTES: u64 = 1024 * 1024;
/// The smallest CPU limit accepted: the kernel refuses CFS quotas under 1 ms per 100 ms period.
pub const MIN_CPU_MILLICORES: u64 = 10;

impl PodSandboxConfig {
    /// A sandbox config with a name, a namespace and a uid, and no labels.
    pub fn new(name: &str, namespace: &str, uid: &str) -> Self {
        PodSandboxConfig {
            name: name.into(),
            namespace: namespace.into(),
            uid: uid.into(),
            labels: BTreeMap::new(),
        }
    }

    /// Checks every field, naming the first one that is wrong.
    pub fn validate(&self) -> Result<()> {
        check_dns_label("name", &self.name)?;
        check_dns_label("namespace", &self.namespace)?;
        if self.uid.is_empty() {
            return Err(RuntimeError::invalid("uid", "must not be empty"));
        }
        Ok(())
    }
}

impl ContainerConfig {
    /// A container config with a name and an image; everything else empty.
    pub fn new(name: &str, image: &str) -> Self {
        ContainerConfig {
            name: name.into(),
            image: image.into(),
            ..Default::default()
        }
    }

    /// Sets the arguments.
    pub fn with_args<S: Into<String>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.args = args.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the command (the entrypoint override).
    pub fn with_command<S: Into<String>>(mut self, command: impl IntoIterator<Item = S>) -> Self {
        self.command = command.into_iter().map(Into::into).collect();
        self
    }

    /// Adds one environment variable.
    pub fn with_env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// Sets the resource limits.
    pub fn with_limits(mut self, limits: ResourceLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Checks every field, naming the first one that is wrong.
    pub fn validate(&self) -> Result<()> {
        check_dns_label("name", &self.name)?;
        if self.image.trim().is_empty() {
            return Err(RuntimeError::invalid("image", "must not be empty"));
        }
        for (index, (name, _)) in self.env.iter().enumerate() {
            if name.is_empty() || name.contains(['=', '\0']) {
                return Err(RuntimeError::invalid(
                    format!("env[{index}].name"),
                    "must be non-empty and contain neither '=' nor NUL",
                ));
            }
        }
        self.validate_mounts()?;
        self.limits.validate()
    }

    /// Checks the mounts: absolute host paths; container paths absolute, below `/`, without
    /// `..`, and each used once.
    fn validate_mounts(&self) -> Result<()> {
        let mut seen = Vec::new();
        for (index, mount) in self.mounts.iter().enumerate() {
            if !mount.host_path.is_absolute() {
                return Err(RuntimeError::invalid(
                    format!("mounts[{index}].host_path"),
                    format!("must be absolute, got {:?}", mount.host_path),
                ));
            }
            let field = format!("mounts[{index}].container_path");
            let inside = mount_relative_path(&mount.container_path)
                .map_err(|reason| RuntimeError::invalid(field.clone(), reason))?;
            if seen.contains(&inside) {
                return Err(RuntimeError::invalid(
                    field,
                    format!("{:?} is mounted twice", mount.container_path),
                ));
            }
            seen.push(inside);
        }
        Ok(())
    }
}

/// A container path (`/etc/web`) as a path relative to the container's root (`etc/web`), or
/// why it is not acceptable: not absolute, `/` itself, or with `..` (which could leave the root).
pub fn mount_relative_path(container_path: &Path) -> std::result::Result<PathBuf, String> {
    if !container_path.is_absolute() {
        return Err(format!("must be absolute, got {container_path:?}"));
    }
    let mut relative = PathBuf::new();
    for component in container_path.components() {
        match component {
            Component::RootDir | Component::CurDir => {}
            Component::Normal(part) => relative.push(part),
            _ => return Err(format!("must not contain '..', got {container_path:?}")),
        }
    }
    if relative.as_os_str().is_empty() {
        return Err("must not be / itself".into());
    }
    Ok(relative)
}

impl ResourceLimits {
    /// Checks that every limit that is set is one the kernel can enforce.
    pub fn validate(&self) -> Result<()> {
        if let Some(bytes) = self.memory_bytes
            && bytes < MIN_MEMORY_BYTES
        {
            return Err(RuntimeError::invalid(
                "limits.memory_bytes",
                format!("must be at least {MIN_MEMORY_BYTES} (1 MiB), got {bytes}"),
            ));
        }
        if let Some(millis) = self.cpu_millicores
            && millis < MIN_CPU_MILLICORES
        {
            return Err(RuntimeError::invalid(
                "limits.cpu_millicores",
                format!(
                    "must be at least {MIN_CPU_MILLICORES} (1 ms of CPU per 100 ms), got {millis}"
                ),
            ));
        }
        if self.pids == Some(0) {
            return Err(RuntimeError::invalid(
                "limits.pids",
                "must be at least 1, got 0",
            ));
        }
        Ok(())
    }
}

/// Checks a DNS-1123 label: 1–63 characters, lower-case letters, digits and '-', starting and
/// ending with a letter or digit. Names end up in paths and env vars, so they must be tame.
fn check_dns_label(field: &str, value: &str) -> Result<()> {
    let tame = value
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let ends_ok = !value.starts_with('-') && !value.ends_with('-');
    if value.is_empty() || value.len() > 63 || !tame || !ends_ok {
        return Err(RuntimeError::invalid(
            field,
            format!(
                "must be a DNS-1123 label (1-63 lower-case letters, digits or '-', \
                 starting and ending with a letter or digit), got {value:?}"
            ),
        ));
    }
    Ok(())
}
