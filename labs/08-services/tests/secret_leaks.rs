//! The grep proof: a Secret's value, in plain text or base64, appears nowhere on disk (the
//! embedded store's data directory, the audit log) nor in any log line, when Secrets are
//! encrypted at rest. A control run without encryption finds it, which proves the grep works.
//! And end to end through the API server: a viewer lists Secrets' names, never their data.

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use apiserver::ApiServer;
use apiserver::audit::AuditLog;
use apiserver::request::{ApiRequest, ApiResponse, Handler, User};
use apiserver::storage::Storage;
use apiserver::storage::embedded::EmbeddedStorage;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use services::encryption::{EncryptionConfig, Key, wrap};

/// Every log line of this test binary, from every thread, at every level.
fn logs() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || Capture(writer.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("one subscriber per binary");
        buffer
    })
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn request(user: &User, method: &str, path: &str, body: Option<&Value>) -> ApiRequest {
    let mut headers = hyper::HeaderMap::new();
    headers.insert(
        hyper::header::CONTENT_TYPE,
        "application/json".parse().unwrap(),
    );
    ApiRequest {
        method: method.parse().unwrap(),
        path: path.to_string(),
        query: String::new(),
        headers,
        body: body
            .map(|b| bytes::Bytes::from(b.to_string()))
            .unwrap_or_default(),
        user: user.clone(),
    }
}

async fn call(
    server: &ApiServer,
    user: &User,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    match server.handle(request(user, method, path, body)).await {
        ApiResponse::Full { status, body, .. } => {
            (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
        }
        ApiResponse::Stream { status, .. } => (status, Value::Null),
    }
}

fn admin() -> User {
    User::new("admin", &["system:masters"])
}

fn viewer() -> User {
    User::new("victor", &["skiff:viewers", "system:authenticated"])
}

const SECRETS: &str = "/api/v1/namespaces/default/secrets";

/// Creates, reads, updates and fails to re-create a Secret holding `plain`, as admin and as a
/// viewer; returns every response body (they may hold the value: the admin asked for it).
async fn use_a_secret(server: &ApiServer, plain: &str) -> Vec<Value> {
    let encoded = STANDARD.encode(plain);
    let secret = json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "db", "namespace": "default"},
        "data": {"password": encoded},
    });
    let mut bodies = Vec::new();
    let (code, created) = call(server, &admin(), "POST", SECRETS, Some(&secret)).await;
    assert_eq!(code, 201, "{created}");
    let (code, conflict) = call(server, &admin(), "POST", SECRETS, Some(&secret)).await;
    assert_eq!(code, 409);
    let text = conflict.to_string();
    assert!(!text.contains(plain) && !text.contains(&encoded), "{text}");
    let (code, read) = call(server, &admin(), "GET", &format!("{SECRETS}/db"), None).await;
    assert_eq!(code, 200);
    assert_eq!(
        read["data"]["password"],
        encoded.as_str(),
        "decrypted on the way out"
    );
    let mut changed = read.clone();
    changed["stringData"] = json!({"token": format!("{plain}-token")});
    let (code, updated) = call(
        server,
        &admin(),
        "PUT",
        &format!("{SECRETS}/db"),
        Some(&changed),
    )
    .await;
    assert_eq!(code, 200, "{updated}");
    let (code, seen) = call(server, &viewer(), "GET", SECRETS, None).await;
    assert_eq!(code, 200);
    let text = seen.to_string();
    assert!(!text.contains(plain) && !text.contains(&encoded), "{text}");
    bodies.extend([created, read, updated]);
    bodies
}

/// Every file under `dir`, recursively, with its bytes.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files(&path));
        } else {
            found.push((path.display().to_string(), std::fs::read(&path).unwrap()));
        }
    }
    found
}

/// How often `needle` occurs in `haystack`, as raw bytes or in the form lab 07's log writes
/// a value in (serde_json turns a `Vec<u8>` into a list of decimal numbers: `[104,117,...]`).
/// A grep for the raw string alone would find nothing in that log, and prove nothing.
fn hits(haystack: &[u8], needle: &str) -> usize {
    let numbers: Vec<String> = needle.bytes().map(|b| b.to_string()).collect();
    let list = numbers.join(",");
    let forms = [needle.to_string(), format!(",{list},"), format!("[{list},")];
    forms
        .iter()
        .map(|form| {
            haystack
                .windows(form.len())
                .filter(|w| *w == form.as_bytes())
                .count()
        })
        .sum()
}

