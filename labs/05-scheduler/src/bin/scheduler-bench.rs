//! Scheduler throughput: 10,000 pods onto 100, 1,000 and 5,000 nodes with the default
//! plugins, on the sans-IO core (queue → filter → score → assume), printed as a Markdown table
//! beside kube-scheduler's `scheduler_perf` threshold.
//!
//! Run it in release: `cargo run --release -p skiff-scheduler --bin scheduler-bench`.
//! Optional arguments replace the node counts: `scheduler-bench 5000`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use api::{
    Condition, Container, Node, NodeStatus, ObjectMeta, OwnerReference, Pod, PodSpec, Quantity,
    ResourceRequirements,
};
use scheduler::{ClusterCache, Outcome, PodInfo, Profile, Scheduler};

const PODS: usize = 10_000;
/// kube-scheduler's `scheduler_perf` threshold for 5,000 nodes / 10,000 pods.
const KUBERNETES_THRESHOLD: f64 = 680.0;
/// What skiff aims for at 5,000 nodes.
const GOAL: f64 = 20_000.0;
const REPLICA_SETS: usize = 100;

fn main() {
    let counts: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let counts = if counts.is_empty() {
        vec![100, 1_000, 5_000]
    } else {
        counts
    };
    println!("| nodes | pods | bound | seconds | pods/s | kube-scheduler threshold | skiff goal |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for nodes in counts {
        let run = run(nodes);
        let rate = PODS as f64 / run.elapsed.as_secs_f64();
        println!(
            "| {nodes} | {PODS} | {} | {:.3} | {rate:.0} | {KUBERNETES_THRESHOLD:.0} | {GOAL:.0} |",
            run.bound,
            run.elapsed.as_secs_f64()
        );
    }
}

struct Run {
    bound: usize,
    elapsed: Duration,
}

/// Builds the cluster and the pods first (the API's job, not the scheduler's), then times
/// parsing each pod, queueing it and scheduling it.
fn run(node_count: usize) -> Run {
    let mut cache = ClusterCache::new();
    for i in 0..node_count {
        cache.upsert_node(node(i));
    }
    let pods: Vec<Arc<Pod>> = (0..PODS).map(|i| Arc::new(pod(i))).collect();
    let mut scheduler = Scheduler::new(Profile::default_plugins());
    let now = Duration::ZERO;
    let start = Instant::now();
    for p in pods {
        let info = PodInfo::new(p).expect("bench pods are valid");
        scheduler.queue().add(info, now);
    }
    let mut bound = 0;
    while let Some(decision) = scheduler.schedule_one(now, &cache) {
        let key = decision.pod.key.clone();
        match decision.outcome {
            Outcome::Bind { node, .. } => {
                cache.assume(&decision.pod, &node);
                scheduler.queue().done(&key);
                bound += 1;
            }
            Outcome::Unschedulable { .. } => scheduler.queue().park_unschedulable(&key, now),
        }
    }
    Run {
        bound,
        elapsed: start.elapsed(),
    }
}

fn quantities(entries: &[(&str, &str)]) -> BTreeMap<String, Quantity> {
    entries
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                Quantity::parse(v).expect("bench quantities parse"),
            )
        })
        .collect()
}

fn node(i: usize) -> Node {
    let allocatable = quantities(&[("cpu", "32"), ("memory", "128Gi"), ("pods", "110")]);
    let mut metadata = ObjectMeta::named(&format!("node-{i:05}"));
    metadata
        .labels
        .insert("zone".to_string(), format!("zone-{}", i % 3));
    Node {
        metadata,
        status: Some(NodeStatus {
            capacity: allocatable.clone(),
            allocatable,
            conditions: vec![Condition {
                condition_type: "Ready".to_string(),
                status: "True".to_string(),
                ..Condition::default()
            }],
            ..NodeStatus::default()
        }),
        ..Node::default()
    }
}

fn pod(i: usize) -> Pod {
    let owner = format!("rs-{}", i % REPLICA_SETS);
    let mut metadata = ObjectMeta::namespaced("default", &format!("pod-{i:05}"));
    metadata.owner_references.push(OwnerReference {
        api_version: "apps/v1".to_string(),
        kind: "ReplicaSet".to_string(),
        name: owner.clone(),
        uid: owner,
        controller: Some(true),
        block_owner_deletion: None,
    });
    Pod {
        metadata,
        spec: PodSpec {
            containers: vec![Container {
                name: "app".to_string(),
                image: "skiff/sleep".to_string(),
                resources: ResourceRequirements {
                    requests: quantities(&[("cpu", "100m"), ("memory", "128Mi")]),
                    limits: BTreeMap::new(),
                },
                ..Container::default()
            }],
            ..PodSpec::default()
        },
        ..Pod::default()
    }
}
