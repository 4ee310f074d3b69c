//! `skiff apiserver`: the API server (lab 04) over the chosen storage, serving HTTPS.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use apiserver::ApiServer;
use apiserver::http::kubelet_logs::KubeletLogs;
use apiserver::http::{ShellOptions, start};
use apiserver::storage::Storage;
use apiserver::storage::embedded::EmbeddedStorage;
use apiserver::storage::etcd::EtcdStorage;
use apiserver::storage::memory::MemoryStorage;

use tokio::sync::mpsc;

use services::clusterip::{ClusterIpAllocator, DEFAULT_SERVICE_RANGE, ServiceRange};
use services::encryption::{self, EncryptionConfig};

use super::{stop_signal, write_atomically};
use crate::bootstrap::{self, CredentialGate, Issue};
use crate::component::kubeconfig_name;
use crate::flags::Flags;

/// `skiff apiserver --help`.
pub const USAGE: &str = "\
skiff apiserver: the API server (HTTPS, Kubernetes-shaped REST) over its store

Usage: skiff apiserver [options]

Options:
  --data-dir DIR        keeps pki/, tokens.csv, admin.kubeconfig and the embedded store
                        [default: ./skiff-data/apiserver]
  --listen ADDR         IP:PORT to listen on; port 0 picks a free port [default: 127.0.0.1:6443]
  --storage KIND        embedded | memory | etcd=URL [default: embedded, in DIR/store]
  --url-file FILE       write the URL clients should use to FILE once serving
  --kubeconfig-dir DIR  write a kubeconfig for every identity of the token file to DIR
  --tls-san NAME        an extra DNS name or IP for the serving certificate (repeatable)
  --kubelet-token-file FILE
                        the token sent to kubelets' log endpoints for `kubectl logs` (made if
                        missing) [default: DIR/kubelet-proxy.token]
  --encryption-config FILE
                        encrypt Secrets at rest with the keys of this EncryptionConfiguration
                        (lab 08; the first provider encrypts, every listed one decrypts)
  -h, --help            print this help

Environment: SKIFF_STORAGE sets the default of --storage. RUST_LOG=debug logs every request.
";

/// Where the API server keeps its objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageKind {
    /// The labs' own store, embedded, persisted under the data dir (the default).
    Embedded,
    /// In memory: gone when the process stops.
    Memory,
    /// A real etcd (or lab 07's `skiff-store`) at this URL, through etcd's JSON API.
    Etcd(String),
}

impl StorageKind {
    /// Parses `memory`, `embedded` or `etcd=URL`; the error names the flag.
    pub fn parse(text: &str) -> Result<StorageKind, String> {
        match text {
            "embedded" => Ok(StorageKind::Embedded),
            "memory" => Ok(StorageKind::Memory),
            _ => match text.strip_prefix("etcd=") {
                Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                    Ok(StorageKind::Etcd(url.to_string()))
                }
                Some(url) => Err(format!(
                    "--storage: etcd URL {url:?} must start with http:// or https://"
                )),
                None => Err(format!(
                    "--storage: {text:?} is not one of embedded, memory, etcd=URL"
                )),
            },
        }
    }
}

/// The parsed flags of `skiff apiserver`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiServerArgs {
    /// `--data-dir`.
    pub data_dir: PathBuf,
    /// `--listen`.
    pub listen: SocketAddr,
    /// `--storage`.
    pub storage: StorageKind,
    /// `--url-file`.
    pub url_file: Option<PathBuf>,
    /// `--kubeconfig-dir`.
    pub kubeconfig_dir: Option<PathBuf>,
    /// `--tls-san`, in order.
    pub tls_sans: Vec<String>,
    /// `--encryption-config`: Secrets are encrypted at rest when given.
    pub encryption_config: Option<PathBuf>,
    /// `--kubelet-token-file`; `None` means `DIR/kubelet-proxy.token`.
    pub kubelet_token_file: Option<PathBuf>,
}

/// Parses the flags; `Ok(None)` for `--help`.
pub fn parse(args: &[String]) -> Result<Option<ApiServerArgs>, String> {
    let default_storage = std::env::var("SKIFF_STORAGE").unwrap_or_else(|_| "embedded".into());
    let mut parsed = ApiServerArgs {
        data_dir: PathBuf::from("./skiff-data/apiserver"),
        listen: SocketAddr::from(([127, 0, 0, 1], 6443)),
        storage: StorageKind::parse(&default_storage).map_err(|e| format!("SKIFF_STORAGE: {e}"))?,
        url_file: None,
        kubeconfig_dir: None,
        tls_sans: Vec::new(),
        encryption_config: None,
        kubelet_token_file: None,
    };
    let mut flags = Flags::new(args);
    while let Some(flag) = flags.next_flag() {
        match flag.name.as_str() {
            "-h" | "--help" => return Ok(None),
            "--data-dir" => parsed.data_dir = flags.value(&flag)?.into(),
            "--listen" => parsed.listen = flags.parsed(&flag, "an IP:PORT address")?,
            "--storage" => parsed.storage = StorageKind::parse(&flags.value(&flag)?)?,
            "--url-file" => parsed.url_file = Some(flags.value(&flag)?.into()),
            "--kubeconfig-dir" => parsed.kubeconfig_dir = Some(flags.value(&flag)?.into()),
            "--tls-san" => parsed.tls_sans.push(flags.value(&flag)?),
            "--encryption-config" => parsed.encryption_config = Some(flags.value(&flag)?.into()),
            "--kubelet-token-file" => parsed.kubelet_token_file = Some(flags.value(&flag)?.into()),
            other => return Err(format!("{other}: unknown option (see --help)")),
        }
    }
    Ok(Some(parsed))
}

