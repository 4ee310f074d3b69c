//! Starting a server from a data directory: PKI, tokens, the admin kubeconfig, the listener.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::net::TcpListener;

use super::authn::{TOKEN_FILE, TokenAuthenticator, TokenFile};
use super::server::{HttpConfig, ServerHandle, serve};
use crate::kubeconfig::write_kubeconfig;
use crate::request::Handler;
use crate::tls::Pki;

/// Where and how to start.
#[derive(Debug, Clone)]
pub struct ShellOptions {
    /// Holds `pki/`, `tokens.csv` and `admin.kubeconfig`.
    pub data_dir: PathBuf,
    /// The address to listen on; port 0 picks a free one.
    pub listen: SocketAddr,
    /// Extra names and IPs for the serving certificate.
    pub extra_sans: Vec<String>,
    /// A token file to use instead of `<data-dir>/tokens.csv` (must exist).
    pub token_file: Option<PathBuf>,
    /// The request body limit.
    pub max_body_bytes: usize,
}

impl ShellOptions {
    /// Defaults: listen on `listen`, keep state in `data_dir`, 3 MiB bodies.
    pub fn new(data_dir: impl Into<PathBuf>, listen: SocketAddr) -> Self {
        ShellOptions {
            data_dir: data_dir.into(),
            listen,
            extra_sans: Vec::new(),
            token_file: None,
            max_body_bytes: super::DEFAULT_MAX_BODY_BYTES,
        }
    }
}

/// A started server and what clients need to reach it.
pub struct Started {
    /// The running server.
    pub handle: ServerHandle,
    /// The cluster's CA and serving certificate.
    pub pki: Pki,
    /// The token file the server reads.
    pub token_file: TokenFile,
    /// The accepted tokens.
    pub tokens: TokenAuthenticator,
    /// `<data-dir>/admin.kubeconfig`.
    pub admin_kubeconfig: PathBuf,
    /// The URL clients use, e.g. `https://127.0.0.1:6443`.
    pub url: String,
}

impl Started {
    /// Writes a kubeconfig for `user` (who must have a token in the token file) to `path`.
    pub fn write_kubeconfig_for(&self, user: &str, path: &Path) -> io::Result<()> {
        let token = self.tokens.token_for(user).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "user {user:?}: no token in {}",
                    self.token_file.path().display()
                ),
            )
        })?;
        write_kubeconfig(path, &self.url, &self.pki.ca_cert_pem, user, token)
    }

    /// Creates (or finds) the token of node `node`, makes the running server accept it, and
    /// returns it.
    pub fn node_token(&mut self, node: &str) -> io::Result<String> {
        let token = self.token_file.node_token(node).map_err(io::Error::other)?;
        self.tokens = TokenAuthenticator::load(self.token_file.path()).map_err(io::Error::other)?;
        self.handle.set_authenticator(self.tokens.clone());
        Ok(token)
    }
}

/// The URL clients should use for a server bound to `addr` (a wildcard address becomes
/// `127.0.0.1`).
pub fn client_url(addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() {
        format!("https://127.0.0.1:{}", addr.port())
    } else {
        format!("https://{addr}")
    }
}

// ANCHOR: start
/// Prepares the data directory (CA, serving certificate, tokens: made on first start, reused
/// after), binds, serves `handler`, and writes `admin.kubeconfig`.
pub async fn start(options: ShellOptions, handler: Arc<dyn Handler>) -> io::Result<Started> {
    std::fs::create_dir_all(&options.data_dir).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("--data-dir {}: {e}", options.data_dir.display()),
        )
    })?;
    let pki = Pki::load_or_create(&options.data_dir, &options.extra_sans)?;
    let (token_file, tokens) = match &options.token_file {
        Some(path) => {
            let tokens = TokenAuthenticator::load(path).map_err(io::Error::other)?;
            (TokenFile::new(path), tokens)
        }
        None => {
            let file = TokenFile::new(options.data_dir.join(TOKEN_FILE));
            let tokens = file.ensure_builtin().map_err(io::Error::other)?;
            (file, tokens)
        }
    };
    let listener = TcpListener::bind(options.listen)
        .await
        .map_err(|e| io::Error::new(e.kind(), format!("--listen {}: {e}", options.listen)))?;
    let url = client_url(listener.local_addr()?);
    let mut config = HttpConfig::new(pki.server_config()?, tokens.clone());
    config.max_body_bytes = options.max_body_bytes;
    let handle = serve(listener, config, handler);
    let admin_kubeconfig = options.data_dir.join("admin.kubeconfig");
    let started = Started {
        handle,
        pki,
        token_file,
        tokens,
        admin_kubeconfig: admin_kubeconfig.clone(),
        url,
    };
    if started.tokens.token_for("admin").is_some() {
        started.write_kubeconfig_for("admin", &admin_kubeconfig)?;
    }
    Ok(started)
}
// ANCHOR_END: start
