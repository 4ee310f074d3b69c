//! The endpoints controller: ready pods under `addresses`, the others under
//! `notReadyAddresses`, named target ports resolved, changes within one reconcile, and the
//! Endpoints deleted with their Service.

use std::time::Duration;

use api::client::{ApiClient, DeleteOptions, InMemoryApi};
use api::{Endpoints, IntOrString, Pod, Service};
use controllers::runtime::Runner;
use serde_json::json;
use services::endpoints::{EndpointsController, endpoints_for_service, resolve_target_port};

const NOW: Duration = Duration::from_secs(0);

fn pod(name: &str, app: &str, node: &str, ip: &str, ready: bool) -> Pod {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}"), "labels": {"app": app}},
        "spec": {"nodeName": node, "containers": [{"name": "echo", "image": "echo",
            "ports": [{"name": "http", "containerPort": 8080}, {"name": "metrics", "containerPort": 9090}]}]},
        "status": {"phase": "Running", "podIP": ip,
            "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]}
    }))
    .unwrap()
}

fn service(name: &str, target_port: serde_json::Value) -> Service {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"selector": {"app": name}, "clusterIP": "127.10.0.1",
            "ports": [{"name": "web", "port": 80, "targetPort": target_port}]}
    }))
    .unwrap()
}

/// (ip, node, pod) of the ready and the not-ready addresses, and the ports.
fn summary(endpoints: &Endpoints) -> serde_json::Value {
    let list = |addresses: &[api::EndpointAddress]| {
        addresses
            .iter()
            .map(|a| {
                format!(
                    "{} {} {}",
                    a.ip,
                    a.node_name.as_deref().unwrap_or("-"),
                    a.target_ref
                        .as_ref()
                        .and_then(|r| r.name.as_deref())
                        .unwrap_or("-")
                )
            })
            .collect::<Vec<_>>()
    };
    endpoints
        .subsets
        .iter()
        .map(|s| {
            json!({
                "ready": list(&s.addresses),
                "notReady": list(&s.not_ready_addresses),
                "ports": s.ports.iter().map(|p| format!("{}:{}", p.name.as_deref().unwrap_or(""), p.port)).collect::<Vec<_>>(),
            })
        })
        .collect()
}

#[test]
fn target_ports_resolve_by_number_by_name_or_default_to_the_port() {
    let p = pod("web-1", "web", "node-a", "127.1.0.5", true);
    let mut port = service("web", json!(8080)).spec.ports[0].clone();
    assert_eq!(resolve_target_port(&port, &p), Some(8080));
    port.target_port = Some(IntOrString::String("metrics".into()));
    assert_eq!(resolve_target_port(&port, &p), Some(9090));
    port.target_port = Some(IntOrString::String("nope".into()));
    assert_eq!(resolve_target_port(&port, &p), None);
    port.target_port = None;
    assert_eq!(resolve_target_port(&port, &p), Some(80));
}

#[test]
fn ready_and_not_ready_pods_are_listed_apart_with_their_nodes() {
    let pods = [
        pod("web-2", "web", "node-b", "127.1.0.9", true),
        pod("web-1", "web", "node-a", "127.1.0.5", true),
        pod("web-3", "web", "node-a", "127.1.0.7", false),
        pod("other", "other", "node-a", "127.1.0.8", true),
    ];
    let endpoints = endpoints_for_service(&service("web", json!("http")), &pods);
    assert_eq!(endpoints.metadata.name.as_deref(), Some("web"));
    assert_eq!(
        summary(&endpoints),
        json!([{
            "ready": ["127.1.0.5 node-a web-1", "127.1.0.9 node-b web-2"],
            "notReady": ["127.1.0.7 node-a web-3"],
            "ports": ["web:8080"],
        }])
    );
    let reference = endpoints.subsets[0].addresses[0]
        .target_ref
        .clone()
        .unwrap();
    assert_eq!(reference.kind.as_deref(), Some("Pod"));
    assert_eq!(reference.uid.as_deref(), Some("uid-web-1"));
}

