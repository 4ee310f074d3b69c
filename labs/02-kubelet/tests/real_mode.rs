//! The kubelet on the real runtime: real processes, real signals, real probes. No timing
//! assertions: each test waits for a condition with a generous bound that only a broken
//! kubelet ever reaches.

use std::future::Future;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use api::client::{ApiClient, InMemoryApi};
use api::{Container, ObjectMeta, Pod, Probe, TcpSocketAction};
use kubelet::{BackoffPolicy, Kubelet, KubeletConfig, RealProber};
use runtime::{
    ContainerFilter, ContainerRuntime, ContainerState, RealRuntime, RuntimeConfig, SystemClock,
};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Far longer than any healthy step takes; a hang becomes a clear failure.
const HANG_GUARD: Duration = Duration::from_secs(60);

type RealKubelet = Kubelet<RealRuntime, InMemoryApi, RealProber>;

/// A kubelet running in the background on a real runtime, with a short back-off.
struct Node {
    runtime: Arc<RealRuntime>,
    api: InMemoryApi,
    manifests: tempfile::TempDir,
    _root: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<RealKubelet>>,
}

impl Node {
    /// Each test gets its own pod range: tests run in parallel in one process.
    fn start(pod_range_octet: u8) -> Self {
        let root = tempfile::tempdir().unwrap();
        let manifests = tempfile::tempdir().unwrap();
        let mut runtime_config = RuntimeConfig::new(root.path());
        runtime_config.pod_range = (Ipv4Addr::new(127, pod_range_octet, 0, 0), 16);
        runtime_config.node_name = Some("real-node".into());
        runtime_config.image_binary = Some(PathBuf::from(env!("CARGO_BIN_EXE_kubelet")));
        let runtime = Arc::new(RealRuntime::new(runtime_config).expect("runtime starts"));
        let api = InMemoryApi::new();
        let mut config = KubeletConfig::new("real-node");
        config.manifest_dir = Some(manifests.path().to_path_buf());
        config.sync_period = Duration::from_millis(50);
        config.backoff = BackoffPolicy {
            base: Duration::from_millis(300),
            cap: Duration::from_secs(2),
            reset_after: Duration::from_secs(60),
        };
        let mut kubelet = Kubelet::new(
            config,
            runtime.clone(),
            api.clone(),
            RealProber,
            Arc::new(SystemClock),
        );
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            kubelet
                .run(async {
                    let _ = stopped.await;
                })
                .await;
            kubelet
        });
        Node {
            runtime,
            api,
            manifests,
            _root: root,
            stop: Some(stop),
            task: Some(task),
        }
    }

    fn write_manifest(&self, file: &str, pod: &Pod) {
        std::fs::write(
            self.manifests.path().join(file),
            serde_json::to_string(pod).unwrap(),
        )
        .unwrap();
    }

    /// Stops the kubelet (a clean shutdown) and returns it, for its journal.
    async fn stop(mut self) -> RealKubelet {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(HANG_GUARD, self.task.take().unwrap())
            .await
            .expect("kubelet stops")
            .unwrap()
    }

    /// The mirror pod of a static pod, once it exists.
    async fn mirror(&self, name: &str) -> Option<Pod> {
        self.api.get::<Pod>(Some("default"), name).await.ok()
    }

    async fn running_pids(&self) -> Vec<u32> {
        let containers = self
            .runtime
            .list_containers(&ContainerFilter::default())
            .await
            .unwrap();
        containers
            .iter()
            .filter(|c| c.state == ContainerState::Running)
            .filter_map(|c| c.pid)
            .collect()
    }
}

