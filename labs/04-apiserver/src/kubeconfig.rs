//! Kubeconfig files: how kubectl, the Python client and [`crate::client::HttpApi`] find the
//! cluster, trust its CA and prove who they are.
//!
//! A kubeconfig names a cluster (server URL + CA), a user (here a bearer token) and a context
//! joining the two; `current-context` picks one. The server writes `<data-dir>/admin.kubeconfig`
//! on start, and [`write_kubeconfig`] writes one for any user.

use std::io;
use std::path::Path;

use base64::Engine;
use serde::Deserialize;

/// What a client needs from a kubeconfig: where, whom to trust, who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kubeconfig {
    /// The server URL, e.g. `https://127.0.0.1:6443`.
    pub server: String,
    /// The CA certificate(s), PEM.
    pub ca_pem: String,
    /// The user's name in the file.
    pub user: String,
    /// The bearer token.
    pub token: String,
}

/// The name of the cluster, context and (for the admin file) user entries skiff writes.
pub const CONTEXT: &str = "skiff";

// ANCHOR: render
/// The kubeconfig text for `user` with `token` on the cluster at `server` trusting `ca_pem`.
pub fn render_kubeconfig(server: &str, ca_pem: &str, user: &str, token: &str) -> String {
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem);
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: {CONTEXT}
  cluster:
    server: {server:?}
    certificate-authority-data: {ca}
users:
- name: {user:?}
  user:
    token: {token:?}
contexts:
- name: {CONTEXT}
  context:
    cluster: {CONTEXT}
    user: {user:?}
current-context: {CONTEXT}
"
    )
}
// ANCHOR_END: render

/// Writes a kubeconfig (mode 0600: it holds a secret).
pub fn write_kubeconfig(
    path: &Path,
    server: &str,
    ca_pem: &str,
    user: &str,
    token: &str,
) -> io::Result<()> {
    crate::tls::write_file(path, &render_kubeconfig(server, ca_pem, user, token), 0o600)
}

#[derive(Deserialize)]
struct File {
    #[serde(default)]
    clusters: Vec<Named<ClusterEntry>>,
    #[serde(default)]
    users: Vec<Named<UserEntry>>,
    #[serde(default)]
    contexts: Vec<Named<ContextEntry>>,
    #[serde(rename = "current-context", default)]
    current_context: String,
}

#[derive(Deserialize)]
struct Named<T> {
    name: String,
    #[serde(alias = "cluster", alias = "user", alias = "context")]
    value: T,
}

#[derive(Deserialize)]
struct ClusterEntry {
    server: String,
    #[serde(rename = "certificate-authority-data", default)]
    ca_data: Option<String>,
    #[serde(rename = "certificate-authority", default)]
    ca_file: Option<String>,
}

#[derive(Deserialize)]
struct UserEntry {
    #[serde(default)]
    token: Option<String>,
}

#[derive(Deserialize)]
struct ContextEntry {
    cluster: String,
    user: String,
}

/// Parses a kubeconfig and resolves its current context. Errors name the missing entry or
/// field, e.g. `users[admin].user.token: required (skiff clients authenticate by token)`.
pub fn parse_kubeconfig(text: &str) -> Result<Kubeconfig, String> {
    let file: File = serde_saphyr::from_str(text).map_err(|e| format!("kubeconfig: {e}"))?;
    if file.current_context.is_empty() {
        return Err("current-context: required".to_string());
    }
    let context = file
        .contexts
        .iter()
        .find(|c| c.name == file.current_context)
        .ok_or_else(|| format!("contexts[{}]: not found", file.current_context))?;
    let cluster = file
        .clusters
        .iter()
        .find(|c| c.name == context.value.cluster)
        .ok_or_else(|| format!("clusters[{}]: not found", context.value.cluster))?;
    let user = file
        .users
        .iter()
        .find(|u| u.name == context.value.user)
        .ok_or_else(|| format!("users[{}]: not found", context.value.user))?;
    let ca_pem = match (&cluster.value.ca_data, &cluster.value.ca_file) {
        (Some(data), _) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(data.trim())
                .map_err(|e| {
                    format!(
                        "clusters[{}].cluster.certificate-authority-data: not base64: {e}",
                        cluster.name
                    )
                })?;
            String::from_utf8(bytes).map_err(|_| {
                format!(
                    "clusters[{}].cluster.certificate-authority-data: not PEM text",
                    cluster.name
                )
            })?
        }
        (None, Some(file)) => std::fs::read_to_string(file).map_err(|e| {
            format!(
                "clusters[{}].cluster.certificate-authority: {file}: {e}",
                cluster.name
            )
        })?,
        (None, None) => {
            return Err(format!(
                "clusters[{}].cluster.certificate-authority-data: required (skiff serves only \
                 https with its own CA)",
                cluster.name
            ));
        }
    };
    let token = user.value.token.clone().ok_or_else(|| {
        format!(
            "users[{}].user.token: required (skiff clients authenticate by token)",
            user.name
        )
    })?;
    Ok(Kubeconfig {
        server: cluster.value.server.clone(),
        ca_pem,
        user: user.name.clone(),
        token,
    })
}

/// Reads and parses a kubeconfig file.
pub fn load_kubeconfig(path: &Path) -> Result<Kubeconfig, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse_kubeconfig(&text).map_err(|e| format!("{}: {e}", path.display()))
}
