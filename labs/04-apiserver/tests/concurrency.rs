//! Optimistic concurrency under real parallelism: of two updates carrying the same
//! resourceVersion, exactly one wins and the other gets 409 Conflict.

mod common;

use std::sync::Arc;

use common::*;
use serde_json::json;

const PODS: &str = "/api/v1/namespaces/default/pods";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_updates_from_the_same_version_one_wins_one_conflicts() {
    let s = Arc::new(server());
    for round in 0..100 {
        let name = format!("web-{round}");
        let created = s.ok(201, "POST", PODS, Some(&pod(&name))).await;
        let path = format!("{PODS}/{name}");
        let tasks: Vec<_> = ["left", "right"]
            .into_iter()
            .map(|writer| {
                let (s, path) = (s.clone(), path.clone());
                let mut body = created.clone();
                body["metadata"]["labels"]["writer"] = json!(writer);
                tokio::spawn(async move { (writer, s.call("PUT", &path, Some(&body)).await) })
            })
            .collect();
        let mut codes = Vec::new();
        let mut winner = None;
        for task in tasks {
            let (writer, (code, _)) = task.await.unwrap();
            if code == 200 {
                winner = Some(writer);
            }
            codes.push(code);
        }
        codes.sort();
        assert_eq!(codes, [200, 409], "round {round}");
        let stored = s.ok(200, "GET", &path, None).await;
        assert_eq!(
            stored["metadata"]["labels"]["writer"],
            winner.unwrap(),
            "the winner's write is the one stored"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unconditional_updates_all_land_and_each_gets_its_own_version() {
    let s = Arc::new(server());
    s.ok(
        201,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        Some(&json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}})),
    )
    .await;
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                let body = json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"writer": i.to_string()}});
                s.ok(200, "PUT", "/api/v1/namespaces/default/configmaps/c", Some(&body)).await
            })
        })
        .collect();
    let mut versions = Vec::new();
    for task in tasks {
        let written = task.await.unwrap();
        versions.push(
            written["metadata"]["resourceVersion"]
                .as_str()
                .unwrap()
                .parse::<i64>()
                .unwrap(),
        );
    }
    versions.sort();
    versions.dedup();
    assert_eq!(versions.len(), 8, "every write got its own revision");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_bindings_bind_a_pod_exactly_once() {
    let s = Arc::new(server());
    for round in 0..50 {
        let name = format!("p-{round}");
        s.ok(201, "POST", PODS, Some(&pod(&name))).await;
        let tasks: Vec<_> = ["n1", "n2", "n3"]
            .into_iter()
            .map(|node| {
                let (s, name) = (s.clone(), name.clone());
                tokio::spawn(async move {
                    let binding = json!({"target": {"kind": "Node", "name": node}});
                    s.call("POST", &format!("{PODS}/{name}/binding"), Some(&binding))
                        .await
                        .0
                })
            })
            .collect();
        let mut codes = Vec::new();
        for task in tasks {
            codes.push(task.await.unwrap());
        }
        codes.sort();
        assert_eq!(codes, [201, 409, 409], "round {round}");
    }
}

/// A merge PATCH, the way kubectl and the dashboard cordon a node.
fn merge_patch(target: &str, body: &serde_json::Value) -> apiserver::request::ApiRequest {
    let mut request = request("PATCH", target, Some(body));
    request.headers.insert(
        hyper::header::CONTENT_TYPE,
        "application/merge-patch+json".parse().unwrap(),
    );
    request
}

// A cordon (`spec.unschedulable`, set by a merge PATCH without resourceVersion) must survive
// every other writer of a Node: the node controller writes status and taints from its
// informer's copy, which can be older than the cordon; the kubelet writes status from a
// fresh GET. None of them may put the old spec back.
#[tokio::test]
async fn a_cordon_survives_every_other_writer_of_the_node() {
    let s = server();
    let path = "/api/v1/nodes/n1";
    s.ok(201, "POST", "/api/v1/nodes", Some(&node("n1"))).await;
    let cached = s.ok(200, "GET", path, None).await;

    let cordon = json!({"spec": {"unschedulable": true}});
    let (code, cordoned) = s.send(merge_patch(path, &cordon)).await;
    assert_eq!(code, 200, "{cordoned}");
    assert_eq!(cordoned["spec"]["unschedulable"], json!(true));

    // The node controller, from its stale copy: the status write and the taint write are
    // both refused (409), so it re-reads instead of overwriting.
    let mut unknown = cached.clone();
    unknown["status"] = json!({"conditions": [{"type": "Ready", "status": "Unknown"}]});
    let (code, _) = s
        .call("PUT", &format!("{path}/status"), Some(&unknown))
        .await;
    assert_eq!(code, 409, "a status write from before the cordon");
    let mut tainted = cached.clone();
    tainted["spec"]["taints"] =
        json!([{"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule"}]);
    let (code, _) = s.call("PUT", path, Some(&tainted)).await;
    assert_eq!(code, 409, "a spec write from before the cordon");

    // The kubelet, from a fresh read, with a body whose spec says nothing of the cordon: the
    // status subresource takes only the status.
    let mut fresh = s.ok(200, "GET", path, None).await;
    fresh["spec"] = json!({});
    fresh["status"] = json!({"conditions": [{"type": "Ready", "status": "True"}]});
    let written = s
        .ok(200, "PUT", &format!("{path}/status"), Some(&fresh))
        .await;
    assert_eq!(written["spec"]["unschedulable"], json!(true), "{written}");

    // The node controller after a status write continues from what that write returned.
    let mut next = written.clone();
    next["spec"]["taints"] = json!([{"key": "example.com/t", "effect": "NoSchedule"}]);
    s.ok(200, "PUT", path, Some(&next)).await;

    let stored = s.ok(200, "GET", path, None).await;
    assert_eq!(stored["spec"]["unschedulable"], json!(true), "{stored}");
    assert_eq!(stored["spec"]["taints"][0]["key"], json!("example.com/t"));
    assert_eq!(stored["status"]["conditions"][0]["status"], json!("True"));
}