/// Polls `check` until it returns `Some`, failing the test after [`HANG_GUARD`].
async fn eventually<T, F: Future<Output = Option<T>>>(
    what: &str,
    mut check: impl FnMut() -> F,
) -> T {
    let poll = async {
        loop {
            if let Some(value) = check().await {
                return value;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(HANG_GUARD, poll)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

fn sleeper_pod(name: &str) -> Pod {
    let mut pod = Pod {
        metadata: ObjectMeta::namespaced("default", name),
        ..Pod::default()
    };
    pod.spec.termination_grace_period_seconds = Some(10);
    pod.spec.containers.push(Container {
        name: "app".into(),
        image: "skiff/sleeper:1".into(),
        ..Container::default()
    });
    pod
}

/// The status of container 0 when it runs with at least `restarts` restarts.
async fn running_with_restarts(
    node: &Node,
    name: &str,
    restarts: i32,
) -> Option<api::ContainerStatus> {
    let status = node.mirror(name).await?.status?;
    let container = status.container_statuses.first()?.clone();
    let running = container.state.as_ref()?.running.is_some();
    (running && container.restart_count >= restarts).then_some(container)
}

fn process_exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_the_pods_of_a_manifest_directory() {
    let node = Node::start(41);
    node.write_manifest("web.json", &sleeper_pod("web"));
    let status = eventually("web running", || running_with_restarts(&node, "web", 0)).await;
    assert!(status.ready);
    let pod_ip = node
        .mirror("web")
        .await
        .unwrap()
        .status
        .unwrap()
        .pod_ip
        .unwrap();
    assert!(pod_ip.starts_with("127.41."), "{pod_ip}");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_container_is_restarted_after_the_back_off() {
    let node = Node::start(42);
    node.write_manifest("web.json", &sleeper_pod("web"));
    eventually("web running", || running_with_restarts(&node, "web", 0)).await;
    let pid = node.running_pids().await[0];
    // SAFETY: kill(2) with a pid the runtime reported for a process of its own.
    assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGKILL) }, 0);
    let status = eventually("web restarted", || running_with_restarts(&node, "web", 1)).await;
    assert_eq!(status.restart_count, 1);
    let last = status.last_state.unwrap().terminated.unwrap();
    assert_eq!(
        (last.exit_code, last.reason.as_deref()),
        (137, Some("Error"))
    );
    let containers = node
        .runtime
        .list_containers(&ContainerFilter::default())
        .await
        .unwrap();
    let dead = containers
        .iter()
        .find(|c| c.state == ContainerState::Exited)
        .expect("the killed one");
    let alive = containers
        .iter()
        .find(|c| c.state == ContainerState::Running)
        .expect("its successor");
    let waited = alive
        .started_at
        .unwrap()
        .duration_since(dead.finished_at.unwrap())
        .unwrap();
    assert!(
        waited >= Duration::from_millis(300),
        "restarted after {waited:?}, before the back-off"
    );
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_liveness_probe_restarts_the_container() {
    let node = Node::start(43);
    let mut web = sleeper_pod("web");
    web.spec.containers[0].liveness_probe = Some(Probe {
        // Nothing listens on port 1 of the pod IP: every connection is refused.
        tcp_socket: Some(TcpSocketAction {
            port: api::IntOrString::Int(1),
            host: None,
        }),
        period_seconds: Some(1),
        failure_threshold: Some(2),
        ..Probe::default()
    });
    node.write_manifest("web.json", &web);
    eventually("web restarted by its liveness probe", || {
        running_with_restarts(&node, "web", 1)
    })
    .await;
    let kubelet = node.stop().await;
    let journal = kubelet.journal().join("\n");
    assert!(
        journal.contains("Container app failed liveness probe, will be restarted"),
        "{journal}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_the_manifest_stops_the_pod_gracefully() {
    let node = Node::start(44);
    node.write_manifest("web.json", &sleeper_pod("web"));
    eventually("web running", || running_with_restarts(&node, "web", 0)).await;
    let pid = node.running_pids().await[0];
    std::fs::remove_file(node.manifests.path().join("web.json")).unwrap();
    eventually("mirror pod deleted", || async {
        node.mirror("web").await.is_none().then_some(())
    })
    .await;
    assert!(!process_exists(pid), "the container's process is gone");
    let kubelet = node.stop().await;
    let journal = kubelet.journal().join("\n");
    assert!(journal.contains("kill default/web app"), "{journal}");
    assert!(
        journal.contains("grace 10s): Stopping container"),
        "{journal}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_process_is_left_after_the_kubelet_exits() {
    let node = Node::start(45);
    node.write_manifest("a.json", &sleeper_pod("a"));
    let mut stubborn = sleeper_pod("b");
    stubborn.spec.termination_grace_period_seconds = Some(1);
    stubborn.spec.containers[0].args = vec!["--ignore-term".into()];
    node.write_manifest("b.json", &stubborn);
    let pids = eventually("two containers running", || async {
        let pids = node.running_pids().await;
        (pids.len() == 2).then_some(pids)
    })
    .await;
    let runtime = node.runtime.clone();
    node.stop().await;
    assert!(
        runtime
            .list_pod_sandboxes(&Default::default())
            .await
            .unwrap()
            .is_empty()
    );
    for pid in pids {
        assert!(!process_exists(pid), "process {pid} outlived the kubelet");
    }
}
