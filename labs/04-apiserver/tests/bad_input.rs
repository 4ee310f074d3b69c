//! Bad input gets the right Status (code, reason, a message naming the field) and leaves the
//! stored state exactly as it was.

mod common;

use common::*;
use serde_json::{Value, json};

const PODS: &str = "/api/v1/namespaces/default/pods";

/// Sends a request that must fail; checks the Status shape and that storage did not change.
async fn rejected(
    s: &TestServer,
    request: apiserver::request::ApiRequest,
    code: u16,
    reason: &str,
) -> Value {
    let before = s.snapshot().await;
    let (status, body) = s.send(request).await;
    assert_eq!(status, code, "{body}");
    assert_eq!(body["kind"], "Status");
    assert_eq!(body["apiVersion"], "v1");
    assert_eq!(body["status"], "Failure");
    assert_eq!(body["code"], code);
    assert_eq!(body["reason"], reason);
    assert_eq!(
        s.snapshot().await,
        before,
        "a rejected request changes nothing"
    );
    body
}

fn raw(method: &str, target: &str, body: &str) -> apiserver::request::ApiRequest {
    let mut r = request(method, target, None);
    r.body = bytes::Bytes::from(body.to_string());
    r
}

async fn with_web() -> TestServer {
    let s = server();
    s.ok(201, "POST", PODS, Some(&pod("web"))).await;
    s
}

#[tokio::test]
async fn malformed_json_is_a_400_with_line_and_column() {
    let s = with_web().await;
    let body = rejected(
        &s,
        raw("POST", PODS, "{\"kind\": \"Pod\",\n  \"metadata\": }"),
        400,
        "BadRequest",
    )
    .await;
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("line 2 column"), "{message}");
    let body = rejected(
        &s,
        raw("PUT", &format!("{PODS}/web"), "[1, 2]"),
        400,
        "BadRequest",
    )
    .await;
    assert!(body["message"].as_str().unwrap().contains("JSON object"));
}

#[tokio::test]
async fn a_kind_or_api_version_that_does_not_match_the_path_is_a_400_naming_it() {
    let s = with_web().await;
    let mut service = pod("x");
    service["kind"] = json!("Service");
    let body = rejected(&s, request("POST", PODS, Some(&service)), 400, "BadRequest").await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("kind: Invalid value: \"Service\"")
    );
    let mut apps = pod("x");
    apps["apiVersion"] = json!("apps/v1");
    let body = rejected(&s, request("POST", PODS, Some(&apps)), 400, "BadRequest").await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("apiVersion: Invalid value: \"apps/v1\"")
    );
}

#[tokio::test]
async fn an_invalid_name_is_a_422_listing_every_broken_field() {
    let s = with_web().await;
    let mut bad = pod("Web_1");
    bad["spec"]["containers"][0]["image"] = json!("");
    let body = rejected(&s, request("POST", PODS, Some(&bad)), 422, "Invalid").await;
    let message = body["message"].as_str().unwrap();
    assert!(
        message.starts_with("Pod \"Web_1\" is invalid: ["),
        "{message}"
    );
    let fields: Vec<&str> = body["details"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"metadata.name"), "{fields:?}");
    assert!(fields.contains(&"spec.containers[0].image"), "{fields:?}");
    assert_eq!(body["details"]["kind"], "Pod");
    assert_eq!(body["details"]["causes"][0]["reason"], "FieldValueInvalid");
}

#[tokio::test]
async fn an_unknown_field_is_refused_only_with_strict_field_validation() {
    let s = with_web().await;
    let mut extra = pod("x");
    extra["spec"]["foo"] = json!(1);
    extra["spec"]["containers"][0]["imagePullPolicyy"] = json!("Always");
    let body = rejected(
        &s,
        request(
            "POST",
            &format!("{PODS}?fieldValidation=Strict"),
            Some(&extra),
        ),
        400,
        "BadRequest",
    )
    .await;
    let message = body["message"].as_str().unwrap();
    assert!(
        message.starts_with("strict decoding error: unknown field"),
        "{message}"
    );
    assert!(message.contains("\"spec.foo\""), "{message}");
    assert!(
        message.contains("\"spec.containers[0].imagePullPolicyy\""),
        "{message}"
    );
    // The default (and Warn, Ignore) accept the object and drop the field.
    let created = s.ok(201, "POST", PODS, Some(&extra)).await;
    assert!(created["spec"].get("foo").is_none());
    let body = rejected(
        &s,
        request(
            "POST",
            &format!("{PODS}?fieldValidation=Loud"),
            Some(&pod("y")),
        ),
        400,
        "BadRequest",
    )
    .await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("fieldValidation")
    );
}

#[tokio::test]
async fn a_wrong_type_is_a_400_naming_the_field() {
    let s = with_web().await;
    let mut wrong = pod("x");
    wrong["spec"]["containers"][0]["ports"] = json!([{"containerPort": "eighty"}]);
    let body = rejected(&s, request("POST", PODS, Some(&wrong)), 400, "BadRequest").await;
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("spec.containers[0].ports[0].containerPort"),
        "{message}"
    );
}

#[tokio::test]
async fn an_unsupported_patch_content_type_is_a_415() {
    let s = with_web().await;
    let mut r = raw(
        "PATCH",
        &format!("{PODS}/web"),
        "metadata:\n  labels: {a: b}\n",
    );
    r.headers.insert(
        hyper::header::CONTENT_TYPE,
        "application/apply-patch+yaml".parse().unwrap(),
    );
    let body = rejected(&s, r, 415, "UnsupportedMediaType").await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("application/apply-patch+yaml")
    );
}

