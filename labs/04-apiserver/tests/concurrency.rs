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
