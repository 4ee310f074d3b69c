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
