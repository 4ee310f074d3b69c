//! The REST verbs on each kind of resource, through `ApiServer::handle`.

mod common;

use std::sync::Arc;

use apiserver::request::ApiResponse;
use apiserver::rest::logs::{LogsFuture, PodLogs};
use common::*;
use serde_json::{Value, json};

const PODS: &str = "/api/v1/namespaces/default/pods";

#[tokio::test]
async fn create_fills_in_the_server_fields_and_get_returns_the_same_object() {
    let s = server();
    let created = s.ok(201, "POST", PODS, Some(&pod("web"))).await;
    let meta = &created["metadata"];
    assert_eq!(meta["namespace"], "default", "defaulted from the path");
    assert_eq!(meta["generation"], 1);
    assert_eq!(meta["creationTimestamp"], "2026-01-01T00:00:00Z");
    assert_eq!(meta["uid"].as_str().unwrap().len(), 36);
    assert!(
        meta["resourceVersion"]
            .as_str()
            .unwrap()
            .parse::<i64>()
            .is_ok()
    );
    assert_eq!(created["status"]["phase"], "Pending");
    let got = s.ok(200, "GET", &format!("{PODS}/web"), None).await;
    assert_eq!(got, created);
}

#[tokio::test]
async fn the_initial_namespaces_exist_and_a_missing_namespace_is_not_found() {
    let s = server();
    let list = s.ok(200, "GET", "/api/v1/namespaces", None).await;
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["default", "kube-node-lease", "kube-public", "kube-system"]
    );
    assert_eq!(list["kind"], "NamespaceList");
    let (code, status) = s
        .call("POST", "/api/v1/namespaces/nope/pods", Some(&pod("web")))
        .await;
    assert_eq!(code, 404);
    assert_eq!(status["message"], "namespaces \"nope\" not found");
    assert_eq!(status["details"]["kind"], "namespaces");
}

#[tokio::test]
async fn cluster_scoped_nodes_have_no_namespace() {
    let s = server();
    let created = s.ok(201, "POST", "/api/v1/nodes", Some(&node("n1"))).await;
    assert!(created["metadata"].get("namespace").is_none());
    s.ok(200, "GET", "/api/v1/nodes/n1", None).await;
    let list = s.ok(200, "GET", "/api/v1/nodes", None).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let (code, _) = s
        .call("GET", "/api/v1/namespaces/default/nodes/n1", None)
        .await;
    assert_eq!(code, 404, "nodes are not namespaced");
}

#[tokio::test]
async fn namespaced_lists_are_per_namespace_or_across_all() {
    let s = server();
    s.ok(
        201,
        "POST",
        "/api/v1/namespaces",
        Some(&json!({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team"}})),
    )
    .await;
    s.ok(201, "POST", PODS, Some(&pod("a"))).await;
    s.ok(201, "POST", "/api/v1/namespaces/team/pods", Some(&pod("b")))
        .await;
    let default = s.ok(200, "GET", PODS, None).await;
    assert_eq!(default["items"].as_array().unwrap().len(), 1);
    let all = s.ok(200, "GET", "/api/v1/pods", None).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    assert_eq!(all["kind"], "PodList");
    assert!(all["metadata"]["resourceVersion"].is_string());
}

#[tokio::test]
async fn a_second_create_with_the_same_name_already_exists() {
    let s = server();
    s.ok(201, "POST", PODS, Some(&pod("web"))).await;
    let (code, status) = s.call("POST", PODS, Some(&pod("web"))).await;
    assert_eq!(code, 409);
    assert_eq!(status["reason"], "AlreadyExists");
    assert_eq!(status["message"], "pods \"web\" already exists");
}

#[tokio::test]
async fn generate_name_makes_a_fresh_name_each_time() {
    let s = server();
    let body = json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"generateName":"cfg-"}});
    let a = s
        .ok(
            201,
            "POST",
            "/api/v1/namespaces/default/configmaps",
            Some(&body),
        )
        .await;
    let b = s
        .ok(
            201,
            "POST",
            "/api/v1/namespaces/default/configmaps",
            Some(&body),
        )
        .await;
    let (a, b) = (
        a["metadata"]["name"].as_str().unwrap(),
        b["metadata"]["name"].as_str().unwrap(),
    );
    assert!(a.starts_with("cfg-") && a.len() == 9, "{a}");
    assert_ne!(a, b);
}

