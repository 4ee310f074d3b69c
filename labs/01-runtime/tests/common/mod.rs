//! Helpers shared by the integration tests (each test file uses a subset of them).
#![allow(dead_code)]

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use runtime::{
    ContainerConfig, ContainerId, ContainerRuntime, ContainerStatus, PodSandboxConfig, RealRuntime,
    RuntimeConfig, SandboxId,
};

/// A generous bound that only a broken runtime ever reaches: a hang becomes a clear failure.
pub const HANG_GUARD: Duration = Duration::from_secs(60);

/// A real runtime rooted in `dir`, with its own pod range (tests run in parallel) and the
/// `skiff-image` binary cargo built for this package.
pub fn real_runtime(dir: &Path, pod_range: (Ipv4Addr, u8)) -> RealRuntime {
    let mut config = RuntimeConfig::new(dir);
    config.pod_range = pod_range;
    config.node_name = Some("node-test".into());
    config.image_binary = Some(PathBuf::from(env!("CARGO_BIN_EXE_skiff-image")));
    RealRuntime::new(config).expect("runtime starts")
}

/// A Ready sandbox named `name` in namespace `test`.
pub async fn sandbox(rt: &impl ContainerRuntime, name: &str) -> SandboxId {
    rt.run_pod_sandbox(PodSandboxConfig::new(name, "test", &format!("uid-{name}")))
        .await
        .expect("sandbox runs")
}

/// Creates and starts a container.
pub async fn start(
    rt: &impl ContainerRuntime,
    sandbox: &SandboxId,
    config: ContainerConfig,
) -> ContainerId {
    let id = rt
        .create_container(sandbox, config)
        .await
        .expect("container is created");
    rt.start_container(&id).await.expect("container starts");
    id
}

/// Waits for a container's exit, failing the test instead of hanging.
pub async fn exited(rt: &RealRuntime, id: &ContainerId) -> ContainerStatus {
    tokio::time::timeout(HANG_GUARD, rt.wait_for_exit(id))
        .await
        .expect("container exits")
        .expect("status of an existing container")
}

/// What a process does with SIGTERM, from the `SigCgt`/`SigIgn` masks of `/proc/<pid>/status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TermDisposition {
    /// A handler is installed.
    Caught,
    /// SIGTERM is ignored.
    Ignored,
}

/// Waits until process `pid` has set up its SIGTERM handling, so that a test's SIGTERM is not
/// delivered before the program had a chance to catch or ignore it.
pub async fn wait_for_term_disposition(pid: u32, want: TermDisposition) {
    let field = match want {
        TermDisposition::Caught => "SigCgt:",
        TermDisposition::Ignored => "SigIgn:",
    };
    let sigterm_bit = 1u64 << (libc::SIGTERM - 1);
    let poll = async {
        loop {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            let mask = status
                .lines()
                .find_map(|line| line.strip_prefix(field))
                .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
                .unwrap_or(0);
            if mask & sigterm_bit != 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::time::timeout(HANG_GUARD, poll)
        .await
        .expect("process sets up its SIGTERM handling");
}

/// Does a process (alive or zombie) with this pid exist?
pub fn process_exists(pid: i32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Does this runtime enforce memory limits with a cgroup here?
pub fn has_memory_cgroup(rt: &RealRuntime) -> bool {
    matches!(rt.info().memory, runtime::LimitSupport::Cgroup(_))
}
