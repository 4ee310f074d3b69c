//! The accept loop and the per-request path: TLS handshake, HTTP/1.1, authentication, body
//! limit, the handler, the response.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use super::authn::{Authn, TokenAuthenticator};
use super::body::{DEFAULT_MAX_BODY_BYTES, ShellBody, status_body};
use crate::request::{ApiRequest, ApiResponse, Handler, User};

/// How the shell serves: TLS, who may come in, how much they may send.
#[derive(Clone)]
pub struct HttpConfig {
    /// The rustls configuration (from [`crate::tls::Pki::server_config`]).
    pub tls: Arc<rustls::ServerConfig>,
    /// The bearer tokens the server accepts.
    pub authenticator: TokenAuthenticator,
    /// The largest request body accepted; larger ones get a 413.
    pub max_body_bytes: usize,
}

impl HttpConfig {
    /// A configuration with the default 3 MiB body limit.
    pub fn new(tls: Arc<rustls::ServerConfig>, authenticator: TokenAuthenticator) -> Self {
        HttpConfig {
            tls,
            authenticator,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

/// The paths anyone may read without credentials: the health checks and the version.
pub fn is_public_path(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/livez" | "/version")
        || path.starts_with("/healthz/")
        || path.starts_with("/readyz/")
        || path.starts_with("/livez/")
}

/// A running server: its address, and the way to stop it.
pub struct ServerHandle {
    local_addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    authenticator: Arc<RwLock<TokenAuthenticator>>,
    task: tokio::task::JoinHandle<()>,
}

impl ServerHandle {
    /// The address the server listens on (with the real port when bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The server's URL, e.g. `https://127.0.0.1:6443`.
    pub fn url(&self) -> String {
        format!("https://{}", self.local_addr)
    }

    /// Replaces the accepted tokens (after a token was added to the token file).
    pub fn set_authenticator(&self, authenticator: TokenAuthenticator) {
        *self
            .authenticator
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = authenticator;
    }

    /// Stops the server: no new connections, open watches and streams end, in-flight requests
    /// finish (connections still busy after a few seconds are dropped). Returns when done.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

struct State {
    handler: Arc<dyn Handler>,
    authenticator: Arc<RwLock<TokenAuthenticator>>,
    max_body_bytes: usize,
    shutdown: watch::Receiver<bool>,
}

/// Serves `handler` on `listener` over TLS until [`ServerHandle::shutdown`].
pub fn serve(listener: TcpListener, config: HttpConfig, handler: Arc<dyn Handler>) -> ServerHandle {
    let local_addr = listener
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let authenticator = Arc::new(RwLock::new(config.authenticator));
    let state = Arc::new(State {
        handler,
        authenticator: authenticator.clone(),
        max_body_bytes: config.max_body_bytes,
        shutdown: shutdown_rx.clone(),
    });
    let acceptor = TlsAcceptor::from(config.tls);
    let task = tokio::spawn(accept_loop(listener, acceptor, state, shutdown_rx));
    tracing::info!(%local_addr, "API server listening");
    ServerHandle {
        local_addr,
        shutdown: shutdown_tx,
        authenticator,
        task,
    }
}

// ANCHOR: accept_loop
async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    state: Arc<State>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    let _ = tcp.set_nodelay(true);
                    connections.spawn(connection(tcp, peer, acceptor.clone(), state.clone()));
                }
                Err(error) => {
                    // Out of file descriptors and the like: wait a little, keep serving.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = shutdown.changed() => break,
        }
    }
    drop(listener);
    // Connections finish their in-flight requests; streams have been told to end.
    let drain = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(Duration::from_secs(5), drain)
        .await
        .is_err()
    {
        connections.abort_all();
    }
}

async fn connection(
    tcp: tokio::net::TcpStream,
    peer: SocketAddr,
    acceptor: TlsAcceptor,
    state: Arc<State>,
) {
    let tls = match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(error)) => {
            tracing::debug!(%peer, %error, "TLS handshake failed");
            return;
        }
        Err(_) => {
            tracing::debug!(%peer, "TLS handshake timed out");
            return;
        }
    };
    let service_state = state.clone();
    let service = service_fn(move |request| {
        let state = service_state.clone();
        async move { Ok::<_, Infallible>(serve_request(request, &state).await) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(tls), service);
    let mut conn = std::pin::pin!(conn);
    let mut shutdown = state.shutdown.clone();
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(error) = result {
                tracing::debug!(%peer, %error, "connection ended with an error");
            }
        }
        _ = stopped(&mut shutdown) => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}
