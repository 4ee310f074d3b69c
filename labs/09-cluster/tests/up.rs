//! End to end: `skiff up --nodes 2` as real processes, real TCP, real pods; then a clean stop
//! that leaves no process behind, and a second `skiff up` on the same data dir that resumes.
//!
//! Every wait polls with a generous deadline as a safety net; nothing asserts a duration.

use std::path::Path;
use std::process::{Command, Stdio};

use api::client::{ApiClient, DeleteOptions};
use api::{LabelSelector, Node, Object, Pod, PodPhase};
use apiserver::client::HttpApi;
use services::proxy_wiring::NodeView;

mod common;
use common::{
    DEADLINE, Skiff, WEB_DEPLOYMENT, WEB_SERVICE, assert_no_process_under, connect, container_pid,
    eventually, ip, kubelet_pid, name, node_ready, pids_matching, processes_under, restart_count,
};

/// The taint of a node whose kubelet stopped reporting.
const UNREACHABLE: &str = controllers::nodelifecycle::health::UNREACHABLE_TAINT;

/// One HTTP/1.0 GET of `/` at `address`; the whole answer, or `None` if the connection fails.
async fn http_get(address: (std::net::Ipv4Addr, u16)) -> Option<String> {
    http_get_path(address, "/").await
}

/// One HTTP/1.0 GET of `path` at `address` (the echo server logs each request line).
async fn http_get_path(address: (std::net::Ipv4Addr, u16), path: &str) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address).await.ok()?;
    let request = format!("GET {path} HTTP/1.0\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.ok()?;
    Some(String::from_utf8_lossy(&answer).into_owned())
}

async fn web_pods(api: &HttpApi) -> Vec<Pod> {
    api.list::<Pod>(
        Some("default"),
        &LabelSelector::from_pairs([("app", "web")]),
    )
    .await
    .map(|l| l.items)
    .unwrap_or_default()
}

/// The pods that are Running with an IP and not being deleted, when there are exactly 3.
async fn three_running(api: &HttpApi) -> Option<Vec<Pod>> {
    let running: Vec<Pod> = web_pods(api)
        .await
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter(|p| {
            p.status
                .as_ref()
                .is_some_and(|s| s.phase == Some(PodPhase::Running) && s.pod_ip.is_some())
        })
        .collect();
    (running.len() == 3).then_some(running)
}

/// The pids of the `skiff scheduler` processes of the cluster in `dir`.
fn scheduler_pids(dir: &Path) -> Vec<i32> {
    pids_matching(&format!("scheduler --kubeconfig {}", dir.display()))
}

/// `kubectl --kubeconfig FILE` with a discovery cache of its own, next to the kubeconfig.
fn kubectl_command(kubeconfig: &Path) -> Command {
    let mut command = Command::new("kubectl");
    command
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .arg("--cache-dir")
        .arg(kubeconfig.with_file_name("kubectl-cache"));
    command
}

