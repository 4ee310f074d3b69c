//! Helpers shared by the REST tests: a server on a memory storage and a fixed clock, and a
//! one-line way to send a request and read the JSON answer.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use apiserver::ApiServer;
use apiserver::request::{ApiRequest, ApiResponse, Handler, User};
use apiserver::storage::memory::MemoryStorage;
use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// 2026-01-01T00:00:00Z, the tests' fixed "now".
pub const NOW: u64 = 1_767_225_600;

/// A server, and its storage for direct inspection.
pub struct TestServer {
    pub server: ApiServer,
    pub storage: Arc<MemoryStorage>,
}

pub fn server() -> TestServer {
    server_with(MemoryStorage::new())
}

pub fn server_with(storage: MemoryStorage) -> TestServer {
    let storage = Arc::new(storage);
    let clock = Arc::new(|| UNIX_EPOCH + Duration::from_secs(NOW));
    let server = ApiServer::new(storage.clone()).with_clock(clock);
    TestServer { server, storage }
}

pub fn admin() -> User {
    User::new("admin", &["system:masters"])
}

pub fn request(method: &str, target: &str, body: Option<&Value>) -> ApiRequest {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut headers = hyper::HeaderMap::new();
    headers.insert(
        hyper::header::CONTENT_TYPE,
        "application/json".parse().unwrap(),
    );
    ApiRequest {
        method: method.parse().unwrap(),
        path: path.to_string(),
        query: query.to_string(),
        headers,
        body: body.map(|b| Bytes::from(b.to_string())).unwrap_or_default(),
        user: admin(),
    }
}

impl TestServer {
    /// Sends a request; returns the status code and the JSON body.
    pub async fn call(&self, method: &str, target: &str, body: Option<&Value>) -> (u16, Value) {
        self.send(request(method, target, body)).await
    }

    /// Sends a prepared request; returns the status code and the JSON body.
    pub async fn send(&self, request: ApiRequest) -> (u16, Value) {
        match self.server.handle(request).await {
            ApiResponse::Full { status, body, .. } => {
                let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                (status, value)
            }
            ApiResponse::Stream { status, .. } => (status, Value::Null),
        }
    }

    /// Sends a request that must succeed with `code`; returns the body.
    pub async fn ok(&self, code: u16, method: &str, target: &str, body: Option<&Value>) -> Value {
        let (status, value) = self.call(method, target, body).await;
        assert_eq!(status, code, "{method} {target}: {value}");
        value
    }

    /// Starts a watch (or follows logs); returns the stream of chunks.
    pub async fn stream(&self, target: &str) -> mpsc::Receiver<Bytes> {
        match self.server.handle(request("GET", target, None)).await {
            ApiResponse::Stream {
                status: 200,
                chunks,
                ..
            } => chunks,
            ApiResponse::Stream { status, .. } => panic!("stream answered {status}"),
            ApiResponse::Full { status, body, .. } => {
                panic!(
                    "expected a stream, got {status}: {}",
                    String::from_utf8_lossy(&body)
                )
            }
        }
    }

    /// Every stored key, for "storage unchanged" checks.
    pub async fn snapshot(&self) -> Vec<(String, Vec<u8>, i64)> {
        use apiserver::storage::{ListRequest, Storage};
        let page = self
            .storage
            .list(&ListRequest {
                prefix: "/".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        page.items
            .into_iter()
            .map(|s| (s.key, s.value, s.mod_revision))
            .collect()
    }
}

/// The next watch event of a stream, parsed.
pub async fn next_event(chunks: &mut mpsc::Receiver<Bytes>) -> Value {
    let chunk = chunks.recv().await.expect("the watch ended");
    serde_json::from_slice(&chunk).expect("one JSON event per chunk")
}

/// `(type, name)` of an event.
pub fn summary(event: &Value) -> (String, String) {
    (
        event["type"].as_str().unwrap_or("").to_string(),
        event["object"]["metadata"]["name"]
            .as_str()
            .unwrap_or("")
            .to_string(),
    )
}

pub fn pod(name: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]},
    })
}

pub fn node(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}})
}

pub fn deployment(name: &str, replicas: i64) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
        },
    })
}

/// Seconds since the epoch, as the fixed clock says.
pub fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW)
}
