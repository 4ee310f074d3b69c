//! Lists: limit and continue give one consistent snapshot even while others write; field and
//! label selectors filter; a continue token outlived by compaction is 410 Expired.

mod common;

use apiserver::rest::list::{decode_continue, encode_continue};
use apiserver::storage::memory::MemoryStorage;
use common::*;
use serde_json::{Value, json};

const CMS: &str = "/api/v1/namespaces/default/configmaps";

fn cm(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}})
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn pages_are_one_snapshot_while_others_write() {
    let s = server();
    for name in ["a", "b", "c", "d", "e"] {
        s.ok(201, "POST", CMS, Some(&cm(name))).await;
    }
    let first = s.ok(200, "GET", &format!("{CMS}?limit=2"), None).await;
    assert_eq!(names(&first), ["a", "b"]);
    let token = first["metadata"]["continue"].as_str().unwrap().to_string();
    // Writes between pages: a delete, a create, an update.
    s.ok(200, "DELETE", &format!("{CMS}/c"), None).await;
    s.ok(201, "POST", CMS, Some(&cm("bb"))).await;
    let second = s
        .ok(200, "GET", &format!("{CMS}?limit=2&continue={token}"), None)
        .await;
    assert_eq!(
        names(&second),
        ["c", "d"],
        "read at the first page's revision"
    );
    assert_eq!(
        second["metadata"]["resourceVersion"],
        first["metadata"]["resourceVersion"]
    );
    let token = second["metadata"]["continue"].as_str().unwrap().to_string();
    let last = s
        .ok(200, "GET", &format!("{CMS}?limit=2&continue={token}"), None)
        .await;
    assert_eq!(names(&last), ["e"]);
    assert!(last["metadata"].get("continue").is_none());
    let now = s.ok(200, "GET", CMS, None).await;
    assert_eq!(names(&now), ["a", "b", "bb", "d", "e"]);
}

#[tokio::test]
async fn a_compacted_continue_token_is_410_expired() {
    let s = server_with(MemoryStorage::with_history(100));
    for name in ["a", "b", "c"] {
        s.ok(201, "POST", CMS, Some(&cm(name))).await;
    }
    let first = s.ok(200, "GET", &format!("{CMS}?limit=1"), None).await;
    let token = first["metadata"]["continue"].as_str().unwrap().to_string();
    s.ok(201, "POST", CMS, Some(&cm("d"))).await;
    let revision = s.ok(200, "GET", CMS, None).await["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    s.storage.compact(revision);
    let (code, status) = s
        .call("GET", &format!("{CMS}?limit=1&continue={token}"), None)
        .await;
    assert_eq!(code, 410);
    assert_eq!(status["reason"], "Expired");
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .contains("continue token too old")
    );
}

#[test]
fn continue_tokens_round_trip_and_refuse_strangers() {
    let prefix = "/registry/configmaps/default/";
    let token = encode_continue(42, "/registry/configmaps/default/b");
    assert_eq!(
        decode_continue(&token, prefix).unwrap(),
        (42, "/registry/configmaps/default/b".to_string())
    );
    assert!(
        !token.contains('/') && !token.contains('='),
        "URL-safe: {token}"
    );
    for bad in [
        "",
        "!!!",
        &encode_continue(42, "/registry/secrets/default/b"),
        &encode_continue(0, "/registry/configmaps/default/b"),
    ] {
        let error = decode_continue(bad, prefix).unwrap_err();
        assert_eq!(error.code, 400, "{bad}");
        assert!(error.message.starts_with("continue key is not valid"));
    }
}

#[tokio::test]
async fn a_limit_counts_only_matching_objects() {
    let s = server();
    for (name, app) in [("a", "x"), ("b", "y"), ("c", "x"), ("d", "y"), ("e", "x")] {
        let mut object = cm(name);
        object["metadata"]["labels"] = json!({"app": app});
        s.ok(201, "POST", CMS, Some(&object)).await;
    }
    let first = s
        .ok(
            200,
            "GET",
            &format!("{CMS}?labelSelector=app%3Dx&limit=2"),
            None,
        )
        .await;
    assert_eq!(names(&first), ["a", "c"]);
    let token = first["metadata"]["continue"].as_str().unwrap();
    let rest = s
        .ok(
            200,
            "GET",
            &format!("{CMS}?labelSelector=app%3Dx&limit=2&continue={token}"),
            None,
        )
        .await;
    assert_eq!(names(&rest), ["e"]);
    let not_x = s
        .ok(
            200,
            "GET",
            &format!("{CMS}?labelSelector=app%20notin%20(x)"),
            None,
        )
        .await;
    assert_eq!(names(&not_x), ["b", "d"]);
}

