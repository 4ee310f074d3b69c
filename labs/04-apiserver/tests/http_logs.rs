//! The kubelet log proxy: where it finds a node's kubelet, and what `kubectl logs` gets when
//! it cannot.

mod wire;

use apiserver::http::kubelet_logs::kubelet_endpoint;
use hyper::Method;
use serde_json::json;
use wire::cluster::Cluster;

#[test]
fn the_kubelet_is_found_from_the_node_status() {
    let node = json!({
        "metadata": {"name": "n1"},
        "status": {
            "addresses": [{"type": "Hostname", "address": "n1"},
                          {"type": "InternalIP", "address": "127.0.0.7"}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        },
    });
    assert_eq!(
        kubelet_endpoint(&node).unwrap(),
        ("127.0.0.7".to_string(), 10250)
    );
}

#[test]
fn a_node_without_an_address_or_port_is_an_error_naming_the_field() {
    let no_address = json!({"metadata": {"name": "n1"}, "status": {
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}}}});
    let error = kubelet_endpoint(&no_address).unwrap_err();
    assert_eq!(
        error,
        "node n1: status.addresses has no InternalIP or Hostname"
    );
    let no_port = json!({"metadata": {"name": "n1"}, "status": {
        "addresses": [{"type": "InternalIP", "address": "127.0.0.7"}]}});
    let error = kubelet_endpoint(&no_port).unwrap_err();
    assert_eq!(
        error,
        "node n1: status.daemonEndpoints.kubeletEndpoint.Port is not set"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_of_a_pod_on_a_node_without_a_kubelet_endpoint_say_why() {
    let cluster = Cluster::start().await;
    cluster
        .create(
            "/api/v1/nodes",
            &json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "bare"}}),
        )
        .await;
    cluster
        .running_pod("default", "p", "bare", "127.1.0.2")
        .await;
    let (status, body) = cluster
        .api
        .raw(
            Method::GET,
            "/api/v1/namespaces/default/pods/p/log",
            None,
            Default::default(),
        )
        .await
        .unwrap();
    let status_body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(status, 500, "{status_body}");
    let message = status_body["message"].as_str().unwrap();
    assert!(
        message.contains("error getting logs from node bare"),
        "{message}"
    );
    assert!(message.contains("status.addresses"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_passes_the_kubelets_chunks_through_until_the_container_is_gone() {
    use runtime::ContainerRuntime;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let cluster = Cluster::start().await;
    cluster.node("n1").await;
    cluster.running_pod("default", "p", "n1", "127.1.0.2").await;
    let mut tls = cluster.server.tls().await;
    let head = format!(
        "GET /api/v1/namespaces/default/pods/p/log?follow=true HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\r\n",
        cluster.server.admin_token()
    );
    tls.write_all(head.as_bytes()).await.unwrap();
    // The lines so far arrive while the stream stays open.
    let mut received = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&received).contains("second line of default/p/app\n") {
        let n = tls.read(&mut buf).await.unwrap();
        assert!(n > 0, "ended early: {}", String::from_utf8_lossy(&received));
        received.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&received).to_string();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("hello from default/p/app\n"), "{text}");
    // The container goes away: the kubelet ends its stream, and so does the API server.
    let containers = cluster
        .runtime
        .list_containers(&Default::default())
        .await
        .unwrap();
    for container in containers {
        cluster
            .runtime
            .remove_container(&container.id)
            .await
            .unwrap();
    }
    // The last chunk (size 0) closes the body; the connection may stay open after it.
    let mut rest = Vec::new();
    while !rest.ends_with(b"\r\n0\r\n\r\n") && !rest.starts_with(b"0\r\n\r\n") {
        let n = tls.read(&mut buf).await.unwrap_or(0);
        assert!(n > 0, "no last chunk: {:?}", String::from_utf8_lossy(&rest));
        rest.extend_from_slice(&buf[..n]);
    }
}