#[test]
fn pods_without_an_ip_or_being_deleted_or_lacking_the_named_port_are_left_out() {
    let mut no_ip = pod("web-1", "web", "node-a", "127.1.0.5", true);
    no_ip.status.as_mut().unwrap().pod_ip = None;
    let mut deleting = pod("web-2", "web", "node-a", "127.1.0.6", true);
    deleting.metadata.deletion_timestamp = Some(api::Time(1));
    let mut unnamed = pod("web-3", "web", "node-a", "127.1.0.7", true);
    unnamed.spec.containers[0].ports.clear();
    let kept = pod("web-4", "web", "node-b", "127.1.0.8", true);
    let endpoints = endpoints_for_service(
        &service("web", json!("http")),
        &[no_ip, deleting, unnamed, kept],
    );
    assert_eq!(
        summary(&endpoints),
        json!([{"ready": ["127.1.0.8 node-b web-4"], "notReady": [], "ports": ["web:8080"]}])
    );
    // With no pod at all the Endpoints exist, empty: the proxy then refuses connections.
    assert!(
        endpoints_for_service(&service("web", json!(8080)), &[])
            .subsets
            .is_empty()
    );
}

#[test]
fn publish_not_ready_addresses_lists_every_pod_as_ready() {
    let mut svc = service("web", json!(8080));
    svc.spec.publish_not_ready_addresses = Some(true);
    let pods = [pod("web-1", "web", "node-a", "127.1.0.5", false)];
    let endpoints = endpoints_for_service(&svc, &pods);
    assert_eq!(endpoints.subsets[0].addresses.len(), 1);
    assert!(endpoints.subsets[0].not_ready_addresses.is_empty());
}

async fn set_ready(api: &InMemoryApi, name: &str, ready: bool) {
    let mut p: Pod = api.get(Some("default"), name).await.unwrap();
    let status = p.status.as_mut().unwrap();
    for condition in &mut status.conditions {
        if condition.condition_type == "Ready" {
            condition.status = if ready { "True" } else { "False" }.into();
        }
    }
    api.update_status(p).await.unwrap();
}

async fn create_pod(api: &InMemoryApi, p: Pod) {
    let status = p.status.clone();
    let mut created = api.create(p).await.unwrap();
    created.status = status;
    api.update_status(created).await.unwrap();
}

async fn stored(api: &InMemoryApi, name: &str) -> Option<Endpoints> {
    api.get(Some("default"), name).await.ok()
}

#[tokio::test]
async fn the_controller_follows_readiness_within_one_reconcile_and_cleans_up() {
    let api = InMemoryApi::new();
    let mut runner = Runner::new(api.clone(), EndpointsController::new());
    api.create(service("web", json!("http"))).await.unwrap();
    create_pod(&api, pod("web-1", "web", "node-a", "127.1.0.5", true)).await;
    create_pod(&api, pod("web-2", "web", "node-b", "127.1.0.6", false)).await;
    runner.run_until_quiet(NOW).await.unwrap();
    let endpoints = stored(&api, "web").await.expect("endpoints created");
    assert_eq!(
        summary(&endpoints),
        json!([{"ready": ["127.1.0.5 node-a web-1"], "notReady": ["127.1.0.6 node-b web-2"], "ports": ["web:8080"]}])
    );

    // web-2 becomes ready: one observe + reconcile moves it.
    set_ready(&api, "web-2", true).await;
    runner.observe(NOW).await.unwrap();
    let outcome = runner
        .process_one(NOW)
        .await
        .expect("the service was queued");
    assert_eq!(outcome.key.name, "web");
    assert!(outcome.result.is_ok());
    let endpoints = stored(&api, "web").await.unwrap();
    assert_eq!(endpoints.subsets[0].addresses.len(), 2);
    assert!(endpoints.subsets[0].not_ready_addresses.is_empty());

    // A relabelled pod leaves the Service.
    let mut p: Pod = api.get(Some("default"), "web-1").await.unwrap();
    p.metadata.labels.insert("app".into(), "elsewhere".into());
    api.update(p).await.unwrap();
    runner.run_until_quiet(NOW).await.unwrap();
    let endpoints = stored(&api, "web").await.unwrap();
    assert_eq!(
        summary(&endpoints),
        json!([{"ready": ["127.1.0.6 node-b web-2"], "notReady": [], "ports": ["web:8080"]}])
    );

    // Nothing changed: no write (the resource version stays).
    let version = endpoints.metadata.resource_version.clone();
    runner.run_until_quiet(NOW).await.unwrap();
    assert_eq!(
        stored(&api, "web").await.unwrap().metadata.resource_version,
        version
    );

    // The Service goes, and its Endpoints with it.
    api.delete::<Service>(Some("default"), "web", DeleteOptions::default())
        .await
        .unwrap();
    runner.run_until_quiet(NOW).await.unwrap();
    assert!(
        stored(&api, "web").await.is_none(),
        "endpoints deleted with the service"
    );
}

