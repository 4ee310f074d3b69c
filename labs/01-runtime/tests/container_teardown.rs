//! Nothing of a pod is left behind: after its sandbox is removed, the host's interfaces,
//! network namespaces, mounts and cgroups are exactly what they were before.
//!
//! One test in a file of its own, so no other test of this crate runs at the same time and
//! changes the host's lists while we compare them.

mod common;

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::Command;

use common::start;
use runtime::cgroup::Controller;
use runtime::{
    ContainerConfig, ContainerRuntime, IsolationMode, RealRuntime, ResourceLimits, RuntimeConfig,
};

/// What the host has that a pod could leave behind.
#[derive(Debug, PartialEq, Eq)]
struct HostView {
    links: BTreeSet<String>,
    netns: BTreeSet<String>,
    mounts: BTreeSet<String>,
}

fn lines_of(program: &str, args: &[&str]) -> BTreeSet<String> {
    match Command::new(program).args(args).output() {
        Ok(output) => String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(str::to_string)
            .collect(),
        Err(_) => BTreeSet::new(),
    }
}

fn host_view() -> HostView {
    HostView {
        links: lines_of("ip", &["-o", "link", "show"])
            .into_iter()
            // Keep the name only: counters and flags change on their own.
            .filter_map(|line| line.split(": ").nth(1).map(str::to_string))
            .collect(),
        netns: lines_of("ip", &["netns", "list"]),
        mounts: std::fs::read_to_string("/proc/self/mounts")
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect(),
    }
}

async fn runtime_in(dir: &std::path::Path, mode: IsolationMode) -> Option<RealRuntime> {
    let mut config = RuntimeConfig::new(dir);
    config.isolation = mode;
    config.pod_range = (Ipv4Addr::new(127, 61, 0, 0), 24);
    config.pod_network = (Ipv4Addr::new(10, 89, 0, 0), 24);
    config.bridge = "skteardown".into();
    config.image_binary = Some(PathBuf::from(env!("CARGO_BIN_EXE_skiff-image")));
    match RealRuntime::new(config) {
        Ok(rt) => Some(rt),
        Err(error) => {
            eprintln!("skipping {mode}: {error}");
            None
        }
    }
}

/// Runs a pod with two containers (one with a memory limit, so it has cgroups), removes it,
/// and returns the container's cgroup directories, which must be gone.
async fn one_pod_lifetime(rt: &RealRuntime) -> Option<Vec<PathBuf>> {
    let pod = match rt
        .run_pod_sandbox(runtime::PodSandboxConfig::new("tidy", "test", "u"))
        .await
    {
        Ok(pod) => pod,
        Err(error) => {
            eprintln!("skipping, namespaces not allowed here: {error}");
            return None;
        }
    };
    let limits = ResourceLimits {
        memory_bytes: Some(64 * 1024 * 1024),
        ..Default::default()
    };
    let first = start(
        rt,
        &pod,
        ContainerConfig::new("a", "skiff/sleeper:1").with_limits(limits),
    )
    .await;
    start(rt, &pod, ContainerConfig::new("b", "skiff/sleeper:1")).await;
    let cgroups: Vec<PathBuf> = Controller::ALL
        .into_iter()
        .filter_map(|controller| rt.cgroup_dir(&first, controller).unwrap())
        .collect();
    rt.remove_pod_sandbox(&pod).await.unwrap();
    Some(cgroups)
}

#[tokio::test]
async fn removing_a_pod_leaves_no_namespace_mount_veth_or_cgroup_behind() {
    for mode in [IsolationMode::Rootless, IsolationMode::Root] {
        let dir = tempfile::tempdir().unwrap();
        let Some(rt) = runtime_in(dir.path(), mode).await else {
            continue;
        };
        // The very first `ip netns add` on a machine mounts /var/run/netns, for good. A
        // warm-up pod takes that one-time change out of the comparison.
        if one_pod_lifetime(&rt).await.is_none() {
            continue;
        }
        let before = host_view();
        let cgroups = one_pod_lifetime(&rt).await.expect("second pod runs too");
        assert_eq!(host_view(), before, "{mode}: the host changed");
        for dir in cgroups {
            assert!(!dir.exists(), "{mode}: cgroup {} is left", dir.display());
        }
        drop(rt);
        let after_runtime = host_view();
        assert!(
            !after_runtime
                .links
                .iter()
                .any(|link| link.starts_with("skteardown")),
            "{mode}: the runtime's bridge is left"
        );
    }
}