/// Runs the scenario on an embedded store in a fresh directory; returns the files written
/// (store and audit log) and where each needle was found.
async fn grep_after_use(plain: &str, encrypted: bool) -> (usize, Vec<String>) {
    let logs = logs();
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Storage> =
        Arc::new(EmbeddedStorage::open(&dir.path().join("store")).unwrap());
    let storage = if encrypted {
        wrap(
            store,
            EncryptionConfig::aesgcm(vec![Key::new("key1", &[42; 32])]),
        )
    } else {
        store
    };
    let audit = AuditLog::to_file(dir.path().join("audit.log")).unwrap();
    let server = ApiServer::new(storage).with_audit(audit);
    use_a_secret(&server, plain).await;
    drop(server);
    let files = files(dir.path());
    let needles = [
        plain.to_string(),
        STANDARD.encode(plain),
        STANDARD.encode(format!("{plain}-token")),
    ];
    let mut found = Vec::new();
    for (name, bytes) in &files {
        for needle in &needles {
            if hits(bytes, needle) > 0 {
                found.push(format!("{needle} in {name}"));
            }
        }
    }
    let log = logs.lock().unwrap().clone();
    for needle in &needles {
        if hits(&log, needle) > 0 {
            found.push(format!("{needle} in the logs"));
        }
    }
    let audit = std::fs::read_to_string(dir.path().join("audit.log")).unwrap();
    assert!(
        audit.lines().count() >= 2,
        "the audit log recorded the writes: {audit}"
    );
    (files.len(), found)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_encryption_the_value_is_nowhere_on_disk_or_in_the_logs() {
    let (files, found) = grep_after_use("correct-horse-battery-staple", true).await;
    assert!(files >= 2, "the store and the audit log were written");
    assert_eq!(found, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_encryption_the_same_grep_finds_the_base64_in_the_store() {
    let plain = "tr0ub4dor-and-3";
    let (_, found) = grep_after_use(plain, false).await;
    let in_store: Vec<&String> = found
        .iter()
        .filter(|f| f.contains("/store/") && f.starts_with(&STANDARD.encode(plain)))
        .collect();
    assert!(!in_store.is_empty(), "control run: {found:?}");
    // Base64 is not encryption: the plain text itself is only one decode away.
    assert!(
        found.iter().all(|f| !f.contains("in the logs")),
        "{found:?}"
    );
}

#[tokio::test]
async fn a_viewer_lists_secret_names_but_reads_no_data_through_an_encrypted_store() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Storage> = Arc::new(EmbeddedStorage::open(dir.path()).unwrap());
    let server = ApiServer::new(wrap(
        store,
        EncryptionConfig::aesgcm(vec![Key::new("key1", &[7; 32])]),
    ));
    for name in ["db", "api-token"] {
        let secret = json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": name},
            "data": {"value": STANDARD.encode(format!("{name}-s3cret"))},
        });
        let (code, _) = call(&server, &admin(), "POST", SECRETS, Some(&secret)).await;
        assert_eq!(code, 201);
    }
    let (code, list) = call(&server, &viewer(), "GET", SECRETS, None).await;
    assert_eq!(code, 200);
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["api-token", "db"]);
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s.get("data").is_none())
    );
    let (code, one) = call(&server, &viewer(), "GET", &format!("{SECRETS}/db"), None).await;
    assert_eq!(code, 200);
    assert!(one.get("data").is_none(), "{one}");
    let (code, _) = call(&server, &viewer(), "DELETE", &format!("{SECRETS}/db"), None).await;
    assert_eq!(code, 403);
    let (_, full) = call(&server, &admin(), "GET", &format!("{SECRETS}/db"), None).await;
    assert_eq!(full["data"]["value"], STANDARD.encode("db-s3cret"));
}