fn kubectl(kubeconfig: &Path, args: &[&str]) -> Option<String> {
    let output = kubectl_command(kubeconfig).args(args).output().ok()?; // no kubectl on PATH: skip that part
    assert!(
        output.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// A pod running `skiff/echo` bound straight to `node`, with no `app` label.
fn echo_pod_on(node: &str) -> Pod {
    let manifest = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: logs-{node}\n  namespace: default\nspec:\n  nodeName: {node}\n  containers:\n  - name: echo\n    image: skiff/echo\n"
    );
    let Object::Pod(pod) = api::parse_manifests(&manifest).unwrap().remove(0) else {
        panic!("the manifest is a Pod");
    };
    pod
}

/// `kubectl logs` (and the `pods/{name}/log` subresource through `HttpApi`) for a pod on each
/// of the two nodes, and `kubectl logs -f` seeing a line written after it started.
async fn check_pod_logs(api: &HttpApi, data_dir: &Path, web: &[Pod]) {
    // A pod on each node: a web pod where the scheduler put one, else one bound there.
    let mut by_node: Vec<Pod> = Vec::new();
    let mut extra = Vec::new();
    for node in ["n1", "n2"] {
        let on_node = web
            .iter()
            .find(|p| p.spec.node_name.as_deref() == Some(node))
            .cloned();
        let pod = match on_node {
            Some(pod) => pod,
            None => {
                let created = api.create(echo_pod_on(node)).await.unwrap();
                extra.push(name(&created));
                eventually("the pod bound to the node Running", || async {
                    let pod: Pod = api.get(Some("default"), &name(&created)).await.ok()?;
                    let status = pod.status.as_ref()?;
                    (status.phase == Some(PodPhase::Running) && status.pod_ip.is_some())
                        .then_some(pod)
                })
                .await
            }
        };
        by_node.push(pod);
    }
    for pod in &by_node {
        // The echo server's first line names its address.
        let first = format!("echo: listening on {}:8080", ip(pod));
        let path = format!("/api/v1/namespaces/default/pods/{}/log", name(pod));
        let text = eventually("the pod's log through HttpApi", || async {
            let (status, body) = api
                .raw(hyper::Method::GET, &path, None, bytes::Bytes::new())
                .await
                .ok()?;
            let text = String::from_utf8_lossy(&body).into_owned();
            (status == 200 && text.contains(&first)).then_some(text)
        })
        .await;
        assert!(text.starts_with(&first), "{text}");
    }

    let kubeconfig = data_dir.join("kubeconfigs/admin.kubeconfig");
    for pod in &by_node {
        let Some(text) = kubectl(&kubeconfig, &["logs", &name(pod)]) else {
            return; // no kubectl on PATH
        };
        let first = format!("echo: listening on {}:8080", ip(pod));
        assert!(
            text.starts_with(&first),
            "kubectl logs {}: {text}",
            name(pod)
        );
    }

    // `kubectl logs -f` on the pod of the second node: the stream stays open, and a request
    // made after it started shows up in it as the echo server logs it.
    let pod = &by_node[1];
    let mut follow = kubectl_command(&kubeconfig)
        .args(["logs", "-f", &name(pod)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting kubectl logs -f");
    let (lines_tx, lines) = std::sync::mpsc::channel();
    let stdout = std::io::BufReader::new(follow.stdout.take().unwrap());
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in stdout.lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                return;
            }
        }
    });
    let next_line = |what: &str| {
        lines
            .recv_timeout(DEADLINE)
            .unwrap_or_else(|_| panic!("kubectl logs -f: no line; waiting for {what}"))
    };
    // The log so far comes first: once its first line is here, the stream is open.
    let first = next_line("the log so far");
    assert!(first.starts_with("echo: listening on"), "{first}");
    let marker = format!("/followed-{}", std::process::id());
    let target: std::net::Ipv4Addr = ip(pod).parse().unwrap();
    let answer = http_get_path((target, 8080), &marker).await;
    assert!(answer.is_some_and(|a| a.contains("hello from pod")));
    let wanted = format!("echo: GET {marker} HTTP/1.0");
    loop {
        if next_line(&wanted) == wanted {
            break;
        }
    }
    let _ = follow.kill();
    let _ = follow.wait();

    for pod in extra {
        api.delete::<Pod>(Some("default"), &pod, DeleteOptions::default())
            .await
            .unwrap();
    }
}

