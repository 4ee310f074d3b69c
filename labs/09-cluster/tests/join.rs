//! End to end: `skiff up --nodes 1`, then `skiff join` of node n2 with the token `skiff up`
//! printed. The new node becomes Ready, receives pods, and stops cleanly; the bootstrap token
//! can do nothing but ask for a new node's credential; a wrong token is a clear error.
//!
//! Every wait polls with a generous deadline as a safety net; nothing asserts a duration.

use std::process::Command;

use api::client::{ApiClient, ApiError};
use api::{LabelSelector, Object, Pod, PodPhase};
use apiserver::client::HttpApi;
use bytes::Bytes;

mod common;
use common::{Skiff, assert_no_process_under, eventually, processes_under};

/// Two echo servers that may only run on node n2.
const ON_N2: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: on-n2
  namespace: default
spec:
  replicas: 2
  selector:
    matchLabels:
      app: on-n2
  template:
    metadata:
      labels:
        app: on-n2
    spec:
      nodeSelector:
        kubernetes.io/hostname: n2
      containers:
      - name: echo
        image: skiff/echo
";

/// The arguments of the `skiff join ...` line `skiff up` printed once the cluster was ready.
fn printed_join_args(output: &str) -> Option<Vec<String>> {
    let line = output.lines().find(|l| l.contains("skiff join --api"))?;
    let (_, args) = line.split_once("skiff join ")?;
    Some(args.split_whitespace().map(str::to_string).collect())
}

/// The value after `flag` in `args`.
fn flag_value<'a>(args: &'a [String], flag: &str) -> &'a str {
    let i = args.iter().position(|a| a == flag).unwrap();
    &args[i + 1]
}

/// The node `name`'s pods of the Deployment on-n2 that are Running, when there are 2.
async fn two_running_on_n2(api: &HttpApi) -> Option<Vec<Pod>> {
    let pods = api
        .list::<Pod>(
            Some("default"),
            &LabelSelector::from_pairs([("app", "on-n2")]),
        )
        .await
        .ok()?
        .items;
    let running: Vec<Pod> = pods
        .into_iter()
        .filter(|p| {
            p.status
                .as_ref()
                .is_some_and(|s| s.phase == Some(PodPhase::Running) && s.pod_ip.is_some())
        })
        .collect();
    (running.len() == 2).then_some(running)
}

