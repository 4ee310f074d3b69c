//! The API client contract, checked against the in-memory API: CRUD, optimistic concurrency,
//! label selectors, validation and watches.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use api::client::{ApiClient, ApiError, DeleteOptions, InMemoryApi, WatchEvent, WatchStream};
use api::{LabelSelector, Node, ObjectMeta, Pod, PodPhase, PodStatus, Time};

/// An API on a clock that the test moves, starting at 2024-01-01T00:00:00Z.
fn api_with_clock() -> (InMemoryApi, Arc<AtomicI64>) {
    let now = Arc::new(AtomicI64::new(1_704_067_200));
    let clock = now.clone();
    let api = InMemoryApi::with_clock(Arc::new(move || Time(clock.load(Ordering::SeqCst))));
    (api, now)
}

fn pod(namespace: &str, name: &str, labels: &[(&str, &str)]) -> Pod {
    let mut pod = common::pod(namespace, name);
    for (key, value) in labels {
        pod.metadata
            .labels
            .insert(key.to_string(), value.to_string());
    }
    pod
}

fn names(pods: &[Pod]) -> Vec<String> {
    pods.iter()
        .map(|p| {
            format!(
                "{}/{}",
                p.metadata.namespace.as_deref().unwrap_or(""),
                p.metadata.name.as_deref().unwrap_or("")
            )
        })
        .collect()
}

/// Drains the events that are ready now, as `TYPE ns/name@rv`.
fn drain(stream: &mut WatchStream<Pod>) -> Vec<String> {
    let mut seen = Vec::new();
    while let Some(event) = stream.try_next() {
        let WatchEvent { event_type, object } = event.expect("a good event");
        let meta = object.metadata;
        seen.push(format!(
            "{event_type:?} {}/{}@{}",
            meta.namespace.unwrap_or_default(),
            meta.name.unwrap_or_default(),
            meta.resource_version.unwrap_or_default()
        ));
    }
    seen
}

#[tokio::test]
async fn create_assigns_identity_from_the_clock_and_the_revision() {
    let (api, _) = api_with_clock();
    let created = api.create(pod("shop", "web", &[])).await.unwrap();
    let meta = &created.metadata;
    assert_eq!(meta.resource_version.as_deref(), Some("1"));
    assert_eq!(
        meta.uid.as_deref(),
        Some("00000000-0000-4000-8000-000000000001")
    );
    assert_eq!(
        meta.creation_timestamp.map(|t| t.to_string()).as_deref(),
        Some("2024-01-01T00:00:00Z")
    );
    assert_eq!(meta.generation, Some(1));
    let read: Pod = api.get(Some("shop"), "web").await.unwrap();
    assert_eq!(read, created);
}

#[tokio::test]
async fn a_pod_without_namespace_goes_to_default() {
    let (api, _) = api_with_clock();
    let mut unplaced = pod("x", "web", &[]);
    unplaced.metadata.namespace = None;
    api.create(unplaced).await.unwrap();
    let read: Pod = api.get(None, "web").await.unwrap();
    assert_eq!(read.metadata.namespace.as_deref(), Some("default"));
}

#[tokio::test]
async fn create_twice_is_already_exists() {
    let (api, _) = api_with_clock();
    api.create(pod("shop", "web", &[])).await.unwrap();
    let error = api.create(pod("shop", "web", &[])).await.unwrap_err();
    assert_eq!(error.to_string(), "pods \"web\" already exists");
    assert_eq!((error.code(), error.reason()), (409, "AlreadyExists"));
}

#[tokio::test]
async fn get_of_a_missing_object_is_not_found() {
    let (api, _) = api_with_clock();
    let error = api.get::<Pod>(Some("shop"), "nope").await.unwrap_err();
    assert!(error.is_not_found());
    assert_eq!(error.to_string(), "pods \"nope\" not found");
    assert_eq!(error.code(), 404);
}

#[tokio::test]
async fn update_with_the_current_version_succeeds_and_bumps_generation_on_spec_change() {
    let (api, _) = api_with_clock();
    let mut web = api.create(pod("shop", "web", &[])).await.unwrap();
    web.spec.containers[0].image = "skiff/sleeper:2".into();
    let updated = api.update(web).await.unwrap();
    assert_eq!(updated.metadata.resource_version.as_deref(), Some("2"));
    assert_eq!(updated.metadata.generation, Some(2));
    let mut relabelled = updated.clone();
    relabelled
        .metadata
        .labels
        .insert("tier".into(), "web".into());
    let relabelled = api.update(relabelled).await.unwrap();
    assert_eq!(
        relabelled.metadata.generation,
        Some(2),
        "labels are not spec"
    );
}

