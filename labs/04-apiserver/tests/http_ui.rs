//! The dashboard's static files under `/ui/`: served without a token (they hold no data), with
//! a policy that keeps the page to its own server; everything else still needs a token.

mod wire;

use std::sync::{Arc, Mutex};

use apiserver::http::ui::{is_ui_path, ui_asset};
use apiserver::request::{ApiRequest, ApiResponse, Handler, ResponseFuture};
use wire::TestServer;

/// Counts the requests that reach the core.
#[derive(Default)]
struct Counter {
    calls: Mutex<usize>,
}

impl Handler for Counter {
    fn handle(&self, _request: ApiRequest) -> ResponseFuture<'_> {
        Box::pin(async move {
            *self.calls.lock().unwrap() += 1;
            ApiResponse::json(200, &serde_json::json!({}))
        })
    }
}

#[tokio::test]
async fn the_page_its_script_and_style_need_no_token() {
    let handler = Arc::new(Counter::default());
    let server = TestServer::start(handler.clone()).await;
    for (path, content_type, marker) in [
        ("/ui/", "text/html", "<title>skiff dashboard</title>"),
        (
            "/ui/index.html",
            "text/html",
            "<title>skiff dashboard</title>",
        ),
        ("/ui/app.js", "text/javascript", "SelfSubjectAccessReview"),
        ("/ui/style.css", "text/css", ":focus-visible"),
    ] {
        let response = server.raw(&format!("GET {path} HTTP/1.1"), b"").await;
        assert_eq!(response.status, 200, "{path}");
        let served = response.header("content-type").unwrap_or_default();
        assert!(served.starts_with(content_type), "{path}: {served}");
        let body = String::from_utf8_lossy(&response.body);
        assert!(body.contains(marker), "{path} lacks {marker:?}");
        let policy = response
            .header("content-security-policy")
            .unwrap_or_default();
        assert!(policy.contains("connect-src 'self'"), "{path}: {policy}");
        assert!(policy.contains("script-src 'self'"), "{path}: {policy}");
        assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
    }
    assert_eq!(*handler.calls.lock().unwrap(), 0, "the core never saw them");
}

#[tokio::test]
async fn a_stale_token_does_not_lock_the_sign_in_page_out() {
    let server = TestServer::start(Arc::new(Counter::default())).await;
    let response = server
        .raw("GET /ui/ HTTP/1.1\r\nAuthorization: Bearer expired", b"")
        .await;
    assert_eq!(response.status, 200);
}

#[tokio::test]
async fn ui_without_a_slash_redirects_and_unknown_files_are_404() {
    let server = TestServer::start(Arc::new(Counter::default())).await;
    let response = server.raw("GET /ui HTTP/1.1", b"").await;
    assert_eq!(response.status, 301);
    assert_eq!(response.header("location"), Some("/ui/"));

    let response = server.raw("GET /ui/secrets.json HTTP/1.1", b"").await;
    assert_eq!(response.status, 404);
    let status = response.json();
    assert_eq!(status["kind"], "Status");
    assert_eq!(status["reason"], "NotFound");
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .contains("/ui/secrets.json: no such dashboard file"),
        "{status}"
    );
}

#[tokio::test]
async fn the_files_are_read_only_and_head_has_no_body() {
    let server = TestServer::start(Arc::new(Counter::default())).await;
    let response = server
        .raw("POST /ui/app.js HTTP/1.1\r\nContent-Length: 0", b"")
        .await;
    assert_eq!(response.status, 405);
    assert!(
        response.json()["message"]
            .as_str()
            .unwrap()
            .contains("read-only (GET or HEAD), not POST")
    );

    let response = server.raw("HEAD /ui/app.js HTTP/1.1", b"").await;
    assert_eq!(response.status, 200);
    assert!(response.body.is_empty());
}

#[tokio::test]
async fn the_api_next_to_the_dashboard_still_needs_a_token() {
    let handler = Arc::new(Counter::default());
    let server = TestServer::start(handler.clone()).await;
    for path in ["/api/v1/pods", "/uix", "/api/v1/namespaces/ui/pods"] {
        let response = server.raw(&format!("GET {path} HTTP/1.1"), b"").await;
        assert_eq!(response.status, 401, "{path}");
    }
    assert_eq!(*handler.calls.lock().unwrap(), 0);
}

#[test]
fn only_ui_paths_are_dashboard_paths() {
    assert!(is_ui_path("/ui"));
    assert!(is_ui_path("/ui/"));
    assert!(is_ui_path("/ui/app.js"));
    assert!(!is_ui_path("/uix"));
    assert!(!is_ui_path("/api/v1/ui"));
    assert_eq!(
        ui_asset("/ui/").map(|(t, _)| t),
        ui_asset("/ui/index.html").map(|(t, _)| t)
    );
    assert_eq!(ui_asset("/ui/../Cargo.toml"), None);
    assert_eq!(ui_asset("/ui"), None);
}

/// The page loads nothing from elsewhere: no CDN, no font service, no inline script the
/// policy would block.
#[test]
fn the_page_loads_only_its_own_files() {
    let (_, page) = ui_asset("/ui/").unwrap();
    for needle in [
        "http://", "https://", "//cdn", "<script>", "onclick=", "style=\"",
    ] {
        assert!(!page.contains(needle), "index.html contains {needle:?}");
    }
    let (_, script) = ui_asset("/ui/app.js").unwrap();
    assert!(!script.contains("http://") && !script.contains("https://"));
    assert!(
        !script.contains("innerHTML"),
        "text goes in as text, never as HTML"
    );
}
