//! `skiff up --demo`: a sample app, and what each component does about it.
//!
//! The demo writes two objects through the API, exactly as `kubectl apply` would, then
//! watches the cluster react and narrates each step once: the controller manager makes a
//! ReplicaSet and its pods, the scheduler binds them, the kubelets start them, the proxies
//! forward the Service to them.

use std::collections::BTreeSet;
use std::time::Duration;

use api::client::{ApiClient, ApiError};
use api::{Deployment, Endpoints, LabelSelector, Object, Pod, PodPhase, ReplicaSet, Service};
use services::proxy_wiring::NodeView;

use crate::progress::Progress;

/// The sample app: a Deployment of 3 echo servers (lab 01's built-in `skiff/echo` image)
/// and a Service in front of them; `examples/echo.yaml`, which also works with `kubectl apply`.
pub const MANIFESTS: &str = include_str!("../examples/echo.yaml");

/// The demo's Deployment and Service, parsed from [`MANIFESTS`].
pub fn sample_app() -> Result<(Deployment, Service), String> {
    let mut deployment = None;
    let mut service = None;
    for object in api::parse_manifests(MANIFESTS).map_err(|e| e.to_string())? {
        match object {
            Object::Deployment(d) => deployment = Some(d),
            Object::Service(s) => service = Some(s),
            _ => {}
        }
    }
    Ok((
        deployment.ok_or("the demo manifests lack a Deployment")?,
        service.ok_or("the demo manifests lack a Service")?,
    ))
}

/// Applies the sample app (an existing one is kept: the demo resumes too) and narrates until
/// its 3 pods run.
pub async fn run<C: ApiClient>(api: &C, progress: &Progress) -> Result<(), String> {
    let (deployment, service) = sample_app()?;
    progress.say("");
    progress.say(&progress.bold("demo: a Deployment of 3 echo servers and a Service"));
    match api.create(deployment).await {
        Ok(_) => progress.say("  you       created Deployment default/echo (replicas: 3) through the API server, which stored it"),
        Err(ApiError::AlreadyExists { .. }) => progress.say("  you       Deployment default/echo exists already (a resumed cluster)"),
        Err(error) => return Err(format!("creating Deployment default/echo: {error}")),
    }
    match api.create(service).await {
        Ok(_) | Err(ApiError::AlreadyExists { .. }) => progress
            .say("  you       Service default/echo (port 8080) selects the pods labelled app=echo"),
        Err(error) => return Err(format!("creating Service default/echo: {error}")),
    }
    let selector = LabelSelector::from_pairs([("app", "echo")]);
    let mut told: BTreeSet<String> = BTreeSet::new();
    let mut say_once = |key: String, text: String| {
        if told.insert(key) {
            progress.say(&text);
        }
    };
    loop {
        if let Ok(sets) = api.list::<ReplicaSet>(Some("default"), &selector).await {
            for rs in sets.items {
                let name = rs.metadata.name.unwrap_or_default();
                say_once(
                    format!("rs/{name}"),
                    format!(
                        "  controller-manager  the Deployment controller created ReplicaSet {name}; the ReplicaSet controller creates its pods"
                    ),
                );
            }
        }
        let pods = api
            .list::<Pod>(Some("default"), &selector)
            .await
            .map(|l| l.items)
            .unwrap_or_default();
        let mut running = 0;
        for pod in &pods {
            let name = pod.metadata.name.clone().unwrap_or_default();
            say_once(
                format!("pod/{name}"),
                format!("  controller-manager  created pod {name} (no node yet)"),
            );
            if let Some(node) = pod.spec.node_name.clone() {
                say_once(
                    format!("bind/{name}"),
                    format!("  scheduler           bound {name} to node {node}"),
                );
                if let Some(status) = &pod.status
                    && status.phase == Some(PodPhase::Running)
                    && let Some(ip) = &status.pod_ip
                {
                    running += 1;
                    say_once(
                        format!("run/{name}"),
                        format!(
                            "  kubelet-{node:<10} started {name}: a real process listening on {ip}:8080"
                        ),
                    );
                }
            }
        }
        let endpoints = api
            .get::<Endpoints>(Some("default"), "echo")
            .await
            .map(|e| e.subsets.iter().map(|s| s.addresses.len()).sum::<usize>())
            .unwrap_or(0);
        if running >= 3 && endpoints >= 3 {
            let service: Service = api
                .get(Some("default"), "echo")
                .await
                .map_err(|e| format!("reading Service default/echo: {e}"))?;
            let cluster_ip = service.spec.cluster_ip.clone().unwrap_or_default();
            progress.say(&format!("  controller-manager  the Endpoints controller lists the 3 pods behind Service echo (ClusterIP {cluster_ip})"));
            let address = cluster_ip
                .parse()
                .map(|ip| NodeView::Node(0).address(ip).to_string())
                .unwrap_or(cluster_ip);
            progress.say(&format!("  proxy-n1            serves the Service to node n1's pods on {address}:8080 (each node's proxy on an address of its own)"));
            progress.say(&format!("demo ready: try `curl http://{address}:8080/` a few times, or delete a pod and watch it come back:"));
            progress.say("  kubectl --kubeconfig <kubeconfig> get pods -o wide -w");
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}
