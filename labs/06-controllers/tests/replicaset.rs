//! The ReplicaSet controller on the in-memory API (no kubelet: tests set pod status by hand).

use std::sync::Arc;
use std::time::Duration;

use api::client::{ApiClient, DeleteOptions, InMemoryApi};
use api::{
    Condition, Container, LabelSelector, ObjectMeta, Pod, PodPhase, PodStatus, PodTemplateSpec,
    ReplicaSet, ReplicaSetSpec, Time,
};
use controllers::pods::{controller_of, is_available};
use controllers::replicaset::{
    BURST_REPLICAS, ReplicaChange, ReplicaSetController, pods_to_delete, replica_change,
};
use controllers::runtime::{Controller, Key, ReconcileError, Runner};

const EPOCH: i64 = 1_700_000_000;

fn api() -> InMemoryApi {
    InMemoryApi::with_clock(Arc::new(|| Time(EPOCH)))
}

fn labels(pairs: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn replica_set(name: &str, replicas: i32) -> ReplicaSet {
    ReplicaSet {
        metadata: ObjectMeta::namespaced("default", name),
        spec: ReplicaSetSpec {
            replicas: Some(replicas),
            selector: LabelSelector::from_pairs([("app", "web")]),
            template: PodTemplateSpec {
                metadata: ObjectMeta {
                    labels: labels(&[("app", "web")]),
                    ..ObjectMeta::default()
                },
                spec: api::PodSpec {
                    containers: vec![Container {
                        name: "app".into(),
                        image: "fake/sleeper".into(),
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

fn runner(api: &InMemoryApi) -> Runner<InMemoryApi, ReplicaSetController> {
    Runner::new(api.clone(), ReplicaSetController::new(7, Time(EPOCH)))
}

async fn pods(api: &InMemoryApi) -> Vec<Pod> {
    api.list::<Pod>(None, &LabelSelector::default())
        .await
        .unwrap()
        .items
}

async fn rs(api: &InMemoryApi, name: &str) -> ReplicaSet {
    api.get(Some("default"), name).await.unwrap()
}

#[tokio::test]
async fn creates_the_missing_pods_owned_by_the_replica_set() {
    let api = api();
    api.create(replica_set("web", 3)).await.unwrap();
    let mut runner = runner(&api);
    runner.run_until_quiet(Duration::ZERO).await.unwrap();

    let pods = pods(&api).await;
    assert_eq!(pods.len(), 3);
    let web = rs(&api, "web").await;
    for pod in &pods {
        let name = pod.metadata.name.as_deref().unwrap();
        let suffix = name
            .strip_prefix("web-")
            .expect("named after the replica set");
        assert_eq!(suffix.len(), 5, "{name}");
        let owner = controller_of(pod).expect("a controller reference");
        assert_eq!(owner.kind, "ReplicaSet");
        assert_eq!(owner.name, "web");
        assert_eq!(Some(&owner.uid), web.metadata.uid.as_ref());
        assert_eq!(owner.block_owner_deletion, Some(true));
        assert_eq!(pod.metadata.labels, labels(&[("app", "web")]));
    }
    let status = web.status.unwrap();
    assert_eq!(status.replicas, 3);
    assert_eq!(status.fully_labeled_replicas, Some(3));
    assert_eq!(status.ready_replicas, Some(0));
    assert_eq!(status.observed_generation, Some(1));
}

#[tokio::test]
async fn the_same_seed_gives_the_same_pod_names() {
    let mut names = Vec::new();
    for _ in 0..2 {
        let api = api();
        api.create(replica_set("web", 3)).await.unwrap();
        runner(&api).run_until_quiet(Duration::ZERO).await.unwrap();
        let list: Vec<String> = pods(&api)
            .await
            .into_iter()
            .map(|p| p.metadata.name.unwrap())
            .collect();
        names.push(list);
    }
    assert_eq!(names[0], names[1]);
}

#[tokio::test]
async fn expectations_prevent_double_creation_while_the_watch_lags() {
    let api = api();
    api.create(replica_set("web", 4)).await.unwrap();
    let mut controller = ReplicaSetController::new(1, Time(EPOCH));
    controller.observe(&api, Duration::ZERO).await.unwrap();
    let key = Key::new("default", "web");
    // A slow watch: the controller syncs ten times before it observes any of its creations.
    for i in 0..10 {
        let now = Duration::from_secs(i);
        // The status write may conflict (the cached ReplicaSet is stale too): that is retried
        // by the runner, and must not create pods either.
        match controller.reconcile(&api, &key, now).await {
            Ok(_) => {}
            Err(ReconcileError::Api(error)) if error.is_conflict() => {}
            Err(error) => panic!("sync {i}: {error}"),
        }
        assert_eq!(pods(&api).await.len(), 4, "sync {i} created again");
    }
    assert_eq!(controller.expectations().pending(&key), (4, 0));
    // Once the creations are observed, the controller may act again (and finds nothing to do).
    controller
        .observe(&api, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(controller.expectations().pending(&key), (0, 0));
    assert!(
        controller
            .expectations()
            .satisfied(&key, Duration::from_secs(10))
    );
    controller
        .reconcile(&api, &key, Duration::from_secs(11))
        .await
        .unwrap();
    assert_eq!(pods(&api).await.len(), 4);
}

#[tokio::test]
async fn without_observation_expectations_expire_after_five_minutes() {
    let api = api();
    api.create(replica_set("web", 2)).await.unwrap();
    let mut controller = ReplicaSetController::new(1, Time(EPOCH));
    controller.observe(&api, Duration::ZERO).await.unwrap();
    let key = Key::new("default", "web");
    controller
        .reconcile(&api, &key, Duration::ZERO)
        .await
        .unwrap();
    assert!(
        !controller
            .expectations()
            .satisfied(&key, Duration::from_secs(300))
    );
    assert!(
        controller
            .expectations()
            .satisfied(&key, Duration::from_secs(301))
    );
}

#[tokio::test]
async fn a_deleted_pod_is_replaced_and_scaling_down_deletes() {
    let api = api();
    api.create(replica_set("web", 3)).await.unwrap();
    let mut runner = runner(&api);
    runner.run_until_quiet(Duration::ZERO).await.unwrap();
    let victim = pods(&api).await[0].metadata.name.clone().unwrap();
    api.delete::<Pod>(Some("default"), &victim, DeleteOptions::now())
        .await
        .unwrap();
    runner
        .run_until_quiet(Duration::from_secs(1))
        .await
        .unwrap();
    let names: Vec<String> = pods(&api)
        .await
        .into_iter()
        .map(|p| p.metadata.name.unwrap())
        .collect();
    assert_eq!(names.len(), 3);
    assert!(!names.contains(&victim));

    let mut web = rs(&api, "web").await;
    web.spec.replicas = Some(1);
    api.update(web).await.unwrap();
    runner
        .run_until_quiet(Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(pods(&api).await.len(), 1);
    let status = rs(&api, "web").await.status.unwrap();
    assert_eq!(status.replicas, 1);
    assert_eq!(status.observed_generation, Some(2));
}

#[tokio::test]
async fn adopts_matching_orphans_and_releases_pods_that_stop_matching() {
    let api = api();
    let orphan = Pod {
        metadata: ObjectMeta {
            labels: labels(&[("app", "web")]),
            ..ObjectMeta::namespaced("default", "orphan")
        },
        spec: replica_set("x", 1).spec.template.spec,
        ..Pod::default()
    };
    api.create(orphan).await.unwrap();
    api.create(replica_set("web", 2)).await.unwrap();
    let mut runner = runner(&api);
    runner.run_until_quiet(Duration::ZERO).await.unwrap();
    let all = pods(&api).await;
    assert_eq!(all.len(), 2, "the orphan counts as one of the two");
    let orphan = all
        .iter()
        .find(|p| p.metadata.name.as_deref() == Some("orphan"))
        .unwrap();
    assert_eq!(controller_of(orphan).unwrap().name, "web");

    // Relabel the adopted pod: it no longer matches, so it is released and replaced.
    let mut relabeled: Pod = api.get(Some("default"), "orphan").await.unwrap();
    relabeled.metadata.labels = labels(&[("app", "debug")]);
    api.update(relabeled).await.unwrap();
    runner
        .run_until_quiet(Duration::from_secs(1))
        .await
        .unwrap();
    let released: Pod = api.get(Some("default"), "orphan").await.unwrap();
    assert!(controller_of(&released).is_none());
    let owned = pods(&api)
        .await
        .into_iter()
        .filter(|p| controller_of(p).is_some())
        .count();
    assert_eq!(owned, 2);
}

#[test]
fn replica_change_creates_deletes_and_bursts() {
    assert_eq!(
        replica_change(3, 0, BURST_REPLICAS),
        ReplicaChange::Create(3)
    );
    assert_eq!(
        replica_change(3, 5, BURST_REPLICAS),
        ReplicaChange::Delete(2)
    );
    assert_eq!(replica_change(3, 3, BURST_REPLICAS), ReplicaChange::None);
    assert_eq!(
        replica_change(0, 2, BURST_REPLICAS),
        ReplicaChange::Delete(2)
    );
    assert_eq!(
        replica_change(-1, 2, BURST_REPLICAS),
        ReplicaChange::Delete(2)
    );
    assert_eq!(replica_change(1000, 0, 500), ReplicaChange::Create(500));
    assert_eq!(replica_change(0, 800, 500), ReplicaChange::Delete(500));
}

/// A pod with a node (or none), a phase, readiness since a time, restarts and a creation time.
fn ranked_pod(
    name: &str,
    node: Option<&str>,
    phase: PodPhase,
    ready_at: Option<i64>,
    restarts: i32,
    created: i64,
) -> Pod {
    let mut pod = Pod {
        metadata: ObjectMeta {
            creation_timestamp: Some(Time(created)),
            ..ObjectMeta::namespaced("default", name)
        },
        ..Pod::default()
    };
    pod.spec.node_name = node.map(str::to_string);
    let mut status = PodStatus {
        phase: Some(phase),
        ..PodStatus::default()
    };
    if let Some(at) = ready_at {
        status.conditions.push(Condition {
            condition_type: "Ready".into(),
            status: "True".into(),
            last_transition_time: Some(Time(at)),
            ..Condition::default()
        });
    }
    status.container_statuses.push(api::ContainerStatus {
        name: "app".into(),
        restart_count: restarts,
        ..api::ContainerStatus::default()
    });
    pod.status = Some(status);
    pod
}

#[test]
fn pods_to_delete_ranks_like_kubernetes() {
    use PodPhase::{Pending, Running, Unknown};
    let pods = vec![
        ranked_pod("ready-long", Some("n"), Running, Some(100), 0, 10),
        ranked_pod("ready-short", Some("n"), Running, Some(200), 0, 10),
        ranked_pod("not-ready", Some("n"), Running, None, 0, 10),
        ranked_pod("unknown", Some("n"), Unknown, None, 0, 10),
        ranked_pod("pending", Some("n"), Pending, None, 0, 10),
        ranked_pod("unscheduled", None, Pending, None, 0, 10),
        ranked_pod("restarts", Some("n"), Running, Some(100), 5, 10),
        ranked_pod("newer", Some("n"), Running, Some(100), 0, 20),
    ];
    let order: Vec<&str> = pods_to_delete(&pods, pods.len())
        .into_iter()
        .map(|p| p.metadata.name.as_deref().unwrap())
        .collect();
    assert_eq!(
        order,
        [
            "unscheduled",
            "pending",
            "unknown",
            "not-ready",
            "ready-short",
            "restarts",
            "newer",
            "ready-long"
        ]
    );
    assert_eq!(pods_to_delete(&pods, 2).len(), 2);
}

#[test]
fn ties_are_broken_by_name() {
    let pods = vec![
        ranked_pod("b", Some("n"), PodPhase::Running, Some(1), 0, 1),
        ranked_pod("a", Some("n"), PodPhase::Running, Some(1), 0, 1),
    ];
    let first = pods_to_delete(&pods, 1)[0].metadata.name.clone();
    assert_eq!(first.as_deref(), Some("a"));
}

#[test]
fn availability_waits_for_min_ready_seconds() {
    let pod = ranked_pod("p", Some("n"), PodPhase::Running, Some(100), 0, 0);
    assert!(is_available(&pod, 0, Time(100)));
    assert!(!is_available(&pod, 10, Time(109)));
    assert!(is_available(&pod, 10, Time(110)));
    let not_ready = ranked_pod("q", Some("n"), PodPhase::Running, None, 0, 0);
    assert!(!is_available(&not_ready, 0, Time(1000)));
}

#[tokio::test]
async fn status_counts_ready_and_available_pods_and_requeues_for_min_ready() {
    let api = api();
    let mut web = replica_set("web", 2);
    web.spec.min_ready_seconds = Some(30);
    api.create(web).await.unwrap();
    let mut runner = runner(&api);
    runner.run_until_quiet(Duration::ZERO).await.unwrap();
    // Both pods become ready at EPOCH (a kubelet would write this).
    for mut pod in pods(&api).await {
        pod.status = Some(PodStatus {
            phase: Some(PodPhase::Running),
            conditions: vec![Condition {
                condition_type: "Ready".into(),
                status: "True".into(),
                last_transition_time: Some(Time(EPOCH)),
                ..Condition::default()
            }],
            ..PodStatus::default()
        });
        api.update_status(pod).await.unwrap();
    }
    let outcomes = runner.run_until_quiet(Duration::ZERO).await.unwrap();
    assert!(outcomes.iter().any(|o| o.result
        == Ok(controllers::runtime::Action::RequeueAfter(
            Duration::from_secs(30)
        ))));
    let status = rs(&api, "web").await.status.unwrap();
    assert_eq!(
        (status.ready_replicas, status.available_replicas),
        (Some(2), Some(0))
    );
    // No event announces "30 s have passed": the requeue brings the key back.
    assert_eq!(runner.next_wake_up(), Some(Duration::from_secs(30)));
    runner
        .run_until_quiet(Duration::from_secs(30))
        .await
        .unwrap();
    let status = rs(&api, "web").await.status.unwrap();
    assert_eq!(status.available_replicas, Some(2));
}

#[test]
fn a_graceful_deletion_observed_twice_counts_once() {
    use controllers::replicaset::Expectations;
    let mut expectations = Expectations::new();
    let rs = Key::new("default", "web");
    let (a, b) = (Key::new("default", "web-a"), Key::new("default", "web-b"));
    let t = Duration::from_secs(1);
    expectations.expect_deletions(&rs, [a.clone(), b.clone()], t);
    assert!(!expectations.satisfied(&rs, t));
    // `a` is marked (deletionTimestamp), then removed: two observations of one deletion.
    expectations.deletion_observed(&rs, &a);
    expectations.deletion_observed(&rs, &a);
    assert_eq!(expectations.pending(&rs), (0, 1));
    assert!(!expectations.satisfied(&rs, t));
    expectations.deletion_observed(&rs, &b);
    assert!(expectations.satisfied(&rs, t));
    // Creations count down; a key without expectations is always satisfied.
    expectations.expect_creations(&rs, 2, t);
    expectations.creation_observed(&rs);
    assert_eq!(expectations.pending(&rs), (1, 0));
    expectations.forget(&rs);
    assert!(expectations.satisfied(&rs, t));
}