#[tokio::test]
async fn field_selectors_pick_by_name_namespace_node_and_phase() {
    let s = server();
    let pods = "/api/v1/namespaces/default/pods";
    for name in ["a", "b", "c"] {
        s.ok(201, "POST", pods, Some(&pod(name))).await;
    }
    s.ok(
        201,
        "POST",
        &format!("{pods}/b/binding"),
        Some(&json!({"target": {"name": "n1"}})),
    )
    .await;
    let mut running = s.ok(200, "GET", &format!("{pods}/c"), None).await;
    running["status"] = json!({"phase": "Running"});
    s.ok(200, "PUT", &format!("{pods}/c/status"), Some(&running))
        .await;
    let by_name = s
        .ok(
            200,
            "GET",
            &format!("{pods}?fieldSelector=metadata.name%3Da"),
            None,
        )
        .await;
    assert_eq!(names(&by_name), ["a"]);
    let on_n1 = s
        .ok(
            200,
            "GET",
            "/api/v1/pods?fieldSelector=spec.nodeName%3Dn1",
            None,
        )
        .await;
    assert_eq!(names(&on_n1), ["b"]);
    let unscheduled = s
        .ok(
            200,
            "GET",
            &format!("{pods}?fieldSelector=spec.nodeName%3D"),
            None,
        )
        .await;
    assert_eq!(names(&unscheduled), ["a", "c"]);
    let not_running = s
        .ok(
            200,
            "GET",
            &format!("{pods}?fieldSelector=status.phase!%3DRunning"),
            None,
        )
        .await;
    assert_eq!(names(&not_running), ["a", "b"]);
    let in_default = s
        .ok(
            200,
            "GET",
            "/api/v1/pods?fieldSelector=metadata.namespace%3Ddefault,metadata.name%3Dc",
            None,
        )
        .await;
    assert_eq!(names(&in_default), ["c"]);
}

#[tokio::test]
async fn a_table_list_carries_the_version_and_continue() {
    let s = server();
    for name in ["a", "b"] {
        s.ok(201, "POST", CMS, Some(&cm(name))).await;
    }
    let mut r = request("GET", &format!("{CMS}?limit=1"), None);
    r.headers.insert(
        hyper::header::ACCEPT,
        "application/json;as=Table;v=v1;g=meta.k8s.io"
            .parse()
            .unwrap(),
    );
    let (code, table) = s.send(r).await;
    assert_eq!(code, 200);
    assert_eq!(table["kind"], "Table");
    assert_eq!(table["rows"].as_array().unwrap().len(), 1);
    assert!(table["metadata"]["continue"].is_string());
    assert!(table["metadata"]["resourceVersion"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_under_a_concurrent_writer_returns_exactly_the_first_snapshot() {
    let s = std::sync::Arc::new(server());
    let names_at_start: Vec<String> = (0..20).map(|i| format!("cm-{i:02}")).collect();
    for name in &names_at_start {
        s.ok(201, "POST", CMS, Some(&cm(name))).await;
    }
    // The snapshot is the first page's revision; the writer starts right after it.
    let first = s.ok(200, "GET", &format!("{CMS}?limit=3"), None).await;
    let mut seen = names(&first);
    let token = first["metadata"]["continue"].as_str().unwrap();
    let mut target = format!("{CMS}?limit=3&continue={token}");
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let writer = {
        let s = s.clone();
        tokio::spawn(async move {
            let mut i = 0;
            loop {
                if stopped.try_recv().is_ok() {
                    return i;
                }
                // Churn: new names interleaved with the listed ones, and deletions of listed ones.
                s.ok(
                    201,
                    "POST",
                    CMS,
                    Some(&cm(&format!("cm-{:02}-new-{i}", i % 20))),
                )
                .await;
                let _ = s
                    .call("DELETE", &format!("{CMS}/cm-{:02}", (i * 7) % 20), None)
                    .await;
                i += 1;
                tokio::task::yield_now().await;
            }
        })
    };
    let mut round = 0;
    loop {
        // And, for certain, a change between every two pages: one more name, one fewer.
        s.ok(
            201,
            "POST",
            CMS,
            Some(&cm(&format!("cm-{round:02}-between"))),
        )
        .await;
        let _ = s
            .call("DELETE", &format!("{CMS}/cm-{:02}", 19 - round), None)
            .await;
        round += 1;
        let page = s.ok(200, "GET", &target, None).await;
        seen.extend(names(&page));
        match page["metadata"]["continue"].as_str() {
            Some(token) => target = format!("{CMS}?limit=3&continue={token}"),
            None => break,
        }
    }
    stop.send(()).unwrap();
    writer.await.unwrap();
    assert_eq!(seen, names_at_start);
}
