//! Real TCP through the node proxies: a 3-replica echo Service across two nodes, the
//! per-endpoint distribution and the same-node preference (an insta snapshot), and a client
//! that keeps calling while the Deployment scales 3 -> 1 -> 3 without a single failed call.
//!
//! Pods are echo servers on their own loopback IPs; the test plays the kubelet (it writes pod
//! IPs and readiness into the API) and steps the endpoints controller and the two proxies
//! itself, so every run takes the same path. Ports are picked by binding port 0.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use api::client::{ApiClient, DeleteOptions, InMemoryApi};
use api::{Pod, Service};
use controllers::runtime::Runner;
use serde_json::json;
use services::endpoints::EndpointsController;
use services::proxy_wiring::{NodeView, ServiceProxy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// An echo pod: answers each connection with its name.
struct Backend {
    accept_loop: JoinHandle<()>,
    /// How many connections it has accepted so far.
    accepted: watch::Receiver<usize>,
}

impl Backend {
    async fn start(name: &str, addr: SocketAddr) -> Backend {
        let listener = TcpListener::bind(addr)
            .await
            .expect("bind the pod's address");
        let name = name.to_string();
        let (count, accepted) = watch::channel(0);
        let accept_loop = tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                count.send_modify(|n| *n += 1);
                let name = name.clone();
                // Each connection runs in its own task: stopping the accept loop drains them.
                tokio::spawn(async move {
                    let mut request = [0u8; 5];
                    if conn.read_exact(&mut request).await.is_ok() {
                        let _ = conn.write_all(format!("{name}\n").as_bytes()).await;
                    }
                });
            }
        });
        Backend {
            accept_loop,
            accepted,
        }
    }

    /// Stops accepting (the pod terminates); connections already accepted finish.
    fn stop(self) {
        self.accept_loop.abort();
    }
}

/// One call: connect, send `hello`, read the pod's name.
async fn call(addr: SocketAddr) -> std::io::Result<String> {
    let mut conn = TcpStream::connect(addr).await?;
    conn.write_all(b"hello").await?;
    let mut reply = String::new();
    conn.read_to_string(&mut reply).await?;
    let name = reply.trim().to_string();
    if name.is_empty() {
        return Err(std::io::Error::other("empty reply"));
    }
    Ok(name)
}

/// A port free on `ip` now (bind port 0, read it, let it go).
async fn free_port(ip: Ipv4Addr) -> u16 {
    let listener = TcpListener::bind((ip, 0)).await.unwrap();
    listener.local_addr().unwrap().port()
}

fn service(cluster_ip: Ipv4Addr, port: u16) -> Service {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "echo", "namespace": "default"},
        "spec": {"selector": {"app": "echo"}, "clusterIP": cluster_ip.to_string(),
            "ports": [{"name": "tcp", "port": port, "targetPort": "echo"}]}
    }))
    .unwrap()
}

fn pod(name: &str, node: &str, ip: Ipv4Addr, port: u16) -> Pod {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "labels": {"app": "echo"}},
        "spec": {"nodeName": node, "containers": [{"name": "echo", "image": "echo",
            "ports": [{"name": "echo", "containerPort": port}]}]},
        "status": {"phase": "Running", "podIP": ip.to_string(),
            "conditions": [{"type": "Ready", "status": "True"}]}
    }))
    .unwrap()
}

/// The cluster of one test: the API, the endpoints controller, a proxy per node, the pods.
struct Cluster {
    api: InMemoryApi,
    controller: Runner<InMemoryApi, EndpointsController>,
    proxies: BTreeMap<&'static str, ServiceProxy>,
    backends: BTreeMap<String, Backend>,
    service: Service,
    pod_block: u8,
    pod_port: u16,
}

