//! Helpers shared by the shell's tests: a server on port 0 in a temp dir, and a raw HTTPS
//! client that sends exactly the bytes a test wants (no token, a bad token, a huge body).

#![allow(dead_code)]

pub mod cluster;

use std::sync::Arc;

use apiserver::http::{ShellOptions, Started, start};
use apiserver::request::Handler;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// A server started in a fresh temp dir on 127.0.0.1:0.
pub struct TestServer {
    pub started: Started,
    pub dir: tempfile::TempDir,
}

impl TestServer {
    pub async fn start(handler: Arc<dyn Handler>) -> TestServer {
        Self::start_with(handler, |_| {}).await
    }

    pub async fn start_with(
        handler: Arc<dyn Handler>,
        tweak: impl FnOnce(&mut ShellOptions),
    ) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut options =
            ShellOptions::new(dir.path().join("data"), "127.0.0.1:0".parse().unwrap());
        tweak(&mut options);
        let started = start(options, handler).await.expect("server starts");
        TestServer { started, dir }
    }

    pub fn admin_token(&self) -> String {
        self.started.tokens.token_for("admin").unwrap().to_string()
    }

    pub fn port(&self) -> u16 {
        self.started.handle.local_addr().port()
    }

    /// A TLS connection trusting the cluster CA.
    pub async fn tls(&self) -> TlsStream<TcpStream> {
        let config = apiserver::tls::client_config(&self.started.pki.ca_cert_pem).unwrap();
        let tcp = TcpStream::connect(("127.0.0.1", self.port()))
            .await
            .unwrap();
        TlsConnector::from(config)
            .connect(ServerName::try_from("127.0.0.1").unwrap(), tcp)
            .await
            .expect("TLS handshake with the cluster CA")
    }

    /// Sends `head` (request line and headers, without the blank line) and `body`, reads the
    /// response until the server closes (the request says `Connection: close`).
    pub async fn raw(&self, head: &str, body: &[u8]) -> RawResponse {
        let mut tls = self.tls().await;
        let request = format!("{head}\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        tls.write_all(request.as_bytes()).await.unwrap();
        // The server may answer (413) before the body is sent; a failed write is fine then.
        let _ = tls.write_all(body).await;
        let _ = tls.flush().await;
        let mut bytes = Vec::new();
        let _ = tls.read_to_end(&mut bytes).await;
        RawResponse::parse(&bytes)
    }
}

/// A parsed HTTP/1.1 response (body de-chunked).
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn parse(bytes: &[u8]) -> RawResponse {
        let split = bytes
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a complete response head");
        let head = String::from_utf8_lossy(&bytes[..split]).to_string();
        let mut lines = head.lines();
        let status = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let mut body = bytes[split + 4..].to_vec();
        if headers
            .iter()
            .any(|(k, v)| k == "transfer-encoding" && v == "chunked")
        {
            body = dechunk(&body);
        }
        RawResponse {
            status,
            headers,
            body,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = data.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(std::str::from_utf8(&data[..end]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            break;
        }
        out.extend_from_slice(&data[end + 2..end + 2 + size]);
        data = &data[end + 2 + size + 2..];
    }
    out
}
