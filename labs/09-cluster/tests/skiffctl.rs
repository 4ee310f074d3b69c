//! `skiffctl` against a real API server over HTTPS: the built binary runs each command with a
//! kubeconfig, and its output is checked, snapshotted, and (where kubectl prints the same
//! thing) compared with real kubectl's output as the ground truth.
//!
//! The cluster is lab 04's wire-test cluster (the real core behind the HTTPS shell, and a
//! stand-in kubelet serving logs from a fake runtime), shared by path so that skiffctl and
//! kubectl are tested against the same fixture.

#[path = "../../04-apiserver/tests/wire/mod.rs"]
mod wire;

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use hyper::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use wire::cluster::{Cluster, table};

/// Running `skiffctl` (and, for comparison, real kubectl) against the test cluster.
trait Skiffctl {
    /// The skiffctl command with the cluster's admin kubeconfig, killed if dropped.
    fn skiffctl_command(&self, args: &[&str]) -> tokio::process::Command;
    /// Runs skiffctl to completion.
    async fn skiffctl(&self, args: &[&str]) -> Output;
    /// stdout of a skiffctl command that must succeed.
    async fn ok(&self, args: &[&str]) -> String;
    /// stderr of a skiffctl command that must fail (exit 1, no panic).
    async fn fails(&self, args: &[&str]) -> String;
    /// stdout of real kubectl (on PATH) with the same kubeconfig, or `None` when kubectl is
    /// missing.
    async fn kubectl_stdout(&self, args: &[&str]) -> Option<String>;
}

impl Skiffctl for Cluster {
    fn skiffctl_command(&self, args: &[&str]) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_skiffctl"));
        command
            .arg("--kubeconfig")
            .arg(self.kubeconfig())
            .args(args)
            .env_remove("KUBECONFIG")
            .kill_on_drop(true);
        command
    }

    async fn skiffctl(&self, args: &[&str]) -> Output {
        self.skiffctl_command(args)
            .output()
            .await
            .expect("skiffctl runs")
    }

    async fn ok(&self, args: &[&str]) -> String {
        let out = self.skiffctl(args).await;
        assert!(
            out.status.success(),
            "skiffctl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    async fn fails(&self, args: &[&str]) -> String {
        let out = self.skiffctl(args).await;
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(1), "skiffctl {args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        stderr.trim().to_string()
    }

    async fn kubectl_stdout(&self, args: &[&str]) -> Option<String> {
        let command = self.kubectl_command(Path::new("kubectl"), args);
        match tokio::process::Command::from(command).output().await {
            Ok(out) => {
                assert!(
                    out.status.success(),
                    "kubectl {args:?}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                Some(String::from_utf8(out.stdout).unwrap())
            }
            Err(_) => {
                eprintln!("kubectl not found: skipping the comparison for {args:?}");
                None
            }
        }
    }
}

fn deployment(name: &str, replicas: i64, image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                         "spec": {"containers": [{"name": "app", "image": image}]}},
        },
    })
}

