//! What a node's proxy serves, computed from the API's objects (no network).

use api::{Endpoints, Pod, Service};
use serde_json::json;
use skiff::cmd::proxy::desired_routes;

fn service() -> Service {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "echo", "namespace": "default"},
        "spec": {"selector": {"app": "echo"}, "ports": [{"port": 80, "targetPort": 8080}]}
    }))
    .unwrap()
}

fn pod(
    name: &str,
    namespace: &str,
    app: &str,
    ip: &str,
    node: &str,
    phase: &str,
    ready: bool,
) -> Pod {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": app}},
        "spec": {"nodeName": node, "containers": [{"name": "c", "image": "skiff/echo"}]},
        "status": {
            "phase": phase, "podIP": ip,
            "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]
        }
    }))
    .unwrap()
}

#[test]
fn without_endpoints_the_running_pods_the_selector_matches_are_the_endpoints() {
    let pods = [
        pod("b", "default", "echo", "127.1.2.1", "n2", "Running", true),
        pod("a", "default", "echo", "127.1.1.1", "n1", "Running", false),
        pod(
            "pending",
            "default",
            "echo",
            "127.1.1.9",
            "n1",
            "Pending",
            false,
        ),
        pod(
            "other-app",
            "default",
            "web",
            "127.1.1.3",
            "n1",
            "Running",
            true,
        ),
        pod(
            "other-ns",
            "prod",
            "echo",
            "127.1.1.4",
            "n1",
            "Running",
            true,
        ),
    ];
    let routes = desired_routes("127.2.0.1".parse().unwrap(), &[service()], &[], &pods);
    assert_eq!(routes.len(), 1);
    let route = &routes[0];
    assert_eq!(route.key, "default/echo:80");
    assert_eq!(route.listen, "127.2.0.1:80".parse().unwrap());
    let endpoints: Vec<(String, &str, bool)> = route
        .endpoints
        .iter()
        .map(|e| (e.addr.to_string(), e.node.as_str(), e.ready))
        .collect();
    assert_eq!(
        endpoints,
        [
            ("127.1.1.1:8080".to_string(), "n1", false),
            ("127.1.2.1:8080".to_string(), "n2", true)
        ]
    );
}

#[test]
fn an_endpoints_object_wins_over_the_pods() {
    let endpoints: Endpoints = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Endpoints",
        "metadata": {"name": "echo", "namespace": "default"},
        "subsets": [{
            "addresses": [{"ip": "127.1.3.3", "nodeName": "n3"}],
            "notReadyAddresses": [{"ip": "127.1.3.4", "nodeName": "n3"}],
            "ports": [{"port": 9090}]
        }]
    }))
    .unwrap();
    let pods = [pod(
        "a",
        "default",
        "echo",
        "127.1.1.1",
        "n1",
        "Running",
        true,
    )];
    let routes = desired_routes(
        "127.2.0.2".parse().unwrap(),
        &[service()],
        &[endpoints],
        &pods,
    );
    let endpoints: Vec<(String, bool)> = routes[0]
        .endpoints
        .iter()
        .map(|e| (e.addr.to_string(), e.ready))
        .collect();
    assert_eq!(
        endpoints,
        [
            ("127.1.3.3:9090".to_string(), true),
            ("127.1.3.4:9090".to_string(), false)
        ]
    );
}

#[test]
fn the_demo_app_is_three_echo_servers_behind_a_service() {
    let (deployment, service) = skiff::demo::sample_app().unwrap();
    assert_eq!(deployment.spec.replicas, Some(3));
    assert_eq!(
        deployment.spec.template.spec.containers[0].image,
        "skiff/echo"
    );
    // The proxy of the first node serves it on 127.2.0.1:8080, to the pods' port 8080.
    let pods = [pod(
        "echo-1",
        "default",
        "echo",
        "127.1.1.1",
        "n1",
        "Running",
        true,
    )];
    let routes = desired_routes("127.2.0.1".parse().unwrap(), &[service], &[], &pods);
    assert_eq!(routes[0].listen, "127.2.0.1:8080".parse().unwrap());
    assert_eq!(
        routes[0].endpoints[0].addr,
        "127.1.1.1:8080".parse().unwrap()
    );
}