#[tokio::test]
async fn update_checks_the_resource_version() {
    let s = server();
    let created = s.ok(201, "POST", PODS, Some(&pod("web"))).await;
    let mut first = created.clone();
    first["metadata"]["labels"]["v"] = json!("1");
    let updated = s.ok(200, "PUT", &format!("{PODS}/web"), Some(&first)).await;
    assert_ne!(
        updated["metadata"]["resourceVersion"],
        created["metadata"]["resourceVersion"]
    );
    // A writer still holding the created version loses.
    let mut stale = created.clone();
    stale["metadata"]["labels"]["v"] = json!("2");
    let (code, status) = s.call("PUT", &format!("{PODS}/web"), Some(&stale)).await;
    assert_eq!(code, 409);
    assert_eq!(status["reason"], "Conflict");
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .contains("the object has been modified")
    );
    // Without a resourceVersion the update is unconditional.
    let mut blind = created.clone();
    blind["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("resourceVersion");
    blind["metadata"]["labels"]["v"] = json!("3");
    let last = s.ok(200, "PUT", &format!("{PODS}/web"), Some(&blind)).await;
    assert_eq!(last["metadata"]["labels"]["v"], "3");
    assert_eq!(
        last["metadata"]["uid"], created["metadata"]["uid"],
        "server fields are kept"
    );
}

#[tokio::test]
async fn generation_counts_spec_changes_only() {
    let s = server();
    let d = s
        .ok(
            201,
            "POST",
            "/apis/apps/v1/namespaces/default/deployments",
            Some(&deployment("web", 1)),
        )
        .await;
    let mut labelled = d.clone();
    labelled["metadata"]["labels"] = json!({"x": "y"});
    let labelled = s
        .ok(
            200,
            "PUT",
            "/apis/apps/v1/namespaces/default/deployments/web",
            Some(&labelled),
        )
        .await;
    assert_eq!(labelled["metadata"]["generation"], 1);
    let mut scaled = labelled.clone();
    scaled["spec"]["replicas"] = json!(3);
    let scaled = s
        .ok(
            200,
            "PUT",
            "/apis/apps/v1/namespaces/default/deployments/web",
            Some(&scaled),
        )
        .await;
    assert_eq!(scaled["metadata"]["generation"], 2);
}

#[tokio::test]
async fn the_status_subresource_changes_only_the_status_and_put_keeps_it() {
    let s = server();
    let created = s.ok(201, "POST", PODS, Some(&pod("web"))).await;
    let mut with_status = created.clone();
    with_status["status"] = json!({"phase": "Running"});
    with_status["metadata"]["labels"] = json!({"ignored": "yes"});
    let updated = s
        .ok(
            200,
            "PUT",
            &format!("{PODS}/web/status"),
            Some(&with_status),
        )
        .await;
    assert_eq!(updated["status"]["phase"], "Running");
    assert_eq!(
        updated["metadata"]["labels"],
        json!({"app": "web"}),
        "status writes keep metadata"
    );
    let mut main = updated.clone();
    main["status"] = json!({"phase": "Failed"});
    let after = s.ok(200, "PUT", &format!("{PODS}/web"), Some(&main)).await;
    assert_eq!(
        after["status"]["phase"], "Running",
        "a main-resource PUT keeps the stored status"
    );
    let status = s.ok(200, "GET", &format!("{PODS}/web/status"), None).await;
    assert_eq!(status["status"]["phase"], "Running");
}

#[tokio::test]
async fn an_unscheduled_pod_is_deleted_at_once() {
    let s = server();
    s.ok(201, "POST", PODS, Some(&pod("web"))).await;
    let last = s.ok(200, "DELETE", &format!("{PODS}/web"), None).await;
    assert_eq!(last["metadata"]["name"], "web");
    let (code, _) = s.call("GET", &format!("{PODS}/web"), None).await;
    assert_eq!(code, 404);
}