/// Lab 04's cluster with its nodes and pods, each pod requesting 250m and 64Mi (for `top`).
async fn cluster_with_pods() -> Cluster {
    Cluster::start_requesting(json!({"cpu": "250m", "memory": "64Mi"}))
        .await
        .with_pods()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_tables_have_kubectls_columns_and_values() {
    let cluster = cluster_with_pods().await;
    cluster
        .create(
            "/apis/apps/v1/namespaces/default/deployments",
            &deployment("web", 2, "skiff/echo"),
        )
        .await;
    for args in [
        vec!["get", "nodes"],
        vec!["get", "pods"],
        vec!["get", "pods", "-A"],
        vec!["get", "pods", "-o", "wide"],
        vec!["get", "deployments"],
        vec!["get", "po", "web-1"],
        vec!["get", "pods", "-l", "app=web", "-n", "shop"],
    ] {
        let ours = table(&cluster.ok(&args).await);
        insta::assert_snapshot!(args.join("_").replace('=', "-"), ours);
        if let Some(theirs) = cluster.kubectl_stdout(&args).await {
            assert_eq!(ours, table(&theirs), "skiffctl vs kubectl {args:?}");
        }
    }
    // Nothing to list: kubectl's message on stderr, nothing on stdout.
    let out = cluster.skiffctl(&["get", "pods", "-n", "empty"]).await;
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "No resources found in empty namespace."
    );
    // Without headers, and by name.
    let rows = cluster
        .ok(&["get", "pods", "--no-headers", "-o", "name"])
        .await;
    assert_eq!(rows, "pod/web-1\npod/web-2\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_yaml_and_json_print_the_stored_object() {
    let cluster = cluster_with_pods().await;
    let (_, stored) = cluster.get("/api/v1/namespaces/default/pods/web-1").await;
    let yaml = cluster.ok(&["get", "pod", "web-1", "-o", "yaml"]).await;
    let parsed: Value = serde_saphyr::from_str(&yaml).unwrap();
    assert_eq!(parsed, stored);
    if let Some(theirs) = cluster
        .kubectl_stdout(&["get", "pod", "web-1", "-o", "yaml"])
        .await
    {
        let theirs: Value = serde_saphyr::from_str(&theirs).unwrap();
        assert_eq!(parsed, theirs, "skiffctl vs kubectl -o yaml");
    }
    let json = cluster.ok(&["get", "pod/web-1", "-o", "json"]).await;
    assert_eq!(serde_json::from_str::<Value>(&json).unwrap(), stored);
    // A list prints as a v1 List, even of one item.
    let list = cluster
        .ok(&["get", "pods", "-n", "shop", "-o", "json"])
        .await;
    let list: Value = serde_json::from_str(&list).unwrap();
    assert_eq!(list["kind"], "List");
    assert_eq!(list["items"][0]["metadata"]["name"], "cart");
    assert_eq!(list["items"][0]["kind"], "Pod");
}

/// The next line of a running skiffctl; the deadline is only a safety net.
async fn next_line(lines: &mut tokio::io::Lines<BufReader<tokio::process::ChildStdout>>) -> String {
    tokio::time::timeout(std::time::Duration::from_secs(60), lines.next_line())
        .await
        .expect("skiffctl printed a line within a minute")
        .unwrap()
        .expect("skiffctl is still running")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_watch_prints_a_row_per_event() {
    let cluster = cluster_with_pods().await;
    let mut command = cluster.skiffctl_command(&["get", "pods", "-w"]);
    command.stdout(Stdio::piped()).stderr(Stdio::null());
    let mut child = command.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert!(next_line(&mut lines).await.starts_with("NAME"));
    assert!(next_line(&mut lines).await.starts_with("web-1"));
    assert!(next_line(&mut lines).await.starts_with("web-2"));
    cluster
        .create(
            "/api/v1/namespaces/default/pods",
            &json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "late"},
                    "spec": {"containers": [{"name": "app", "image": "skiff/sleep"}]}}),
        )
        .await;
    let row = next_line(&mut lines).await;
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells[..3], ["late", "0/1", "Pending"], "{row}");
    child.kill().await.unwrap();
}

