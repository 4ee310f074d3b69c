//! Real containers: every isolation mode this machine allows, end to end. A mode the kernel
//! or the user's privileges forbid is skipped with a message saying why; the graded tests of
//! the isolation exercises are in `containers_plan.rs`, which run everywhere.

mod common;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::path::PathBuf;
use std::time::Duration;

use common::{HANG_GUARD, exited, has_memory_cgroup, sandbox, start};
use runtime::{
    ContainerConfig, ContainerRuntime, ExitReason, IsolationMode, RealRuntime, ResourceLimits,
    RuntimeConfig, SandboxId,
};

/// A runtime in `mode`, or `None` (with the reason printed) when this machine cannot run one.
/// `subnet` keeps the pod ranges and bridges of tests running in parallel apart.
async fn isolated_runtime(
    dir: &std::path::Path,
    mode: IsolationMode,
    subnet: u8,
) -> Option<RealRuntime> {
    let mut config = RuntimeConfig::new(dir);
    config.isolation = mode;
    config.pod_range = (Ipv4Addr::new(127, 60, subnet, 0), 24);
    config.pod_network = (Ipv4Addr::new(10, 88, subnet, 0), 24);
    config.bridge = format!("skt{subnet}");
    config.image_binary = Some(PathBuf::from(env!("CARGO_BIN_EXE_skiff-image")));
    let rt = match RealRuntime::new(config) {
        Ok(rt) => rt,
        Err(error) => {
            eprintln!("skipping {mode} isolation: {error}");
            return None;
        }
    };
    assert_eq!(
        rt.info().isolation,
        mode,
        "info() reports the configured mode"
    );
    // A first pod tells whether the kernel lets us create the namespaces.
    let probe = PodSandboxProbe::new("probe");
    match rt.run_pod_sandbox(probe.0).await {
        Ok(id) => {
            rt.remove_pod_sandbox(&id)
                .await
                .expect("probe pod is removed");
            Some(rt)
        }
        Err(error) => {
            eprintln!("skipping {mode} isolation, not allowed here: {error}");
            None
        }
    }
}

struct PodSandboxProbe(runtime::PodSandboxConfig);

impl PodSandboxProbe {
    fn new(name: &str) -> Self {
        PodSandboxProbe(runtime::PodSandboxConfig::new(name, "test", "uid-probe"))
    }
}

/// Runs a tool image (`skiff/ps`, `skiff/hostname`, ...) in a pod to its end; returns its
/// stdout lines (the log's fourth field).
async fn run_tool(rt: &RealRuntime, pod: &SandboxId, tool: &str, args: &[&str]) -> Vec<String> {
    let config =
        ContainerConfig::new(tool, &format!("skiff/{tool}:1")).with_args(args.iter().copied());
    let id = start(rt, pod, config).await;
    let status = exited(rt, &id).await;
    let log = rt.container_logs(&id).await.unwrap();
    assert_eq!(status.exit_code, Some(0), "{tool} failed; log:\n{log}");
    log.lines()
        .map(|line| line.splitn(4, ' ').nth(3).unwrap_or_default().to_string())
        .collect()
}

/// Waits until a running container's main process shows up inside the pod's `ps` output.
async fn pids_seen(rt: &RealRuntime, pod: &SandboxId) -> Vec<u32> {
    run_tool(rt, pod, "ps", &[])
        .await
        .iter()
        .filter_map(|line| line.split(' ').next()?.parse().ok())
        .collect()
}

async fn sleeper(rt: &RealRuntime, pod: &SandboxId) -> runtime::ContainerId {
    start(rt, pod, ContainerConfig::new("sleep", "skiff/sleeper:1")).await
}

