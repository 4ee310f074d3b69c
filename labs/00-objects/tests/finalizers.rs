//! Finalizers and propagation policies in the in-memory API: a delete only marks an object
//! that something still has to clean up, and the object goes when its last finalizer does.

mod common;

use std::sync::Arc;

use api::client::{
    ApiClient, DeleteOptions, FOREGROUND_FINALIZER, InMemoryApi, ORPHAN_FINALIZER,
    PropagationPolicy, WatchEventType,
};
use api::{ConfigMap, ObjectMeta, Pod, Time};
use common::pod;

fn api() -> InMemoryApi {
    InMemoryApi::with_clock(Arc::new(|| Time(1_704_067_200)))
}

fn config(name: &str, finalizers: &[&str]) -> ConfigMap {
    let mut metadata = ObjectMeta::namespaced("shop", name);
    metadata.finalizers = finalizers.iter().map(|f| f.to_string()).collect();
    ConfigMap {
        metadata,
        ..ConfigMap::default()
    }
}

/// Deletes the ConfigMap `shop/name`; returns what the API answers (the marked object, or the
/// last state of a removed one).
async fn delete(api: &InMemoryApi, name: &str, options: DeleteOptions) -> ConfigMap {
    api.delete(Some("shop"), name, options).await.unwrap()
}

async fn gone(api: &InMemoryApi, name: &str) -> bool {
    api.get::<ConfigMap>(Some("shop"), name)
        .await
        .is_err_and(|e| e.is_not_found())
}

#[tokio::test]
async fn an_object_with_a_finalizer_is_only_marked_until_the_finalizer_is_removed() {
    let api = api();
    api.create(config("settings", &["example.com/backup"]))
        .await
        .unwrap();
    let marked = delete(&api, "settings", DeleteOptions::default()).await;
    assert_eq!(
        marked.metadata.deletion_timestamp,
        Some(Time(1_704_067_200))
    );
    assert_eq!(marked.metadata.deletion_grace_period_seconds, Some(0));
    assert!(!gone(&api, "settings").await);

    // Deleting again changes nothing: the mark is final.
    let again = delete(&api, "settings", DeleteOptions::default()).await;
    assert_eq!(
        again.metadata.resource_version,
        marked.metadata.resource_version
    );

    let mut cleaned = marked;
    cleaned.metadata.finalizers.clear();
    api.update(cleaned).await.unwrap();
    assert!(gone(&api, "settings").await);
}

#[tokio::test]
async fn removing_one_of_two_finalizers_keeps_the_object() {
    let api = api();
    api.create(config("settings", &["a.example.com/x", "b.example.com/y"]))
        .await
        .unwrap();
    let mut marked = delete(&api, "settings", DeleteOptions::default()).await;
    marked.metadata.finalizers.remove(0);
    let kept = api.update(marked).await.unwrap();
    assert_eq!(
        kept.metadata.finalizers,
        vec!["b.example.com/y".to_string()]
    );
    assert!(kept.metadata.deletion_timestamp.is_some());
    assert!(!gone(&api, "settings").await);
}

#[tokio::test]
async fn foreground_and_orphan_add_their_finalizer_and_background_adds_none() {
    let api = api();
    for name in ["fg", "or", "bg"] {
        api.create(config(name, &[])).await.unwrap();
    }
    let fg = delete(
        &api,
        "fg",
        DeleteOptions::propagate(PropagationPolicy::Foreground),
    )
    .await;
    assert_eq!(
        fg.metadata.finalizers,
        vec![FOREGROUND_FINALIZER.to_string()]
    );
    assert!(fg.metadata.deletion_timestamp.is_some());
    let orphan = delete(
        &api,
        "or",
        DeleteOptions::propagate(PropagationPolicy::Orphan),
    )
    .await;
    assert_eq!(
        orphan.metadata.finalizers,
        vec![ORPHAN_FINALIZER.to_string()]
    );
    delete(
        &api,
        "bg",
        DeleteOptions::propagate(PropagationPolicy::Background),
    )
    .await;
    assert!(gone(&api, "bg").await);
    assert!(!gone(&api, "fg").await);
    assert!(!gone(&api, "or").await);
}

