//! Watch: the stream of changes, from a version, with bookmarks, initial events, 410 and
//! selector transitions.

mod common;

use std::time::Duration;

use apiserver::rest::filter::Filter;
use apiserver::rest::route::Query;
use apiserver::rest::watch::{Change, EventType, watch_event};
use apiserver::storage::memory::MemoryStorage;
use common::*;
use serde_json::{Value, json};

const PODS: &str = "/api/v1/namespaces/default/pods";

fn rv(object: &Value) -> String {
    object["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_watch_from_a_version_sends_exactly_the_later_changes() {
    let s = server();
    s.ok(201, "POST", PODS, Some(&pod("a"))).await;
    s.ok(201, "POST", PODS, Some(&pod("b"))).await;
    let list = s.ok(200, "GET", PODS, None).await;
    let mut events = s
        .stream(&format!("{PODS}?watch=true&resourceVersion={}", rv(&list)))
        .await;
    let mut a = s.ok(200, "GET", &format!("{PODS}/a"), None).await;
    a["metadata"]["labels"]["v"] = json!("2");
    let a = s.ok(200, "PUT", &format!("{PODS}/a"), Some(&a)).await;
    s.ok(200, "DELETE", &format!("{PODS}/b"), None).await;
    s.ok(
        201,
        "POST",
        "/api/v1/namespaces/kube-system/pods",
        Some(&pod("elsewhere")),
    )
    .await;
    s.ok(201, "POST", PODS, Some(&pod("c"))).await;

    let modified = next_event(&mut events).await;
    assert_eq!(summary(&modified), ("MODIFIED".into(), "a".into()));
    assert_eq!(rv(&modified["object"]), rv(&a));
    let deleted = next_event(&mut events).await;
    assert_eq!(summary(&deleted), ("DELETED".into(), "b".into()));
    let added = next_event(&mut events).await;
    assert_eq!(
        summary(&added),
        ("ADDED".into(), "c".into()),
        "other namespaces are not seen"
    );
    assert!(rv(&deleted["object"]).parse::<i64>().unwrap() > rv(&a).parse::<i64>().unwrap());
}

#[tokio::test]
async fn a_watch_without_a_version_starts_with_the_current_state() {
    let s = server();
    s.ok(201, "POST", PODS, Some(&pod("a"))).await;
    s.ok(201, "POST", PODS, Some(&pod("b"))).await;
    for query in ["watch=true", "watch=1&resourceVersion=0"] {
        let mut events = s.stream(&format!("{PODS}?{query}")).await;
        assert_eq!(
            summary(&next_event(&mut events).await),
            ("ADDED".into(), "a".into())
        );
        assert_eq!(
            summary(&next_event(&mut events).await),
            ("ADDED".into(), "b".into())
        );
        s.ok(200, "DELETE", &format!("{PODS}/a"), None).await;
        assert_eq!(
            summary(&next_event(&mut events).await),
            ("DELETED".into(), "a".into())
        );
        s.ok(201, "POST", PODS, Some(&pod("a"))).await;
    }
}

#[tokio::test]
async fn a_version_older_than_the_history_is_a_410_error_event() {
    let s = server_with(MemoryStorage::with_history(3));
    let created = s.ok(201, "POST", PODS, Some(&pod("a"))).await;
    let mut current = created.clone();
    for i in 0..5 {
        current["metadata"]["labels"]["i"] = json!(i.to_string());
        current = s.ok(200, "PUT", &format!("{PODS}/a"), Some(&current)).await;
    }
    let mut events = s
        .stream(&format!(
            "{PODS}?watch=true&resourceVersion={}",
            rv(&created)
        ))
        .await;
    let error = next_event(&mut events).await;
    assert_eq!(error["type"], "ERROR");
    assert_eq!(error["object"]["kind"], "Status");
    assert_eq!(error["object"]["code"], 410);
    assert_eq!(error["object"]["reason"], "Expired");
    assert!(
        events.recv().await.is_none(),
        "the stream ends after the error"
    );
}

#[tokio::test]
async fn bookmarks_carry_the_latest_version_when_asked_for() {
    let storage = std::sync::Arc::new(MemoryStorage::new());
    let server =
        apiserver::ApiServer::new(storage.clone()).with_bookmark_interval(Duration::from_millis(5));
    let s = TestServer { server, storage };
    let created = s.ok(201, "POST", PODS, Some(&pod("a"))).await;
    let mut events = s
        .stream(&format!(
            "{PODS}?watch=true&allowWatchBookmarks=true&resourceVersion={}",
            rv(&created)
        ))
        .await;
    let mut a = created.clone();
    a["metadata"]["labels"]["v"] = json!("2");
    let a = s.ok(200, "PUT", &format!("{PODS}/a"), Some(&a)).await;
    assert_eq!(next_event(&mut events).await["type"], "MODIFIED");
    let bookmark = next_event(&mut events).await;
    assert_eq!(bookmark["type"], "BOOKMARK");
    assert_eq!(bookmark["object"]["kind"], "Pod");
    assert_eq!(bookmark["object"]["metadata"]["resourceVersion"], rv(&a));
    assert!(bookmark["object"]["metadata"].get("name").is_none());
}

#[tokio::test]
async fn send_initial_events_ends_the_initial_state_with_a_marked_bookmark() {
    let s = server();
    s.ok(201, "POST", PODS, Some(&pod("a"))).await;
    let list = s.ok(200, "GET", PODS, None).await;
    let mut events = s
        .stream(&format!(
            "{PODS}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&fieldSelector=metadata.name%3Da"
        ))
        .await;
    assert_eq!(
        summary(&next_event(&mut events).await),
        ("ADDED".into(), "a".into())
    );
    let end = next_event(&mut events).await;
    assert_eq!(end["type"], "BOOKMARK");
    assert_eq!(
        end["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
    assert_eq!(end["object"]["metadata"]["resourceVersion"], rv(&list));
    // kubectl waits for the delete this way.
    s.ok(200, "DELETE", &format!("{PODS}/a"), None).await;
    assert_eq!(
        summary(&next_event(&mut events).await),
        ("DELETED".into(), "a".into())
    );

    let (code, status) = s
        .call(
            "GET",
            &format!("{PODS}?watch=1&sendInitialEvents=true"),
            None,
        )
        .await;
    assert_eq!(code, 400);
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .contains("resourceVersionMatch")
    );
}

#[tokio::test]
async fn an_object_that_stops_matching_is_deleted_and_one_that_starts_is_added() {
    let s = server();
    let web = s.ok(201, "POST", PODS, Some(&pod("web"))).await;
    let mut events = s
        .stream(&format!(
            "{PODS}?watch=true&labelSelector=app%3Dweb&resourceVersion={}",
            rv(&web)
        ))
        .await;
    let mut relabelled = web.clone();
    relabelled["metadata"]["labels"]["app"] = json!("db");
    let relabelled = s
        .ok(200, "PUT", &format!("{PODS}/web"), Some(&relabelled))
        .await;
    let gone = next_event(&mut events).await;
    assert_eq!(summary(&gone), ("DELETED".into(), "web".into()));
    assert_eq!(
        gone["object"]["metadata"]["labels"]["app"], "db",
        "the new state is sent"
    );
    let mut other = pod("other");
    other["metadata"]["labels"]["app"] = json!("db");
    s.ok(201, "POST", PODS, Some(&other)).await;
    let mut back = relabelled.clone();
    back["metadata"]["labels"]["app"] = json!("web");
    s.ok(200, "PUT", &format!("{PODS}/web"), Some(&back)).await;
    assert_eq!(
        summary(&next_event(&mut events).await),
        ("ADDED".into(), "web".into())
    );
}

#[tokio::test]
async fn a_field_selector_on_the_node_filters_the_watch() {
    let s = server();
    let mut events = s
        .stream(&format!(
            "{PODS}?watch=true&fieldSelector=spec.nodeName%3Dn1"
        ))
        .await;
    s.ok(201, "POST", PODS, Some(&pod("web"))).await;
    let binding = json!({"target": {"kind": "Node", "name": "n1"}});
    s.ok(201, "POST", &format!("{PODS}/web/binding"), Some(&binding))
        .await;
    assert_eq!(
        summary(&next_event(&mut events).await),
        ("ADDED".into(), "web".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_with_a_timeout_ends_by_itself() {
    let s = server();
    let mut events = s
        .stream(&format!("{PODS}?watch=true&timeoutSeconds=1"))
        .await;
    assert!(events.recv().await.is_none());
}

#[tokio::test]
async fn a_table_watch_sends_one_row_tables() {
    let s = server();
    let mut request = request("GET", &format!("{PODS}?watch=true"), None);
    request.headers.insert(
        hyper::header::ACCEPT,
        "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
            .parse()
            .unwrap(),
    );
    s.ok(201, "POST", PODS, Some(&pod("web"))).await;
    let apiserver::request::ApiResponse::Stream { mut chunks, .. } =
        apiserver::request::Handler::handle(&s.server, request).await
    else {
        panic!("expected a stream");
    };
    let event = next_event(&mut chunks).await;
    assert_eq!(event["type"], "ADDED");
    assert_eq!(event["object"]["kind"], "Table");
    assert_eq!(event["object"]["rows"].as_array().unwrap().len(), 1);
}

fn labelled(app: &str) -> Value {
    json!({"metadata": {"name": "p", "labels": {"app": app}}})
}

#[test]
fn the_transition_table_of_a_selector() {
    let web = Filter::from_query(
        apiserver::resources::find("", "v1", "pods").unwrap(),
        &Query::parse("labelSelector=app%3Dweb"),
    )
    .unwrap();
    let put = |prev: Option<&str>, now: &str| Change::Put {
        current: labelled(now),
        prev: prev.map(labelled),
    };
    let kind = |change| watch_event(change, &web).map(|(t, _)| t);
    assert_eq!(kind(put(None, "web")), Some(EventType::Added));
    assert_eq!(kind(put(None, "db")), None);
    assert_eq!(kind(put(Some("web"), "web")), Some(EventType::Modified));
    assert_eq!(kind(put(Some("web"), "db")), Some(EventType::Deleted));
    assert_eq!(kind(put(Some("db"), "web")), Some(EventType::Added));
    assert_eq!(kind(put(Some("db"), "db")), None);
    assert_eq!(
        kind(Change::Delete {
            prev: labelled("web")
        }),
        Some(EventType::Deleted)
    );
    assert_eq!(
        kind(Change::Delete {
            prev: labelled("db")
        }),
        None
    );
}