#[tokio::test]
async fn update_with_a_stale_version_is_a_conflict() {
    let (api, _) = api_with_clock();
    let first = api.create(pod("shop", "web", &[])).await.unwrap();
    let mut writer_a = first.clone();
    let mut writer_b = first;
    writer_a.metadata.labels.insert("by".into(), "a".into());
    writer_b.metadata.labels.insert("by".into(), "b".into());
    api.update(writer_a).await.unwrap();
    let error = api.update(writer_b).await.unwrap_err();
    assert!(error.is_conflict());
    assert_eq!((error.code(), error.reason()), (409, "Conflict"));
    assert!(error.to_string().contains("the object has been modified"));
    let stored: Pod = api.get(Some("shop"), "web").await.unwrap();
    assert_eq!(
        stored.metadata.labels["by"], "a",
        "the loser changed nothing"
    );
}

#[tokio::test]
async fn update_without_a_version_is_invalid_and_names_the_field() {
    let (api, _) = api_with_clock();
    let mut web = api.create(pod("shop", "web", &[])).await.unwrap();
    web.metadata.resource_version = None;
    let error = api.update(web).await.unwrap_err();
    assert_eq!(error.code(), 422);
    assert!(
        error
            .to_string()
            .contains("metadata.resourceVersion: Required value"),
        "{error}"
    );
}

#[tokio::test]
async fn update_keeps_status_and_update_status_keeps_spec() {
    let (api, _) = api_with_clock();
    let web = api.create(pod("shop", "web", &[])).await.unwrap();
    let mut with_status = web.clone();
    with_status.status = Some(PodStatus {
        phase: Some(PodPhase::Running),
        ..PodStatus::default()
    });
    with_status.spec.containers[0].image = "ignored/by-status:1".into();
    with_status
        .metadata
        .labels
        .insert("ignored".into(), "by-status".into());
    let after_status = api.update_status(with_status).await.unwrap();
    assert_eq!(after_status.spec.containers[0].image, "skiff/sleeper:1");
    assert!(after_status.metadata.labels.is_empty());
    assert_eq!(
        after_status.status.as_ref().and_then(|s| s.phase),
        Some(PodPhase::Running)
    );

    let mut user_edit = after_status.clone();
    user_edit.status = None;
    let after_update = api.update(user_edit).await.unwrap();
    assert_eq!(
        after_update.status.and_then(|s| s.phase),
        Some(PodPhase::Running)
    );
}

