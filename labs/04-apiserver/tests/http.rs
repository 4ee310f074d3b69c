//! The HTTP shell over real TLS sockets, with a small test handler in place of the core:
//! authentication (401s), body limits (413s), streaming (each chunk arrives at once),
//! keep-alive, shutdown, the PKI and the kubeconfig.

mod wire;

use std::sync::{Arc, Mutex};

use apiserver::client::HttpApi;
use apiserver::request::{ApiRequest, ApiResponse, Handler, ResponseFuture};
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use wire::TestServer;

/// Echoes who asked what; `/stream` answers with a stream the test feeds.
#[derive(Default)]
struct Echo {
    calls: Mutex<usize>,
    streams: Mutex<Vec<mpsc::Sender<Bytes>>>,
    opened: tokio::sync::Notify,
}

impl Handler for Echo {
    fn handle(&self, request: ApiRequest) -> ResponseFuture<'_> {
        Box::pin(async move {
            *self.calls.lock().unwrap() += 1;
            if request.path == "/stream" {
                let (tx, rx) = mpsc::channel(4);
                self.streams.lock().unwrap().push(tx);
                self.opened.notify_one();
                return ApiResponse::Stream {
                    status: 200,
                    content_type: "application/json".to_string(),
                    chunks: rx,
                };
            }
            ApiResponse::json(
                200,
                &serde_json::json!({
                    "user": request.user.name,
                    "groups": request.user.groups,
                    "method": request.method.as_str(),
                    "path": request.path,
                    "query": request.query,
                    "bodyLength": request.body.len(),
                }),
            )
        })
    }
}

fn echo() -> Arc<Echo> {
    Arc::new(Echo::default())
}

#[tokio::test]
async fn health_paths_need_no_token() {
    let handler = echo();
    let server = TestServer::start(handler.clone()).await;
    for path in ["/healthz", "/readyz", "/livez", "/version"] {
        let response = server.raw(&format!("GET {path} HTTP/1.1"), b"").await;
        assert_eq!(response.status, 200, "{path}");
        assert_eq!(response.json()["user"], "system:anonymous", "{path}");
    }
}

#[tokio::test]
async fn no_token_is_401_with_a_status_body() {
    let handler = echo();
    let server = TestServer::start(handler.clone()).await;
    let response = server.raw("GET /api/v1/pods HTTP/1.1", b"").await;
    assert_eq!(response.status, 401);
    let status = response.json();
    assert_eq!(status["kind"], "Status");
    assert_eq!(status["reason"], "Unauthorized");
    assert_eq!(status["code"], 401);
    assert_eq!(*handler.calls.lock().unwrap(), 0, "the core never saw it");
}

#[tokio::test]
async fn bad_token_is_401_even_on_health_paths() {
    let handler = echo();
    let server = TestServer::start(handler.clone()).await;
    for path in ["/api/v1/pods", "/healthz"] {
        let response = server
            .raw(
                &format!("GET {path} HTTP/1.1\r\nAuthorization: Bearer not-a-token"),
                b"",
            )
            .await;
        assert_eq!(response.status, 401, "{path}");
        assert_eq!(response.json()["reason"], "Unauthorized");
    }
    // Another scheme is not a bearer token either.
    let response = server
        .raw(
            "GET /api/v1/pods HTTP/1.1\r\nAuthorization: Basic YWRtaW46YWRtaW4=",
            b"",
        )
        .await;
    assert_eq!(response.status, 401);
    assert_eq!(*handler.calls.lock().unwrap(), 0);
}

#[tokio::test]
async fn a_valid_token_reaches_the_handler_as_its_user() {
    let handler = echo();
    let server = TestServer::start(handler.clone()).await;
    let token = server.admin_token();
    let response = server
        .raw(
            &format!("GET /api/v1/pods?limit=5 HTTP/1.1\r\nAuthorization: bearer {token}"),
            b"",
        )
        .await;
    assert_eq!(response.status, 200);
    let echo = response.json();
    assert_eq!(echo["user"], "admin");
    assert_eq!(echo["groups"], serde_json::json!(["system:masters"]));
    assert_eq!(echo["path"], "/api/v1/pods");
    assert_eq!(echo["query"], "limit=5");
}

