//! A node dies in the full simulation: real kubelets (lab 02) on the fake runtime, the real
//! scheduler (lab 05), the Deployment and ReplicaSet controllers, and the node lifecycle
//! controller, all on one virtual clock. The dead node's pods move to the other nodes after
//! grace + toleration, counted from its last Lease renewal, and not a second earlier.

mod common;

use std::time::Duration;

use api::client::ApiClient;
use api::{Lease, Node};
use common::{available, deployment};
use controllers::nodelifecycle::{NODE_LEASE_NAMESPACE, NodeLifecycleConfig};
use controllers::sim::{Cluster, World};

const MINUTE: Duration = Duration::from_secs(60);

/// Virtual seconds since the cluster started (its clock starts at `FAKE_EPOCH_SECS`), from
/// a wall-clock time in microseconds.
fn since_start(micros: i64) -> i64 {
    micros / 1_000_000 - runtime::clock::FAKE_EPOCH_SECS as i64
}

fn on_node<'a>(world: &'a World, node: &str) -> Vec<&'a api::Pod> {
    world
        .pods
        .iter()
        .filter(|p| p.spec.node_name.as_deref() == Some(node))
        .collect()
}

// ANCHOR: sim_pods_move
#[tokio::test(flavor = "current_thread")]
async fn a_dead_nodes_pods_run_elsewhere_after_grace_plus_toleration() {
    let config = NodeLifecycleConfig::default();
    let grace = config.grace_period.as_secs() as i64;
    let toleration = config.default_toleration_seconds;
    let mut cluster = Cluster::new(3, 11).with_node_lifecycle(config);
    cluster
        .api()
        .create(deployment(6, "fake/app:v1"))
        .await
        .unwrap();
    let mut ok = |_: &World| Ok(());
    let settled = cluster
        .run_until(MINUTE, &mut ok, |w| available(w).len() == 6)
        .await
        .unwrap();
    let victims = on_node(&settled, "node-1").len();
    assert!(victims > 0, "node-1 runs some of the pods");

    // node-1 loses power.
    cluster.stop_kubelet("node-1");
    let lease: Lease = cluster
        .api()
        .get(Some(NODE_LEASE_NAMESPACE), "node-1")
        .await
        .unwrap();
    let last_heartbeat = since_start(lease.spec.renew_time.unwrap().0);

    // Until grace + toleration have passed, nobody touches node-1's pods.
    let evict_at = last_heartbeat + grace + toleration;
    let mut early = |w: &World| {
        let now = w.now.as_secs() as i64;
        let touched = on_node(w, "node-1")
            .iter()
            .any(|p| p.metadata.deletion_timestamp.is_some());
        if touched && now < evict_at {
            return Err(format!(
                "node-1's pods evicted at {now}s, before {evict_at}s"
            ));
        }
        Ok(())
    };
    let moved = cluster
        .run_until(2 * MINUTE, &mut early, |w| {
            let elsewhere = available(w)
                .iter()
                .filter(|p| p.spec.node_name.as_deref() != Some("node-1"))
                .count();
            elsewhere == 6
        })
        .await
        .unwrap();
    let moved_at = moved.now.as_secs() as i64;
    // Evicted at last heartbeat + 5 s + 3 s; replacements created, scheduled and started
    // within the same few seconds.
    assert!(
        moved_at >= evict_at,
        "moved at {moved_at}s, evicted at {evict_at}s"
    );
    assert!(
        moved_at <= evict_at + 3,
        "moved at {moved_at}s, evicted at {evict_at}s"
    );

    let node: Node = cluster.api().get(None, "node-1").await.unwrap();
    let taints: Vec<String> = node
        .spec
        .taints
        .iter()
        .map(|t| format!("{}:{}", t.key, t.effect))
        .collect();
    assert_eq!(
        taints,
        [
            "node.kubernetes.io/unreachable:NoSchedule",
            "node.kubernetes.io/unreachable:NoExecute"
        ]
    );
    // The evicted pods stay Terminating: only node-1's kubelet could confirm they stopped.
    let terminating = on_node(&moved, "node-1")
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_some())
        .count();
    assert_eq!(terminating, victims);

    // The story as the timeline tells it, from the moment the node died (the start-up is
    // another chapter's).
    let died_at = settled.now.as_secs();
    let story: Vec<&str> = cluster
        .timeline()
        .iter()
        .map(String::as_str)
        .filter(|line| line_time(line) >= died_at)
        .collect();
    insta::assert_snapshot!(story.join("\n"));
}

/// The virtual second a timeline line is stamped with (`[  42s] ...`).
fn line_time(line: &str) -> u64 {
    line.trim_start_matches('[')
        .split('s')
        .next()
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}
// ANCHOR_END: sim_pods_move
