//! kubectl's generators and `auth can-i` send Kubernetes protobuf; the server reads it for
//! the kinds they send and refuses the rest with a 415 that says why.

mod common;

use apiserver::request::User;
use common::*;
use serde_json::json;

fn varint(mut n: u64, out: &mut Vec<u8>) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// A length-delimited field.
fn field(number: u64, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    varint(number << 3 | 2, &mut out);
    varint(bytes.len() as u64, &mut out);
    out.extend_from_slice(bytes);
    out
}

fn entry(key: &str, value: &[u8]) -> Vec<u8> {
    [field(1, key.as_bytes()), field(2, value)].concat()
}

/// `k8s\0` + runtime.Unknown{typeMeta, raw}.
fn envelope(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
    let type_meta = [field(1, api_version.as_bytes()), field(2, kind.as_bytes())].concat();
    [b"k8s\0".to_vec(), field(1, &type_meta), field(2, raw)].concat()
}

fn protobuf_request(method: &str, target: &str, body: Vec<u8>) -> apiserver::request::ApiRequest {
    let mut r = request(method, target, None);
    r.body = body.into();
    r.headers.insert(
        hyper::header::CONTENT_TYPE,
        "application/vnd.kubernetes.protobuf".parse().unwrap(),
    );
    r
}

#[tokio::test]
async fn kubectl_create_namespace_and_secret_in_protobuf() {
    let s = server();
    let meta = [
        field(1, b"team"),
        field(2, b""),
        field(11, &entry("env", b"dev")),
    ]
    .concat();
    let namespace = field(1, &meta);
    let (code, created) = s
        .send(protobuf_request(
            "POST",
            "/api/v1/namespaces",
            envelope("v1", "Namespace", &namespace),
        ))
        .await;
    assert_eq!(code, 201, "{created}");
    assert_eq!(created["metadata"]["name"], "team");
    assert_eq!(created["metadata"]["labels"], json!({"env": "dev"}));
    assert!(
        created["metadata"].get("generateName").is_none(),
        "empty strings are omitted"
    );

    let secret = [
        field(1, &field(1, b"db")),
        field(2, &entry("pw", b"hunter2")),
        field(3, b"Opaque"),
    ]
    .concat();
    let (code, created) = s
        .send(protobuf_request(
            "POST",
            "/api/v1/namespaces/team/secrets",
            envelope("v1", "Secret", &secret),
        ))
        .await;
    assert_eq!(code, 201, "{created}");
    assert_eq!(
        created["data"]["pw"], "aHVudGVyMg==",
        "bytes become base64, as in JSON"
    );
    assert_eq!(created["type"], "Opaque");
}

#[tokio::test]
async fn kubectl_auth_can_i_in_protobuf() {
    let s = server();
    let attributes = [field(1, b"default"), field(2, b"delete"), field(5, b"pods")].concat();
    let review = field(2, &field(1, &attributes));
    let body = envelope(
        "authorization.k8s.io/v1",
        "SelfSubjectAccessReview",
        &review,
    );
    let mut r = protobuf_request(
        "POST",
        "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
        body.clone(),
    );
    r.user = User::new("bob", &["skiff:viewers"]);
    let (code, answer) = s.send(r).await;
    assert_eq!(code, 201, "{answer}");
    assert_eq!(answer["status"]["allowed"], false);
    let (code, answer) = s
        .send(protobuf_request(
            "POST",
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            body,
        ))
        .await;
    assert_eq!((code, &answer["status"]["allowed"]), (201, &json!(true)));
}

#[tokio::test]
async fn other_kinds_and_broken_bodies_are_415s_that_say_why() {
    let s = server();
    s.server.bootstrap().await.unwrap();
    let before = s.snapshot().await;
    let deployment = envelope("apps/v1", "Deployment", &field(1, &field(1, b"web")));
    let (code, status) = s
        .send(protobuf_request(
            "POST",
            "/apis/apps/v1/namespaces/default/deployments",
            deployment,
        ))
        .await;
    assert_eq!(code, 415);
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .contains("Deployment (apps/v1) only as JSON"),
        "{status}"
    );
    let mut truncated = envelope("v1", "Namespace", &field(1, &field(1, b"team")));
    truncated.truncate(truncated.len() - 2);
    let (code, status) = s
        .send(protobuf_request("POST", "/api/v1/namespaces", truncated))
        .await;
    assert_eq!(code, 415);
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .contains("beyond the end"),
        "{status}"
    );
    let (code, _) = s
        .send(protobuf_request(
            "POST",
            "/api/v1/namespaces",
            b"{}".to_vec(),
        ))
        .await;
    assert_eq!(code, 415, "no magic bytes");
    assert_eq!(s.snapshot().await, before);
}
