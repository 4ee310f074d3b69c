//! The runtime's side of isolation: starting a pod's namespaces (its init process and, in
//! `root` mode, its network) and wrapping a container's command so it enters them.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

use crate::config::PodSandboxConfig;
use crate::error::{Result, RuntimeError};
use crate::image::ResolvedCommand;
use crate::isolation::helper::{EnterArgs, READY_PREFIX, SandboxArgs};
use crate::isolation::network::{Bridge, PodNetwork};
use crate::isolation::{IsolationMode, Namespace, sandbox_namespaces};
use crate::process::{self, ProcessGroup, SpawnPlan, kill_and_reap};
use crate::status::SandboxId;

/// How long a sandbox helper may take to report its namespaces ready. Only a broken helper
/// ever gets near it; it turns a hang into an error.
const READY_BOUND: Duration = Duration::from_secs(30);

/// Makes writable-layer directories unique.
static LAYERS: AtomicU64 = AtomicU64::new(0);

/// Makes veth names unique across every runtime of this process.
static VETHS: AtomicU64 = AtomicU64::new(0);

/// What a runtime needs for namespaced pods; absent in `process` mode.
#[derive(Debug)]
pub(crate) struct RuntimeIsolation {
    pub mode: IsolationMode,
    /// The `skiff-image` binary, which is also the helper.
    pub helper: PathBuf,
    /// Where image root file systems are cached.
    pub images_dir: PathBuf,
    /// In `root` mode: the bridge, and whether this runtime created it (and so removes it).
    pub bridge: Option<(Bridge, bool)>,
}

/// The namespaced part of one sandbox.
#[derive(Debug)]
pub(crate) struct PodIsolation {
    /// The `pod-sandbox` helper; the pod's init is its child, in the same process group.
    pub helper: tokio::process::Child,
    pub group: ProcessGroup,
    /// The host pid of the pod's PID 1: containers join its `/proc/<pid>/ns/*`.
    pub init_pid: i32,
    pub namespaces: Vec<Namespace>,
    pub network: Option<PodNetwork>,
}

/// The root file system of one container in a namespaced pod.
#[derive(Debug, Clone)]
pub(crate) struct ContainerRootfs {
    /// The image (the overlay's read-only layer).
    pub image: PathBuf,
    /// The program's path inside the image.
    pub program: PathBuf,
    /// The directory that holds the writable layer.
    pub layer_dir: PathBuf,
}

impl RuntimeIsolation {
    /// Everything `mode` needs before the first pod, or `None` for `process`.
    pub fn set_up(
        mode: IsolationMode,
        helper: PathBuf,
        root_dir: &Path,
        bridge: Option<Bridge>,
    ) -> Result<Option<Self>> {
        if !mode.uses_namespaces() {
            return Ok(None);
        }
        let images_dir = root_dir.join("images");
        std::fs::create_dir_all(&images_dir)
            .map_err(|error| RuntimeError::io_at("creating", &images_dir, error))?;
        let bridge = match bridge {
            Some(bridge) => {
                let created = bridge.ensure()?;
                Some((bridge, created))
            }
            None => None,
        };
        Ok(Some(RuntimeIsolation {
            mode,
            helper,
            images_dir,
            bridge,
        }))
    }

    /// Removes what `set_up` created.
    pub fn tear_down(&self) {
        if let Some((bridge, true)) = &self.bridge {
            bridge.remove();
        }
    }

    /// The network a new pod gets in `root` mode.
    fn pod_network(&self, netns: String, ip: std::net::Ipv4Addr) -> Option<PodNetwork> {
        let (bridge, _) = self.bridge.as_ref()?;
        let number = VETHS.fetch_add(1, Ordering::Relaxed);
        Some(PodNetwork {
            netns,
            // "sk" + up to 6 hex digits of the pid + "-" + a counter: within the kernel's 15.
            host_veth: format!("sk{:x}-{number:x}", std::process::id()),
            ip,
            bridge: bridge.clone(),
        })
    }

    // ANCHOR: start_pod
    /// Starts a pod's namespaces: wires its network (in `root` mode), then starts the
    /// `pod-sandbox` helper and waits for its `ready <pid>` line.
    pub async fn start_pod(
        &self,
        runtime_name: &str,
        id: &SandboxId,
        config: &PodSandboxConfig,
        ip: std::net::Ipv4Addr,
        dir: &Path,
    ) -> Result<PodIsolation> {
        let network = self.pod_network(format!("{runtime_name}-{id}"), ip);
        if let Some(network) = network.clone() {
            blocking(move || network.setup()).await?;
        }
        let namespaces = sandbox_namespaces(self.mode);
        let args = SandboxArgs {
            namespaces: namespaces.clone(),
            hostname: config.name.clone(),
            netns: network.as_ref().map(PodNetwork::netns_path),
        };
        let started = self.spawn_sandbox_helper(&args, dir).await;
        match started {
            Ok((helper, init_pid)) => Ok(PodIsolation {
                group: ProcessGroup(helper.id().unwrap_or_default() as i32),
                helper,
                init_pid,
                namespaces,
                network,
            }),
            Err(error) => {
                if let Some(network) = network {
                    blocking(move || {
                        network.teardown();
                        Ok(())
                    })
                    .await?;
                }
                Err(error)
            }
        }
    }
    // ANCHOR_END: start_pod

