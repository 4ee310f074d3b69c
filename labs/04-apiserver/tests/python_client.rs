//! The official Kubernetes Python client (`pip install kubernetes`) against skiff: kubeconfig
//! with skiff's CA and token, list, create, watch (ADDED, then DELETED once the stand-in
//! kubelet finishes the graceful delete).
//!
//! The interpreter is `SKIFF_PYTHON` (default `python3`). Without the `kubernetes` package the
//! test says it skipped, unless `SKIFF_REQUIRE_PYTHON_CLIENT=1`.

mod wire;

use wire::cluster::Cluster;

fn python() -> Option<String> {
    let python = std::env::var("SKIFF_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let ok = std::process::Command::new(&python)
        .args(["-c", "import kubernetes"])
        .output()
        .is_ok_and(|out| out.status.success());
    if ok {
        return Some(python);
    }
    if std::env::var("SKIFF_REQUIRE_PYTHON_CLIENT").is_ok_and(|v| v == "1") {
        panic!("SKIFF_REQUIRE_PYTHON_CLIENT=1 but {python} cannot import kubernetes");
    }
    eprintln!("skipping: {python} cannot import kubernetes (pip install kubernetes)");
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_python_client_lists_creates_watches_and_deletes() {
    let Some(python) = python() else { return };
    let cluster = Cluster::start().await;
    cluster.node("n1").await;
    cluster.node("n2").await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/client_test.py");
    let out = tokio::process::Command::new(&python)
        .arg(script)
        .arg(&cluster.server.started.admin_kubeconfig)
        .env("HOME", cluster.server.dir.path())
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "nodes: n1,n2");
    assert_eq!(lines[1], "created: py-pod uid set: True");
    assert_eq!(lines[2], "event: ADDED py-pod");
    assert_eq!(
        lines.last().copied(),
        Some("read after delete: 404 Not Found")
    );
    assert!(lines.contains(&"event: DELETED py-pod"), "{stdout}");
}
