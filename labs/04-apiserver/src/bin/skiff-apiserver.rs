//! `skiff-apiserver`: the API server as a process. HTTPS with the cluster's own CA, bearer
//! tokens, the REST core over a chosen storage; writes an admin kubeconfig for kubectl.

use std::net::SocketAddr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::sync::Arc;

use apiserver::ApiServer;
use apiserver::http::kubelet_logs::KubeletLogs;
use apiserver::http::{ShellOptions, start};
use apiserver::storage::Storage;
use apiserver::storage::embedded::EmbeddedStorage;
use apiserver::storage::etcd::EtcdStorage;
use apiserver::storage::memory::MemoryStorage;
use tokio::signal::unix::{SignalKind, signal};

const USAGE: &str = "\
skiff-apiserver: the skiff API server (HTTPS, Kubernetes-shaped REST)

USAGE:
    skiff-apiserver [OPTIONS]

OPTIONS:
    --data-dir DIR       keeps pki/, tokens.csv, admin.kubeconfig [default: ./skiff-data]
    --listen ADDR        address to listen on; port 0 picks a free port [default: 127.0.0.1:6443]
    --storage KIND       memory | embedded (lab 07's store in DIR/store) | etcd=http://HOST:PORT
                         [default: memory]
    --token-file FILE    a static token file (token,user,uid,\"groups\") instead of DIR/tokens.csv
    --tls-san NAME       an extra DNS name or IP for the serving certificate (repeatable)
    --audit-log FILE     append one JSON line per mutating request to FILE

`kubectl logs` is proxied to the kubelet of the pod's node with the token in
DIR/kubelet-proxy.token (made on first start).
    -h, --help           print this help

Logs go to stderr; RUST_LOG=debug shows every request.
";

/// The parsed command line.
#[derive(Debug)]
struct Args {
    data_dir: PathBuf,
    listen: SocketAddr,
    storage: String,
    token_file: Option<PathBuf>,
    tls_sans: Vec<String>,
    audit_log: Option<PathBuf>,
}

fn parse(args: &[String]) -> Result<Option<Args>, String> {
    let mut parsed = Args {
        data_dir: PathBuf::from("./skiff-data"),
        listen: SocketAddr::from(([127, 0, 0, 1], 6443)),
        storage: "memory".to_string(),
        token_file: None,
        tls_sans: Vec::new(),
        audit_log: None,
    };
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let (flag, inline) = match flag.split_once('=') {
            Some((f, v)) if f.starts_with("--") && f != "--storage" => (f, Some(v.to_string())),
            _ => (flag.as_str(), None),
        };
        if flag == "-h" || flag == "--help" {
            return Ok(None);
        }
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next().cloned())
                .ok_or_else(|| format!("{flag}: a value is required"))
        };
        match flag {
            "--data-dir" => parsed.data_dir = PathBuf::from(value()?),
            "--listen" => {
                let v = value()?;
                parsed.listen = v
                    .parse()
                    .map_err(|e| format!("--listen {v:?}: expected IP:PORT ({e})"))?;
            }
            "--storage" => parsed.storage = value()?,
            "--token-file" => parsed.token_file = Some(PathBuf::from(value()?)),
            "--tls-san" => parsed.tls_sans.push(value()?),
            "--audit-log" => parsed.audit_log = Some(PathBuf::from(value()?)),
            other => return Err(format!("unknown argument {other:?} (see --help)")),
        }
    }
    Ok(Some(parsed))
}

/// The storage backend named by `--storage`: memory, lab 07's store embedded in
/// `<data-dir>/store`, or an etcd (or skiff-store gateway) at `etcd=http://host:port`.
async fn storage(kind: &str, data_dir: &std::path::Path) -> Result<Arc<dyn Storage>, String> {
    match kind {
        "memory" => Ok(Arc::new(MemoryStorage::new())),
        "embedded" => {
            let dir = data_dir.join("store");
            std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            let store =
                EmbeddedStorage::open(&dir).map_err(|e| format!("--storage embedded: {e}"))?;
            Ok(Arc::new(store))
        }
        other => match other.strip_prefix("etcd=") {
            Some(url) => {
                let store = EtcdStorage::connect(url)
                    .await
                    .map_err(|e| format!("--storage {other}: {e}"))?;
                Ok(Arc::new(store))
            }
            None => Err(format!(
                "--storage {other:?}: expected memory, embedded or etcd=URL"
            )),
        },
    }
}

/// The token the API server shows kubelets when it proxies `kubectl logs`: made once, kept in
/// `<data-dir>/kubelet-proxy.token` (mode 0600), for kubelets to be started with.
fn kubelet_token(data_dir: &std::path::Path) -> Result<String, String> {
    let path = data_dir.join("kubelet-proxy.token");
    let err = |e: std::io::Error| format!("{}: {e}", path.display());
    if let Ok(token) = std::fs::read_to_string(&path) {
        return Ok(token.trim().to_string());
    }
    std::fs::create_dir_all(data_dir).map_err(err)?;
    let token = apiserver::http::authn::random_token().map_err(err)?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(err)?;
    std::io::Write::write_all(&mut file, format!("{token}\n").as_bytes()).map_err(err)?;
    Ok(token)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse(&args) {
        Ok(Some(args)) => args,
        Ok(None) => {
            print!("{USAGE}");
            return;
        }
        Err(message) => {
            eprintln!("skiff-apiserver: {message}");
            std::process::exit(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    if let Err(message) = runtime.block_on(run(args)) {
        eprintln!("skiff-apiserver: {message}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<(), String> {
    let storage = storage(&args.storage, &args.data_dir).await?;
    let mut core = ApiServer::new(storage);
    if let Some(path) = &args.audit_log {
        // Opened now so a bad path fails at start, not at the first write.
        let audit = apiserver::audit::AuditLog::to_file(path)
            .map_err(|e| format!("--audit-log {}: {e}", path.display()))?;
        core = core.with_audit(audit);
    }
    let logs = KubeletLogs::new(Arc::new(core.clone()), kubelet_token(&args.data_dir)?);
    let core = core.with_pod_logs(Arc::new(logs));
    let mut options = ShellOptions::new(&args.data_dir, args.listen);
    options.token_file = args.token_file.clone();
    options.extra_sans = args.tls_sans.clone();
    // Signals first: a SIGTERM during start-up must not kill the process half-way.
    let mut interrupt = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
    let mut terminate = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let started = start(options, Arc::new(core))
        .await
        .map_err(|e| e.to_string())?;
    let kubeconfig = started.admin_kubeconfig.display().to_string();
    println!("skiff-apiserver listening on {}", started.url);
    if started.tokens.token_for("admin").is_some() {
        println!("admin kubeconfig: {kubeconfig}");
        println!("try: kubectl --kubeconfig {kubeconfig} get nodes");
    } else {
        println!(
            "no kubeconfig written: {} has no token for user \"admin\"",
            started.token_file.path().display()
        );
    }
    tokio::select! {
        _ = interrupt.recv() => {}
        _ = terminate.recv() => {}
    }
    tracing::info!("shutting down");
    started.handle.shutdown().await;
    Ok(())
}