#[tokio::test]
async fn a_pod_on_a_node_is_marked_and_the_kubelet_finishes_with_grace_zero() {
    let s = server();
    let mut bound = pod("web");
    bound["spec"]["nodeName"] = json!("n1");
    bound["spec"]["terminationGracePeriodSeconds"] = json!(10);
    s.ok(201, "POST", PODS, Some(&bound)).await;
    let marked = s.ok(200, "DELETE", &format!("{PODS}/web"), None).await;
    assert_eq!(
        marked["metadata"]["deletionTimestamp"],
        "2026-01-01T00:00:10Z"
    );
    assert_eq!(marked["metadata"]["deletionGracePeriodSeconds"], 10);
    s.ok(200, "GET", &format!("{PODS}/web"), None).await;
    let options = json!({"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0});
    s.ok(200, "DELETE", &format!("{PODS}/web"), Some(&options))
        .await;
    let (code, _) = s.call("GET", &format!("{PODS}/web"), None).await;
    assert_eq!(code, 404);
}

#[tokio::test]
async fn foreground_deletion_waits_for_its_finalizer() {
    let s = server();
    let path = "/apis/apps/v1/namespaces/default/deployments/web";
    s.ok(
        201,
        "POST",
        "/apis/apps/v1/namespaces/default/deployments",
        Some(&deployment("web", 1)),
    )
    .await;
    let options =
        json!({"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Foreground"});
    let marked = s.ok(200, "DELETE", path, Some(&options)).await;
    assert_eq!(
        marked["metadata"]["finalizers"],
        json!(["foregroundDeletion"])
    );
    assert_eq!(
        marked["metadata"]["deletionTimestamp"],
        "2026-01-01T00:00:00Z"
    );
    // The garbage collector removes the finalizer once the dependents are gone.
    let mut done = s.ok(200, "GET", path, None).await;
    done["metadata"]["finalizers"] = json!([]);
    s.ok(200, "PUT", path, Some(&done)).await;
    let (code, _) = s.call("GET", path, None).await;
    assert_eq!(code, 404);
}

#[tokio::test]
async fn orphan_propagation_from_the_query_sets_the_orphan_finalizer() {
    let s = server();
    let path = "/apis/apps/v1/namespaces/default/replicasets";
    let mut rs = deployment("rs", 1);
    rs["kind"] = json!("ReplicaSet");
    rs["spec"].as_object_mut().unwrap().remove("strategy");
    s.ok(201, "POST", path, Some(&rs)).await;
    let marked = s
        .ok(
            200,
            "DELETE",
            &format!("{path}/rs?propagationPolicy=Orphan"),
            None,
        )
        .await;
    assert_eq!(marked["metadata"]["finalizers"], json!(["orphan"]));
    let (code, status) = s
        .call(
            "DELETE",
            &format!("{path}/rs?propagationPolicy=Sideways"),
            None,
        )
        .await;
    assert_eq!(code, 400);
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .contains("propagationPolicy")
    );
}

#[tokio::test]
async fn a_binding_sets_the_node_once() {
    let s = server();
    s.ok(201, "POST", PODS, Some(&pod("web"))).await;
    let binding = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "web"}, "target": {"kind": "Node", "name": "n1"}});
    let status = s
        .ok(201, "POST", &format!("{PODS}/web/binding"), Some(&binding))
        .await;
    assert_eq!(status["status"], "Success");
    let got = s.ok(200, "GET", &format!("{PODS}/web"), None).await;
    assert_eq!(got["spec"]["nodeName"], "n1");
    let (code, status) = s
        .call("POST", &format!("{PODS}/web/binding"), Some(&binding))
        .await;
    assert_eq!(code, 409);
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .contains("already assigned to node \"n1\"")
    );
    let no_target =
        json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "web"}, "target": {}});
    let (code, status) = s
        .call("POST", &format!("{PODS}/web/binding"), Some(&no_target))
        .await;
    assert_eq!(code, 422);
    assert_eq!(status["details"]["causes"][0]["field"], "target.name");
}

#[tokio::test]
async fn an_update_may_bind_a_pod_but_not_move_it() {
    let s = server();
    let mut p = s.ok(201, "POST", PODS, Some(&pod("web"))).await;
    p["spec"]["nodeName"] = json!("n1");
    let bound = s.ok(200, "PUT", &format!("{PODS}/web"), Some(&p)).await;
    assert_eq!(
        bound["spec"]["nodeName"], "n1",
        "lab 05's scheduler binds by update"
    );
    let mut moved = bound.clone();
    moved["spec"]["nodeName"] = json!("n2");
    let (code, status) = s.call("PUT", &format!("{PODS}/web"), Some(&moved)).await;
    assert_eq!(code, 422);
    assert_eq!(status["details"]["causes"][0]["field"], "spec.nodeName");
}