#[tokio::test]
async fn a_status_update_cannot_drop_the_finalizers_of_a_deleted_object() {
    let api = api();
    let mut pod = pod("shop", "web");
    pod.metadata.finalizers = vec!["example.com/keep".into()];
    api.create(pod).await.unwrap();
    let mut marked: Pod = api
        .delete(Some("shop"), "web", DeleteOptions::now())
        .await
        .unwrap();
    marked.metadata.finalizers.clear();
    // The status subresource keeps the stored metadata, finalizers included.
    let kept = api.update_status(marked).await.unwrap();
    assert_eq!(kept.metadata.finalizers.len(), 1);
    assert!(api.get::<Pod>(Some("shop"), "web").await.is_ok());
}

#[tokio::test]
async fn a_pod_on_a_node_goes_only_when_both_grace_and_finalizers_are_done() {
    let api = api();
    let mut pod = pod("shop", "web");
    pod.spec.node_name = Some("n1".into());
    api.create(pod).await.unwrap();
    let mut marked: Pod = api
        .delete(
            Some("shop"),
            "web",
            DeleteOptions::propagate(PropagationPolicy::Foreground),
        )
        .await
        .unwrap();
    assert_eq!(marked.metadata.deletion_grace_period_seconds, Some(30));
    // The finalizer goes first: the grace period still holds the pod.
    marked.metadata.finalizers.clear();
    let waiting = api.update(marked).await.unwrap();
    assert!(waiting.metadata.finalizers.is_empty());
    // The kubelet has stopped the containers: the pod now goes.
    let _: Pod = api
        .delete(Some("shop"), "web", DeleteOptions::now())
        .await
        .unwrap();
    assert!(
        api.get::<Pod>(Some("shop"), "web")
            .await
            .is_err_and(|e| e.is_not_found())
    );
}

#[tokio::test]
async fn watchers_see_the_mark_then_the_removal() {
    let api = api();
    api.create(config("settings", &["example.com/x"]))
        .await
        .unwrap();
    let mut stream = api.watch::<ConfigMap>(Some("shop"), "").await.unwrap();
    let mut marked = delete(&api, "settings", DeleteOptions::default()).await;
    marked.metadata.finalizers.clear();
    api.update(marked).await.unwrap();
    let mut seen = Vec::new();
    while let Some(event) = stream.try_next() {
        seen.push(event.unwrap().event_type);
    }
    assert_eq!(
        seen,
        vec![WatchEventType::Modified, WatchEventType::Deleted]
    );
}

#[test]
fn delete_options_use_the_kubernetes_names_on_the_wire() {
    let options = DeleteOptions {
        grace_period_seconds: Some(0),
        propagation_policy: Some(PropagationPolicy::Foreground),
    };
    let json = serde_json::to_string(&options).unwrap();
    assert_eq!(
        json,
        r#"{"gracePeriodSeconds":0,"propagationPolicy":"Foreground"}"#
    );
    let back: DeleteOptions = serde_json::from_str(r#"{"propagationPolicy":"Orphan"}"#).unwrap();
    assert_eq!(back, DeleteOptions::propagate(PropagationPolicy::Orphan));
    let bad = serde_json::from_str::<DeleteOptions>(r#"{"propagationPolicy":"Sideways"}"#)
        .unwrap_err()
        .to_string();
    assert!(bad.contains("Sideways"), "{bad}");
}

#[tokio::test]
async fn a_deleted_object_cannot_gain_a_finalizer() {
    let api = api();
    api.create(config("settings", &["example.com/x"]))
        .await
        .unwrap();
    let mut marked = delete(&api, "settings", DeleteOptions::default()).await;
    marked.metadata.finalizers.push("example.com/late".into());
    let error = api.update(marked).await.unwrap_err().to_string();
    assert!(
        error.contains(
            "metadata.finalizers: Forbidden: no new finalizers can be added if the object is \
             being deleted, found new finalizers [\"example.com/late\"]"
        ),
        "{error}"
    );
}