/// The pid namespace of one pod, as seen from a sleeper and a `ps` in it: the pod's init is
/// PID 1, the pod's own processes are there, the host's are not.
async fn pid_namespace_of_a_pod(mode: IsolationMode, subnet: u8) {
    let dir = tempfile::tempdir().unwrap();
    let Some(rt) = isolated_runtime(dir.path(), mode, subnet).await else {
        return;
    };
    let pod = sandbox(&rt, "web").await;
    let lone = sandbox(&rt, "lonely").await;
    let _sleeping = sleeper(&rt, &pod).await;
    // The sleeper is Running, but its program may not have been exec'd yet: wait, boundedly,
    // until `ps` sees three processes (init, sleeper, ps itself).
    let seen = tokio::time::timeout(HANG_GUARD, async {
        loop {
            let pids = pids_seen(&rt, &pod).await;
            if pids.len() >= 3 {
                return pids;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the sleeper shows up in its pod's ps");
    assert_eq!(seen.len(), 3, "only init, the sleeper and ps: {seen:?}");
    assert_eq!(seen[0], 1, "the pod's init is PID 1: {seen:?}");
    // Another pod sees neither the sleeper nor the host: its init and its own ps.
    let other = pids_seen(&rt, &lone).await;
    assert_eq!(other.len(), 2, "another pod sees only itself: {other:?}");
    assert_eq!(other[0], 1);
    rt.shutdown().await.unwrap();
}

/// A container that leaves an orphan behind: the orphan is re-parented to the pod's init (not
/// to the runtime, which is outside the pid namespace), and the init must reap it, or it stays
/// a zombie in the pod's `ps` for ever.
async fn the_pod_init_reaps_orphans(mode: IsolationMode, subnet: u8) {
    let dir = tempfile::tempdir().unwrap();
    let Some(rt) = isolated_runtime(dir.path(), mode, subnet).await else {
        return;
    };
    let pod = sandbox(&rt, "parent").await;
    // A host command as image: its root file system holds /bin/sh and its libraries.
    let script = ContainerConfig::new("orphans", "sh").with_args(["-c", "sh -c 'exit 0' & exit 0"]);
    let id = start(&rt, &pod, script).await;
    assert_eq!(exited(&rt, &id).await.exit_code, Some(0));
    tokio::time::timeout(HANG_GUARD, async {
        // Only init and `ps` itself: no zombie is left of the orphan.
        while pids_seen(&rt, &pod).await.len() != 2 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the pod's init reaps the orphan");
    rt.shutdown().await.unwrap();
}

async fn hostname_is_the_pod_name(mode: IsolationMode, subnet: u8) {
    let dir = tempfile::tempdir().unwrap();
    let Some(rt) = isolated_runtime(dir.path(), mode, subnet).await else {
        return;
    };
    let pod = sandbox(&rt, "frontend-7").await;
    assert_eq!(
        run_tool(&rt, &pod, "hostname", &[]).await,
        vec!["frontend-7"]
    );
    rt.shutdown().await.unwrap();
}

async fn memory_limit_still_oom_kills(mode: IsolationMode, subnet: u8) {
    let dir = tempfile::tempdir().unwrap();
    let Some(rt) = isolated_runtime(dir.path(), mode, subnet).await else {
        return;
    };
    if !has_memory_cgroup(&rt) {
        eprintln!("skipping: no memory cgroup here");
        return;
    }
    let pod = sandbox(&rt, "hungry").await;
    let limits = ResourceLimits {
        memory_bytes: Some(32 * 1024 * 1024),
        ..Default::default()
    };
    let config = ContainerConfig::new("hog", "skiff/memory-hog:1")
        .with_args(["256"])
        .with_limits(limits);
    let id = start(&rt, &pod, config).await;
    let status = exited(&rt, &id).await;
    assert_eq!(status.reason, Some(ExitReason::OOMKilled), "{status:?}");
    assert_eq!(status.exit_code, Some(137));
    rt.shutdown().await.unwrap();
}

#[tokio::test]
async fn rootless_pods_have_their_own_pid_namespace() {
    pid_namespace_of_a_pod(IsolationMode::Rootless, 1).await;
}

#[tokio::test]
async fn root_pods_have_their_own_pid_namespace() {
    pid_namespace_of_a_pod(IsolationMode::Root, 2).await;
}

#[tokio::test]
async fn rootless_pod_init_reaps_orphans() {
    the_pod_init_reaps_orphans(IsolationMode::Rootless, 9).await;
}

#[tokio::test]
async fn root_pod_init_reaps_orphans() {
    the_pod_init_reaps_orphans(IsolationMode::Root, 10).await;
}

#[tokio::test]
async fn rootless_pods_are_named_after_the_pod() {
    hostname_is_the_pod_name(IsolationMode::Rootless, 3).await;
}

#[tokio::test]
async fn root_pods_are_named_after_the_pod() {
    hostname_is_the_pod_name(IsolationMode::Root, 4).await;
}

#[tokio::test]
async fn rootless_containers_are_still_oom_killed() {
    memory_limit_still_oom_kills(IsolationMode::Rootless, 5).await;
}

#[tokio::test]
async fn root_containers_are_still_oom_killed() {
    memory_limit_still_oom_kills(IsolationMode::Root, 6).await;
}

/// GET / on `ip:8080` from the host, retried until the server listens.
async fn get_from_host(ip: Ipv4Addr) -> String {
    tokio::time::timeout(HANG_GUARD, async {
        loop {
            if let Ok(mut stream) = TcpStream::connect((ip, 8080)) {
                let _ = stream.write_all(b"GET / HTTP/1.0\r\n\r\n");
                let mut response = String::new();
                let _ = stream.read_to_string(&mut response);
                if let Some((_, body)) = response.split_once("\r\n\r\n") {
                    return body.to_string();
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the pod's server answers the host")
}

#[tokio::test]
async fn root_pods_reach_each_other_and_the_host_reaches_them() {
    let dir = tempfile::tempdir().unwrap();
    let Some(rt) = isolated_runtime(dir.path(), IsolationMode::Root, 8).await else {
        return;
    };
    let server_pod = sandbox(&rt, "server").await;
    let client_pod = sandbox(&rt, "client").await;
    let server_ip = rt.pod_sandbox_status(&server_pod).await.unwrap().ip;
    assert_eq!(
        server_ip.octets()[..3],
        [10, 88, 8],
        "a pod IP on the bridge's range"
    );
    start(
        &rt,
        &server_pod,
        ContainerConfig::new("echo", "skiff/echo:1"),
    )
    .await;
    let body = get_from_host(server_ip).await;
    assert!(body.starts_with("hello from pod server"), "{body}");
    let target = format!("{server_ip}:8080");
    let fetched = run_tool(&rt, &client_pod, "fetch", &[&target]).await;
    assert!(
        fetched[0].starts_with("hello from pod server"),
        "{fetched:?}"
    );
    rt.shutdown().await.unwrap();
}

#[tokio::test]
async fn process_isolation_is_the_default_and_info_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let config = RuntimeConfig::new(dir.path());
    assert_eq!(config.isolation, IsolationMode::Process);
    let rt = RealRuntime::new(config).expect("process mode works everywhere");
    assert_eq!(rt.info().isolation, IsolationMode::Process);
}