/// Cordons (`true`) or uncordons (`false`) a node the way kubectl and the dashboard do: a
/// merge PATCH of `spec.unschedulable` alone, no resourceVersion.
async fn set_unschedulable(api: &HttpApi, node: &str, unschedulable: bool) {
    let value = if unschedulable { "true" } else { "null" };
    let body = format!(r#"{{"spec":{{"unschedulable":{value}}}}}"#);
    let (status, answer) = api
        .raw(
            hyper::Method::PATCH,
            &format!("/api/v1/nodes/{node}"),
            Some("application/merge-patch+json"),
            bytes::Bytes::from(body),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
}

/// A node's `spec.unschedulable` and resourceVersion, as stored.
async fn cordon_state(api: &HttpApi, node: &str) -> (bool, String) {
    let node: Node = api.get(None, node).await.unwrap();
    let version = node.metadata.resource_version.clone().unwrap_or_default();
    (node.spec.unschedulable == Some(true), version)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skiff_up_runs_heals_stops_cleanly_and_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(tmp.path()).unwrap();
    let data_dir = root.join("data");
    let mut cluster = Skiff::up(&data_dir, &["--nodes", "2"], root.join("up-1.txt"));
    let api = connect(&data_dir).await;

    // Both nodes register and report Ready.
    eventually("2 Ready nodes", || async {
        (skiff::up::ready_nodes(&api).await.len() == 2).then_some(())
    })
    .await;

    // A Deployment of 3: the controllers make the pods, the scheduler binds them, the kubelets
    // run them as real processes with IPs of their own.
    let Object::Deployment(deployment) = api::parse_manifests(WEB_DEPLOYMENT).unwrap().remove(0)
    else {
        panic!("the manifest is a Deployment");
    };
    api.create(deployment).await.unwrap();
    let pods = eventually("3 web pods Running with IPs", || three_running(&api)).await;
    let mut ips: Vec<String> = pods.iter().map(ip).collect();
    ips.sort();
    ips.dedup();
    assert_eq!(ips.len(), 3, "each pod has its own IP: {ips:?}");

    // A Service in front of them: the API server gives it a ClusterIP, the Endpoints
    // controller lists the pods, and node n1's proxy forwards its address on that node.
    let Object::Service(service) = api::parse_manifests(WEB_SERVICE).unwrap().remove(0) else {
        panic!("the manifest is a Service");
    };
    let service = api.create(service).await.unwrap();
    let cluster_ip: std::net::Ipv4Addr = service.spec.cluster_ip.clone().unwrap().parse().unwrap();
    let address = (NodeView::Node(0).address(cluster_ip), 8080);
    let answer = eventually("an answer through node n1's proxy", || async {
        let answer = http_get(address).await?;
        answer.contains("hello from pod web-").then_some(answer)
    })
    .await;
    assert!(answer.contains("namespace default"), "{answer}");

    // Pod logs: the API server proxies to the kubelet of the pod's node (#5), for a pod on
    // each node.
    check_pod_logs(&api, &data_dir, &pods).await;

    // kill -9 one pod's process: its kubelet restarts the container in place.
    let victim = pods[0].clone();
    let pid = container_pid(&data_dir, &ip(&victim)).unwrap_or_else(|| {
        panic!(
            "no process found for pod {} at {}",
            name(&victim),
            ip(&victim)
        )
    });
    // SAFETY: a plain system call with integer arguments.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    let restarted = eventually("the killed container restarted", || async {
        let pod: Pod = api.get(Some("default"), &name(&victim)).await.ok()?;
        let running = pod.status.as_ref()?.phase == Some(PodPhase::Running);
        (restart_count(&pod) >= 1 && running).then_some(pod)
    })
    .await;
    assert_eq!(restart_count(&restarted), 1, "restarted exactly once");

    // An acknowledged cordon of n2 must survive what follows: the API server's crash, and
    // every component writing Nodes again after it (the dashboard test once reported a
    // cordon gone after such a restart).
    set_unschedulable(&api, "n2", true).await;
    assert!(cordon_state(&api, "n2").await.0, "n2 cordoned");

    // The API server itself crashes: the supervisor brings it back on the same port, and
    // every component finds it again (the replacement below needs the controller manager,
    // the scheduler and a kubelet all talking to the new process).
    let apiserver = pids_matching(&format!("apiserver --data-dir {}", data_dir.display()));
    assert_eq!(apiserver.len(), 1, "one API server process: {apiserver:?}");
    // SAFETY: a plain system call with integer arguments.
    assert_eq!(unsafe { libc::kill(apiserver[0], libc::SIGKILL) }, 0);
    eventually("the API server restarted and answering", || async {
        let now = pids_matching(&format!("apiserver --data-dir {}", data_dir.display()));
        let answering = api
            .list::<Pod>(Some("default"), &LabelSelector::default())
            .await
            .is_ok();
        (now.len() == 1 && now != apiserver && answering).then_some(())
    })
    .await;

    let (cordoned, cordon_version) = cordon_state(&api, "n2").await;
    assert!(
        cordoned,
        "n2's cordon is still stored after the API server restarted"
    );

    // Delete another pod: its ReplicaSet makes a replacement.
    let deleted = name(&pods[1]);
    api.delete::<Pod>(Some("default"), &deleted, DeleteOptions::default())
        .await
        .unwrap();
    let healed = eventually("a replacement for the deleted pod", || async {
        let pods = three_running(&api).await?;
        pods.iter().all(|p| name(p) != deleted).then_some(pods)
    })
    .await;
    assert!(healed.iter().all(|p| name(p) != deleted));

    // A crashed component is restarted by the supervisor, and the crash is reported.
    let scheduler = scheduler_pids(&data_dir);
    assert_eq!(scheduler.len(), 1, "one scheduler process: {scheduler:?}");
    // SAFETY: a plain system call with integer arguments.
    assert_eq!(unsafe { libc::kill(scheduler[0], libc::SIGKILL) }, 0);
    eventually("the scheduler restarted", || async {
        let now = scheduler_pids(&data_dir);
        (now.len() == 1 && now != scheduler).then_some(())
    })
    .await;
    let output = cluster.output();
    assert!(
        output.contains("!! crashed  scheduler             killed by signal 9; restarting in 1s"),
        "{output}"
    );

    // Both writers of Nodes write n2 again; none of those writes may undo the cordon. A
    // kubelet writes its Node's status only when it changes, so make it change: n2's kubelet
    // hangs until the node controller marks n2 Unknown and taints it, then comes back,
    // reports Ready, and the controller takes the taints off.
    cluster.hang(kubelet_pid(&data_dir, "n2"));
    eventually(
        "n2 NotReady and tainted while its kubelet hangs",
        || async {
            let node: Node = api.get(None, "n2").await.ok()?;
            let tainted = node.spec.taints.iter().any(|t| t.key == UNREACHABLE);
            (!node_ready(&api, "n2").await? && tainted).then_some(())
        },
    )
    .await;
    cluster.resume_all();
    eventually("n2 Ready again, its taints gone", || async {
        let node: Node = api.get(None, "n2").await.ok()?;
        (node_ready(&api, "n2").await? && !node.spec.taints.iter().any(|t| t.key == UNREACHABLE))
            .then_some(())
    })
    .await;
    let (cordoned, version) = cordon_state(&api, "n2").await;
    assert!(
        cordoned,
        "n2's cordon was undone by resourceVersion {version}"
    );
    assert_ne!(version, cordon_version, "n2 was written after its cordon");
    set_unschedulable(&api, "n2", false).await;
    assert!(!cordon_state(&api, "n2").await.0, "n2 uncordoned");

    // Real kubectl sees the same cluster, when it is installed.
    let kubeconfig = data_dir.join("kubeconfigs/admin.kubeconfig");
    if let Some(nodes) = kubectl(&kubeconfig, &["get", "nodes"]) {
        assert!(nodes.contains("n1") && nodes.contains("n2"), "{nodes}");
        let pods = kubectl(&kubeconfig, &["get", "pods", "-o", "wide"]).unwrap();
        assert_eq!(pods.matches("Running").count(), 3, "{pods}");
    }

    // Ctrl-C: everything stops, pods included.
    let output = cluster.stop("skiff up");
    assert!(
        output.contains("cluster ready: 2 node(s) Ready"),
        "{output}"
    );
    for component in [
        "apiserver",
        "scheduler",
        "controller-manager",
        "kubelet-n1",
        "proxy-n2",
    ] {
        assert!(
            output.contains(&format!(".. starting {component}")),
            "{output}"
        );
        assert!(
            output.contains(&format!("ok ready    {component}")),
            "{output}"
        );
        assert!(
            output.contains(&format!("-- stopped  {component}")),
            "{output}"
        );
    }
    assert!(
        output.contains("stopped: no process left behind"),
        "{output}"
    );
    assert_no_process_under(&root);

    // Again on the same data dir: same tokens and PKI, same store, so the same Deployment
    // and its pods come back.
    let mut cluster = Skiff::up(&data_dir, &["--nodes", "2"], root.join("up-2.txt"));
    let api = connect(&data_dir).await;
    // The stored statuses still say Running from the first run: what proves the resume is a
    // live process behind each pod's IP.
    let resumed = eventually("the web pods running again after a restart", || async {
        let pods = three_running(&api).await?;
        pods.iter()
            .all(|p| container_pid(&data_dir, &ip(p)).is_some())
            .then_some(pods)
    })
    .await;
    assert_eq!(resumed.len(), 3);
    // The pods may be back before `skiff up` has seen both nodes' fresh heartbeats: wait for
    // it to say so before stopping it, or Ctrl-C may come first.
    eventually("the second run reports the cluster ready", || async {
        cluster
            .output()
            .contains("cluster ready: 2 node(s) Ready")
            .then_some(())
    })
    .await;
    let output = cluster.stop("second run");
    assert!(
        output.contains("cluster ready: 2 node(s) Ready"),
        "{output}"
    );
    assert_no_process_under(&root);

    // Even if `skiff up` itself is killed without a chance to stop anything, each component
    // gets SIGTERM from the kernel (PR_SET_PDEATHSIG) and stops its pods.
    let mut cluster = Skiff::up(&data_dir, &["--nodes", "2"], root.join("up-3.txt"));
    let api = connect(&data_dir).await;
    eventually("the web pods running in a third run", || async {
        let pods = three_running(&api).await?;
        pods.iter()
            .all(|p| container_pid(&data_dir, &ip(p)).is_some())
            .then_some(())
    })
    .await;
    cluster.kill();
    eventually(
        "every process of the cluster gone after skiff up was killed",
        || async { processes_under(&root).is_empty().then_some(()) },
    )
    .await;
}
