//! How pods find Services: Kubernetes' environment variables, the DNS search path, a hosts
//! file, and the per-node addresses the proxies serve.

use std::net::Ipv4Addr;

use api::{Endpoints, Service};
use serde_json::json;
use services::discovery::{env_prefix, host_entries, resolve, service_env};
use services::proxy_wiring::{NodeView, endpoints_for_port};

fn service(name: &str, namespace: &str, cluster_ip: &str, ports: serde_json::Value) -> Service {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"selector": {"app": name}, "clusterIP": cluster_ip, "ports": ports}
    }))
    .unwrap()
}

fn services() -> Vec<Service> {
    vec![
        service(
            "web",
            "default",
            "127.10.0.11",
            json!([{"name": "http", "port": 80}, {"name": "admin", "port": 9000}]),
        ),
        service(
            "redis-primary",
            "default",
            "127.10.0.12",
            json!([{"port": 6379}]),
        ),
        service("db", "default", "None", json!([{"port": 5432}])),
        service("api", "team", "127.10.0.13", json!([{"port": 8080}])),
    ]
}

#[test]
fn service_variables_follow_kubernetes_names() {
    let env = service_env(&services()[..3], NodeView::ClusterIp);
    let lines: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    assert_eq!(
        lines,
        [
            "REDIS_PRIMARY_PORT=tcp://127.10.0.12:6379",
            "REDIS_PRIMARY_PORT_6379_TCP=tcp://127.10.0.12:6379",
            "REDIS_PRIMARY_PORT_6379_TCP_ADDR=127.10.0.12",
            "REDIS_PRIMARY_PORT_6379_TCP_PORT=6379",
            "REDIS_PRIMARY_PORT_6379_TCP_PROTO=tcp",
            "REDIS_PRIMARY_SERVICE_HOST=127.10.0.12",
            "REDIS_PRIMARY_SERVICE_PORT=6379",
            "WEB_PORT=tcp://127.10.0.11:80",
            "WEB_PORT_80_TCP=tcp://127.10.0.11:80",
            "WEB_PORT_80_TCP_ADDR=127.10.0.11",
            "WEB_PORT_80_TCP_PORT=80",
            "WEB_PORT_80_TCP_PROTO=tcp",
            "WEB_PORT_9000_TCP=tcp://127.10.0.11:9000",
            "WEB_PORT_9000_TCP_ADDR=127.10.0.11",
            "WEB_PORT_9000_TCP_PORT=9000",
            "WEB_PORT_9000_TCP_PROTO=tcp",
            "WEB_SERVICE_HOST=127.10.0.11",
            "WEB_SERVICE_PORT=80",
            "WEB_SERVICE_PORT_ADMIN=9000",
            "WEB_SERVICE_PORT_HTTP=80",
        ]
    );
    assert_eq!(env_prefix("my-svc"), "MY_SVC");
}

#[test]
fn a_pod_on_a_node_gets_its_nodes_address() {
    let env = service_env(&services()[..1], NodeView::Node(1));
    assert!(
        env.contains(&("WEB_SERVICE_HOST".into(), "127.12.0.11".into())),
        "{env:?}"
    );
    assert_eq!(
        NodeView::Node(0).address(Ipv4Addr::new(127, 10, 3, 4)),
        Ipv4Addr::new(127, 11, 3, 4)
    );
    assert_eq!(
        NodeView::ClusterIp.address(Ipv4Addr::new(127, 10, 3, 4)),
        Ipv4Addr::new(127, 10, 3, 4)
    );
}

#[test]
fn names_resolve_with_the_pods_search_path() {
    let all = services();
    let view = NodeView::ClusterIp;
    let web = Some(Ipv4Addr::new(127, 10, 0, 11));
    for name in [
        "web",
        "web.default",
        "web.default.svc",
        "web.default.svc.cluster.local",
        "WEB.default.svc.cluster.local.",
    ] {
        assert_eq!(resolve(name, "default", &all, view), web, "{name}");
    }
    // Another namespace's Service needs its namespace in the name.
    assert_eq!(resolve("api", "default", &all, view), None);
    assert_eq!(
        resolve("api.team", "default", &all, view),
        Some(Ipv4Addr::new(127, 10, 0, 13))
    );
    assert_eq!(
        resolve("api", "team", &all, view),
        Some(Ipv4Addr::new(127, 10, 0, 13))
    );
    // Headless Services and unknown names have no virtual address.
    assert_eq!(resolve("db", "default", &all, view), None);
    assert_eq!(resolve("nope.default.svc", "default", &all, view), None);
    assert_eq!(
        resolve("web.", "default", &all, view),
        None,
        "absolute: no search path"
    );
}

#[test]
fn the_hosts_lines_list_every_service_and_short_names_for_the_pods_namespace() {
    let lines: Vec<String> = host_entries("default", &services(), NodeView::ClusterIp)
        .iter()
        .map(|e| format!("{}\t{}", e.address, e.names.join(" ")))
        .collect();
    assert_eq!(
        lines,
        [
            "127.10.0.13\tapi.team.svc.cluster.local api.team.svc",
            "127.10.0.12\tredis-primary.default.svc.cluster.local redis-primary.default.svc redis-primary.default redis-primary",
            "127.10.0.11\tweb.default.svc.cluster.local web.default.svc web.default web",
        ]
    );
    // Node 2's pods dial the Service in their node's block.
    let node2 = host_entries("team", &services(), NodeView::Node(2));
    assert_eq!(node2[0].address.to_string(), "127.13.0.13");
    assert_eq!(node2[0].names.last().unwrap(), "api");
}

#[test]
fn endpoints_become_the_proxys_list_port_by_port() {
    let endpoints: Endpoints = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Endpoints",
        "metadata": {"name": "web", "namespace": "default"},
        "subsets": [{
            "addresses": [{"ip": "127.1.0.5", "nodeName": "node-a"}, {"ip": "127.1.0.6"}],
            "notReadyAddresses": [{"ip": "127.1.0.7", "nodeName": "node-b"}],
            "ports": [{"name": "http", "port": 8080}, {"name": "admin", "port": 9090}]
        }]
    }))
    .unwrap();
    let list: Vec<String> = endpoints_for_port(&endpoints, Some("admin"))
        .iter()
        .map(|e| format!("{} {} {}", e.addr, e.node, e.ready))
        .collect();
    assert_eq!(
        list,
        [
            "127.1.0.5:9090 node-a true",
            "127.1.0.6:9090 unknown true",
            "127.1.0.7:9090 node-b false"
        ]
    );
    assert!(endpoints_for_port(&endpoints, Some("metrics")).is_empty());
}
