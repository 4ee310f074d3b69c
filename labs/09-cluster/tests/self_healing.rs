//! Self-healing in real mode (issue #9), on one `skiff up --nodes 2 --standby` cluster of
//! real processes, with skiff's default node timing (grace 5 s, toleration 3 s) and a short
//! leader lease set by a flag (3 s):
//!
//! 1. a rolling update v1 → v2 of a Deployment while a client calls its Service without a
//!    pause: zero failed calls;
//! 2. `kill -9` of a pod's process: its kubelet restarts it;
//! 3. a hung kubelet: node n2 goes NotReady, its pods run again on n1, the Service answers
//!    throughout;
//! 4. `kill -9` of the API server: the supervisor restarts it on the same port and data,
//!    nothing is lost, and a Deployment created afterwards gets running pods;
//! 5. a hung active scheduler and controller manager: each standby takes its Lease, and
//!    together they run a new Deployment.
//!
//! "Killing" a kubelet or an active leader is `SIGSTOP`, not `SIGKILL`: the supervisor
//! restarts a process that exits (within a second), so a killed kubelet would come straight
//! back and its node would never miss a heartbeat. A stopped process is a hung one: alive to
//! the supervisor, silent to the cluster. Only the Leases tell, which is exactly what node
//! lifecycle and leader election watch. `SIGCONT` then brings it back, and the cluster must
//! take it in again (node n2 Ready again; a continued former leader finds the Lease taken and
//! stands by). Before its SIGINT to `skiff up`, the test continues every process it stopped.
//!
//! Every wait polls with a generous deadline as a safety net; nothing asserts a duration. At
//! the end, `skiff up` stops on SIGINT and no process of the cluster is left.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use api::client::ApiClient;
use api::{Deployment, EnvVar, LabelSelector, Lease, Object, Pod, PodPhase, Service};
use apiserver::client::HttpApi;
use services::proxy_wiring::NodeView;

mod common;
use common::{
    Skiff, assert_no_process_under, connect, container_pid, eventually, ip, kubelet_pid, name,
    node_ready, pids_matching, restart_count,
};

/// A Deployment `name` (pods labelled `app: name`) of echo servers with a readiness probe: a pod gets traffic only once it
/// answers, which a rolling update needs (the new pod must serve before an old one goes).
fn deployment(name: &str, replicas: u32) -> Deployment {
    let yaml = format!(
        "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: default
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app: {name}
  template:
    metadata:
      labels:
        app: {name}
    spec:
      containers:
      - name: echo
        image: skiff/echo
        env:
        - name: VERSION
          value: v1
        - name: SHUTDOWN_DELAY_MS
          value: \"1000\"
        readinessProbe:
          httpGet:
            path: /
            port: 8080
          periodSeconds: 1
"
    );
    let Object::Deployment(deployment) = api::parse_manifests(&yaml).unwrap().remove(0) else {
        panic!("the manifest is a Deployment");
    };
    deployment
}

// The Service `web` that up.rs creates too.
use common::WEB_SERVICE as SERVICE;

/// One HTTP/1.0 GET of `/` at `address`: the answer's body line, or why the call failed
/// (refused, reset, cut short, not a 200).
async fn try_call(address: (std::net::Ipv4Addr, u16)) -> Result<String, String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    stream
        .write_all(b"GET / HTTP/1.0\r\n\r\n")
        .await
        .map_err(|e| format!("write: {e}"))?;
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .await
        .map_err(|e| format!("read: {e}"))?;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    if !answer.starts_with("HTTP/1.1 200") {
        return Err(format!("answer: {answer:?}"));
    }
    answer
        .lines()
        .find(|l| l.starts_with("hello from pod "))
        .map(str::to_string)
        .ok_or_else(|| format!("answer without a greeting: {answer:?}"))
}

/// [`try_call`], for polling.
async fn call(address: (std::net::Ipv4Addr, u16)) -> Option<String> {
    try_call(address).await.ok()
}