// ANCHOR_END: accept_loop

/// Completes once shutdown has been asked for (at once if it already was).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

fn failure(code: u16, reason: &str, message: &str) -> Response<ShellBody> {
    respond(
        ApiResponse::Full {
            status: code,
            content_type: "application/json".to_string(),
            body: Bytes::from(status_body(code, reason, message)),
        },
        None,
    )
}

// ANCHOR: serve_request
async fn serve_request(request: Request<Incoming>, state: &State) -> Response<ShellBody> {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_string();

    // 0. The dashboard's static files need no token: they hold no data, and the page asks
    //    the API for everything with the token its user signs in with.
    if super::ui::is_ui_path(&path) {
        return super::ui::serve_ui(&parts.method, &path);
    }

    // 1. Who is it? A wrong token is a 401 everywhere; no token only for public paths.
    let authorization = parts
        .headers
        .get(hyper::header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or(""));
    let authn = state
        .authenticator
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .authenticate_header(authorization);
    let user = match authn {
        Authn::User(user) => user,
        Authn::Anonymous if is_public_path(&path) => User::anonymous(),
        Authn::Anonymous | Authn::Invalid => {
            tracing::debug!(method = %parts.method, %path, "401");
            return failure(401, "Unauthorized", "Unauthorized");
        }
    };

    // 2. The body, refused early by its declared length, else cut off at the limit.
    let too_large = || {
        failure(
            413,
            "RequestEntityTooLarge",
            &format!(
                "the request body is too large: the limit is {} bytes",
                state.max_body_bytes
            ),
        )
    };
    let declared = parts
        .headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > state.max_body_bytes as u64) {
        return too_large();
    }
    let body = match Limited::new(body, state.max_body_bytes).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => return too_large(),
        Err(error) => {
            return failure(
                400,
                "BadRequest",
                &format!("reading the request body: {error}"),
            );
        }
    };

    // 3. The core answers.
    let request = ApiRequest {
        method: parts.method.clone(),
        path,
        query: parts.uri.query().unwrap_or("").to_string(),
        headers: parts.headers,
        body,
        user,
    };
    let (method, path, who) = (
        request.method.clone(),
        request.path.clone(),
        request.user.name.clone(),
    );
    let response = state.handler.handle(request).await;
    tracing::debug!(%method, %path, user = %who, status = response.status(), "request");
    respond(response, Some(state.shutdown.clone()))
}
// ANCHOR_END: serve_request

/// Turns the core's answer into a hyper response. A stream is forwarded through a task that
/// also ends it at shutdown, so open watches do not hold the server up.
fn respond(response: ApiResponse, shutdown: Option<watch::Receiver<bool>>) -> Response<ShellBody> {
    let (status, content_type, body) = match response {
        ApiResponse::Full {
            status,
            content_type,
            body,
        } => (status, content_type, ShellBody::Full(Some(body))),
        ApiResponse::Stream {
            status,
            content_type,
            mut chunks,
        } => {
            let body = match shutdown {
                None => ShellBody::Stream(chunks),
                Some(mut shutdown) => {
                    let (tx, rx) = mpsc::channel(16);
                    tokio::spawn(async move {
                        loop {
                            tokio::select! {
                                chunk = chunks.recv() => match chunk {
                                    Some(chunk) => if tx.send(chunk).await.is_err() { break },
                                    None => break,
                                },
                                _ = stopped(&mut shutdown) => break,
                                _ = tx.closed() => break,
                            }
                        }
                    });
                    ShellBody::Stream(rx)
                }
            };
            (status, content_type, body)
        }
    };
    let mut builder = Response::builder()
        .status(status)
        .header(hyper::header::CONTENT_TYPE, content_type);
    if matches!(body, ShellBody::Stream(_)) {
        builder = builder.header(hyper::header::CACHE_CONTROL, "no-cache, private");
    }
    builder.body(body).unwrap_or_else(|error| {
        let mut response = Response::new(ShellBody::Full(Some(Bytes::from(status_body(
            500,
            "InternalError",
            &format!("building the response: {error}"),
        )))));
        *response.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
        response
    })
}
