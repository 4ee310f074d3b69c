//! Authorization, node restriction, Secret redaction and audit, through `ApiServer::handle`.

mod common;

use apiserver::audit::AuditLog;
use apiserver::request::User;
use common::*;
use serde_json::json;

const PODS: &str = "/api/v1/namespaces/default/pods";

fn as_user(
    user: &User,
    method: &str,
    target: &str,
    body: Option<&serde_json::Value>,
) -> apiserver::request::ApiRequest {
    let mut r = request(method, target, body);
    r.user = user.clone();
    r
}

#[tokio::test]
async fn a_viewer_reads_but_may_not_write_and_hears_kubernetes_words() {
    let s = server();
    s.ok(201, "POST", PODS, Some(&pod("web"))).await;
    let bob = User::new("bob", &["skiff:viewers"]);
    let (code, _) = s.send(as_user(&bob, "GET", PODS, None)).await;
    assert_eq!(code, 200);
    let (code, status) = s
        .send(as_user(&bob, "DELETE", &format!("{PODS}/web"), None))
        .await;
    assert_eq!(code, 403);
    assert_eq!(status["reason"], "Forbidden");
    assert_eq!(
        status["message"],
        "pods \"web\" is forbidden: User \"bob\" cannot delete resource \"pods\" in API group \"\" in the namespace \"default\""
    );
    assert_eq!(status["details"], json!({"name": "web", "kind": "pods"}));
    s.ok(200, "GET", &format!("{PODS}/web"), None).await;
    let (code, _) = s.send(as_user(&User::anonymous(), "GET", PODS, None)).await;
    assert_eq!(code, 403);
}

#[tokio::test]
async fn a_namespace_is_authorized_in_itself_as_kubernetes_does() {
    let s = server();
    let nobody = User::new("nobody", &[]);
    let (code, status) = s
        .send(as_user(
            &nobody,
            "GET",
            "/api/v1/namespaces/kube-public",
            None,
        ))
        .await;
    assert_eq!(code, 403);
    assert_eq!(
        status["message"],
        "namespaces \"kube-public\" is forbidden: User \"nobody\" cannot get resource \"namespaces\" in API group \"\" in the namespace \"kube-public\""
    );
}

#[tokio::test]
async fn a_viewer_sees_secret_names_but_not_their_values() {
    let s = server();
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "data": {"password": "aHVudGVyMg=="}});
    s.ok(
        201,
        "POST",
        "/api/v1/namespaces/default/secrets",
        Some(&secret),
    )
    .await;
    let bob = User::new("bob", &["skiff:viewers"]);
    let (code, list) = s
        .send(as_user(
            &bob,
            "GET",
            "/api/v1/namespaces/default/secrets",
            None,
        ))
        .await;
    assert_eq!(code, 200);
    assert_eq!(list["items"][0]["metadata"]["name"], "db");
    assert!(list["items"][0].get("data").is_none());
    let (_, one) = s
        .send(as_user(
            &bob,
            "GET",
            "/api/v1/namespaces/default/secrets/db",
            None,
        ))
        .await;
    assert!(one.get("data").is_none());
    let admin_view = s
        .ok(200, "GET", "/api/v1/namespaces/default/secrets/db", None)
        .await;
    assert_eq!(admin_view["data"]["password"], "aHVudGVyMg==");
}

#[tokio::test]
async fn a_kubelet_writes_only_its_own_node_and_the_status_of_its_own_pods() {
    let s = server();
    let n1 = User::new("system:node:n1", &["system:nodes"]);
    let (code, body) = s
        .send(as_user(&n1, "POST", "/api/v1/nodes", Some(&node("n1"))))
        .await;
    assert_eq!(code, 201, "{body}");
    let (code, _) = s
        .send(as_user(&n1, "POST", "/api/v1/nodes", Some(&node("n2"))))
        .await;
    assert_eq!(code, 403);
    for (name, node_name) in [("mine", "n1"), ("theirs", "n2")] {
        let mut p = pod(name);
        p["spec"]["nodeName"] = json!(node_name);
        s.ok(201, "POST", PODS, Some(&p)).await;
    }
    let mut mine = s.ok(200, "GET", &format!("{PODS}/mine"), None).await;
    mine["status"] = json!({"phase": "Running"});
    let (code, body) = s
        .send(as_user(
            &n1,
            "PUT",
            &format!("{PODS}/mine/status"),
            Some(&mine),
        ))
        .await;
    assert_eq!(code, 200, "{body}");
    let mut theirs = s.ok(200, "GET", &format!("{PODS}/theirs"), None).await;
    theirs["status"] = json!({"phase": "Running"});
    let (code, status) = s
        .send(as_user(
            &n1,
            "PUT",
            &format!("{PODS}/theirs/status"),
            Some(&theirs),
        ))
        .await;
    assert_eq!(code, 403);
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .starts_with("pods \"theirs\" is forbidden: "),
        "{status}"
    );
    let still = s.ok(200, "GET", &format!("{PODS}/theirs"), None).await;
    assert_eq!(
        still["status"]["phase"], "Pending",
        "a refused write changes nothing"
    );
}

#[tokio::test]
async fn every_mutating_request_is_audited_with_its_code_and_reads_are_not() {
    let storage = std::sync::Arc::new(apiserver::storage::memory::MemoryStorage::new());
    let server = apiserver::ApiServer::new(storage.clone())
        .with_clock(std::sync::Arc::new(now))
        .with_audit(AuditLog::in_memory());
    let s = TestServer {
        server: server.clone(),
        storage,
    };
    s.ok(201, "POST", PODS, Some(&pod("web"))).await;
    s.ok(200, "GET", &format!("{PODS}/web"), None).await;
    let bob = User::new("bob", &["skiff:viewers"]);
    s.send(as_user(&bob, "DELETE", &format!("{PODS}/web"), None))
        .await;
    s.call("POST", PODS, Some(&pod("web"))).await;
    s.ok(200, "DELETE", &format!("{PODS}/web"), None).await;
    // The log is inside the server; audit entries are read back through a second handle.
    let entries = audit_entries(&server);
    let summary: Vec<(String, String, u16)> = entries
        .iter()
        .map(|e| (e.user.clone(), e.verb.clone(), e.code))
        .collect();
    assert_eq!(
        summary,
        [
            ("admin".to_string(), "create".to_string(), 201),
            ("bob".to_string(), "delete".to_string(), 403),
            ("admin".to_string(), "create".to_string(), 409),
            ("admin".to_string(), "delete".to_string(), 200),
        ]
    );
    assert_eq!(
        entries[0].name, "web",
        "a create is audited with the created name"
    );
    assert_eq!(entries[1].name, "web");
    assert_eq!(entries[1].namespace, "default");
}

fn audit_entries(server: &apiserver::ApiServer) -> Vec<apiserver::audit::AuditEntry> {
    server
        .audit_log()
        .expect("an audit log was configured")
        .entries()
}