/// Opens the storage `kind` for a server whose data dir is `data_dir`.
pub async fn open_storage(
    kind: &StorageKind,
    data_dir: &std::path::Path,
) -> Result<Arc<dyn Storage>, String> {
    Ok(match kind {
        StorageKind::Memory => Arc::new(MemoryStorage::new()),
        StorageKind::Embedded => {
            let dir = data_dir.join("store");
            Arc::new(
                EmbeddedStorage::open(&dir)
                    .map_err(|e| format!("--storage embedded ({}): {e}", dir.display()))?,
            )
        }
        StorageKind::Etcd(url) => Arc::new(
            EtcdStorage::connect(url)
                .await
                .map_err(|e| format!("--storage etcd={url}: {e}"))?,
        ),
    })
}

/// Wraps `storage` so that Secrets are sealed before they reach it (lab 08), when an
/// encryption config is given; a config that cannot be read or parsed stops the start.
fn encrypt_secrets(
    storage: Arc<dyn Storage>,
    config: Option<&std::path::Path>,
) -> Result<Arc<dyn Storage>, String> {
    let Some(path) = config else {
        return Ok(storage);
    };
    let config = EncryptionConfig::load(path)
        .map_err(|e| format!("--encryption-config {}: {e}", path.display()))?;
    Ok(encryption::wrap(storage, config))
}

/// The token in `path` (surrounding whitespace trimmed), or a new random one written there
/// (mode 0600) if the file does not exist. Errors name the file.
pub fn kubelet_token(path: &std::path::Path) -> Result<String, String> {
    let error = |e: std::io::Error| format!("--kubelet-token-file {}: {e}", path.display());
    match std::fs::read_to_string(path) {
        Ok(text) if text.trim().is_empty() => {
            return Err(format!(
                "--kubelet-token-file {}: the file holds no token",
                path.display()
            ));
        }
        Ok(text) => return Ok(text.trim().to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(error(e)),
    }
    let token = apiserver::http::authn::random_token().map_err(error)?;
    write_kubelet_token(path, &token)?;
    Ok(token)
}

/// Writes `token` to a new file at `path` (mode 0600, only the owner reads it), creating its
/// directory: `skiff join` keeps there the token the API server shows its kubelet.
pub fn write_kubelet_token(path: &std::path::Path, token: &str) -> Result<(), String> {
    use std::os::unix::fs::OpenOptionsExt;
    let error = |e: std::io::Error| format!("--kubelet-token-file {}: {e}", path.display());
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(error)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(error)?;
    std::io::Write::write_all(&mut file, format!("{token}\n").as_bytes()).map_err(error)
}

// ANCHOR: run
/// Serves until SIGINT or SIGTERM: opens the storage, starts HTTPS (the PKI and tokens are made
/// on the first start and reused after), writes the kubeconfigs and then the URL file. Pod
/// logs are proxied to the kubelet of the pod's node, which checks the shared token.
pub async fn run(args: ApiServerArgs) -> Result<(), String> {
    let stop = stop_signal()?;
    let storage = open_storage(&args.storage, &args.data_dir).await?;
    let storage = encrypt_secrets(storage, args.encryption_config.as_deref())?;
    let mut options = ShellOptions::new(&args.data_dir, args.listen);
    options.extra_sans = args.tls_sans.clone();
    // Lab 08's ClusterIP allocator runs in the create path of every Service, keeping its
    // bitmap in the same storage as the objects.
    let range = ServiceRange::parse(DEFAULT_SERVICE_RANGE)?;
    let allocator = ClusterIpAllocator::new(storage.clone(), range);
    let core = ApiServer::new(storage).with_admission(Arc::new(allocator));
    // `kubectl logs`: the core finds the pod's node, this proxy reads the Node (through the
    // core itself) for the kubelet's address and port and asks that kubelet.
    let token_file = args
        .kubelet_token_file
        .clone()
        .unwrap_or_else(|| args.data_dir.join("kubelet-proxy.token"));
    let kubelet_client_token = kubelet_token(&token_file)?;
    let logs = KubeletLogs::new(Arc::new(core.clone()), kubelet_client_token.clone());
    let core = core.with_pod_logs(Arc::new(logs));
    // `skiff join`'s credential requests come back here: this task owns the token file.
    let (issuer, mut issues) = mpsc::channel::<Issue>(8);
    let gate = CredentialGate::new(Arc::new(core), issuer, kubelet_client_token);
    let mut started = start(options, Arc::new(gate))
        .await
        .map_err(|e| e.to_string())?;
    if let Some(dir) = &args.kubeconfig_dir {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("--kubeconfig-dir {}: {e}", dir.display()))?;
        // One kubeconfig per identity: each component talks to the API as itself.
        for entry in started.tokens.entries() {
            let path = dir.join(format!("{}.kubeconfig", kubeconfig_name(&entry.user.name)));
            started
                .write_kubeconfig_for(&entry.user.name, &path)
                .map_err(|e| format!("--kubeconfig-dir {}: {e}", dir.display()))?;
        }
    }
    // Last: whoever waits for this file may use the server at once.
    if let Some(path) = &args.url_file {
        write_atomically(path, &format!("{}\n", started.url))
            .map_err(|e| format!("--url-file {}: {e}", path.display()))?;
    }
    println!("skiff apiserver listening on {}", started.url);
    let mut stop = std::pin::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => break,
            Some(request) = issues.recv() => {
                let result = bootstrap::issue(&started.token_file, &request.node, |tokens| {
                    started.handle.set_authenticator(tokens.clone());
                    started.tokens = tokens;
                });
                let _ = request.reply.send(result);
            }
        }
    }
    started.handle.shutdown().await;
    if let Some(path) = &args.url_file {
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}
// ANCHOR_END: run