#[tokio::test]
async fn builtin_identities_get_tokens_and_nodes_get_theirs_on_demand() {
    let handler = echo();
    let mut server = TestServer::start(handler.clone()).await;
    let tokens = &server.started.tokens;
    for user in [
        "admin",
        "viewer",
        "system:kube-scheduler",
        "system:kube-controller-manager",
        "system:kube-proxy",
    ] {
        let token = tokens.token_for(user).unwrap_or_else(|| panic!("{user}"));
        assert_eq!(token.len(), 64, "256 random bits, hex");
    }
    let viewer = tokens
        .authenticate(tokens.token_for("viewer").unwrap())
        .unwrap();
    assert_eq!(viewer.groups, vec!["skiff:viewers".to_string()]);

    let node_token = server.started.node_token("n1").unwrap();
    assert_eq!(
        server.started.node_token("n1").unwrap(),
        node_token,
        "made once"
    );
    let response = server
        .raw(
            &format!("GET /api/v1/nodes/n1 HTTP/1.1\r\nAuthorization: Bearer {node_token}"),
            b"",
        )
        .await;
    assert_eq!(response.status, 200);
    assert_eq!(response.json()["user"], "system:node:n1");
    assert_eq!(
        response.json()["groups"],
        serde_json::json!(["system:nodes"])
    );
}

#[tokio::test]
async fn a_declared_oversized_body_is_413_before_it_is_sent() {
    let handler = echo();
    let server = TestServer::start(handler.clone()).await;
    let token = server.admin_token();
    // 3 MiB + 1 declared; not a byte of it is sent, and the answer comes anyway.
    let response = server
        .raw(
            &format!(
                "POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}",
                3 * 1024 * 1024 + 1
            ),
            b"",
        )
        .await;
    assert_eq!(response.status, 413);
    let status = response.json();
    assert_eq!(status["reason"], "RequestEntityTooLarge");
    assert_eq!(status["code"], 413);
    assert_eq!(*handler.calls.lock().unwrap(), 0);
}

#[tokio::test]
async fn a_chunked_oversized_body_is_cut_off_at_the_limit() {
    let handler = echo();
    let server = TestServer::start_with(handler.clone(), |o| o.max_body_bytes = 1000).await;
    let token = server.admin_token();
    let chunk = vec![b'x'; 600];
    let mut body = Vec::new();
    for _ in 0..2 {
        body.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        body.extend_from_slice(&chunk);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"0\r\n\r\n");
    let response = server
        .raw(
            &format!(
                "POST /x HTTP/1.1\r\nAuthorization: Bearer {token}\r\nTransfer-Encoding: chunked"
            ),
            &body,
        )
        .await;
    assert_eq!(response.status, 413);
    assert_eq!(response.json()["reason"], "RequestEntityTooLarge");
    assert_eq!(*handler.calls.lock().unwrap(), 0);

    // Exactly at the limit is fine.
    let response = server
        .raw(
            &format!("POST /x HTTP/1.1\r\nAuthorization: Bearer {token}\r\nContent-Length: 1000"),
            &[b'y'; 1000],
        )
        .await;
    assert_eq!(response.status, 200);
    assert_eq!(response.json()["bodyLength"], 1000);
}

#[tokio::test]
async fn each_streamed_chunk_arrives_before_the_next_is_sent() {
    let handler = echo();
    let server = TestServer::start(handler.clone()).await;
    let api = HttpApi::new(
        &server.started.url,
        &server.started.pki.ca_cert_pem,
        &server.admin_token(),
    )
    .unwrap();
    let opened = handler.opened.notified();
    let (response, _conn) = api
        .connector()
        .send(Method::GET, "/stream", None, Bytes::new())
        .await
        .unwrap();
    opened.await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["transfer-encoding"], "chunked");
    let sender = handler.streams.lock().unwrap()[0].clone();
    let mut body = response.into_body();
    for i in 0..3 {
        let line = format!("{{\"type\":\"ADDED\",\"n\":{i}}}\n");
        sender.send(Bytes::from(line.clone())).await.unwrap();
        // The stream is still open: this chunk can only arrive if it was flushed on its own.
        let frame = body.frame().await.unwrap().unwrap();
        assert_eq!(frame.into_data().unwrap(), Bytes::from(line));
    }
    drop(sender);
    handler.streams.lock().unwrap().clear();
    assert!(
        body.frame().await.is_none(),
        "the stream ends with its sender"
    );
}