impl Cluster {
    /// A Service at `127.10.<block>.1` and pods in `127.1.<block>.0/24`: each test its own.
    async fn new(block: u8) -> Cluster {
        let api = InMemoryApi::new();
        let cluster_ip = Ipv4Addr::new(127, 10, block, 1);
        let port = free_port(NodeView::Node(0).address(cluster_ip)).await;
        let service = api.create(service(cluster_ip, port)).await.unwrap();
        let mut proxies = BTreeMap::new();
        proxies.insert(
            "node-a",
            ServiceProxy::new("node-a", NodeView::Node(0)).unwrap(),
        );
        proxies.insert(
            "node-b",
            ServiceProxy::new("node-b", NodeView::Node(1)).unwrap(),
        );
        let pod_port = free_port(Ipv4Addr::new(127, 1, block, 1)).await;
        Cluster {
            controller: Runner::new(api.clone(), EndpointsController::new()),
            api,
            proxies,
            backends: BTreeMap::new(),
            service,
            pod_block: block,
            pod_port,
        }
    }

    /// Starts pod `name` number `n` on `node`: its server first, then the API object (ready).
    async fn start_pod(&mut self, name: &str, n: u8, node: &str) {
        let ip = Ipv4Addr::new(127, 1, self.pod_block, n);
        let backend = Backend::start(name, SocketAddr::from((ip, self.pod_port))).await;
        self.backends.insert(name.to_string(), backend);
        let wanted = pod(name, node, ip, self.pod_port);
        let status = wanted.status.clone();
        let mut created = self.api.create(wanted).await.unwrap();
        created.status = status;
        self.api.update_status(created).await.unwrap();
    }

    /// Marks pod `name` ready or not, as its kubelet would after a probe.
    async fn set_ready(&self, name: &str, ready: bool) {
        let mut p: Pod = self.api.get(Some("default"), name).await.unwrap();
        for condition in &mut p.status.as_mut().unwrap().conditions {
            condition.status = if ready { "True" } else { "False" }.into();
        }
        self.api.update_status(p).await.unwrap();
    }

    /// Deletes pod `name` (graceful: it is only marked, being on a node).
    async fn delete_pod(&self, name: &str) {
        self.api
            .delete::<Pod>(Some("default"), name, DeleteOptions::default())
            .await
            .unwrap();
    }

    /// One round of the control plane: the endpoints controller, then every proxy.
    async fn converge(&mut self) {
        self.controller
            .run_until_quiet(Duration::ZERO)
            .await
            .unwrap();
        for proxy in self.proxies.values_mut() {
            proxy.sync_from(&self.api).await.unwrap();
        }
    }

    /// Where a client pod on `node` reaches the Service.
    fn address(&self, node: &str) -> SocketAddr {
        let port = self.service.spec.ports[0].port;
        self.proxies[node].address(&self.service, port).unwrap()
    }
}

