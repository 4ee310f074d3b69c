//! The pod lifecycle end to end on virtual time: sources, statuses, deletion, node, shutdown.

mod common;

use std::time::Duration;

use api::client::{ApiClient, DeleteOptions};
use api::{LabelSelector, Lease, Node, Pod, PodPhase};
use common::{NODE, Sim, pod};
use runtime::{ContainerFilter, ContainerRuntime, SandboxFilter};

async fn api_pod(sim: &Sim, name: &str) -> Pod {
    sim.api
        .get(Some("default"), name)
        .await
        .expect("pod in the API")
}

fn phase(pod: &Pod) -> Option<PodPhase> {
    pod.status.as_ref().and_then(|s| s.phase)
}

async fn runtime_is_empty(sim: &Sim) -> bool {
    sim.runtime
        .list_pod_sandboxes(&SandboxFilter::default())
        .await
        .unwrap()
        .is_empty()
        && sim
            .runtime
            .list_containers(&ContainerFilter::default())
            .await
            .unwrap()
            .is_empty()
}

#[tokio::test(flavor = "current_thread")]
async fn a_static_pod_runs_and_reports_through_a_mirror_pod() {
    let mut sim = Sim::new();
    sim.write_manifest(
        "web.json",
        &pod(
            "web",
            &[("app", "fake/sleeper"), ("sidecar", "fake/sleeper")],
        ),
    );
    sim.run_for(Duration::from_secs(1)).await;
    let mirror = api_pod(&sim, "web").await;
    assert!(
        mirror
            .metadata
            .annotations
            .contains_key(kubelet::source::MIRROR_ANNOTATION)
    );
    assert_eq!(mirror.spec.node_name.as_deref(), Some(NODE));
    let status = mirror.status.expect("status reported");
    insta::assert_snapshot!(serde_json::to_string_pretty(&status).unwrap());
}