const TWO_DOCS: &str = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  color: blue
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: app
        image: skiff/echo
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_creates_then_reports_unchanged_then_configured() {
    let cluster = Cluster::start().await;
    let file = cluster.file("app.yaml", TWO_DOCS);
    let file = file.to_str().unwrap();
    assert_eq!(
        cluster.ok(&["apply", "-f", file]).await,
        "configmap/settings created\ndeployment.apps/web created\n"
    );
    assert_eq!(
        cluster.ok(&["apply", "-f", file]).await,
        "configmap/settings unchanged\ndeployment.apps/web unchanged\n"
    );
    std::fs::write(file, TWO_DOCS.replace("replicas: 2", "replicas: 5")).unwrap();
    assert_eq!(
        cluster.ok(&["apply", "-f", file]).await,
        "configmap/settings unchanged\ndeployment.apps/web configured\n"
    );
    let (_, web) = cluster
        .get("/apis/apps/v1/namespaces/default/deployments/web")
        .await;
    assert_eq!(web["spec"]["replicas"], 5);

    // A directory (sorted by file name), into another namespace with -n.
    cluster
        .create(
            "/api/v1/namespaces",
            &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}),
        )
        .await;
    cluster.file(
        "dir/b.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n",
    );
    cluster.file(
        "dir/a.json",
        r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}"#,
    );
    cluster.file("dir/notes.txt", "not a manifest");
    let dir = cluster.server.dir.path().join("dir");
    assert_eq!(
        cluster
            .ok(&["apply", "-n", "team", "-f", dir.to_str().unwrap()])
            .await,
        "configmap/a created\nconfigmap/b created\n"
    );
    assert_eq!(
        cluster.get("/api/v1/namespaces/team/configmaps/a").await.0,
        200
    );

    // stdin.
    let mut child = cluster
        .skiffctl_command(&["apply", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: piped\n")
        .await
        .unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "configmap/piped created\n"
    );

    // create -f refuses what exists; create deployment makes one from flags.
    let err = cluster.fails(&["create", "-f", file]).await;
    assert_eq!(
        err,
        "Error from server (AlreadyExists): configmaps \"settings\" already exists"
    );
    assert_eq!(
        cluster
            .ok(&[
                "create",
                "deployment",
                "api",
                "--image",
                "skiff/echo",
                "--replicas",
                "3"
            ])
            .await,
        "deployment.apps/api created\n"
    );
    let (_, api) = cluster
        .get("/apis/apps/v1/namespaces/default/deployments/api")
        .await;
    assert_eq!(api["spec"]["replicas"], 3);

    // delete -f deletes what the file names, in kubectl's words.
    assert_eq!(
        cluster.ok(&["delete", "-f", file]).await,
        "configmap \"settings\" deleted\ndeployment.apps \"web\" deleted\n"
    );
    assert_eq!(
        cluster
            .get("/apis/apps/v1/namespaces/default/deployments/web")
            .await
            .0,
        404
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_a_clear_error_and_exit_1() {
    let cluster = Cluster::start().await;
    let typo = cluster.file(
        "typo.yaml",
        &TWO_DOCS.replace(
            "image: skiff/echo",
            "image: skiff/echo\n        imagePullPolicyy: Always",
        ),
    );
    let err = cluster
        .fails(&["apply", "-f", typo.to_str().unwrap()])
        .await;
    assert!(err.contains("document 1"), "{err}");
    assert!(
        err.contains("spec.template.spec.containers[0].imagePullPolicyy"),
        "{err}"
    );
    let broken = cluster.file("broken.yaml", "kind: [unclosed\n");
    let err = cluster
        .fails(&["apply", "-f", broken.to_str().unwrap()])
        .await;
    assert!(
        err.starts_with("error: ") && err.contains("broken.yaml"),
        "{err}"
    );
    let noname = cluster.file(
        "noname.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n",
    );
    let err = cluster
        .fails(&["apply", "-f", noname.to_str().unwrap()])
        .await;
    assert!(err.contains("metadata.name"), "{err}");
    let err = cluster
        .fails(&["apply", "-f", "/nonexistent/app.yaml"])
        .await;
    assert!(
        err.contains("\"/nonexistent/app.yaml\" cannot be read"),
        "{err}"
    );
    assert_eq!(
        cluster.fails(&["get", "gizmos"]).await,
        "error: the server doesn't have a resource type \"gizmos\""
    );
    assert_eq!(
        cluster.fails(&["get", "pod", "ghost"]).await,
        "Error from server (NotFound): pods \"ghost\" not found"
    );
    assert_eq!(
        cluster.fails(&["get", "pod", "web", "-A"]).await,
        "error: a resource cannot be retrieved by name across all namespaces"
    );
    assert_eq!(
        cluster.fails(&["get", "pods", "--bogus"]).await,
        "error: unknown flag: --bogus"
    );
    assert!(
        cluster
            .fails(&["scale", "deploy/web"])
            .await
            .contains("--replicas")
    );
    assert!(
        cluster
            .fails(&["frobnicate"])
            .await
            .contains("unknown command \"frobnicate\"")
    );
    let err = cluster
        .fails(&["get", "pods", "--kubeconfig", "/nonexistent/kubeconfig"])
        .await;
    assert!(err.contains("/nonexistent/kubeconfig"), "{err}");
    // 403: the viewer may read but not write.
    let viewer = cluster.server.dir.path().join("viewer.kubeconfig");
    cluster
        .server
        .started
        .write_kubeconfig_for("viewer", &viewer)
        .unwrap();
    let cm = cluster.file(
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
    );
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_skiffctl"))
        .args(["--kubeconfig", viewer.to_str().unwrap(), "apply", "-f"])
        .arg(&cm)
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        err.trim(),
        "Error from server (Forbidden): configmaps is forbidden: User \"viewer\" cannot create \
         resource \"configmaps\" in API group \"\" in the namespace \"default\""
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_waits_until_the_pod_is_gone() {
    let cluster = cluster_with_pods().await;
    assert_eq!(
        cluster.ok(&["delete", "pod", "web-1"]).await,
        "pod \"web-1\" deleted\n"
    );
    assert_eq!(
        cluster.get("/api/v1/namespaces/default/pods/web-1").await.0,
        404
    );
    // By label, in another namespace.
    assert_eq!(
        cluster
            .ok(&["delete", "pods", "-l", "app=web", "-n", "shop"])
            .await,
        "pod \"cart\" deleted\n"
    );
    assert_eq!(
        cluster.get("/api/v1/namespaces/shop/pods/cart").await.0,
        404
    );
    // --wait=false returns as soon as the delete is accepted.
    assert_eq!(
        cluster.ok(&["delete", "pod/web-2", "--wait=false"]).await,
        "pod \"web-2\" deleted\n"
    );
    assert_eq!(
        cluster.fails(&["delete", "pod", "web-1"]).await,
        "Error from server (NotFound): pods \"web-1\" not found"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_come_from_the_pods_kubelet() {
    let cluster = cluster_with_pods().await;
    let ours = cluster.ok(&["logs", "web-1"]).await;
    assert_eq!(
        ours,
        "hello from default/web-1/app\nsecond line of default/web-1/app\n"
    );
    if let Some(theirs) = cluster.kubectl_stdout(&["logs", "web-1"]).await {
        assert_eq!(ours, theirs);
    }
    assert_eq!(
        cluster
            .ok(&["logs", "cart", "-n", "shop", "-c", "app", "--tail", "1"])
            .await,
        "second line of shop/cart/app\n"
    );
    // -f streams: the lines so far arrive while the container still runs.
    let mut command = cluster.skiffctl_command(&["logs", "-f", "web-2"]);
    command.stdout(Stdio::piped()).stderr(Stdio::null());
    let mut child = command.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(next_line(&mut lines).await, "hello from default/web-2/app");
    assert_eq!(
        next_line(&mut lines).await,
        "second line of default/web-2/app"
    );
    child.kill().await.unwrap();
    let err = cluster.fails(&["logs", "ghost"]).await;
    assert_eq!(
        err,
        "Error from server (NotFound): pods \"ghost\" not found"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_and_rollout() {
    let cluster = Cluster::start().await;
    let web = cluster
        .create(
            "/apis/apps/v1/namespaces/default/deployments",
            &deployment("web", 3, "skiff/echo:1"),
        )
        .await;
    assert_eq!(
        cluster
            .ok(&["scale", "deployment/web", "--replicas=4"])
            .await,
        "deployment.apps/web scaled\n"
    );
    let path = "/apis/apps/v1/namespaces/default/deployments/web";
    let (_, mut current) = cluster.get(path).await;
    assert_eq!(current["spec"]["replicas"], 4);

    // No controller runs here: the test writes the status the controller would.
    current["status"] = json!({"observedGeneration": current["metadata"]["generation"],
        "replicas": 4, "updatedReplicas": 4, "readyReplicas": 4, "availableReplicas": 4});
    cluster
        .send(Method::PUT, &format!("{path}/status"), &current, 200)
        .await;
    assert_eq!(
        cluster.ok(&["rollout", "status", "deployment/web"]).await,
        "deployment \"web\" successfully rolled out\n"
    );
    if let Some(theirs) = cluster
        .kubectl_stdout(&["rollout", "status", "deployment/web"])
        .await
    {
        assert_eq!(theirs, "deployment \"web\" successfully rolled out\n");
    }
    // Not finished: the message, then a timeout error.
    let (_, mut current) = cluster.get(path).await;
    current["status"]["availableReplicas"] = json!(1);
    cluster
        .send(Method::PUT, &format!("{path}/status"), &current, 200)
        .await;
    let out = cluster
        .skiffctl(&["rollout", "status", "deploy", "web", "--timeout", "1s"])
        .await;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "Waiting for deployment \"web\" rollout to finish: 1 of 4 updated replicas are available...\n"
    );

    // History: the ReplicaSets the controller would have made, revisions 1 and 2.
    let uid = web["metadata"]["uid"].clone();
    for (revision, image, hash) in [(1, "skiff/echo:1", "aaa"), (2, "skiff/echo:2", "bbb")] {
        let rs = json!({
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": format!("web-{hash}"), "labels": {"app": "web", "pod-template-hash": hash},
                "annotations": {"deployment.kubernetes.io/revision": revision.to_string()},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                                     "uid": uid, "controller": true}]},
            "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "web", "pod-template-hash": hash}},
                "template": {"metadata": {"labels": {"app": "web", "pod-template-hash": hash}},
                    "spec": {"containers": [{"name": "app", "image": image}]}}},
        });
        cluster
            .create("/apis/apps/v1/namespaces/default/replicasets", &rs)
            .await;
    }
    let history = cluster.ok(&["rollout", "history", "deployment/web"]).await;
    insta::assert_snapshot!("rollout_history", history);
    if let Some(theirs) = cluster
        .kubectl_stdout(&["rollout", "history", "deployment/web"])
        .await
    {
        assert_eq!(history, theirs);
    }
    // The template is revision 1's (image 1); --to-revision=2 makes image 2 current again.
    assert_eq!(
        cluster
            .ok(&["rollout", "undo", "deployment/web", "--to-revision=2"])
            .await,
        "deployment.apps/web rolled back\n"
    );
    let (_, after) = cluster.get(path).await;
    assert_eq!(
        after["spec"]["template"]["spec"]["containers"][0]["image"],
        "skiff/echo:2"
    );
    assert!(
        after["spec"]["template"]["metadata"]["labels"]
            .get("pod-template-hash")
            .is_none()
    );
    // Without --to-revision, undo goes to the newest revision but one: revision 1.
    assert_eq!(
        cluster.ok(&["rollout", "undo", "deployment/web"]).await,
        "deployment.apps/web rolled back\n"
    );
    let (_, after) = cluster.get(path).await;
    assert_eq!(
        after["spec"]["template"]["spec"]["containers"][0]["image"],
        "skiff/echo:1"
    );
    let err = cluster
        .fails(&["rollout", "undo", "deployment/web", "--to-revision=9"])
        .await;
    assert_eq!(err, "error: unable to find specified revision 9 in history");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cordon_drain_uncordon_and_top() {
    let cluster = cluster_with_pods().await;
    let top = cluster.ok(&["top", "nodes"]).await;
    insta::assert_snapshot!("top_nodes", top);
    assert_eq!(cluster.ok(&["cordon", "n1"]).await, "node/n1 cordoned\n");
    assert_eq!(
        cluster.ok(&["cordon", "n1"]).await,
        "node/n1 already cordoned\n"
    );
    let (_, n1) = cluster.get("/api/v1/nodes/n1").await;
    assert_eq!(n1["spec"]["unschedulable"], true);
    let nodes = table(&cluster.ok(&["get", "nodes"]).await);
    assert!(nodes.contains("n1 | Ready,SchedulingDisabled"), "{nodes}");

    let drained = cluster.ok(&["drain", "n1"]).await;
    let mut lines: Vec<&str> = drained.lines().collect();
    lines[1..3].sort();
    lines[3..5].sort();
    assert_eq!(
        lines,
        [
            "node/n1 already cordoned",
            "evicting pod default/web-1",
            "evicting pod shop/cart",
            "pod/cart evicted",
            "pod/web-1 evicted",
            "node/n1 drained",
        ]
    );
    assert_eq!(
        cluster.get("/api/v1/namespaces/default/pods/web-1").await.0,
        404
    );
    assert_eq!(
        cluster.get("/api/v1/namespaces/default/pods/web-2").await.0,
        200
    );
    assert_eq!(
        cluster.ok(&["uncordon", "node/n1"]).await,
        "node/n1 uncordoned\n"
    );
    let (_, n1) = cluster.get("/api/v1/nodes/n1").await;
    assert_ne!(n1["spec"]["unschedulable"], true);
    let top = cluster.ok(&["top", "pods", "-A"]).await;
    insta::assert_snapshot!("top_pods_after_drain", top);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_shows_the_object_and_its_events() {
    let cluster = cluster_with_pods().await;
    cluster
        .create(
            "/api/v1/namespaces/default/events",
            &json!({"apiVersion": "v1", "kind": "Event",
                "metadata": {"name": "web-1.1"},
                "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "default"},
                "type": "Normal", "reason": "Scheduled",
                "message": "Successfully assigned default/web-1 to n1",
                "source": {"component": "default-scheduler"},
                "lastTimestamp": "2026-01-01T00:00:00Z"}),
        )
        .await;
    let text = cluster.ok(&["describe", "pod", "web-1"]).await;
    let redacted: String = text
        .lines()
        .map(|l| {
            if l.starts_with("Created:") {
                "Created:      <redacted>".to_string()
            } else if l.contains("Scheduled") {
                // The age of the event depends on today's date.
                let cells: Vec<&str> = l.split("   ").filter(|c| !c.trim().is_empty()).collect();
                format!(
                    "  {} | {} | <age> | {} | {}",
                    cells[0].trim(),
                    cells[1].trim(),
                    cells[3].trim(),
                    cells[4].trim()
                )
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!("describe_pod", redacted);
    let node = cluster.ok(&["describe", "node", "n2"]).await;
    assert!(node.contains("Unschedulable: false"), "{node}");
    assert!(node.contains("Events:       <none>"), "{node}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kubeconfig_comes_from_the_flag_then_kubeconfig_then_the_skiff_data_dir() {
    let cluster = Cluster::start().await;
    cluster.node("n1").await;
    let run = |envs: Vec<(&'static str, PathBuf)>| {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_skiffctl"));
        command
            .args(["get", "nodes", "-o", "name"])
            .env_remove("KUBECONFIG")
            .env_remove("SKIFF_DATA_DIR")
            .current_dir(cluster.server.dir.path());
        for (key, value) in envs {
            command.env(key, value);
        }
        command.output()
    };
    // KUBECONFIG.
    let out = run(vec![("KUBECONFIG", cluster.kubeconfig().to_path_buf())])
        .await
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "node/n1\n");
    // The admin kubeconfig of the skiff up data dir, as skiff up lays it out.
    let data = cluster.server.dir.path().join("cluster-data");
    let layout = skiff::layout::Layout::new(&data);
    std::fs::create_dir_all(layout.admin_kubeconfig().parent().unwrap()).unwrap();
    std::fs::copy(cluster.kubeconfig(), layout.admin_kubeconfig()).unwrap();
    let out = run(vec![("SKIFF_DATA_DIR", data)]).await.unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "node/n1\n");
    // Nothing there: the error says where it looked and what to do.
    let out = run(vec![]).await.unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("skiff-data/kubeconfigs/admin.kubeconfig: no such file")
            && err.contains("skiff up"),
        "{err}"
    );
}