#[tokio::test]
async fn invalid_objects_are_rejected_with_every_field_error() {
    let (api, _) = api_with_clock();
    let mut bad = pod("shop", "Web_1", &[]);
    bad.spec.containers[0].image = String::new();
    let error = api.create(bad).await.unwrap_err();
    let ApiError::Invalid { kind, name, errors } = &error else {
        panic!("expected Invalid, got {error:?}");
    };
    assert_eq!((*kind, name.as_str()), ("Pod", "Web_1"));
    let paths: Vec<String> = errors.iter().map(|e| e.path.to_string()).collect();
    assert_eq!(paths, ["metadata.name", "spec.containers[0].image"]);
    assert_eq!(error.code(), 422);
    assert!(
        api.list::<Pod>(None, &LabelSelector::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

#[tokio::test]
async fn an_invalid_update_changes_nothing() {
    let (api, _) = api_with_clock();
    let mut web = api.create(pod("shop", "web", &[])).await.unwrap();
    web.spec.containers.clear();
    let error = api.update(web).await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("spec.containers: Required value"),
        "{error}"
    );
    assert_eq!(api.resource_version(), "1");
}

#[tokio::test]
async fn list_filters_by_namespace_and_label_selector() {
    let (api, _) = api_with_clock();
    api.create(pod("shop", "web", &[("app", "web")]))
        .await
        .unwrap();
    api.create(pod("shop", "db", &[("app", "db")]))
        .await
        .unwrap();
    api.create(pod("blog", "web", &[("app", "web")]))
        .await
        .unwrap();
    let all = api
        .list::<Pod>(None, &LabelSelector::default())
        .await
        .unwrap();
    assert_eq!(names(&all.items), ["blog/web", "shop/db", "shop/web"]);
    assert_eq!(all.resource_version, "3");
    let web = LabelSelector::from_pairs([("app", "web")]);
    let shop_web = api.list::<Pod>(Some("shop"), &web).await.unwrap();
    assert_eq!(names(&shop_web.items), ["shop/web"]);
    let every_web = api.list::<Pod>(None, &web).await.unwrap();
    assert_eq!(names(&every_web.items), ["blog/web", "shop/web"]);
}

#[tokio::test]
async fn kinds_do_not_mix_and_nodes_are_cluster_scoped() {
    let (api, _) = api_with_clock();
    api.create(pod("shop", "n1", &[])).await.unwrap();
    let node = Node {
        metadata: ObjectMeta::named("n1"),
        ..Node::default()
    };
    api.create(node).await.unwrap();
    let nodes = api
        .list::<Node>(None, &LabelSelector::default())
        .await
        .unwrap();
    assert_eq!(nodes.items.len(), 1);
    let read: Node = api.get(Some("ignored"), "n1").await.unwrap();
    assert_eq!(read.metadata.namespace, None);
}

#[tokio::test]
async fn deleting_a_pod_on_a_node_marks_it_first_then_removes_it() {
    let (api, now) = api_with_clock();
    let mut bound = pod("shop", "web", &[]);
    bound.spec.node_name = Some("n1".into());
    bound.spec.termination_grace_period_seconds = Some(5);
    api.create(bound).await.unwrap();
    now.fetch_add(100, Ordering::SeqCst);
    let marked: Pod = api
        .delete(Some("shop"), "web", DeleteOptions::default())
        .await
        .unwrap();
    assert_eq!(marked.metadata.deletion_grace_period_seconds, Some(5));
    assert_eq!(
        marked
            .metadata
            .deletion_timestamp
            .map(|t| t.to_string())
            .as_deref(),
        Some("2024-01-01T00:01:45Z")
    );
    let still_there: Pod = api.get(Some("shop"), "web").await.unwrap();
    assert!(still_there.metadata.deletion_timestamp.is_some());
    let _: Pod = api
        .delete(Some("shop"), "web", DeleteOptions::now())
        .await
        .unwrap();
    assert!(
        api.get::<Pod>(Some("shop"), "web")
            .await
            .unwrap_err()
            .is_not_found()
    );
}

#[tokio::test]
async fn deleting_an_unscheduled_pod_removes_it_at_once() {
    let (api, _) = api_with_clock();
    api.create(pod("shop", "web", &[])).await.unwrap();
    let _: Pod = api
        .delete(Some("shop"), "web", DeleteOptions::default())
        .await
        .unwrap();
    assert!(
        api.get::<Pod>(Some("shop"), "web")
            .await
            .unwrap_err()
            .is_not_found()
    );
    let error = api
        .delete::<Pod>(Some("shop"), "web", DeleteOptions::default())
        .await
        .unwrap_err();
    assert!(error.is_not_found());
}

#[tokio::test]
async fn watch_sees_every_change_in_order() {
    let (api, _) = api_with_clock();
    let mut all = api.watch::<Pod>(None, "").await.unwrap();
    let mut shop_only = api.watch::<Pod>(Some("shop"), "").await.unwrap();
    let web = api.create(pod("shop", "web", &[])).await.unwrap();
    api.create(pod("blog", "post", &[])).await.unwrap();
    let mut relabelled = web;
    relabelled.metadata.labels.insert("v".into(), "2".into());
    api.update(relabelled).await.unwrap();
    let _: Pod = api
        .delete(Some("shop"), "web", DeleteOptions::default())
        .await
        .unwrap();
    assert_eq!(
        drain(&mut all),
        [
            "Added shop/web@1",
            "Added blog/post@2",
            "Modified shop/web@3",
            "Deleted shop/web@4"
        ]
    );
    assert_eq!(
        drain(&mut shop_only),
        [
            "Added shop/web@1",
            "Modified shop/web@3",
            "Deleted shop/web@4"
        ]
    );
}

#[tokio::test]
async fn watch_resumes_after_a_resource_version() {
    let (api, _) = api_with_clock();
    api.create(pod("shop", "a", &[])).await.unwrap();
    let listed = api
        .list::<Pod>(None, &LabelSelector::default())
        .await
        .unwrap();
    api.create(pod("shop", "b", &[])).await.unwrap();
    api.create(pod("shop", "c", &[])).await.unwrap();
    let mut resumed = api
        .watch::<Pod>(None, &listed.resource_version)
        .await
        .unwrap();
    api.create(pod("shop", "d", &[])).await.unwrap();
    assert_eq!(
        drain(&mut resumed),
        ["Added shop/b@2", "Added shop/c@3", "Added shop/d@4"]
    );
}

#[tokio::test]
async fn watch_from_before_the_history_is_gone() {
    let (_, now) = api_with_clock();
    let clock = now.clone();
    let api = InMemoryApi::with_clock_and_history(
        Arc::new(move || Time(clock.load(Ordering::SeqCst))),
        2,
    );
    for name in ["a", "b", "c", "d"] {
        api.create(pod("shop", name, &[])).await.unwrap();
    }
    let error = api.watch::<Pod>(None, "1").await.unwrap_err();
    assert_eq!((error.code(), error.reason()), (410, "Expired"));
    assert!(
        error.to_string().contains("too old resource version: 1"),
        "{error}"
    );
    let mut recent = api.watch::<Pod>(None, "2").await.unwrap();
    assert_eq!(drain(&mut recent), ["Added shop/c@3", "Added shop/d@4"]);
}

#[tokio::test]
async fn watch_with_a_garbage_version_is_a_bad_request() {
    let (api, _) = api_with_clock();
    let error = api.watch::<Pod>(None, "yesterday").await.unwrap_err();
    assert_eq!(error.code(), 400);
    assert!(error.to_string().contains("\"yesterday\""), "{error}");
}

#[tokio::test]
async fn a_dropped_watch_does_not_disturb_the_api() {
    let (api, _) = api_with_clock();
    let watch = api.watch::<Pod>(None, "").await.unwrap();
    drop(watch);
    api.create(pod("shop", "web", &[])).await.unwrap();
    api.create(pod("shop", "db", &[])).await.unwrap();
    assert_eq!(api.resource_version(), "2");
}