#[tokio::test]
async fn a_protobuf_or_yaml_body_is_a_415_naming_its_type() {
    let s = with_web().await;
    for content_type in ["application/vnd.kubernetes.protobuf", "application/yaml"] {
        let mut r = raw("POST", PODS, "k8s\0...");
        r.headers
            .insert(hyper::header::CONTENT_TYPE, content_type.parse().unwrap());
        let body = rejected(&s, r, 415, "UnsupportedMediaType").await;
        assert!(body["message"].as_str().unwrap().contains(content_type));
    }
}

#[tokio::test]
async fn a_patch_that_breaks_validation_is_a_422_and_a_bad_patch_a_400() {
    let s = with_web().await;
    let mut r = raw(
        "PATCH",
        &format!("{PODS}/web"),
        r#"{"spec":{"containers":[{"name":"c","image":""}]}}"#,
    );
    r.headers.insert(
        hyper::header::CONTENT_TYPE,
        "application/strategic-merge-patch+json".parse().unwrap(),
    );
    rejected(&s, r, 422, "Invalid").await;
    let mut r = raw(
        "PATCH",
        &format!("{PODS}/web"),
        r#"[{"op":"test","path":"/metadata/name","value":"nope"}]"#,
    );
    r.headers.insert(
        hyper::header::CONTENT_TYPE,
        "application/json-patch+json".parse().unwrap(),
    );
    rejected(&s, r, 400, "BadRequest").await;
}

#[tokio::test]
async fn a_namespace_that_differs_from_the_path_is_a_400() {
    let s = with_web().await;
    let mut other = pod("x");
    other["metadata"]["namespace"] = json!("kube-system");
    let body = rejected(&s, request("POST", PODS, Some(&other)), 400, "BadRequest").await;
    let message = body["message"].as_str().unwrap();
    assert!(
        message.starts_with("metadata.namespace: Invalid value: \"kube-system\""),
        "{message}"
    );
    let mut renamed = s.ok(200, "GET", &format!("{PODS}/web"), None).await;
    renamed["metadata"]["name"] = json!("other");
    let body = rejected(
        &s,
        request("PUT", &format!("{PODS}/web"), Some(&renamed)),
        400,
        "BadRequest",
    )
    .await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("metadata.name: Invalid value: \"other\"")
    );
}

#[tokio::test]
async fn bad_query_parameters_are_400s_naming_them() {
    let s = with_web().await;
    for (query, field) in [
        ("limit=ten", "limit"),
        ("labelSelector=a%20in%20(", "labelSelector"),
        ("fieldSelector=spec.foo%3D1", "spec.foo"),
        ("continue=garbage", "continue"),
    ] {
        let body = rejected(
            &s,
            request("GET", &format!("{PODS}?{query}"), None),
            400,
            "BadRequest",
        )
        .await;
        assert!(
            body["message"].as_str().unwrap().contains(field),
            "{query}: {body}"
        );
    }
    let body = rejected(
        &s,
        request(
            "DELETE",
            &format!("{PODS}/web?gracePeriodSeconds=soon"),
            None,
        ),
        400,
        "BadRequest",
    )
    .await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("gracePeriodSeconds")
    );
    let mut stale = s.ok(200, "GET", &format!("{PODS}/web"), None).await;
    stale["metadata"]["resourceVersion"] = json!("abc");
    let body = rejected(
        &s,
        request("PUT", &format!("{PODS}/web"), Some(&stale)),
        400,
        "BadRequest",
    )
    .await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("resourceVersion")
    );
}

#[tokio::test]
async fn conflicts_and_missing_objects_change_nothing() {
    let s = with_web().await;
    let web = s.ok(200, "GET", &format!("{PODS}/web"), None).await;
    let mut stale = web.clone();
    stale["metadata"]["resourceVersion"] = json!("1");
    rejected(
        &s,
        request("PUT", &format!("{PODS}/web"), Some(&stale)),
        409,
        "Conflict",
    )
    .await;
    rejected(
        &s,
        request("POST", PODS, Some(&pod("web"))),
        409,
        "AlreadyExists",
    )
    .await;
    let body = rejected(
        &s,
        request("GET", &format!("{PODS}/nope"), None),
        404,
        "NotFound",
    )
    .await;
    assert_eq!(body["message"], "pods \"nope\" not found");
    assert_eq!(body["details"], json!({"name": "nope", "kind": "pods"}));
    rejected(
        &s,
        request("DELETE", &format!("{PODS}/nope"), None),
        404,
        "NotFound",
    )
    .await;
    let precondition = json!({"preconditions": {"uid": "someone-else"}});
    rejected(
        &s,
        request("DELETE", &format!("{PODS}/web"), Some(&precondition)),
        409,
        "Conflict",
    )
    .await;
}

#[tokio::test]
async fn status_bodies_keep_their_shape() {
    let s = with_web().await;
    let mut bad = pod("Bad");
    bad["spec"]["containers"][0]["image"] = json!("");
    let (_, invalid) = s.call("POST", PODS, Some(&bad)).await;
    insta::assert_snapshot!(
        "invalid_pod",
        serde_json::to_string_pretty(&invalid).unwrap()
    );
    let (_, conflict) = s
        .call("PUT", &format!("{PODS}/web"), Some(&json!({"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","resourceVersion":"1"},"spec":{"containers":[{"name":"c","image":"nginx"}]}})))
        .await;
    insta::assert_snapshot!("conflict", serde_json::to_string_pretty(&conflict).unwrap());
}
