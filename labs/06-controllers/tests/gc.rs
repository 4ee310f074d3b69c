//! The garbage collector: the pure decisions on small owner graphs, then the three
//! propagation policies end to end on the in-memory API (Deployment → ReplicaSet → Pods).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use api::client::{
    ApiClient, DeleteOptions, FOREGROUND_FINALIZER, InMemoryApi, ORPHAN_FINALIZER,
    PropagationPolicy, WatchEventType,
};
use api::{
    Container, Deployment, DeploymentSpec, LabelSelector, ObjectMeta, OwnerReference, Pod, PodSpec,
    PodTemplateSpec, ReplicaSet, ReplicaSetSpec, Resource, Time,
};
use controllers::gc::GarbageCollector;
use controllers::gc::graph::{GcAction, GraphNode, ObjectRef, OwnerGraph, plan_owner};
use controllers::runtime::Runner;

fn object(kind: &str, name: &str) -> ObjectRef {
    ObjectRef {
        kind: kind.into(),
        namespace: "shop".into(),
        name: name.into(),
        uid: format!("uid-{name}"),
    }
}

fn reference(kind: &str, name: &str, block: bool) -> OwnerReference {
    OwnerReference {
        api_version: "apps/v1".into(),
        kind: kind.into(),
        name: name.into(),
        uid: format!("uid-{name}"),
        controller: Some(true),
        block_owner_deletion: block.then_some(true),
    }
}

fn graph_node(kind: &str, name: &str, owners: Vec<OwnerReference>) -> GraphNode {
    GraphNode {
        object: object(kind, name),
        owners,
        finalizers: Vec::new(),
        deleting: false,
    }
}

fn deleting_with(mut node: GraphNode, finalizer: &str) -> GraphNode {
    node.deleting = true;
    node.finalizers.push(finalizer.into());
    node
}

#[test]
fn an_owner_not_being_deleted_needs_nothing() {
    let owner = graph_node("ReplicaSet", "web", vec![]);
    let pod = graph_node("Pod", "web-1", vec![reference("ReplicaSet", "web", true)]);
    assert_eq!(plan_owner(&owner, &[&pod]), vec![]);
}

#[test]
fn orphan_drops_every_reference_then_the_finalizer() {
    let owner = deleting_with(graph_node("ReplicaSet", "web", vec![]), ORPHAN_FINALIZER);
    let a = graph_node("Pod", "web-1", vec![reference("ReplicaSet", "web", true)]);
    let b = graph_node("Pod", "web-2", vec![reference("ReplicaSet", "web", false)]);
    assert_eq!(
        plan_owner(&owner, &[&a, &b]),
        vec![
            GcAction::RemoveOwnerReferences {
                object: object("Pod", "web-1"),
                owner_uids: vec!["uid-web".into()],
                if_absent: vec![],
            },
            GcAction::RemoveOwnerReferences {
                object: object("Pod", "web-2"),
                owner_uids: vec!["uid-web".into()],
                if_absent: vec![],
            },
            GcAction::RemoveFinalizer {
                object: object("ReplicaSet", "web"),
                finalizer: ORPHAN_FINALIZER,
            },
        ]
    );
}

#[test]
fn foreground_deletes_dependents_and_waits_for_the_blocking_ones() {
    let owner = deleting_with(
        graph_node("ReplicaSet", "web", vec![]),
        FOREGROUND_FINALIZER,
    );
    let blocking = graph_node("Pod", "web-1", vec![reference("ReplicaSet", "web", true)]);
    let other = graph_node("Pod", "web-2", vec![reference("ReplicaSet", "web", false)]);
    assert_eq!(
        plan_owner(&owner, &[&blocking, &other]),
        vec![
            GcAction::Delete {
                object: object("Pod", "web-1"),
                policy: PropagationPolicy::Foreground,
                if_absent: vec![],
            },
            GcAction::Delete {
                object: object("Pod", "web-2"),
                policy: PropagationPolicy::Background,
                if_absent: vec![],
            },
        ]
    );
    // The blocking pod is being deleted: nothing new to do, still waiting.
    let mut going = blocking.clone();
    going.deleting = true;
    assert_eq!(plan_owner(&owner, &[&going]), vec![]);
    // Only a non-blocking dependent is left: the owner may go.
    let mut other_going = other.clone();
    other_going.deleting = true;
    assert_eq!(
        plan_owner(&owner, &[&other_going]),
        vec![GcAction::RemoveFinalizer {
            object: object("ReplicaSet", "web"),
            finalizer: FOREGROUND_FINALIZER,
        }]
    );
}