#[tokio::test(flavor = "current_thread")]
async fn removing_the_manifest_stops_the_pod_gracefully() {
    let mut sim = Sim::new();
    sim.write_manifest("web.json", &pod("web", &[("app", "fake/sleeper")]));
    sim.run_for(Duration::from_secs(3)).await;
    sim.remove_manifest("web.json");
    sim.run_for(Duration::from_secs(3)).await;
    assert!(runtime_is_empty(&sim).await);
    assert!(
        sim.api
            .get::<Pod>(Some("default"), "web")
            .await
            .unwrap_err()
            .is_not_found()
    );
    insta::assert_snapshot!(sim.journal(&["start", "kill", "sandbox", "pod"]));
    let calls: Vec<String> = sim
        .runtime
        .calls()
        .into_iter()
        .filter(|c| c.starts_with("stop_container"))
        .collect();
    assert_eq!(
        calls,
        ["stop_container c-2 grace=5s"],
        "SIGTERM with the pod's grace period"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn an_api_pod_runs_and_its_deletion_is_finished_by_the_kubelet() {
    let mut sim = Sim::new();
    let mut web = pod("web", &[("app", "fake/sleeper")]);
    web.spec.node_name = Some(NODE.into());
    web.spec.termination_grace_period_seconds = Some(7);
    sim.api.create(web).await.unwrap();
    sim.run_for(Duration::from_secs(2)).await;
    assert_eq!(phase(&api_pod(&sim, "web").await), Some(PodPhase::Running));

    let marked: Pod = sim
        .api
        .delete(Some("default"), "web", DeleteOptions::default())
        .await
        .unwrap();
    assert!(
        marked.metadata.deletion_timestamp.is_some(),
        "graceful: only marked"
    );
    sim.run_for(Duration::from_secs(2)).await;
    assert!(runtime_is_empty(&sim).await);
    assert!(
        sim.api
            .get::<Pod>(Some("default"), "web")
            .await
            .unwrap_err()
            .is_not_found()
    );
    let stops: Vec<String> = sim
        .runtime
        .calls()
        .into_iter()
        .filter(|c| c.starts_with("stop_container"))
        .collect();
    assert_eq!(stops, ["stop_container c-2 grace=7s"]);
}

#[tokio::test(flavor = "current_thread")]
async fn pods_of_other_nodes_and_unscheduled_pods_are_ignored() {
    let mut sim = Sim::new();
    let mut elsewhere = pod("elsewhere", &[("app", "fake/sleeper")]);
    elsewhere.spec.node_name = Some("node-2".into());
    sim.api.create(elsewhere).await.unwrap();
    sim.api
        .create(pod("pending", &[("app", "fake/sleeper")]))
        .await
        .unwrap();
    sim.run_for(Duration::from_secs(2)).await;
    assert!(runtime_is_empty(&sim).await);
    assert_eq!(phase(&api_pod(&sim, "pending").await), None);
}

#[tokio::test(flavor = "current_thread")]
async fn bad_manifests_are_reported_with_their_path_and_the_good_ones_run() {
    let mut sim = Sim::new();
    sim.write_manifest("good.json", &pod("good", &[("app", "fake/sleeper")]));
    sim.write_raw("broken.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: broken\nspec:\n  containers:\n    - name: app\n      imagee: x\n");
    sim.write_raw("invalid.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: Invalid_Name\nspec:\n  containers:\n    - name: app\n      image: x\n");
    sim.write_raw(
        "service.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: svc\nspec:\n  ports:\n    - port: 80\n",
    );
    sim.write_raw("notes.txt", "not a manifest");
    sim.run_for(Duration::from_secs(1)).await;
    let errors: Vec<String> = sim
        .kubelet
        .manifest_errors()
        .iter()
        .map(|e| {
            format!(
                "{}: {}",
                e.path.file_name().unwrap().to_string_lossy(),
                e.message
            )
        })
        .collect();
    insta::assert_snapshot!(errors.join("\n"));
    assert_eq!(phase(&api_pod(&sim, "good").await), Some(PodPhase::Running));
}

#[tokio::test(flavor = "current_thread")]
async fn a_missing_manifest_directory_is_an_error_not_a_panic() {
    let mut sim = Sim::new();
    let dir = sim.manifests.path().to_path_buf();
    std::fs::remove_dir(&dir).unwrap();
    sim.run_for(Duration::from_secs(1)).await;
    let errors = sim.kubelet.manifest_errors();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].path, dir);
    assert!(
        errors[0]
            .message
            .starts_with("cannot read manifest directory"),
        "{}",
        errors[0].message
    );
    std::fs::create_dir(&dir).unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn restart_policies_decide_the_final_phase() {
    let mut sim = Sim::new();
    let mut job = pod("job", &[("app", "fake/done")]);
    job.spec.restart_policy = Some("OnFailure".into());
    let mut once = pod("once", &[("app", "fake/crasher")]);
    once.spec.restart_policy = Some("Never".into());
    sim.write_manifest("job.json", &job);
    sim.write_manifest("once.json", &once);
    sim.run_for(Duration::from_secs(30)).await;
    let job = api_pod(&sim, "job").await;
    let once = api_pod(&sim, "once").await;
    assert_eq!(phase(&job), Some(PodPhase::Succeeded));
    assert_eq!(phase(&once), Some(PodPhase::Failed));
    let terminated = once.status.unwrap().container_statuses[0]
        .state
        .clone()
        .unwrap()
        .terminated
        .unwrap();
    assert_eq!(
        (terminated.exit_code, terminated.reason.as_deref()),
        (1, Some("Error"))
    );
    insta::assert_snapshot!(sim.journal(&["start", "status"]));
}

#[tokio::test(flavor = "current_thread")]
async fn an_unknown_image_waits_with_a_reason_and_backs_off() {
    let mut sim = Sim::new();
    sim.write_manifest("typo.json", &pod("typo", &[("app", "fake/no-such-image")]));
    sim.run_for(Duration::from_secs(35)).await;
    let status = api_pod(&sim, "typo").await.status.unwrap();
    let waiting = status.container_statuses[0]
        .state
        .clone()
        .unwrap()
        .waiting
        .unwrap();
    assert_eq!(waiting.reason.as_deref(), Some("CreateContainerError"));
    assert!(waiting.message.unwrap().contains("fake/no-such-image"));
    insta::assert_snapshot!(sim.journal(&["start"]));
}

#[tokio::test(flavor = "current_thread")]
async fn the_node_registers_and_keeps_its_lease_fresh() {
    let mut sim = Sim::new();
    sim.run_for(Duration::from_secs(25)).await;
    let mut node: Node = sim.api.get(None, NODE).await.unwrap();
    if let Some(info) = node.status.as_mut().and_then(|s| s.node_info.as_mut()) {
        info.architecture = "[arch]".into(); // machine-dependent
    }
    insta::assert_snapshot!("node", serde_json::to_string_pretty(&node).unwrap());
    let lease: Lease = sim.api.get(Some("kube-node-lease"), NODE).await.unwrap();
    let renewed = lease.spec.renew_time.unwrap().to_string();
    assert_eq!(
        renewed, "2024-01-01T00:00:25.000000Z",
        "renewed every second"
    );
    assert_eq!(lease.spec.holder_identity.as_deref(), Some(NODE));
    assert_eq!(lease.spec.lease_duration_seconds, Some(4));
    let leases = sim
        .api
        .list::<Lease>(Some("kube-node-lease"), &LabelSelector::default())
        .await
        .unwrap();
    assert_eq!(leases.items.len(), 1);
}

#[tokio::test(flavor = "current_thread")]
async fn the_status_is_written_when_it_changes_not_every_check() {
    let mut sim = Sim::new();
    sim.run_for(Duration::from_secs(2)).await;
    let settled: Node = sim.api.get(None, NODE).await.unwrap();
    // A minute of checks every second, with nothing to report: no write.
    sim.run_for(Duration::from_secs(60)).await;
    let quiet: Node = sim.api.get(None, NODE).await.unwrap();
    assert_eq!(
        quiet.metadata.resource_version, settled.metadata.resource_version,
        "an unchanged status is not rewritten"
    );
    // The report period (5 min) writes it anyway, with a fresh heartbeat time.
    sim.run_for(Duration::from_secs(5 * 60)).await;
    let reported: Node = sim.api.get(None, NODE).await.unwrap();
    assert_ne!(
        reported.metadata.resource_version,
        settled.metadata.resource_version
    );
    let ready = |node: &Node| {
        let status = node.status.clone().unwrap_or_default();
        status
            .conditions
            .into_iter()
            .find(|c| c.condition_type == "Ready")
            .unwrap()
    };
    assert!(ready(&reported).last_heartbeat_time > ready(&settled).last_heartbeat_time);
}

#[tokio::test(flavor = "current_thread")]
async fn a_node_marked_unknown_while_alive_reports_ready_again_within_a_second() {
    let mut sim = Sim::new();
    sim.run_for(Duration::from_secs(2)).await;
    // What the node controller writes after a pause longer than its grace period.
    let mut node: Node = sim.api.get(None, NODE).await.unwrap();
    let status = node.status.as_mut().unwrap();
    let ready = status
        .conditions
        .iter_mut()
        .find(|c| c.condition_type == "Ready")
        .unwrap();
    ready.status = "Unknown".into();
    ready.reason = Some("NodeStatusUnknown".into());
    sim.api.update_status(node).await.unwrap();
    sim.run_for(Duration::from_secs(1)).await;
    let node: Node = sim.api.get(None, NODE).await.unwrap();
    let ready = node
        .status
        .unwrap()
        .conditions
        .into_iter()
        .find(|c| c.condition_type == "Ready")
        .unwrap();
    assert_eq!(ready.status, "True");
    assert_eq!(ready.reason.as_deref(), Some("KubeletReady"));
}

#[test]
fn capacity_can_be_overridden() {
    let mut config = kubelet::KubeletConfig::new("small");
    config.capacity.cpu = Some(api::Quantity::parse("500m").unwrap());
    config.capacity.pods = Some(10);
    let node = kubelet::node::node_object(
        &config,
        &common::fixed_machine(),
        std::time::SystemTime::UNIX_EPOCH,
    );
    let capacity = node.status.unwrap().capacity;
    assert_eq!(capacity["cpu"].as_str(), "500m");
    assert_eq!(capacity["pods"].as_str(), "10");
    assert_eq!(capacity["memory"].as_str(), "8388608Ki");
}

#[test]
fn the_node_advertises_its_log_endpoint_for_the_api_servers_log_proxy() {
    let mut config = kubelet::KubeletConfig::new("logs");
    let epoch = std::time::SystemTime::UNIX_EPOCH;
    // No endpoint: nothing advertised, the InternalIP is the host's.
    let status = kubelet::node::node_object(&config, &common::fixed_machine(), epoch)
        .status
        .unwrap();
    assert_eq!(status.daemon_endpoints, None);
    assert_eq!(status.addresses[0].address_type, "InternalIP");
    assert_eq!(status.addresses[0].address, kubelet::sync::HOST_IP);
    // An endpoint: its port as daemonEndpoints.kubeletEndpoint.Port, its IP as the InternalIP,
    // spelled as Kubernetes does (the API server's proxy reads exactly these fields).
    config.kubelet_endpoint = Some("127.0.0.9:10250".parse().unwrap());
    let node = kubelet::node::node_object(&config, &common::fixed_machine(), epoch);
    let json = serde_json::to_value(&node).unwrap();
    assert_eq!(
        json["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"],
        10250
    );
    assert_eq!(
        json["status"]["addresses"][0],
        serde_json::json!({"type": "InternalIP", "address": "127.0.0.9"})
    );
    // Listening on every address: the host's address is advertised.
    config.kubelet_endpoint = Some("0.0.0.0:10250".parse().unwrap());
    let status = kubelet::node::node_object(&config, &common::fixed_machine(), epoch)
        .status
        .unwrap();
    assert_eq!(status.addresses[0].address, kubelet::sync::HOST_IP);
}

#[tokio::test(flavor = "current_thread")]
async fn shutdown_stops_every_pod() {
    let mut sim = Sim::new();
    sim.write_manifest("a.json", &pod("a", &[("app", "fake/sleeper")]));
    let mut b = pod("b", &[("app", "fake/stubborn")]);
    b.spec.node_name = Some(NODE.into());
    sim.api.create(b).await.unwrap();
    sim.run_for(Duration::from_secs(2)).await;
    assert_eq!(
        sim.runtime
            .list_containers(&ContainerFilter::default())
            .await
            .unwrap()
            .len(),
        2
    );
    sim.kubelet.shutdown().await;
    assert!(runtime_is_empty(&sim).await);
    insta::assert_snapshot!(sim.journal(&["kill", "sandbox", "pod", "shut"]));
    let b: Pod = sim
        .api
        .get(Some("default"), "b")
        .await
        .expect("API pods outlive a kubelet shutdown");
    assert!(b.metadata.deletion_timestamp.is_none());
}

#[tokio::test(flavor = "current_thread")]
async fn editing_a_static_manifest_replaces_the_pod() {
    let mut sim = Sim::new();
    sim.write_manifest("web.json", &pod("web", &[("app", "fake/sleeper")]));
    sim.run_for(Duration::from_secs(2)).await;
    let mirror_uid =
        |pod: &Pod| pod.metadata.annotations[kubelet::source::MIRROR_ANNOTATION].clone();
    let first = mirror_uid(&api_pod(&sim, "web").await);
    let mut edited = pod("web", &[("app", "fake/sleeper")]);
    edited.metadata.labels.insert("version".into(), "2".into());
    sim.write_manifest("web.json", &edited);
    sim.run_for(Duration::from_secs(3)).await;
    let mirror = api_pod(&sim, "web").await;
    assert_ne!(mirror_uid(&mirror), first, "a new manifest is a new pod");
    assert_eq!(mirror.metadata.labels["version"], "2");
    assert_eq!(phase(&mirror), Some(PodPhase::Running));
    let running = sim
        .runtime
        .list_containers(&ContainerFilter::default())
        .await
        .unwrap();
    assert_eq!(
        running.len(),
        1,
        "the old container is gone, the new one runs"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_static_pod_never_overwrites_an_api_pod_of_the_same_name() {
    let mut sim = Sim::new();
    sim.api
        .create(pod("web", &[("app", "fake/sleeper")]))
        .await
        .unwrap();
    sim.write_manifest("web.json", &pod("web", &[("app", "fake/sleeper")]));
    sim.run_for(Duration::from_secs(3)).await;
    let theirs = api_pod(&sim, "web").await;
    assert!(theirs.status.is_none(), "the user's pod is untouched");
    assert!(
        !theirs
            .metadata
            .annotations
            .contains_key(kubelet::source::MIRROR_ANNOTATION)
    );
    let running = sim
        .runtime
        .list_containers(&ContainerFilter::default())
        .await
        .unwrap();
    assert_eq!(running.len(), 1, "the static pod still runs");
}