#[tokio::test]
async fn a_service_without_a_selector_keeps_hand_made_endpoints() {
    let api = InMemoryApi::new();
    let mut runner = Runner::new(api.clone(), EndpointsController::new());
    let mut svc = service("external", json!(5432));
    svc.spec.selector.clear();
    api.create(svc).await.unwrap();
    let manual: Endpoints = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Endpoints",
        "metadata": {"name": "external", "namespace": "default"},
        "subsets": [{"addresses": [{"ip": "127.3.0.1"}], "ports": [{"name": "web", "port": 5432}]}]
    }))
    .unwrap();
    api.create(manual.clone()).await.unwrap();
    runner.run_until_quiet(NOW).await.unwrap();
    assert_eq!(
        stored(&api, "external").await.unwrap().subsets,
        manual.subsets
    );
}

fn web_deployment(replicas: i32) -> api::Deployment {
    serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"terminationGracePeriodSeconds": 2, "containers": [{"name": "app", "image": "fake/app:v1",
                    "resources": {"requests": {"cpu": "1"}},
                    "ports": [{"name": "http", "containerPort": 8080}]}]}}}
    }))
    .unwrap()
}

/// Ready addresses as `node`, sorted: pod names are seeded, but the node is what matters here.
async fn ready_nodes(api: &InMemoryApi) -> Vec<String> {
    let Some(endpoints) = stored(api, "web").await else {
        return Vec::new();
    };
    let mut nodes: Vec<String> = endpoints
        .subsets
        .iter()
        .flat_map(|s| s.addresses.iter())
        .map(|a| a.node_name.clone().unwrap_or_default())
        .collect();
    nodes.sort();
    nodes
}

#[tokio::test]
async fn with_the_real_scheduler_and_kubelets_endpoints_follow_a_deployment() {
    use controllers::sim::Cluster;
    let mut cluster = Cluster::new(2, 7);
    let api = cluster.api().clone();
    let mut endpoints = Runner::new(api.clone(), EndpointsController::new());
    api.create(service("web", json!("http"))).await.unwrap();
    api.create(web_deployment(3)).await.unwrap();

    // Step the whole cluster and the endpoints controller together on virtual time.
    let mut history = Vec::new();
    for _ in 0..30 {
        cluster.step(&mut |_| Ok(())).await.unwrap();
        endpoints.run_until_quiet(cluster.now()).await.unwrap();
        let nodes = ready_nodes(&api).await;
        if history.last() != Some(&nodes) {
            history.push(nodes);
        }
    }
    let last = history.last().unwrap().clone();
    assert_eq!(last.len(), 3, "three ready pods listed: {history:?}");
    assert!(last.contains(&"node-1".to_string()) && last.contains(&"node-2".to_string()));
    // Every address is a running pod's IP, and every port resolved from the name `http`.
    let stored_endpoints = stored(&api, "web").await.unwrap();
    let pods: Vec<Pod> = api
        .list(Some("default"), &Default::default())
        .await
        .unwrap()
        .items;
    for address in &stored_endpoints.subsets[0].addresses {
        let pod_name = address.target_ref.as_ref().unwrap().name.clone().unwrap();
        let pod = pods
            .iter()
            .find(|p| p.metadata.name.as_deref() == Some(&pod_name))
            .unwrap();
        assert_eq!(
            pod.status.as_ref().unwrap().pod_ip.as_deref(),
            Some(address.ip.as_str())
        );
        assert_eq!(pod.spec.node_name, address.node_name);
    }
    assert_eq!(stored_endpoints.subsets[0].ports[0].port, 8080);

    // Scale to 1: the endpoints shrink as the pods are deleted.
    let mut deployment: api::Deployment = api.get(Some("default"), "web").await.unwrap();
    deployment.spec.replicas = Some(1);
    api.update(deployment).await.unwrap();
    for _ in 0..30 {
        cluster.step(&mut |_| Ok(())).await.unwrap();
        endpoints.run_until_quiet(cluster.now()).await.unwrap();
    }
    assert_eq!(ready_nodes(&api).await.len(), 1);
}