#[test]
fn a_dependent_whose_owners_are_all_gone_is_deleted_and_one_with_a_live_owner_is_trimmed() {
    let mut graph = OwnerGraph::new();
    graph.insert(graph_node("ReplicaSet", "live", vec![]));
    graph.insert(graph_node(
        "Pod",
        "orphaned",
        vec![reference("ReplicaSet", "gone", true)],
    ));
    graph.insert(graph_node(
        "Pod",
        "shared",
        vec![
            reference("ReplicaSet", "gone", true),
            reference("ReplicaSet", "live", false),
        ],
    ));
    assert_eq!(
        graph.plan("uid-orphaned"),
        vec![GcAction::Delete {
            object: object("Pod", "orphaned"),
            policy: PropagationPolicy::Background,
            if_absent: vec![reference("ReplicaSet", "gone", true)],
        }]
    );
    assert_eq!(
        graph.plan("uid-shared"),
        vec![GcAction::RemoveOwnerReferences {
            object: object("Pod", "shared"),
            owner_uids: vec!["uid-gone".into()],
            if_absent: vec![reference("ReplicaSet", "gone", true)],
        }]
    );
    assert_eq!(graph.plan("uid-live"), vec![]);
    let dependents: Vec<&str> = graph
        .dependents("uid-gone")
        .iter()
        .map(|n| n.object.name.as_str())
        .collect();
    assert_eq!(dependents, ["orphaned", "shared"]);
}

fn api() -> InMemoryApi {
    InMemoryApi::with_clock(Arc::new(|| Time(1_700_000_000)))
}

fn template() -> PodTemplateSpec {
    PodTemplateSpec {
        metadata: ObjectMeta {
            labels: BTreeMap::from([("app".to_string(), "web".to_string())]),
            ..ObjectMeta::default()
        },
        spec: PodSpec {
            containers: vec![Container {
                name: "app".into(),
                image: "skiff/web:1".into(),
                ..Container::default()
            }],
            ..PodSpec::default()
        },
    }
}

fn selector() -> LabelSelector {
    LabelSelector {
        match_labels: BTreeMap::from([("app".to_string(), "web".to_string())]),
        ..LabelSelector::default()
    }
}