fn credential_request(node: &str) -> Bytes {
    Bytes::from(
        serde_json::json!({
            "apiVersion": "skiff.dev/v1",
            "kind": "NodeCredential",
            "spec": {"nodeName": node},
        })
        .to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_joins_with_the_printed_token_gets_pods_and_stops_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(tmp.path()).unwrap();
    let data_dir = root.join("data");
    let data = data_dir.display().to_string();
    let mut cluster = Skiff::start(
        &[
            "up",
            "--nodes",
            "1",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            &data,
        ],
        root.join("up.txt"),
    );
    let join_args = eventually("skiff up prints the join command", || async {
        printed_join_args(&cluster.output())
    })
    .await;
    assert_eq!(flag_value(&join_args, "--node"), "n2", "{join_args:?}");
    let url = flag_value(&join_args, "--api").to_string();
    let token = flag_value(&join_args, "--token").to_string();
    let ca = std::fs::read_to_string(flag_value(&join_args, "--ca-file")).unwrap();
    let admin = HttpApi::from_kubeconfig(&data_dir.join("kubeconfigs/admin.kubeconfig")).unwrap();

    // The bootstrap token can do one thing only: it cannot read pods, nor create them...
    let bootstrap = HttpApi::new(&url, &ca, &token).unwrap();
    let read = bootstrap
        .list::<Pod>(Some("default"), &LabelSelector::default())
        .await;
    assert!(
        matches!(read, Err(ApiError::Forbidden { .. })),
        "a bootstrap token may not list pods: {read:?}"
    );
    // ... nor get the credential of a node that already has an identity.
    let (status, body) = bootstrap
        .raw(
            hyper::Method::POST,
            "/apis/skiff.dev/v1/nodecredentials",
            Some("application/json"),
            credential_request("n1"),
        )
        .await
        .unwrap();
    assert_eq!(status, 409, "{}", String::from_utf8_lossy(&body));
    // A node's own credential is no bootstrap token: n1 cannot mint another node.
    let n1 = HttpApi::from_kubeconfig(&data_dir.join("kubeconfigs/kubelet-n1.kubeconfig")).unwrap();
    let (status, _) = n1
        .raw(
            hyper::Method::POST,
            "/apis/skiff.dev/v1/nodecredentials",
            Some("application/json"),
            credential_request("n9"),
        )
        .await
        .unwrap();
    assert_eq!(status, 403);

    // A wrong token: a clear error naming the flag, a non-zero exit, nothing started.
    let bad_dir = root.join("bad-node");
    let mut bad_args = join_args.clone();
    let t = bad_args.iter().position(|a| a == "--token").unwrap();
    bad_args[t + 1] = "abcdef.0123456789abcdef".to_string();
    let bad = Command::new(env!("CARGO_BIN_EXE_skiff"))
        .arg("join")
        .args(&bad_args)
        .arg("--data-dir")
        .arg(&bad_dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("--token: the API server at") && stderr.contains("401"),
        "{stderr}"
    );
    assert!(processes_under(&bad_dir).is_empty());

    // The printed command, as printed (plus a data dir in the test's temporary directory).
    let node_dir = root.join("node-n2");
    let mut args: Vec<&str> = vec!["join"];
    args.extend(join_args.iter().map(String::as_str));
    let node_data = node_dir.display().to_string();
    args.extend(["--data-dir", &node_data]);
    let mut joined = Skiff::start(&args, root.join("join.txt"));
    eventually("node n2 Ready", || {
        joined.assert_running();
        async {
            skiff::up::ready_nodes(&admin)
                .await
                .contains(&"n2".to_string())
                .then_some(())
        }
    })
    .await;
    // The node's identity is its own now: the bootstrap token cannot mint n2 a second time.
    let (status, _) = bootstrap
        .raw(
            hyper::Method::POST,
            "/apis/skiff.dev/v1/nodecredentials",
            Some("application/json"),
            credential_request("n2"),
        )
        .await
        .unwrap();
    assert_eq!(status, 409);

    // Pods that may only run on n2: the scheduler binds them there, n2's kubelet runs them.
    let Object::Deployment(deployment) = api::parse_manifests(ON_N2).unwrap().remove(0) else {
        panic!("the manifest is a Deployment");
    };
    admin.create(deployment).await.unwrap();
    let pods = eventually("2 pods Running on n2", || two_running_on_n2(&admin)).await;
    for pod in &pods {
        assert_eq!(pod.spec.node_name.as_deref(), Some("n2"));
        let ip = pod.status.as_ref().unwrap().pod_ip.clone().unwrap();
        assert!(ip.starts_with("127.1.2."), "n2's pod range: {ip}");
        // `kubectl logs` reaches the joined node's kubelet too: it got the API server's
        // kubelet-client token with its credential.
        let name = pod.metadata.name.clone().unwrap();
        let path = format!("/api/v1/namespaces/default/pods/{name}/log");
        let first = format!("echo: listening on {ip}:8080");
        let text = eventually("a joined node's pod log through the API", || async {
            let (status, body) = admin
                .raw(hyper::Method::GET, &path, None, Bytes::new())
                .await
                .ok()?;
            let text = String::from_utf8_lossy(&body).into_owned();
            (status == 200 && text.contains(&first)).then_some(text)
        })
        .await;
        assert!(text.starts_with(&first), "{text}");
    }

    // Ctrl-C on the joined node: its kubelet stops the pods, nothing of it is left.
    let output = joined.stop("skiff join");
    assert!(
        output.contains("got its own identity (user system:node:n2)"),
        "{output}"
    );
    assert!(output.contains("joined: node n2 Ready"), "{output}");
    assert!(
        output.contains("stopped: no process left behind"),
        "{output}"
    );
    assert_no_process_under(&node_dir);

    cluster.stop("skiff up");
    assert_no_process_under(&root);
}
