//! Connections to the API server: TLS with the cluster CA, HTTP/1.1, a small pool of idle
//! keep-alive connections.

use std::sync::{Arc, Mutex};

use api::client::{ApiError, ApiResult};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio_rustls::TlsConnector;

/// How many idle connections are kept for reuse.
const MAX_IDLE: usize = 16;

type Sender = SendRequest<Full<Bytes>>;

/// Opens (and reuses) authenticated HTTPS connections to one server.
#[derive(Clone)]
pub struct Connector {
    inner: Arc<Inner>,
}

struct Inner {
    server: String,
    host: String,
    port: u16,
    authority: String,
    server_name: ServerName<'static>,
    tls: TlsConnector,
    authorization: String,
    idle: Mutex<Vec<Sender>>,
}

fn unavailable(server: &str, what: impl std::fmt::Display) -> ApiError {
    ApiError::Internal {
        message: format!("talking to {server}: {what}"),
    }
}

impl Connector {
    /// A connector to `url` (`https://host:port`) trusting `ca_pem`, sending `token`.
    pub fn new(url: &str, ca_pem: &str, token: &str) -> Result<Connector, String> {
        let rest = url.strip_prefix("https://").ok_or_else(|| {
            format!(
                "server {url:?}: must start with https:// (tokens are never sent in clear text)"
            )
        })?;
        let authority = rest.trim_end_matches('/').to_string();
        if authority.is_empty() || authority.contains('/') {
            return Err(format!("server {url:?}: expected https://host:port"));
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(']') || host.starts_with('[') => {
                let port = port
                    .parse::<u16>()
                    .map_err(|_| format!("server {url:?}: port {port:?} is not a number"))?;
                (host.to_string(), port)
            }
            _ => (authority.clone(), 443),
        };
        let bare = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let server_name = ServerName::try_from(bare.clone())
            .map_err(|e| format!("server {url:?}: host {bare:?}: {e}"))?;
        if token.is_empty() || token.contains(['\r', '\n']) {
            return Err("token: must be a non-empty single line".to_string());
        }
        let tls = crate::tls::client_config(ca_pem).map_err(|e| e.to_string())?;
        Ok(Connector {
            inner: Arc::new(Inner {
                server: format!("https://{authority}"),
                host: bare,
                port,
                authority,
                server_name,
                tls: TlsConnector::from(tls),
                authorization: format!("Bearer {token}"),
                idle: Mutex::new(Vec::new()),
            }),
        })
    }

    /// The server URL.
    pub fn server(&self) -> &str {
        &self.inner.server
    }

    async fn connect(&self) -> ApiResult<Sender> {
        let inner = &self.inner;
        let tcp = tokio::net::TcpStream::connect((inner.host.as_str(), inner.port))
            .await
            .map_err(|e| unavailable(&inner.server, e))?;
        let _ = tcp.set_nodelay(true);
        let tls = inner
            .tls
            .connect(inner.server_name.clone(), tcp)
            .await
            .map_err(|e| unavailable(&inner.server, format!("TLS: {e}")))?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| unavailable(&inner.server, e))?;
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "API connection ended");
            }
        });
        Ok(sender)
    }

    /// An idle pooled connection that is still open, if any. A connection whose last answer
    /// was just read may not have said it is ready for the next request yet (its task has not
    /// run since): it is waited for, not thrown away, which would cost a new TCP connection
    /// and TLS handshake. Only a closed connection is dropped.
    async fn checkout(&self) -> Option<Sender> {
        loop {
            let mut sender = {
                let mut idle = self.inner.idle.lock().unwrap_or_else(|p| p.into_inner());
                idle.pop()?
            };
            if sender.is_closed() {
                continue;
            }
            if sender.ready().await.is_ok() {
                return Some(sender);
            }
        }
    }

    fn checkin(&self, sender: Sender) {
        let mut idle = self.inner.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(sender);
        }
    }

    fn build(
        &self,
        method: &Method,
        path_and_query: &str,
        content_type: Option<&str>,
        body: &Bytes,
    ) -> ApiResult<Request<Full<Bytes>>> {
        let mut builder = Request::builder()
            .method(method.clone())
            .uri(path_and_query)
            .header(hyper::header::HOST, &self.inner.authority)
            .header(hyper::header::AUTHORIZATION, &self.inner.authorization)
            .header(hyper::header::ACCEPT, "application/json")
            .header(hyper::header::USER_AGENT, "skiff-httpapi");
        if let Some(content_type) = content_type {
            builder = builder.header(hyper::header::CONTENT_TYPE, content_type);
        }
        builder
            .body(Full::new(body.clone()))
            .map_err(|e| ApiError::BadRequest {
                message: format!("request {path_and_query:?}: {e}"),
            })
    }

    /// Sends a request and returns the response head and body stream, plus the connection
    /// (for the caller to return to the pool once the body is read). A pooled connection that
    /// the server closed meanwhile is replaced by a new one, once.
    pub async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        content_type: Option<&str>,
        body: Bytes,
    ) -> ApiResult<(Response<Incoming>, Sender)> {
        if let Some(mut sender) = self.checkout().await {
            let request = self.build(&method, path_and_query, content_type, &body)?;
            match sender.send_request(request).await {
                Ok(response) => return Ok((response, sender)),
                Err(error) => tracing::debug!(%error, "pooled connection failed; reconnecting"),
            }
        }
        let mut sender = self.connect().await?;
        let request = self.build(&method, path_and_query, content_type, &body)?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| unavailable(&self.inner.server, e))?;
        Ok((response, sender))
    }

    /// Sends a request and reads the whole answer: (status code, body).
    pub async fn request(
        &self,
        method: Method,
        path_and_query: &str,
        content_type: Option<&str>,
        body: Bytes,
    ) -> ApiResult<(u16, Bytes)> {
        let (response, sender) = self
            .send(method, path_and_query, content_type, body)
            .await?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| unavailable(&self.inner.server, e))?
            .to_bytes();
        self.checkin(sender);
        Ok((status, body))
    }
}