/// What a client that calls the Service back to back saw.
#[derive(Debug, Default)]
struct Calls {
    ok: usize,
    failed: usize,
    /// Why calls failed (the first few).
    errors: Vec<String>,
    /// The pods that answered, in the order of their first answer.
    pods: Vec<String>,
}

/// Calls `address` back to back until `stop` turns true.
fn start_client(
    address: (std::net::Ipv4Addr, u16),
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<Calls> {
    tokio::spawn(async move {
        let mut calls = Calls::default();
        while !stop.load(Ordering::Relaxed) {
            match try_call(address).await {
                Ok(line) => {
                    calls.ok += 1;
                    let pod = line.split_whitespace().nth(3).unwrap_or("?").to_string();
                    if !calls.pods.contains(&pod) {
                        calls.pods.push(pod);
                    }
                }
                Err(error) => {
                    calls.failed += 1;
                    if calls.errors.len() < 10 {
                        calls.errors.push(error);
                    }
                }
            }
        }
        calls
    })
}

fn is_ready(pod: &Pod) -> bool {
    pod.status.as_ref().is_some_and(|s| {
        s.conditions
            .iter()
            .any(|c| c.condition_type == "Ready" && c.status == "True")
    })
}

/// The pods of `app` that are Running, Ready, with an IP and not being deleted.
async fn serving(api: &HttpApi, app: &str) -> Vec<Pod> {
    api.list::<Pod>(Some("default"), &LabelSelector::from_pairs([("app", app)]))
        .await
        .map(|l| l.items)
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter(|p| {
            p.status
                .as_ref()
                .is_some_and(|s| s.phase == Some(PodPhase::Running) && s.pod_ip.is_some())
        })
        .filter(is_ready)
        .collect()
}

/// Every pod of `app`, whatever its state.
async fn all_pods(api: &HttpApi, app: &str) -> Vec<Pod> {
    api.list::<Pod>(Some("default"), &LabelSelector::from_pairs([("app", app)]))
        .await
        .map(|l| l.items)
        .unwrap_or_default()
}

fn node_of(pod: &Pod) -> String {
    pod.spec.node_name.clone().unwrap_or_default()
}

/// The ReplicaSet part of a pod's name: `web-<template hash>`.
fn template_of(pod_name: &str) -> String {
    pod_name
        .rsplit_once('-')
        .map_or(pod_name, |(prefix, _)| prefix)
        .to_string()
}

/// The holder of the Lease `kube-system/<name>`.
async fn leader_of(api: &HttpApi, name: &str) -> Option<String> {
    let lease: Lease = api.get(Some("kube-system"), name).await.ok()?;
    lease.spec.holder_identity.filter(|h| !h.is_empty())
}

/// Sets the `VERSION` variable of the Deployment's pod template (a new template: a rollout),
/// reading again on a conflict with the controllers' own writes.
async fn set_version(api: &HttpApi, name: &str, version: &str) {
    eventually("updating the Deployment's template", || async {
        let mut deployment: Deployment = api.get(Some("default"), name).await.ok()?;
        let container = deployment.spec.template.spec.containers.first_mut()?;
        container.env.retain(|var| var.name != "VERSION");
        container.env.push(EnvVar {
            name: "VERSION".to_string(),
            value: Some(version.to_string()),
            value_from: None,
        });
        api.update(deployment).await.ok().map(|_| ())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cluster_heals_itself_and_rolls_out_without_downtime() {
    let tmp = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(tmp.path()).unwrap();
    let data_dir = root.join("data");
    let mut cluster = Skiff::up(
        &data_dir,
        &["--nodes", "2", "--standby", "--lease-seconds", "3"],
        root.join("up.txt"),
    );
    let api = connect(&data_dir).await;
    eventually("2 Ready nodes", || async {
        (skiff::up::ready_nodes(&api).await.len() == 2).then_some(())
    })
    .await;

    api.create(deployment("web", 3)).await.unwrap();
    let Object::Service(service) = api::parse_manifests(SERVICE).unwrap().remove(0) else {
        panic!("the manifest is a Service");
    };
    let service: Service = api.create(service).await.unwrap();
    let cluster_ip: std::net::Ipv4Addr = service.spec.cluster_ip.clone().unwrap().parse().unwrap();
    // Node n1's proxy: n1 stays healthy throughout, n2 is the one that hangs.
    let address = (NodeView::Node(0).address(cluster_ip), 8080);
    let v1 = eventually("3 web pods serving", || async {
        let pods = serving(&api, "web").await;
        (pods.len() == 3).then_some(pods)
    })
    .await;
    let v1_template = template_of(&name(&v1[0]));
    eventually("an answer through node n1's proxy", || async {
        call(address).await
    })
    .await;

    // 1. Rolling update v1 -> v2 under load. The Deployment surges one new pod at a time;
    // a new pod gets traffic once its readiness probe passes, an old one leaves the
    // Endpoints as soon as it is being deleted, and the proxy dials another endpoint when one
    // refuses. The client never retries: every failed call counts.
    let stop = Arc::new(AtomicBool::new(false));
    let client = start_client(address, stop.clone());
    set_version(&api, "web", "v2").await;
    let v2 = eventually("3 v2 pods serving and no v1 pod left", || async {
        let pods = serving(&api, "web").await;
        let all = all_pods(&api, "web").await;
        let done = pods.len() == 3
            && all.len() == 3
            && all.iter().all(|p| template_of(&name(p)) != v1_template);
        done.then_some(pods)
    })
    .await;
    let v2_template = template_of(&name(&v2[0]));
    // Until the client has heard from a v2 pod: the Endpoints and the proxy caught up.
    eventually("an answer from a v2 pod", || async {
        let line = call(address).await?;
        line.contains(&format!("pod {v2_template}-")).then_some(())
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    let calls = client.await.unwrap();
    assert_eq!(
        calls.failed, 0,
        "failed calls during the rollout: {calls:?}"
    );
    let templates: BTreeSet<String> = calls.pods.iter().map(|p| template_of(p)).collect();
    assert!(
        templates.contains(&v1_template) && templates.contains(&v2_template),
        "the client heard v1 then v2: {calls:?}"
    );
    assert_eq!(
        template_of(calls.pods.last().unwrap()),
        v2_template,
        "{calls:?}"
    );

    // 2. kill -9 one pod's process: its kubelet restarts the container in place.
    let victim = v2[0].clone();
    let pid = container_pid(&data_dir, &ip(&victim)).expect("the victim's process");
    // SAFETY: a plain system call with integer arguments.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    eventually("the killed container restarted", || async {
        let pod: Pod = api.get(Some("default"), &name(&victim)).await.ok()?;
        let running = pod.status.as_ref()?.phase == Some(PodPhase::Running);
        (restart_count(&pod) >= 1 && running && is_ready(&pod)).then_some(())
    })
    .await;

    // 3. Node n2's kubelet hangs. Its pods keep running (they are processes of their own),
    // but its heartbeats stop: after the grace period the node is NotReady, after the
    // toleration its pods are evicted, leave the Endpoints, and are replaced on n1.
    let serving_before = serving(&api, "web").await;
    let on_n2: Vec<String> = serving_before
        .iter()
        .filter(|p| node_of(p) == "n2")
        .map(name)
        .collect();
    let kubelet = kubelet_pid(&data_dir, "n2");
    let stop = Arc::new(AtomicBool::new(false));
    let client = start_client(address, stop.clone());
    cluster.hang(kubelet);
    eventually("node n2 NotReady", || async {
        (!node_ready(&api, "n2").await?).then_some(())
    })
    .await;
    let healed = eventually("3 web pods serving, all on n1", || async {
        let pods = serving(&api, "web").await;
        (pods.len() == 3 && pods.iter().all(|p| node_of(p) == "n1")).then_some(pods)
    })
    .await;
    assert!(
        on_n2.iter().all(|n| healed.iter().all(|p| name(p) != *n)),
        "n2's pods {on_n2:?} were replaced: {:?}",
        healed.iter().map(name).collect::<Vec<_>>()
    );
    // A few more calls, now only to n1's pods.
    for _ in 0..5 {
        assert!(call(address).await.is_some(), "the Service answers");
    }
    stop.store(true, Ordering::Relaxed);
    let calls = client.await.unwrap();
    assert_eq!(calls.failed, 0, "failed calls while n2 hung: {calls:?}");
    assert!(calls.ok > 0, "{calls:?}");
    // n2 comes back: its kubelet renews again, the node is Ready again.
    cluster.resume_all();
    eventually("node n2 Ready again", || async {
        node_ready(&api, "n2").await?.then_some(())
    })
    .await;

    // 4. kill -9 the API server: the supervisor starts it again on the same port and store.
    let apiserver = pids_matching(&format!("apiserver --data-dir {}", data_dir.display()));
    assert_eq!(apiserver.len(), 1, "one API server process: {apiserver:?}");
    // SAFETY: a plain system call with integer arguments.
    assert_eq!(unsafe { libc::kill(apiserver[0], libc::SIGKILL) }, 0);
    eventually("the API server restarted and answering", || async {
        let now = pids_matching(&format!("apiserver --data-dir {}", data_dir.display()));
        let answering = api.get::<Service>(Some("default"), "web").await.is_ok();
        (now.len() == 1 && now != apiserver && answering).then_some(())
    })
    .await;
    // Nothing was lost: the Deployment still says v2, the same pods are there.
    let stored: Deployment = api.get(Some("default"), "web").await.unwrap();
    let env = &stored.spec.template.spec.containers[0].env;
    let version = env.iter().find(|var| var.name == "VERSION");
    assert_eq!(
        version.and_then(|v| v.value.as_deref()),
        Some("v2"),
        "{env:?}"
    );
    let mut after: Vec<String> = serving(&api, "web").await.iter().map(name).collect();
    let mut before: Vec<String> = healed.iter().map(name).collect();
    after.sort();
    before.sort();
    assert_eq!(after, before, "the same pods after the restart");
    // Every component reconnected: a new Deployment needs the controllers, the scheduler
    // and a kubelet all talking to the new API server process.
    api.create(deployment("after", 1)).await.unwrap();
    eventually("the new Deployment's pod serving", || async {
        (serving(&api, "after").await.len() == 1).then_some(())
    })
    .await;

    // 5. The active scheduler and the active controller manager hang: each standby takes
    // its Lease once it expires. A Deployment created meanwhile needs both: the controllers
    // make its pods, the scheduler binds them.
    let mut standbys = Vec::new();
    for (lease, component) in [
        ("kube-scheduler", "scheduler"),
        ("kube-controller-manager", "controller-manager"),
    ] {
        let leader = eventually(&format!("a {component} leader"), || leader_of(&api, lease)).await;
        let leader_pid: i32 = leader
            .strip_prefix(&format!("{component}-"))
            .and_then(|pid| pid.parse().ok())
            .unwrap_or_else(|| panic!("holderIdentity {leader:?} is {component}-<pid>"));
        let pids = pids_matching(&format!("{component} --kubeconfig {}", data_dir.display()));
        assert_eq!(pids.len(), 2, "two {component} processes: {pids:?}");
        assert!(pids.contains(&leader_pid), "{leader} is one of {pids:?}");
        cluster.hang(leader_pid);
        let standby = pids.into_iter().find(|p| *p != leader_pid).unwrap();
        standbys.push((lease, format!("{component}-{standby}")));
    }
    api.create(deployment("late", 2)).await.unwrap();
    eventually("the late pods created, scheduled and serving", || async {
        (serving(&api, "late").await.len() == 2).then_some(())
    })
    .await;
    for (lease, standby) in standbys {
        let holder = leader_of(&api, lease).await;
        assert_eq!(holder, Some(standby), "the standby holds {lease}");
    }

    // Ctrl-C: everything stops, pods included, hung processes continued first.
    let output = cluster.stop("skiff up");
    for standby in ["scheduler-standby", "controller-manager-standby"] {
        assert!(
            output.contains(&format!("ok ready    {standby}")),
            "{output}"
        );
    }
    assert!(
        output.contains("stopped: no process left behind"),
        "{output}"
    );
    assert_no_process_under(&root);
}
