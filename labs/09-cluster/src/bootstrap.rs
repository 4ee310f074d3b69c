//! Node bootstrapping: how `skiff join` turns a shared bootstrap token into a node's own identity.
//!
//! Kubernetes' TLS bootstrapping, simplified. `skiff up` puts one *bootstrap token* in the API
//! server's token file, for user `system:bootstrap:<id>` in group `system:bootstrappers`, and
//! prints it in the join command. RBAC (lab 04's `node-bootstrapper` role) lets that group do
//! exactly one thing: `create` a `nodecredentials` in API group `skiff.dev`. The API server
//! answers such a request by adding a fresh token for user `system:node:<name>` (group
//! `system:nodes`) to the token file and to the running authenticator, and returns it; the new
//! node's kubelet uses that credential from then on, so the node restriction of lab 04 applies
//! to it like to any other node. A name that already has an identity (a token, or a Node
//! object) is refused: the bootstrap token cannot be used to impersonate an existing node.
//!
//! Kubernetes' kubelet sends a CertificateSigningRequest instead, which a controller approves
//! and signs; skiff's nodes authenticate by bearer token, so the "certificate" is a token.

use std::sync::Arc;

use apiserver::ApiServer;
use apiserver::auth::{Attributes, Rbac};
use apiserver::http::authn::random_token;
use apiserver::http::{TokenFile, status_body};
use apiserver::request::{ApiRequest, ApiResponse, Handler, ResponseFuture, User};
use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

/// The path a bootstrapper POSTs a `NodeCredential` to.
pub const NODE_CREDENTIALS_PATH: &str = "/apis/skiff.dev/v1/nodecredentials";

/// The group of every bootstrap token's user.
pub const BOOTSTRAPPERS: &str = "system:bootstrappers";

/// The prefix of a bootstrap token's user name: `system:bootstrap:<id>`.
pub const BOOTSTRAP_USER_PREFIX: &str = "system:bootstrap:";

// ANCHOR: ensure_bootstrap_token
/// The cluster's bootstrap token, `<id>.<secret>` like kubeadm's (6 and 16 hex digits), made
/// and added to the token file on the first call, found there after (so a resumed cluster
/// prints the same join command).
pub fn ensure_bootstrap_token(tokens: &TokenFile) -> Result<String, String> {
    let existing = tokens.ensure_builtin().map_err(|e| e.to_string())?;
    if let Some(entry) = existing
        .entries()
        .iter()
        .find(|e| e.user.name.starts_with(BOOTSTRAP_USER_PREFIX))
    {
        return Ok(entry.token.clone());
    }
    let random = random_token().map_err(|e| format!("making a bootstrap token: {e}"))?;
    let (id, secret) = (&random[..6], &random[6..22]);
    let token = format!("{id}.{secret}");
    tokens
        .add_token(
            &token,
            &format!("{BOOTSTRAP_USER_PREFIX}{id}"),
            BOOTSTRAPPERS,
        )
        .map_err(|e| e.to_string())?;
    Ok(token)
}
// ANCHOR_END: ensure_bootstrap_token

/// The body of a credential request: `{"kind": "NodeCredential", "spec": {"nodeName": "n4"}}`.
/// Returns the node name; the error names the field.
pub fn parse_request(body: &[u8]) -> Result<String, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    match value.get("kind").and_then(Value::as_str) {
        Some("NodeCredential") => {}
        Some(other) => return Err(format!("kind: {other:?} is not NodeCredential")),
        None => return Err("kind: required (NodeCredential)".to_string()),
    }
    let name = value
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .ok_or("spec.nodeName: required (the name of the node to join)")?;
    validate_node_name(name).map_err(|why| format!("spec.nodeName: {why}"))?;
    Ok(name.to_string())
}

/// A node name as a DNS-1123 label: 1 to 63 lower-case letters, digits and `-`, starting and
/// ending with a letter or digit (it becomes a user name and a directory name too).
pub fn validate_node_name(name: &str) -> Result<(), String> {
    let good_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if name.is_empty()
        || name.len() > 63
        || !good_chars
        || name.starts_with('-')
        || name.ends_with('-')
    {
        return Err(format!(
            "{name:?} is not a valid node name (1 to 63 lower-case letters, digits or '-', not at either end)"
        ));
    }
    Ok(())
}

/// Why a credential was not issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssueError {
    /// The node already has an identity (409).
    Taken(String),
    /// The token file could not be written (500).
    Internal(String),
}

/// One request for a node's credential, sent to whoever owns the token file.
#[derive(Debug)]
pub struct Issue {
    /// The node's name.
    pub node: String,
    /// Where the token, or the reason for refusing, goes.
    pub reply: oneshot::Sender<Result<String, IssueError>>,
}