#[tokio::test]
async fn scale_reads_and_writes_replicas_as_an_autoscaling_scale() {
    let s = server();
    let path = "/apis/apps/v1/namespaces/default/deployments/web/scale";
    s.ok(
        201,
        "POST",
        "/apis/apps/v1/namespaces/default/deployments",
        Some(&deployment("web", 2)),
    )
    .await;
    let scale = s.ok(200, "GET", path, None).await;
    assert_eq!(scale["kind"], "Scale");
    assert_eq!(scale["apiVersion"], "autoscaling/v1");
    assert_eq!(scale["spec"]["replicas"], 2);
    assert_eq!(scale["status"]["selector"], "app=web");
    let mut more = scale.clone();
    more["spec"]["replicas"] = json!(5);
    let written = s.ok(200, "PUT", path, Some(&more)).await;
    assert_eq!(written["spec"]["replicas"], 5);
    let d = s
        .ok(
            200,
            "GET",
            "/apis/apps/v1/namespaces/default/deployments/web",
            None,
        )
        .await;
    assert_eq!(d["spec"]["replicas"], 5);
    assert_eq!(d["metadata"]["generation"], 2);
    // The old Scale's resourceVersion is stale now.
    let (code, _) = s.call("PUT", path, Some(&more)).await;
    assert_eq!(code, 409);
    let mut negative = written.clone();
    negative["spec"]["replicas"] = json!(-1);
    let (code, status) = s.call("PUT", path, Some(&negative)).await;
    assert_eq!(code, 422);
    assert_eq!(status["details"]["causes"][0]["field"], "spec.replicas");
}

