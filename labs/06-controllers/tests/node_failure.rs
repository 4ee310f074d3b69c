//! End to end on virtual time: a node dies and its pods move. A ReplicaSet keeps 4 pods; the
//! real scheduler (lab 05) places them; stand-in kubelets heartbeat and run what is bound to
//! them; the node lifecycle controller notices the silent node. Pods move after grace +
//! toleration, not before.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use api::client::{ApiClient, InMemoryApi};
use api::{
    Condition, Container, LabelSelector, Lease, LeaseSpec, MicroTime, Node, NodeStatus, ObjectMeta,
    Pod, PodPhase, PodStatus, PodTemplateSpec, Quantity, ReplicaSet, ReplicaSetSpec, Time,
};
use controllers::nodelifecycle::{
    NODE_LEASE_NAMESPACE, NodeLifecycleConfig, NodeLifecycleController,
};
use controllers::replicaset::ReplicaSetController;
use controllers::runtime::Runner;
use scheduler::driver::SchedulerDriver;
use scheduler::{Profile, Scheduler};

const EPOCH: i64 = 1_700_000_000;

/// A stand-in kubelet: renews its Lease, keeps its Node Ready, and reports every pod bound
/// to it as Running and Ready (lab 02 does this for real).
async fn kubelet(api: &InMemoryApi, node: &str, t: i64) {
    let now = MicroTime((EPOCH + t) * 1_000_000);
    match api.get::<Lease>(Some(NODE_LEASE_NAMESPACE), node).await {
        Ok(mut lease) => {
            lease.spec.renew_time = Some(now);
            api.update(lease).await.unwrap();
        }
        Err(_) => {
            let lease = Lease {
                metadata: ObjectMeta::namespaced(NODE_LEASE_NAMESPACE, node),
                spec: LeaseSpec {
                    holder_identity: Some(node.into()),
                    lease_duration_seconds: Some(40),
                    renew_time: Some(now),
                    ..LeaseSpec::default()
                },
                ..Lease::default()
            };
            api.create(lease).await.unwrap();
        }
    }
    let object: Node = match api.get(None, node).await {
        Ok(object) => object,
        Err(_) => api
            .create(Node {
                metadata: ObjectMeta::named(node),
                ..Node::default()
            })
            .await
            .unwrap(),
    };
    let ready = object
        .status
        .iter()
        .flat_map(|s| &s.conditions)
        .any(|c| c.condition_type == "Ready" && c.status == "True");
    if !ready {
        let allocatable = BTreeMap::from([
            ("cpu".to_string(), Quantity::parse("4").unwrap()),
            ("memory".to_string(), Quantity::parse("8Gi").unwrap()),
            ("pods".to_string(), Quantity::from_integer(110)),
        ]);
        let mut object = object;
        object.status = Some(NodeStatus {
            capacity: allocatable.clone(),
            allocatable,
            conditions: vec![condition("Ready", t)],
            ..NodeStatus::default()
        });
        api.update_status(object).await.unwrap();
    }
    let pods = api
        .list::<Pod>(None, &LabelSelector::default())
        .await
        .unwrap();
    for mut pod in pods.items {
        let mine = pod.spec.node_name.as_deref() == Some(node);
        let started = pod.status.as_ref().and_then(|s| s.phase).is_some();
        if mine && !started && pod.metadata.deletion_timestamp.is_none() {
            pod.status = Some(PodStatus {
                phase: Some(PodPhase::Running),
                conditions: vec![condition("Ready", t)],
                ..PodStatus::default()
            });
            api.update_status(pod).await.unwrap();
        }
    }
}

fn condition(kind: &str, t: i64) -> Condition {
    Condition {
        condition_type: kind.into(),
        status: "True".into(),
        last_heartbeat_time: Some(Time(EPOCH + t)),
        last_transition_time: Some(Time(EPOCH + t)),
        ..Condition::default()
    }
}

fn web(replicas: i32) -> ReplicaSet {
    let labels = BTreeMap::from([("app".to_string(), "web".to_string())]);
    ReplicaSet {
        metadata: ObjectMeta::namespaced("default", "web"),
        spec: ReplicaSetSpec {
            replicas: Some(replicas),
            selector: LabelSelector::from_pairs([("app", "web")]),
            template: PodTemplateSpec {
                metadata: ObjectMeta {
                    labels,
                    ..ObjectMeta::default()
                },
                spec: api::PodSpec {
                    containers: vec![Container {
                        name: "app".into(),
                        image: "skiff/web:1".into(),
                        ..Container::default()
                    }],
                    ..api::PodSpec::default()
                },
            },
            ..ReplicaSetSpec::default()
        },
        ..ReplicaSet::default()
    }
}

/// Running pods that are not being deleted, counted per node, e.g. `{"n1": 2, "n2": 2}`.
async fn running_per_node(api: &InMemoryApi) -> BTreeMap<String, usize> {
    let pods = api
        .list::<Pod>(None, &LabelSelector::default())
        .await
        .unwrap();
    let mut count = BTreeMap::new();
    for pod in pods.items {
        let running = pod.status.as_ref().and_then(|s| s.phase) == Some(PodPhase::Running);
        if running && pod.metadata.deletion_timestamp.is_none() {
            *count
                .entry(pod.spec.node_name.clone().unwrap_or_default())
                .or_insert(0) += 1;
        }
    }
    count
}

// ANCHOR: pods_move
#[tokio::test(flavor = "current_thread")]
async fn pods_move_after_grace_plus_toleration() {
    let clock = Arc::new(AtomicI64::new(EPOCH));
    let reading = clock.clone();
    let api = InMemoryApi::with_clock(Arc::new(move || Time(reading.load(Ordering::SeqCst))));
    let epoch = Time(EPOCH);
    let mut replica_sets = Runner::new(api.clone(), ReplicaSetController::new(7, epoch));
    let mut lifecycle = Runner::new(
        api.clone(),
        NodeLifecycleController::new(NodeLifecycleConfig::default(), epoch),
    );
    let mut scheduler = SchedulerDriver::new(
        api.clone(),
        Scheduler::new(Profile::default_plugins()),
        epoch,
    );
    api.create(web(4)).await.unwrap();

    let mut timeline = Vec::new();
    let mut last = BTreeMap::new();
    for t in 0..=25i64 {
        clock.store(EPOCH + t, Ordering::SeqCst);
        let now = Duration::from_secs(t as u64);
        // n1's kubelet stops at t=5: its last heartbeat is at t=4.
        if t < 5 {
            kubelet(&api, "n1", t).await;
        }
        kubelet(&api, "n2", t).await;
        lifecycle.run_until_quiet(now).await.unwrap();
        replica_sets.run_until_quiet(now).await.unwrap();
        scheduler.run_until_quiet(now).await.unwrap();
        let running = running_per_node(&api).await;
        if running != last {
            timeline.push(format!("t={t:>2} running {running:?}"));
            last = running;
        }
    }
    assert_eq!(
        timeline,
        [
            // Created and bound at t=0; the kubelets start them on their next round.
            r#"t= 1 running {"n1": 2, "n2": 2}"#,
            // t=9 (4 s + 5 s grace): n1 is Unknown and tainted. Its pods still count: they
            // may well be running, only the network may be down.
            // t=12 (9 s + 3 s toleration): n1's pods are evicted; the ReplicaSet replaces
            // them and the scheduler keeps the new pods off the tainted n1...
            r#"t=12 running {"n2": 2}"#,
            // ...and n2's kubelet starts them on its next round.
            r#"t=13 running {"n2": 4}"#,
        ]
    );
}
// ANCHOR_END: pods_move
