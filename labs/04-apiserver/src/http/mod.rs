//! The API server on the wire: TLS, HTTP/1.1, authentication, body limits.
//!
//! This shell knows nothing about pods or REST paths. It accepts TLS connections, parses
//! HTTP/1.1 requests with hyper (keep-alive, one task per connection), authenticates each
//! request by its bearer token, refuses bodies over the size limit, and hands an
//! [`ApiRequest`](crate::request::ApiRequest) to any [`Handler`](crate::request::Handler): the
//! API server's core in production, a small test handler in the shell's own tests. Streamed
//! answers (watches, followed logs) are written as chunked transfer encoding, one flush per
//! chunk, so a watcher sees each event the moment it happens. The dashboard's static files
//! ([`ui`]) are served under `/ui/` before authentication: they hold no data.

pub mod authn;
mod body;
pub mod kubelet_logs;
mod server;
pub mod setup;
pub mod ui;

pub use authn::{Authn, TokenAuthenticator, TokenFile, TokenFileError, bearer_token};
pub use body::{DEFAULT_MAX_BODY_BYTES, status_body};
pub use server::{HttpConfig, ServerHandle, is_public_path, serve};
pub use setup::{ShellOptions, Started, client_url, start};
