//! API server latency over the wire: the real core on memory storage behind the HTTPS shell,
//! driven by `HttpApi` clients on keep-alive connections, printed as a Markdown table beside
//! Kubernetes' SLO (mutating API calls: p99 ≤ 1 s).
//!
//! Run it in release: `cargo run --release -p skiff-apiserver --bin apiserver-bench`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use api::client::{ApiClient, WatchEventType};
use api::{Container, ObjectMeta, Pod, PodSpec};
use apiserver::ApiServer;
use apiserver::client::HttpApi;
use apiserver::http::{ShellOptions, start};
use apiserver::storage::memory::MemoryStorage;
use bytes::Bytes;
use hyper::Method;

/// Kubernetes' SLO for mutating API calls (p99), and for list/watch it is looser still.
const SLO: Duration = Duration::from_secs(1);
/// What skiff aims for: p99 of a create at 50 concurrent clients.
const GOAL: Duration = Duration::from_millis(10);

fn pod(namespace: &str, name: String) -> Pod {
    Pod {
        metadata: ObjectMeta::namespaced(namespace, &name),
        spec: PodSpec {
            containers: vec![Container {
                name: "app".to_string(),
                image: "skiff/sleep".to_string(),
                ..Container::default()
            }],
            ..PodSpec::default()
        },
        ..Pod::default()
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

fn row(what: &str, n: usize, mut samples: Vec<Duration>, goal: &str) {
    samples.sort();
    println!(
        "| {what} | {n} | {} | {} | {} | {goal} |",
        ms(percentile(&samples, 0.5)),
        ms(percentile(&samples, 0.99)),
        ms(SLO)
    );
}

/// Each of `clients` clients (own connection) creates `each` pods in a row; every latency.
async fn creates(
    url: &str,
    ca: &str,
    token: &str,
    clients: usize,
    each: usize,
    ns: &str,
) -> Vec<Duration> {
    let mut tasks = Vec::new();
    for c in 0..clients {
        let api = HttpApi::new(url, ca, token).expect("client");
        let ns = ns.to_string();
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::with_capacity(each);
            for i in 0..each {
                let started = Instant::now();
                api.create(pod(&ns, format!("p-{c}-{i}")))
                    .await
                    .expect("create");
                samples.push(started.elapsed());
            }
            samples
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("client task"));
    }
    all
}

async fn namespace(api: &HttpApi, name: &str) {
    let body =
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
    let (status, body) = api
        .raw(
            Method::POST,
            "/api/v1/namespaces",
            Some("application/json"),
            Bytes::from(body.to_string()),
        )
        .await
        .expect("create namespace");
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
}

async fn run() {
    let dir = std::env::temp_dir().join(format!("skiff-apiserver-bench-{}", std::process::id()));
    let core = ApiServer::new(Arc::new(MemoryStorage::new()));
    let started = start(
        ShellOptions::new(&dir, "127.0.0.1:0".parse().expect("address")),
        Arc::new(core),
    )
    .await
    .expect("server starts");
    let url = started.url.clone();
    let ca = started.pki.ca_cert_pem.clone();
    let token = started
        .tokens
        .token_for("admin")
        .expect("admin token")
        .to_string();
    let admin = HttpApi::new(&url, &ca, &token).expect("client");

    println!("| what | n | p50 ms | p99 ms | Kubernetes SLO ms | skiff goal |");
    println!("|---|---:|---:|---:|---:|---|");

    namespace(&admin, "one").await;
    let samples = creates(&url, &ca, &token, 1, 1_000, "one").await;
    row("create pod, 1 client", samples.len(), samples, "");

    namespace(&admin, "fifty").await;
    let samples = creates(&url, &ca, &token, 50, 100, "fifty").await;
    row(
        "create pod, 50 clients",
        samples.len(),
        samples,
        &format!("p99 ≤ {} ms", GOAL.as_millis()),
    );

    // 10,000 pods in one namespace, then list them all in one request.
    namespace(&admin, "big").await;
    creates(&url, &ca, &token, 50, 200, "big").await;
    let mut samples = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let (status, body) = admin
            .raw(
                Method::GET,
                "/api/v1/namespaces/big/pods",
                None,
                Bytes::new(),
            )
            .await
            .expect("list");
        assert_eq!(status, 200);
        let list: serde_json::Value = serde_json::from_slice(&body).expect("list JSON");
        assert_eq!(list["items"].as_array().map(Vec::len), Some(10_000));
        samples.push(started.elapsed());
    }
    row("list 10,000 pods (whole request)", 5, samples, "");

    // 100 watchers; each write is timed until all 100 have seen it.
    namespace(&admin, "fanout").await;
    let (seen_tx, mut seen_rx) = tokio::sync::mpsc::unbounded_channel::<(usize, Instant)>();
    let mut watchers = Vec::new();
    for w in 0..100 {
        let api = HttpApi::new(&url, &ca, &token).expect("client");
        let mut events = api.watch::<Pod>(Some("fanout"), "").await.expect("watch");
        let seen_tx = seen_tx.clone();
        watchers.push(tokio::spawn(async move {
            while let Some(Ok(event)) = events.next().await {
                if event.event_type == WatchEventType::Added {
                    let _ = seen_tx.send((w, Instant::now()));
                }
            }
        }));
    }
    let writes = 50;
    let mut all_saw = Vec::new();
    let mut each_saw = Vec::new();
    for i in 0..writes {
        let started = Instant::now();
        admin
            .create(pod("fanout", format!("f-{i}")))
            .await
            .expect("create");
        let mut last = started;
        for _ in 0..100 {
            let (_, at) = seen_rx.recv().await.expect("a watcher saw it");
            each_saw.push(at - started);
            last = last.max(at);
        }
        all_saw.push(last - started);
    }
    row(
        "watch: one watcher sees a create (100 watchers)",
        each_saw.len(),
        each_saw,
        "",
    );
    row("watch: all 100 watchers saw a create", writes, all_saw, "");
    for watcher in watchers {
        watcher.abort();
    }
    started.handle.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(run());
}