fn owned_by<K: Resource>(owner: &K) -> OwnerReference {
    let meta = owner.metadata();
    OwnerReference {
        api_version: K::API_VERSION.into(),
        kind: K::KIND.into(),
        name: meta.name.clone().unwrap(),
        uid: meta.uid.clone().unwrap(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// Deployment `web` → ReplicaSet `web-1` → Pods `web-1-a`, `web-1-b`, as the controllers
/// would have made them (the pods unscheduled, so they go as soon as they are deleted).
async fn chain(api: &InMemoryApi) {
    let deployment = api
        .create(Deployment {
            metadata: ObjectMeta::namespaced("shop", "web"),
            spec: DeploymentSpec {
                replicas: Some(2),
                selector: selector(),
                template: template(),
                ..DeploymentSpec::default()
            },
            ..Deployment::default()
        })
        .await
        .unwrap();
    let mut metadata = ObjectMeta::namespaced("shop", "web-1");
    metadata.owner_references.push(owned_by(&deployment));
    let replica_set = api.create(replica_set(metadata, 2)).await.unwrap();
    for name in ["web-1-a", "web-1-b"] {
        create_pod(api, name, owned_by(&replica_set)).await;
    }
}

/// A ReplicaSet of `replicas` pods made from [`template`].
fn replica_set(metadata: ObjectMeta, replicas: i32) -> ReplicaSet {
    ReplicaSet {
        metadata,
        spec: ReplicaSetSpec {
            replicas: Some(replicas),
            selector: selector(),
            template: template(),
            ..ReplicaSetSpec::default()
        },
        ..ReplicaSet::default()
    }
}

/// Creates the pod `shop/name` from [`template`], owned by `owner`.
async fn create_pod(api: &InMemoryApi, name: &str, owner: OwnerReference) {
    let mut metadata = ObjectMeta::namespaced("shop", name);
    metadata.labels = template().metadata.labels;
    metadata.owner_references.push(owner);
    api.create(Pod {
        metadata,
        spec: template().spec,
        ..Pod::default()
    })
    .await
    .unwrap();
}

async fn names<K: api::client::ApiResource>(api: &InMemoryApi) -> Vec<String> {
    let list = api
        .list::<K>(None, &LabelSelector::default())
        .await
        .unwrap();
    list.items
        .iter()
        .map(|o| o.metadata().name.clone().unwrap_or_default())
        .collect()
}

/// Runs the collector until nothing changes any more.
async fn collect(runner: &mut Runner<InMemoryApi, GarbageCollector>) {
    for t in 0..5 {
        runner
            .run_until_quiet(Duration::from_secs(t))
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "current_thread")]
async fn background_deletes_the_owner_at_once_and_the_dependents_after() {
    let api = api();
    chain(&api).await;
    let mut runner = Runner::new(api.clone(), GarbageCollector::new());
    collect(&mut runner).await;
    assert!(
        runner.controller().log().is_empty(),
        "nothing to collect yet"
    );

    let _: Deployment = api
        .delete(
            Some("shop"),
            "web",
            DeleteOptions::propagate(PropagationPolicy::Background),
        )
        .await
        .unwrap();
    assert!(names::<Deployment>(&api).await.is_empty());
    assert_eq!(
        names::<Pod>(&api).await.len(),
        2,
        "dependents are still there"
    );
    collect(&mut runner).await;
    assert!(names::<ReplicaSet>(&api).await.is_empty());
    assert!(names::<Pod>(&api).await.is_empty());
    assert_eq!(
        runner.controller().log(),
        [
            "delete ReplicaSet shop/web-1 (Background)",
            "delete Pod shop/web-1-a (Background)",
            "delete Pod shop/web-1-b (Background)",
        ]
    );
}

// ANCHOR: foreground_test
#[tokio::test(flavor = "current_thread")]
async fn foreground_deletes_the_dependents_first_then_the_owner() {
    let api = api();
    chain(&api).await;
    let mut runner = Runner::new(api.clone(), GarbageCollector::new());
    collect(&mut runner).await;
    let mut deployments = api.watch::<Deployment>(None, "").await.unwrap();
    let mut pods = api.watch::<Pod>(None, "").await.unwrap();

    let marked: Deployment = api
        .delete(
            Some("shop"),
            "web",
            DeleteOptions::propagate(PropagationPolicy::Foreground),
        )
        .await
        .unwrap();
    assert_eq!(marked.metadata.finalizers, [FOREGROUND_FINALIZER]);
    collect(&mut runner).await;
    assert!(names::<Deployment>(&api).await.is_empty());
    assert!(names::<ReplicaSet>(&api).await.is_empty());
    assert!(names::<Pod>(&api).await.is_empty());

    // Every pod was removed before the deployment: compare the revisions of the removals.
    let removed_at = |event: api::client::WatchEvent<Pod>| {
        (event.event_type == WatchEventType::Deleted).then(|| revision(event.object.metadata()))
    };
    let mut last_pod = 0;
    while let Some(event) = pods.try_next() {
        last_pod = last_pod.max(removed_at(event.unwrap()).unwrap_or(0));
    }
    let mut deployment_removed = None;
    while let Some(event) = deployments.try_next() {
        let event = event.unwrap();
        if event.event_type == WatchEventType::Deleted {
            deployment_removed = Some(revision(event.object.metadata()));
        }
    }
    assert!(last_pod > 0);
    assert!(deployment_removed.unwrap() > last_pod);
}
// ANCHOR_END: foreground_test

fn revision(meta: &ObjectMeta) -> u64 {
    meta.resource_version.as_deref().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn orphan_keeps_the_dependents_and_removes_their_owner_reference() {
    let api = api();
    chain(&api).await;
    let mut runner = Runner::new(api.clone(), GarbageCollector::new());
    collect(&mut runner).await;
    let _: ReplicaSet = api
        .delete(
            Some("shop"),
            "web-1",
            DeleteOptions::propagate(PropagationPolicy::Orphan),
        )
        .await
        .unwrap();
    assert_eq!(
        names::<ReplicaSet>(&api).await,
        ["web-1"],
        "marked, waiting"
    );
    collect(&mut runner).await;
    assert!(names::<ReplicaSet>(&api).await.is_empty());
    let pods = api
        .list::<Pod>(None, &LabelSelector::default())
        .await
        .unwrap();
    assert_eq!(pods.items.len(), 2);
    assert!(
        pods.items
            .iter()
            .all(|p| p.metadata.owner_references.is_empty())
    );
    // The deployment, which owned the replica set and not the pods, is untouched.
    assert_eq!(names::<Deployment>(&api).await, ["web"]);
}

#[tokio::test(flavor = "current_thread")]
async fn a_dependent_whose_owner_was_replaced_is_collected() {
    let api = api();
    // A ReplicaSet named `ghost` exists, but it is not the owner the pod names: the uid
    // differs (the owner was deleted and a new one made with the same name).
    api.create(replica_set(ObjectMeta::namespaced("shop", "ghost"), 0))
        .await
        .unwrap();
    let stale = OwnerReference {
        api_version: "apps/v1".into(),
        kind: "ReplicaSet".into(),
        name: "ghost".into(),
        uid: "00000000-0000-4000-8000-00000000dead".into(),
        controller: Some(true),
        block_owner_deletion: None,
    };
    create_pod(&api, "stray", stale).await;
    let mut runner = Runner::new(api.clone(), GarbageCollector::new());
    collect(&mut runner).await;
    assert!(names::<Pod>(&api).await.is_empty());
    assert_eq!(names::<ReplicaSet>(&api).await, ["ghost"]);
}

#[tokio::test(flavor = "current_thread")]
async fn a_dependent_of_a_kind_the_collector_does_not_watch_is_left_alone() {
    let api = api();
    // A pod owned by a Job: skiff's collector does not watch Jobs, so the owner is never in
    // its graph. It must not conclude that the owner is gone.
    let job = OwnerReference {
        api_version: "batch/v1".into(),
        kind: "Job".into(),
        name: "batch".into(),
        uid: "00000000-0000-4000-8000-0000000000aa".into(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    };
    create_pod(&api, "batch-1", job).await;
    let mut runner = Runner::new(api.clone(), GarbageCollector::new());
    collect(&mut runner).await;
    assert_eq!(names::<Pod>(&api).await, ["batch-1"]);
    assert!(runner.controller().log().is_empty());
}