#[tokio::test]
async fn deleting_a_namespace_deletes_its_contents_and_some_namespaces_are_protected() {
    let s = server();
    s.ok(
        201,
        "POST",
        "/api/v1/namespaces",
        Some(&json!({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team"}})),
    )
    .await;
    s.ok(201, "POST", "/api/v1/namespaces/team/pods", Some(&pod("a")))
        .await;
    let marked = s.ok(200, "DELETE", "/api/v1/namespaces/team", None).await;
    assert_eq!(marked["status"]["phase"], "Terminating");
    let (code, _) = s.call("GET", "/api/v1/namespaces/team/pods/a", None).await;
    assert_eq!(code, 404);
    let (code, _) = s.call("GET", "/api/v1/namespaces/team", None).await;
    assert_eq!(code, 404);
    let (code, status) = s.call("DELETE", "/api/v1/namespaces/default", None).await;
    assert_eq!(code, 403);
    assert_eq!(status["reason"], "Forbidden");
}

#[tokio::test]
async fn verbs_a_resource_does_not_serve_are_method_not_allowed() {
    let s = server();
    let (code, status) = s.call("PUT", PODS, Some(&pod("web"))).await;
    assert_eq!(code, 405);
    assert_eq!(status["reason"], "MethodNotAllowed");
    let (code, _) = s.call("POST", &format!("{PODS}/web/log"), None).await;
    assert_eq!(code, 405);
    let (code, _) = s.call("DELETE", "/api/v1/namespaces", None).await;
    assert_eq!(code, 405, "namespaces have no deletecollection");
    let (code, status) = s.call("GET", "/api/v1/widgets", None).await;
    assert_eq!((code, status["reason"].as_str()), (404, Some("NotFound")));
}

#[tokio::test]
async fn deletecollection_deletes_every_object_of_a_namespace() {
    let s = server();
    for name in ["a", "b"] {
        s.ok(
            201,
            "POST",
            "/api/v1/namespaces/default/configmaps",
            Some(&json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":name}})),
        )
        .await;
    }
    let deleted = s
        .ok(200, "DELETE", "/api/v1/namespaces/default/configmaps", None)
        .await;
    assert_eq!(deleted["items"].as_array().unwrap().len(), 2);
    let left = s
        .ok(200, "GET", "/api/v1/namespaces/default/configmaps", None)
        .await;
    assert!(left["items"].as_array().unwrap().is_empty());
}

struct FakeKubelet;

impl PodLogs for FakeKubelet {
    fn logs(
        &self,
        node: &str,
        namespace: &str,
        pod: &str,
        container: &str,
        follow: bool,
        tail: Option<i64>,
    ) -> LogsFuture<'_> {
        let line = format!("{node} {namespace}/{pod}/{container} follow={follow} tail={tail:?}\n");
        Box::pin(async move {
            let (sender, receiver) = tokio::sync::mpsc::channel(1);
            sender.send(bytes::Bytes::from(line)).await.unwrap();
            Ok(receiver)
        })
    }
}

#[tokio::test]
async fn logs_go_to_the_kubelet_of_the_pods_node() {
    let s = server();
    s.ok(201, "POST", PODS, Some(&pod("web"))).await;
    let (code, status) = s.call("GET", &format!("{PODS}/web/log"), None).await;
    assert_eq!(code, 400);
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .contains("pod has no node")
    );
    let binding = json!({"target": {"kind": "Node", "name": "n1"}});
    s.ok(201, "POST", &format!("{PODS}/web/binding"), Some(&binding))
        .await;
    let (code, _) = s.call("GET", &format!("{PODS}/web/log"), None).await;
    assert_eq!(code, 503, "no kubelet proxy configured");

    let with_logs = common::TestServer {
        server: s.server.clone().with_pod_logs(Arc::new(FakeKubelet)),
        storage: s.storage.clone(),
    };
    let response = with_logs
        .server
        .serve(request(
            "GET",
            &format!("{PODS}/web/log?follow=true&tailLines=5"),
            None,
        ))
        .await;
    let ApiResponse::Stream {
        status: 200,
        mut chunks,
        ..
    } = response
    else {
        panic!("expected a stream");
    };
    let line = chunks.recv().await.unwrap();
    assert_eq!(line, "n1 default/web/c follow=true tail=Some(5)\n");
    let (code, _) = with_logs
        .call("GET", &format!("{PODS}/web/log?container=nope"), None)
        .await;
    assert_eq!(code, 400);
}

#[tokio::test]
async fn discovery_describes_the_served_resources() {
    let s = server();
    let version = s.ok(200, "GET", "/version", None).await;
    assert_eq!(
        (version["major"].as_str(), version["minor"].as_str()),
        (Some("1"), Some("32"))
    );
    let api = s.ok(200, "GET", "/api", None).await;
    assert_eq!(api["versions"], json!(["v1"]));
    let v1 = s.ok(200, "GET", "/api/v1", None).await;
    let find = |name: &str| -> Value {
        v1["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(find("pods")["shortNames"], json!(["po"]));
    assert_eq!(find("pods")["categories"], json!(["all"]));
    assert_eq!(find("nodes")["namespaced"], false);
    assert_eq!(find("pods/binding")["verbs"], json!(["create"]));
    let groups = s.ok(200, "GET", "/apis", None).await;
    insta::assert_snapshot!("apis", serde_json::to_string_pretty(&groups).unwrap());
    let apps = s.ok(200, "GET", "/apis/apps/v1", None).await;
    insta::assert_snapshot!("apps_v1", serde_json::to_string_pretty(&apps).unwrap());
    let (code, _) = s.call("GET", "/apis/batch/v1", None).await;
    assert_eq!(code, 404);
}

#[tokio::test]
async fn openapi_tells_kubectl_that_the_server_validates_fields() {
    let s = server();
    let root = s.ok(200, "GET", "/openapi/v3", None).await;
    let url = root["paths"]["apis/apps/v1"]["serverRelativeURL"]
        .as_str()
        .unwrap();
    assert!(url.starts_with("/openapi/v3/apis/apps/v1?hash="));
    let apps = s.ok(200, "GET", &url.replace("?hash=", "?h="), None).await;
    let patch = &apps["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
    assert_eq!(
        patch["x-kubernetes-group-version-kind"],
        json!({"group": "apps", "version": "v1", "kind": "Deployment"})
    );
    assert_eq!(patch["parameters"][0]["name"], "fieldValidation");
    let core = s.ok(200, "GET", "/openapi/v3/api/v1", None).await;
    assert!(core["paths"]["/api/v1/nodes/{name}"]["patch"].is_object());
    let response = s.server.serve(request("GET", "/openapi/v2", None)).await;
    let ApiResponse::Full {
        status: 200,
        body,
        content_type,
    } = response
    else {
        panic!("expected a document");
    };
    assert!(
        body.is_empty(),
        "an empty protobuf message is an empty OpenAPI v2 document"
    );
    assert!(content_type.contains("protobuf"));
}
