//! The kubelet (lab 02) gives each container the variables of the Services in its pod's
//! namespace when it starts, through the `ServiceEnv` hook lab 08 provides; the container's
//! own variables win, and other namespaces' Services are not included.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use api::client::{ApiClient, InMemoryApi};
use api::{Pod, Service};
use kubelet::node::MachineInfo;
use kubelet::{Kubelet, KubeletConfig, ScriptedProber};
use runtime::{
    ContainerConfig, ContainerFilter, ContainerId, ContainerRuntime, ContainerStatus, FakeBehavior,
    FakeClock, FakeImage, FakeRuntime, PodSandboxConfig, Result, RuntimeInfo, SandboxFilter,
    SandboxId, SandboxStatus,
};
use serde_json::json;
use services::discovery::service_env;
use services::proxy_wiring::NodeView;

/// The fake runtime, remembering the config of every container it creates.
struct Recording {
    inner: FakeRuntime,
    created: Mutex<Vec<ContainerConfig>>,
}

impl ContainerRuntime for Recording {
    fn info(&self) -> RuntimeInfo {
        self.inner.info()
    }
    async fn run_pod_sandbox(&self, config: PodSandboxConfig) -> Result<SandboxId> {
        self.inner.run_pod_sandbox(config).await
    }
    async fn stop_pod_sandbox(&self, id: &SandboxId) -> Result<()> {
        self.inner.stop_pod_sandbox(id).await
    }
    async fn remove_pod_sandbox(&self, id: &SandboxId) -> Result<()> {
        self.inner.remove_pod_sandbox(id).await
    }
    async fn pod_sandbox_status(&self, id: &SandboxId) -> Result<SandboxStatus> {
        self.inner.pod_sandbox_status(id).await
    }
    async fn list_pod_sandboxes(&self, filter: &SandboxFilter) -> Result<Vec<SandboxStatus>> {
        self.inner.list_pod_sandboxes(filter).await
    }
    async fn create_container(
        &self,
        sandbox: &SandboxId,
        config: ContainerConfig,
    ) -> Result<ContainerId> {
        self.created.lock().unwrap().push(config.clone());
        self.inner.create_container(sandbox, config).await
    }
    async fn start_container(&self, id: &ContainerId) -> Result<()> {
        self.inner.start_container(id).await
    }
    async fn stop_container(&self, id: &ContainerId, grace: Duration) -> Result<()> {
        self.inner.stop_container(id, grace).await
    }
    async fn remove_container(&self, id: &ContainerId) -> Result<()> {
        self.inner.remove_container(id).await
    }
    async fn list_containers(&self, filter: &ContainerFilter) -> Result<Vec<ContainerStatus>> {
        self.inner.list_containers(filter).await
    }
    async fn container_status(&self, id: &ContainerId) -> Result<ContainerStatus> {
        self.inner.container_status(id).await
    }
    async fn container_logs(&self, id: &ContainerId) -> Result<String> {
        self.inner.container_logs(id).await
    }
}

fn machine() -> MachineInfo {
    MachineInfo {
        cpus: 4,
        memory_bytes: 8 << 30,
        memory_available_bytes: 6 << 30,
        processes: 200,
        pid_max: 4_194_304,
        disk_available_bytes: 50 << 30,
        disk_bytes: 100 << 30,
    }
}

fn service(name: &str, namespace: &str, ip: &str, port: i32) -> Service {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"selector": {"app": name}, "clusterIP": ip, "ports": [{"port": port}]}
    }))
    .unwrap()
}

#[tokio::test]
async fn containers_start_with_the_variables_of_their_namespaces_services() {
    let clock = FakeClock::new();
    let fake = FakeRuntime::new(clock.clone());
    fake.add_image("fake/sleeper", FakeImage::new(FakeBehavior::RunForever));
    let runtime = Arc::new(Recording {
        inner: fake,
        created: Mutex::new(Vec::new()),
    });
    let api = InMemoryApi::new();
    api.create(service("web", "default", "127.10.0.11", 80))
        .await
        .unwrap();
    api.create(service("redis", "default", "127.10.0.12", 6379))
        .await
        .unwrap();
    api.create(service("elsewhere", "kube-system", "127.10.0.13", 53))
        .await
        .unwrap();
    let pod: Pod = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "client", "namespace": "default"},
        "spec": {"nodeName": "node-1", "containers": [{"name": "main", "image": "fake/sleeper",
            "env": [{"name": "REDIS_SERVICE_HOST", "value": "mine"}]}]}
    }))
    .unwrap();
    api.create(pod).await.unwrap();

    let manifests = tempfile::tempdir().unwrap();
    let mut config = KubeletConfig::new("node-1");
    config.manifest_dir = Some(manifests.path().to_path_buf());
    let mut kubelet = Kubelet::new(
        config,
        runtime.clone(),
        api.clone(),
        ScriptedProber::new(clock.clone()),
        Arc::new(clock.clone()),
    )
    .with_machine(Arc::new(machine))
    .with_service_env(Arc::new(|services| {
        service_env(services, NodeView::Node(0))
    }));
    for _ in 0..3 {
        kubelet.sync_once().await;
    }

    let created = runtime.created.lock().unwrap().clone();
    assert_eq!(created.len(), 1, "one container started");
    let env = &created[0].env;
    let get = |name: &str| {
        env.iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
    };
    // node-0's view of the ClusterIP: the address its proxy serves.
    assert_eq!(get("WEB_SERVICE_HOST"), ["127.11.0.11"]);
    assert_eq!(get("WEB_SERVICE_PORT"), ["80"]);
    assert_eq!(get("WEB_PORT_80_TCP_ADDR"), ["127.11.0.11"]);
    assert_eq!(get("REDIS_SERVICE_PORT"), ["6379"]);
    assert_eq!(
        get("REDIS_SERVICE_HOST"),
        ["mine"],
        "the container's own value wins"
    );
    assert!(
        get("ELSEWHERE_SERVICE_HOST").is_empty(),
        "other namespaces are not included"
    );
}
