//! The dashboard in a real browser against a real cluster: `skiff up --nodes 3`, a Deployment
//! of 3 echo servers with a Service and a Secret, then headless Chromium signs in and uses the
//! dashboard as a person would (tests/browser/dashboard-test.mjs says what it checks, step by
//! step). Afterwards this test asks the API whether the dashboard's actions took effect.
//!
//! Without Chromium, Node or the npm package playwright-core the test skips with a message
//! saying what to install, except on CI (`CI=true`), where a skipped check would be a lie.
//! Every wait polls with a generous deadline as a safety net; nothing asserts a duration.

use std::path::{Path, PathBuf};
use std::process::Command;

use api::client::ApiClient;
use api::{Deployment, Object, Quantity};
use apiserver::client::HttpApi;
use apiserver::http::TokenAuthenticator;

mod common;
use common::{Skiff, WEB_DEPLOYMENT, WEB_SERVICE, assert_no_process_under, eventually};

/// What only the admin may read; the viewer's page must not contain it.
const SECRET_VALUE: &str = "s3cr3t-dashboard-value";

const SECRET: &str = "\
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: default
data:
  password: czNjcjN0LWRhc2hib2FyZC12YWx1ZQ==
";

/// What the dashboard shows: the web Deployment of 3 echo servers, each pod requesting 100m
/// CPU and 32Mi (so that nodes have something allocated), its Service, and a Secret.
fn objects() -> Vec<Object> {
    let manifests = format!("{WEB_DEPLOYMENT}---\n{WEB_SERVICE}---\n{SECRET}");
    let mut objects = api::parse_manifests(&manifests).unwrap();
    let Object::Deployment(web) = &mut objects[0] else {
        panic!("the first manifest is a Deployment");
    };
    web.spec.template.spec.containers[0].resources.requests = [
        ("cpu".to_string(), Quantity::parse("100m").unwrap()),
        ("memory".to_string(), Quantity::parse("32Mi").unwrap()),
    ]
    .into();
    objects
}

/// The workspace root (this lab is `labs/09-cluster`).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Whether we run on CI, which sets `CI=true`.
fn on_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| !value.is_empty() && value != "false" && value != "0")
}

/// What this machine lacks to run the browser, each with the command that installs it.
fn missing_prerequisites() -> Vec<String> {
    let mut missing = Vec::new();
    let chromium = std::env::var_os("SKIFF_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    if !chromium.exists() {
        missing.push(format!(
            "Chromium at {} (install: apt-get install -y chromium; or set SKIFF_CHROMIUM)",
            chromium.display()
        ));
    }
    let node_runs = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !node_runs {
        missing.push("Node.js 18 or later (install: apt-get install -y nodejs npm)".into());
    }
    if !root()
        .join("tests/browser/node_modules/playwright-core/package.json")
        .exists()
    {
        missing.push(
            "the npm package playwright-core (install: npm ci --prefix tests/browser)".into(),
        );
    }
    missing
}

/// The line of `skiff up`'s output that starts with `label`, without the label.
fn printed(output: &str, label: &str) -> Option<String> {
    output
        .lines()
        .find_map(|line| line.trim().strip_prefix(label))
        .map(|rest| rest.trim().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_and_changes_a_real_cluster_in_chromium() {
    let missing = missing_prerequisites();
    if !missing.is_empty() {
        let message = format!("the dashboard test needs:\n  - {}", missing.join("\n  - "));
        assert!(
            !on_ci(),
            "{message}\n(CI=true, so this is a failure, not a skip)"
        );
        eprintln!("SKIPPED: {message}");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = std::fs::canonicalize(tmp.path()).unwrap();
    let data_dir = dir.join("data");
    let mut cluster = Skiff::up(&data_dir, &["--nodes", "3"], dir.join("up.txt"));

    // `skiff up` prints where the dashboard is and where the tokens are.
    let output = eventually("skiff up prints the dashboard's URL", || async {
        let output = cluster.output();
        output.contains("cluster ready:").then_some(output)
    })
    .await;
    let url =
        printed(&output, "dashboard").unwrap_or_else(|| panic!("no dashboard line:\n{output}"));
    let server = printed(&output, "API server").unwrap();
    assert_eq!(url, skiff::up::dashboard_url(&server));
    let tokens = printed(&output, "tokens").unwrap_or_else(|| panic!("no tokens line:\n{output}"));
    let token_file = tokens.split(' ').next().unwrap();
    let tokens = TokenAuthenticator::load(Path::new(token_file)).unwrap();

    let api = HttpApi::from_kubeconfig(&data_dir.join("kubeconfigs/admin.kubeconfig")).unwrap();
    for object in objects() {
        match object {
            Object::Deployment(d) => drop(api.create(d).await.unwrap()),
            Object::Service(s) => drop(api.create(s).await.unwrap()),
            Object::Secret(s) => drop(api.create(s).await.unwrap()),
            other => panic!("unexpected object {other:?}"),
        }
    }

    let screenshots = root().join("target/browser/dashboard");
    let browser = Command::new("node")
        .arg(root().join("tests/browser/dashboard-test.mjs"))
        .arg(&screenshots)
        .env("SKIFF_DASHBOARD_URL", &url)
        .env("SKIFF_ADMIN_TOKEN", tokens.token_for("admin").unwrap())
        .env("SKIFF_VIEWER_TOKEN", tokens.token_for("viewer").unwrap())
        .env("SKIFF_DATA_DIR", &data_dir)
        .env("SKIFF_SECRET_VALUE", SECRET_VALUE)
        .output()
        .expect("run node");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&browser.stdout),
        String::from_utf8_lossy(&browser.stderr)
    );
    println!("{report}");
    assert!(
        browser.status.success(),
        "the dashboard test failed ({}):\n{report}\nskiff up said:\n{}",
        browser.status,
        cluster.output()
    );

    // What the dashboard did, the API (and so kubectl) sees.
    let web: Deployment = api.get(Some("default"), "web").await.unwrap();
    assert_eq!(web.spec.replicas, Some(5), "scaled to 5 in the browser");
    // (The cordon is checked through the API by the browser program right after its click;
    // after that the program toggles it again to see a change arrive through the resumed watch.)
    for shot in ["overview.png", "pods.png", "deployments.png"] {
        let size = std::fs::metadata(screenshots.join(shot)).map_or(0, |m| m.len());
        assert!(size > 10_000, "{shot}: {size} bytes");
    }

    cluster.stop("skiff up");
    assert_no_process_under(&data_dir);
}