// ANCHOR: issue
/// Issues node `node`'s credential through `tokens` (adding it to the file) unless the node
/// already has one; `update` hands the reloaded tokens to the running server.
pub fn issue(
    tokens: &TokenFile,
    node: &str,
    update: impl FnOnce(apiserver::http::TokenAuthenticator),
) -> Result<String, IssueError> {
    // EXERCISE(cluster-issue-node-credential): refuse (Taken) a node whose user system:node:<node> already has a token in the file; else add its token (TokenFile::node_token), reload the file, hand the reloaded tokens to update, and return the token
    let user = format!("system:node:{node}");
    let current = apiserver::http::TokenAuthenticator::load(tokens.path())
        .map_err(|e| IssueError::Internal(e.to_string()))?;
    if current.token_for(&user).is_some() {
        return Err(IssueError::Taken(format!(
            "node {node:?} already has an identity (user {user:?}); choose another name"
        )));
    }
    let token = tokens
        .node_token(node)
        .map_err(|e| IssueError::Internal(e.to_string()))?;
    let reloaded = apiserver::http::TokenAuthenticator::load(tokens.path())
        .map_err(|e| IssueError::Internal(e.to_string()))?;
    update(reloaded);
    Ok(token)
    // END EXERCISE
}
// ANCHOR_END: issue

/// The API server's handler with `POST /apis/skiff.dev/v1/nodecredentials` in front of it.
/// Everything else goes to the core untouched.
pub struct CredentialGate {
    core: Arc<ApiServer>,
    rbac: Rbac,
    issuer: mpsc::Sender<Issue>,
    kubelet_client_token: String,
}

impl CredentialGate {
    /// Wraps `core`; authorizes with the built-in roles; sends each allowed request to
    /// `issuer` (the task that owns the token file and the running server).
    /// `kubelet_client_token` is the token this API server shows kubelets when it asks them
    /// for logs: a new node's kubelet gets it with its credential, so that it can tell the API
    /// server from anyone else.
    pub fn new(
        core: Arc<ApiServer>,
        issuer: mpsc::Sender<Issue>,
        kubelet_client_token: String,
    ) -> Self {
        CredentialGate {
            core,
            rbac: Rbac::builtin(),
            issuer,
            kubelet_client_token,
        }
    }

    // ANCHOR: node_credential
    async fn node_credential(&self, request: ApiRequest) -> ApiResponse {
        if request.method != hyper::Method::POST {
            let message = format!(
                "the server does not allow {} on nodecredentials.skiff.dev (only POST)",
                request.method
            );
            return failure(405, "MethodNotAllowed", &message);
        }
        // RBAC first, like every request: only a bootstrapper (or an admin) may ask.
        let attributes =
            Attributes::new(&request.user, "create", "nodecredentials").group("skiff.dev");
        if !self.rbac.authorize(&attributes).is_allowed() {
            return failure(403, "Forbidden", &attributes.forbidden_message());
        }
        let node = match parse_request(&request.body) {
            Ok(node) => node,
            Err(message) => return failure(422, "Invalid", &message),
        };
        // A Node object of that name, even one an admin made by hand, is someone else's.
        if self.node_exists(&node).await {
            let message =
                format!("node {node:?} already exists; a joining node needs a name of its own");
            return failure(409, "AlreadyExists", &message);
        }
        let (reply, answer) = oneshot::channel();
        let sent = self
            .issuer
            .send(Issue {
                node: node.clone(),
                reply,
            })
            .await;
        let result = match (sent, answer.await) {
            (Ok(()), Ok(result)) => result,
            _ => Err(IssueError::Internal("the server is stopping".to_string())),
        };
        match result {
            Ok(token) => {
                tracing::info!(%node, by = %request.user.name, "node credential issued");
                ApiResponse::json(
                    201,
                    &json!({
                        "apiVersion": "skiff.dev/v1",
                        "kind": "NodeCredential",
                        "metadata": {"name": node},
                        "spec": {"nodeName": node},
                        "status": {
                            "user": format!("system:node:{node}"),
                            "groups": ["system:nodes"],
                            "token": token,
                            "kubeletClientToken": self.kubelet_client_token,
                        },
                    }),
                )
            }
            Err(IssueError::Taken(message)) => failure(409, "AlreadyExists", &message),
            Err(IssueError::Internal(message)) => failure(500, "InternalError", &message),
        }
    }
    // ANCHOR_END: node_credential

    /// Asks the core, as the API server itself, whether Node `node` exists.
    async fn node_exists(&self, node: &str) -> bool {
        let lookup = ApiRequest {
            method: hyper::Method::GET,
            path: format!("/api/v1/nodes/{node}"),
            query: String::new(),
            headers: hyper::HeaderMap::new(),
            body: Bytes::new(),
            user: User::new("system:apiserver", &["system:masters"]),
        };
        self.core.serve(lookup).await.status() != 404
    }
}

fn failure(code: u16, reason: &str, message: &str) -> ApiResponse {
    ApiResponse::Full {
        status: code,
        content_type: "application/json".to_string(),
        body: Bytes::from(status_body(code, reason, message)),
    }
}

impl Handler for CredentialGate {
    fn handle(&self, request: ApiRequest) -> ResponseFuture<'_> {
        Box::pin(async move {
            if request.path.trim_end_matches('/') == NODE_CREDENTIALS_PATH {
                self.node_credential(request).await
            } else {
                self.core.serve(request).await
            }
        })
    }
}
