//! `kubelet-bench`: pod start latency on the real runtime. For each of 100 pods, one at a
//! time: create it in the API (bound to this node), and time until a watch sees it Running.
//! Prints a Markdown table with the goal beside it. Run it in release:
//! `cargo run --release -p skiff-kubelet --bin kubelet-bench`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use api::client::{ApiClient, InMemoryApi, WatchStream};
use api::{Container, ObjectMeta, Pod, PodPhase};
use kubelet::cli::default_image_binary;
use kubelet::{Kubelet, KubeletConfig, RealProber};
use runtime::{RealRuntime, RuntimeConfig, SystemClock};

const PODS: usize = 100;
const NODE: &str = "bench-node";
/// Our goal for p99; Kubernetes' SLO for the same measurement is 5 s.
const GOAL_P99: Duration = Duration::from_millis(50);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    kubelet::cli::serve_builtin_image();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(bench())
}

async fn bench() -> Result<(), Box<dyn std::error::Error>> {
    let root = tempfile_dir();
    let mut runtime_config = RuntimeConfig::new(&root);
    runtime_config.image_binary = default_image_binary();
    runtime_config.node_name = Some(NODE.into());
    let runtime = Arc::new(RealRuntime::new(runtime_config)?);
    let api = InMemoryApi::new();
    let mut kubelet = Kubelet::new(
        KubeletConfig::new(NODE),
        runtime.clone(),
        api.clone(),
        RealProber,
        Arc::new(SystemClock),
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        kubelet
            .run(async {
                let _ = stopped.await;
            })
            .await
    });

    let mut watch = api.watch::<Pod>(Some("bench"), "").await?;
    let mut latencies = Vec::with_capacity(PODS);
    eprintln!("starting {PODS} pods, one at a time...");
    for i in 0..PODS {
        let name = format!("pod-{i:03}");
        let started = Instant::now();
        api.create(sleeper_pod(&name)).await?;
        wait_until_running(&mut watch, &name).await?;
        latencies.push(started.elapsed());
    }
    let _ = stop.send(());
    task.await?;
    drop(runtime);
    let _ = std::fs::remove_dir_all(&root);
    print_table(&mut latencies);
    Ok(())
}

fn sleeper_pod(name: &str) -> Pod {
    let mut pod = Pod {
        metadata: ObjectMeta::namespaced("bench", name),
        ..Pod::default()
    };
    pod.spec.node_name = Some(NODE.into());
    pod.spec.containers.push(Container {
        name: "app".into(),
        image: "skiff/sleeper:1".into(),
        ..Container::default()
    });
    pod
}

/// Reads watch events until pod `name` is reported Running.
async fn wait_until_running(watch: &mut WatchStream<Pod>, name: &str) -> Result<(), String> {
    let limit = Duration::from_secs(10);
    let wait = async {
        while let Some(event) = watch.next().await {
            let pod = event.map_err(|e| e.to_string())?.object;
            let phase = pod.status.as_ref().and_then(|s| s.phase);
            if pod.metadata.name.as_deref() == Some(name) && phase == Some(PodPhase::Running) {
                return Ok(());
            }
        }
        Err("the watch ended".to_string())
    };
    tokio::time::timeout(limit, wait)
        .await
        .map_err(|_| format!("{name} not Running after {limit:?}"))?
}

fn print_table(latencies: &mut [Duration]) {
    latencies.sort();
    let at = |q: f64| {
        latencies[((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len()) - 1]
    };
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
    let (p50, p99) = (at(0.50), at(0.99));
    let verdict = if p99 <= GOAL_P99 { "met" } else { "missed" };
    println!("| measurement | p50 | p99 | max | goal (p99) | Kubernetes SLO (p99) |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| pod start: API create → Running seen by watch, {} pods, real runtime | {} | {} | {} | < {} ({verdict}) | 5 s |",
        latencies.len(),
        ms(p50),
        ms(p99),
        ms(latencies[latencies.len() - 1]),
        ms(GOAL_P99)
    );
}

/// A fresh directory for the runtime's files.
fn tempfile_dir() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("skiff-kubelet-bench-{}", std::process::id()))
}