#[tokio::test]
async fn shutdown_ends_open_streams_and_returns() {
    let handler = echo();
    let server = TestServer::start(handler.clone()).await;
    let api = HttpApi::new(
        &server.started.url,
        &server.started.pki.ca_cert_pem,
        &server.admin_token(),
    )
    .unwrap();
    let opened = handler.opened.notified();
    let (response, _conn) = api
        .connector()
        .send(Method::GET, "/stream", None, Bytes::new())
        .await
        .unwrap();
    opened.await;
    let mut body = response.into_body();
    let TestServer { started, dir: _dir } = server;
    started.handle.shutdown().await;
    // The watch saw its end even though the core still holds the stream's sender.
    while let Some(Ok(_)) = body.frame().await {}
    assert_eq!(handler.streams.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn keep_alive_serves_several_requests_on_one_connection() {
    let handler = echo();
    let server = TestServer::start(handler.clone()).await;
    let token = server.admin_token();
    let mut tls = server.tls().await;
    for path in ["/one", "/two", "/three"] {
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n");
        tls.write_all(request.as_bytes()).await.unwrap();
        // Read until this response's JSON body is complete.
        let mut bytes = Vec::new();
        let mut buf = [0u8; 4096];
        while !bytes.ends_with(b"}") {
            let n = tls.read(&mut buf).await.unwrap();
            assert!(n > 0, "the connection stayed open");
            bytes.extend_from_slice(&buf[..n]);
        }
        let response = wire::RawResponse::parse(&bytes);
        assert_eq!(response.status, 200);
        assert_eq!(response.json()["path"], path);
    }
    assert_eq!(*handler.calls.lock().unwrap(), 3);
}

#[tokio::test]
async fn a_client_that_trusts_another_ca_refuses_the_server() {
    let handler = echo();
    let server = TestServer::start(handler.clone()).await;
    let other = apiserver::tls::Pki::generate(&[]).unwrap();
    let api = HttpApi::new(
        &server.started.url,
        &other.ca_cert_pem,
        &server.admin_token(),
    )
    .unwrap();
    let error = api
        .raw(Method::GET, "/healthz", None, Bytes::new())
        .await
        .unwrap_err();
    assert!(error.to_string().contains("TLS"), "{error}");
}

#[tokio::test]
async fn the_pki_and_tokens_are_made_once_and_reused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let options = apiserver::http::ShellOptions::new(dir.path(), "127.0.0.1:0".parse().unwrap());
    let first = apiserver::http::start(options.clone(), echo())
        .await
        .unwrap();
    for (file, mode) in [
        ("pki/ca.crt", 0o644),
        ("pki/ca.key", 0o600),
        ("pki/apiserver.crt", 0o644),
        ("pki/apiserver.key", 0o600),
        ("tokens.csv", 0o600),
        ("admin.kubeconfig", 0o600),
    ] {
        let meta = std::fs::metadata(dir.path().join(file)).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, mode, "{file}");
    }
    let (ca, admin) = (
        first.pki.ca_cert_pem.clone(),
        first.tokens.token_for("admin").unwrap().to_string(),
    );
    first.handle.shutdown().await;
    let options_again = options.clone();
    let second = apiserver::http::start(options, echo()).await.unwrap();
    assert_eq!(second.pki.ca_cert_pem, ca);
    assert_eq!(second.tokens.token_for("admin").unwrap(), admin);
    let serving = second.pki.server_cert_pem.clone();
    second.handle.shutdown().await;

    // A new name signs a new serving certificate with the same CA.
    let mut options = options_again;
    options.extra_sans = vec!["skiff.example".to_string()];
    let third = apiserver::http::start(options, echo()).await.unwrap();
    assert_eq!(third.pki.ca_cert_pem, ca);
    assert_ne!(third.pki.server_cert_pem, serving);
    let api = HttpApi::from_kubeconfig(&third.admin_kubeconfig).unwrap();
    let (status, _) = api
        .raw(Method::GET, "/healthz", None, Bytes::new())
        .await
        .unwrap();
    assert_eq!(status, 200, "the old CA still verifies the new certificate");
    third.handle.shutdown().await;
}

#[tokio::test]
async fn the_admin_kubeconfig_reaches_the_server_as_admin() {
    let handler = echo();
    let server = TestServer::start(handler.clone()).await;
    let config = apiserver::kubeconfig::load_kubeconfig(&server.started.admin_kubeconfig).unwrap();
    assert_eq!(config.server, server.started.url);
    assert_eq!(config.user, "admin");
    let api = HttpApi::from_kubeconfig(&server.started.admin_kubeconfig).unwrap();
    let (status, body) = api
        .raw(Method::GET, "/api", None, Bytes::new())
        .await
        .unwrap();
    assert_eq!(status, 200);
    let echo: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(echo["user"], "admin");

    // A kubeconfig for the viewer authenticates as the viewer.
    let path = server.dir.path().join("viewer.kubeconfig");
    server
        .started
        .write_kubeconfig_for("viewer", &path)
        .unwrap();
    let api = HttpApi::from_kubeconfig(&path).unwrap();
    let (_, body) = api
        .raw(Method::GET, "/api", None, Bytes::new())
        .await
        .unwrap();
    let echo: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(echo["user"], "viewer");
    assert_eq!(echo["groups"], serde_json::json!(["skiff:viewers"]));
}
