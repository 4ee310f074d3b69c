//! The request and response the API server's core works with, free of any HTTP library.
//!
//! The HTTP shell (TLS, HTTP/1.1, authentication) turns each HTTP request into an
//! [`ApiRequest`] carrying the authenticated [`User`], hands it to a [`Handler`], and writes the
//! [`ApiResponse`] back: a whole body, or a stream of chunks for a watch or `logs -f`. Tests
//! drive the core directly with `ApiRequest`s, without sockets.

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use tokio::sync::mpsc;

/// Who is making a request, as authentication established it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct User {
    /// The user name, e.g. `admin` or `system:node:n1`.
    pub name: String,
    /// The groups, e.g. `system:masters` or `system:nodes`.
    pub groups: Vec<String>,
}

impl User {
    /// A user with a name and groups.
    pub fn new(name: impl Into<String>, groups: &[&str]) -> Self {
        User {
            name: name.into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
        }
    }

    /// The user of requests that carried no credentials (only health and version paths
    /// accept it).
    pub fn anonymous() -> Self {
        User::new("system:anonymous", &["system:unauthenticated"])
    }

    /// True when the user belongs to `group`.
    pub fn in_group(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g == group)
    }
}

/// One API request, after TLS and authentication.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE`.
    pub method: hyper::Method,
    /// The path, e.g. `/api/v1/namespaces/default/pods/web-1`.
    pub path: String,
    /// The raw query string without `?`, e.g. `labelSelector=app%3Dweb&watch=true`.
    pub query: String,
    /// The request headers (`Content-Type`, `Accept`, ...).
    pub headers: hyper::HeaderMap,
    /// The body; empty for GET and DELETE without options.
    pub body: Bytes,
    /// Who sent it; [`User::anonymous`] when no credentials came with it.
    pub user: User,
}

/// The answer to an [`ApiRequest`].
#[derive(Debug)]
pub enum ApiResponse {
    /// A complete body.
    Full {
        /// The HTTP status code.
        status: u16,
        /// The `Content-Type`, e.g. `application/json`.
        content_type: String,
        /// The body.
        body: Bytes,
    },
    /// A body sent in chunks as they come (watch events, followed logs); the response ends
    /// when the sender is dropped.
    Stream {
        /// The HTTP status code.
        status: u16,
        /// The `Content-Type`, e.g. `application/json`.
        content_type: String,
        /// The chunks, each written and flushed as soon as it arrives.
        chunks: mpsc::Receiver<Bytes>,
    },
}

impl ApiResponse {
    /// A complete JSON response.
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        ApiResponse::Full {
            status,
            content_type: "application/json".to_string(),
            body: Bytes::from(body.to_string()),
        }
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        match self {
            ApiResponse::Full { status, .. } | ApiResponse::Stream { status, .. } => *status,
        }
    }
}

/// A boxed response future, so that a [`Handler`] can be a trait object.
pub type ResponseFuture<'a> = Pin<Box<dyn Future<Output = ApiResponse> + Send + 'a>>;

/// What the HTTP shell calls for every authenticated request: the API server's core.
pub trait Handler: Send + Sync + 'static {
    /// Answers one request.
    fn handle(&self, request: ApiRequest) -> ResponseFuture<'_>;
}