    /// Spawns `skiff-image pod-sandbox ...` and reads the pid of the pod's init from it.
    async fn spawn_sandbox_helper(
        &self,
        args: &SandboxArgs,
        dir: &Path,
    ) -> Result<(tokio::process::Child, i32)> {
        let mut command_args = vec!["pod-sandbox".to_string()];
        command_args.extend(args.to_args());
        let plan = SpawnPlan {
            command: ResolvedCommand {
                program: self.helper.clone(),
                args: command_args,
            },
            env: vec![],
            working_dir: dir.to_path_buf(),
            cgroup_procs: vec![],
            rlimits: vec![],
        };
        let mut helper = process::spawn(&plan)
            .map_err(|error| RuntimeError::io("starting the pod-sandbox helper", error))?;
        let stdout = helper.stdout.take().expect("stdout is piped");
        let mut first_line = String::new();
        let mut reader = BufReader::new(stdout);
        let _ = tokio::time::timeout(READY_BOUND, reader.read_line(&mut first_line)).await;
        let ready = first_line.trim().strip_prefix(READY_PREFIX.trim_end());
        if let Some(Ok(pid)) = ready.map(|pid| pid.trim().parse()) {
            return Ok((helper, pid));
        }
        let _ = helper.start_kill();
        let _ = helper.wait().await;
        let mut stderr = String::new();
        if let Some(mut err) = helper.stderr.take() {
            let _ = err.read_to_string(&mut stderr).await;
        }
        Err(RuntimeError::io(
            format!("starting {} pod namespaces: {}", self.mode, stderr.trim()),
            std::io::Error::other("the pod-sandbox helper did not report ready"),
        ))
    }

    /// The image root file system of a container's program, assembled on first use, and a
    /// fresh directory in `sandbox_dir` for its writable layer.
    pub async fn rootfs(&self, program: &Path, sandbox_dir: &Path) -> Result<ContainerRootfs> {
        let layer_dir =
            sandbox_dir.join(format!("layer-{}", LAYERS.fetch_add(1, Ordering::Relaxed)));
        let (images_dir, program) = (self.images_dir.clone(), program.to_path_buf());
        let (image, inside) =
            blocking(move || crate::isolation::rootfs::image_rootfs(&images_dir, &program)).await?;
        std::fs::create_dir_all(&layer_dir)
            .map_err(|error| RuntimeError::io_at("creating", &layer_dir, error))?;
        Ok(ContainerRootfs {
            image,
            program: inside,
            layer_dir,
        })
    }

    // ANCHOR: wrap_command
    /// Wraps a container's command in `skiff-image pod-enter`, which joins the pod's namespaces
    /// and runs the program inside its root file system.
    pub fn wrap(
        &self,
        pod: &PodIsolation,
        rootfs: &ContainerRootfs,
        command: &ResolvedCommand,
        workdir: Option<&Path>,
        mounts: &[crate::config::Mount],
    ) -> ResolvedCommand {
        let mut inside = vec![rootfs.program.display().to_string()];
        inside.extend(command.args.iter().cloned());
        let enter = EnterArgs {
            pod_pid: pod.init_pid,
            namespaces: pod.namespaces.clone(),
            image: rootfs.image.clone(),
            layer_dir: rootfs.layer_dir.clone(),
            workdir: workdir.map_or_else(|| PathBuf::from("/"), Path::to_path_buf),
            mounts: mounts
                .iter()
                .map(|m| (m.host_path.clone(), m.container_path.clone()))
                .collect(),
            command: inside,
        };
        let mut args = vec!["pod-enter".to_string()];
        args.extend(enter.to_args());
        ResolvedCommand {
            program: self.helper.clone(),
            args,
        }
    }
    // ANCHOR_END: wrap_command
}

impl PodIsolation {
    /// Kills the pod's init (and with it every process left in its pid namespace) and the
    /// helper, reaps them, and removes the network.
    pub async fn stop(mut self) {
        self.group.signal(libc::SIGKILL);
        let _ = self.helper.wait().await;
        let group = self.group;
        let network = self.network.take();
        let _ = blocking(move || {
            kill_and_reap(group, None);
            if let Some(network) = network {
                network.teardown();
            }
            Ok(())
        })
        .await;
    }

    /// The synchronous version of [`PodIsolation::stop`], for `Drop`.
    pub fn stop_now(&self) {
        kill_and_reap(self.group, None);
        if let Some(network) = &self.network {
            network.teardown();
        }
    }
}

/// Runs blocking work (file copies, `ip` commands) off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| RuntimeError::io("a blocking task", std::io::Error::other(error)))?
}