/// `calls` sequential calls from a pod on `node`: replies per pod, as text.
async fn distribution(cluster: &Cluster, node: &str, calls: usize) -> String {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let address = cluster.address(node);
    for _ in 0..calls {
        let pod = call(address).await.expect("every call succeeds");
        *counts.entry(pod).or_default() += 1;
    }
    let counts: Vec<String> = counts.iter().map(|(pod, n)| format!("{pod} {n}")).collect();
    format!("client on {node} ({calls} calls): {}", counts.join(", "))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_on_two_nodes_prefer_the_clients_node() {
    let mut cluster = Cluster::new(41).await;
    cluster.start_pod("echo-0", 1, "node-a").await;
    cluster.start_pod("echo-1", 2, "node-a").await;
    cluster.start_pod("echo-2", 3, "node-b").await;
    cluster.converge().await;

    let mut story = vec!["echo-0 and echo-1 on node-a, echo-2 on node-b, all ready".to_string()];
    story.push(distribution(&cluster, "node-a", 300).await);
    story.push(distribution(&cluster, "node-b", 300).await);
    story.push("echo-2 fails its readiness probe".to_string());
    cluster.set_ready("echo-2", false).await;
    cluster.converge().await;
    story.push(distribution(&cluster, "node-b", 300).await);
    story.push("echo-2 is ready again".to_string());
    cluster.set_ready("echo-2", true).await;
    cluster.converge().await;
    story.push(distribution(&cluster, "node-b", 300).await);
    insta::assert_snapshot!(story.join("\n"));
}

/// A client on `node` calling without pause until told to stop; `progress` counts calls.
struct Client {
    stop: Arc<AtomicBool>,
    failures: Arc<AtomicUsize>,
    progress: watch::Receiver<usize>,
    seen: Arc<std::sync::Mutex<BTreeMap<String, usize>>>,
    task: JoinHandle<()>,
}

impl Client {
    fn start(address: SocketAddr) -> Client {
        let stop = Arc::new(AtomicBool::new(false));
        let failures = Arc::new(AtomicUsize::new(0));
        let seen = Arc::new(std::sync::Mutex::new(BTreeMap::new()));
        let (tx, progress) = watch::channel(0);
        let task = tokio::spawn({
            let (stop, failures, seen) = (stop.clone(), failures.clone(), seen.clone());
            async move {
                let mut calls = 0;
                while !stop.load(Ordering::SeqCst) {
                    match call(address).await {
                        Ok(pod) => *seen.lock().unwrap().entry(pod).or_default() += 1,
                        Err(_) => {
                            failures.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                    calls += 1;
                    tx.send_replace(calls);
                }
            }
        });
        Client {
            stop,
            failures,
            progress,
            seen,
            task,
        }
    }

    /// Waits until the client has finished `more` further calls.
    async fn wait_for(&mut self, more: usize) {
        let target = *self.progress.borrow() + more;
        self.progress
            .wait_for(|calls| *calls >= target)
            .await
            .unwrap();
    }

    /// The pods reached since the last look.
    fn take_seen(&self) -> Vec<String> {
        std::mem::take(&mut *self.seen.lock().unwrap())
            .into_keys()
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaling_3_to_1_to_3_while_a_client_calls_fails_no_call() {
    let mut cluster = Cluster::new(42).await;
    cluster.start_pod("echo-0", 1, "node-a").await;
    cluster.start_pod("echo-1", 2, "node-a").await;
    cluster.start_pod("echo-2", 3, "node-b").await;
    cluster.converge().await;
    let mut client = Client::start(cluster.address("node-b"));
    client.wait_for(50).await;
    assert_eq!(client.take_seen(), ["echo-2"], "node-b's own pod first");

    // Scale to 1: the two pods are deleted; the endpoints drop them before they stop.
    cluster.delete_pod("echo-1").await;
    cluster.delete_pod("echo-2").await;
    cluster.converge().await;
    // The client is sequential: once it finished two more calls, none can still be on its way
    // to the old pods, which may now stop accepting (their accepted connections drain).
    client.wait_for(2).await;
    cluster.backends.remove("echo-1").unwrap().stop();
    cluster.backends.remove("echo-2").unwrap().stop();
    client.take_seen();
    client.wait_for(50).await;
    assert_eq!(
        client.take_seen(),
        ["echo-0"],
        "the one pod left, on the other node"
    );

    // Back to 3: new pods listen before they are published.
    cluster.start_pod("echo-3", 4, "node-b").await;
    cluster.start_pod("echo-4", 5, "node-a").await;
    cluster.converge().await;
    client.wait_for(2).await;
    client.take_seen();
    client.wait_for(50).await;
    assert_eq!(
        client.take_seen(),
        ["echo-3"],
        "node-b has a local pod again"
    );

    client.stop.store(true, Ordering::SeqCst);
    client.task.await.unwrap();
    let calls = *client.progress.borrow();
    assert!(calls >= 154, "the client kept calling ({calls} calls)");
    assert_eq!(
        client.failures.load(Ordering::SeqCst),
        0,
        "no failed call in {calls}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_proxy_follows_the_api_by_watching() {
    let api = InMemoryApi::new();
    let cluster_ip = Ipv4Addr::new(127, 10, 43, 1);
    let view = NodeView::Node(2);
    let port = free_port(view.address(cluster_ip)).await;
    let pod_ip = Ipv4Addr::new(127, 1, 43, 1);
    let pod_port = free_port(pod_ip).await;
    let _backend = Backend::start("echo-0", SocketAddr::from((pod_ip, pod_port))).await;
    let proxy = ServiceProxy::new("node-c", view).unwrap();
    let running = tokio::spawn(proxy.run(api.clone()));
    let mut controller = Runner::new(api.clone(), EndpointsController::new());
    api.create(service(cluster_ip, port)).await.unwrap();
    let wanted = pod("echo-0", "node-c", pod_ip, pod_port);
    let status = wanted.status.clone();
    let mut created = api.create(wanted).await.unwrap();
    created.status = status;
    api.update_status(created).await.unwrap();
    controller.run_until_quiet(Duration::ZERO).await.unwrap();

    // The proxy applies the watch events on its own; poll (with a deadline as a safety net)
    // until the Service answers through it.
    let address = SocketAddr::from((view.address(cluster_ip), port));
    let answer = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            if let Ok(pod) = call(address).await {
                return pod;
            }
            tokio::time::sleep(Duration::from_millis(10)).await; // poll interval, not a wait
        }
    })
    .await
    .expect("the watching proxy serves the service");
    assert_eq!(answer, "echo-0");
    running.abort();
}

#[tokio::test]
async fn a_service_that_cannot_be_served_does_not_block_the_others() {
    let view = NodeView::Node(3);
    let blocked_ip = Ipv4Addr::new(127, 10, 44, 1);
    // Someone else already listens where `blocked` would.
    let squatter = TcpListener::bind((view.address(blocked_ip), 0))
        .await
        .unwrap();
    let blocked_port = squatter.local_addr().unwrap().port();
    let mut blocked = service(blocked_ip, blocked_port);
    blocked.metadata.name = Some("blocked".into());
    let fine_ip = Ipv4Addr::new(127, 10, 44, 2);
    let fine = service(fine_ip, free_port(view.address(fine_ip)).await);

    let mut proxy = ServiceProxy::new("node-d", view).unwrap();
    let error = proxy
        .sync(&[blocked.clone(), fine.clone()], &[])
        .await
        .unwrap_err();
    assert!(error.to_string().contains("default/blocked"), "{error}");
    assert!(proxy.address(&blocked, i32::from(blocked_port)).is_none());
    let fine_port = fine.spec.ports[0].port;
    assert!(
        proxy.address(&fine, fine_port).is_some(),
        "the other service is served"
    );

    // Once the address is free, the next sync serves it too.
    drop(squatter);
    proxy.sync(&[blocked.clone(), fine], &[]).await.unwrap();
    assert!(proxy.address(&blocked, i32::from(blocked_port)).is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_accepted_before_its_endpoint_is_removed_finishes() {
    let mut cluster = Cluster::new(45).await;
    cluster.start_pod("echo-0", 1, "node-a").await;
    cluster.converge().await;

    // A client connects through node-a's proxy and waits until the pod has accepted the
    // forwarded connection, but sends nothing yet.
    let mut accepted = cluster.backends["echo-0"].accepted.clone();
    let mut conn = TcpStream::connect(cluster.address("node-a")).await.unwrap();
    accepted.wait_for(|n| *n >= 1).await.unwrap();

    // The pod is deleted: it leaves the Endpoints, the proxy's list empties, and the pod
    // stops accepting.
    cluster.delete_pod("echo-0").await;
    cluster.converge().await;
    cluster.backends.remove("echo-0").unwrap().stop();
    let refused = call(cluster.address("node-a")).await;
    assert!(
        refused.is_err(),
        "a new connection finds no endpoint: {refused:?}"
    );

    // The connection accepted before all that still gets its answer.
    conn.write_all(b"hello").await.unwrap();
    let mut reply = String::new();
    conn.read_to_string(&mut reply).await.unwrap();
    assert_eq!(reply.trim(), "echo-0");
}
