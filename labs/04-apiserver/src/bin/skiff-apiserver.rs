//! `skiff-apiserver`: the API server as a process. HTTPS with the cluster's own CA, bearer
//! tokens, the REST core over a chosen storage; writes an admin kubeconfig for kubectl.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use apiserver::ApiServer;
use apiserver::http::{ShellOptions, start};
use apiserver::storage::Storage;
use apiserver::storage::memory::MemoryStorage;
use tokio::signal::unix::{SignalKind, signal};

const USAGE: &str = "\
skiff-apiserver: the skiff API server (HTTPS, Kubernetes-shaped REST)

USAGE:
    skiff-apiserver [OPTIONS]

OPTIONS:
    --data-dir DIR       keeps pki/, tokens.csv, admin.kubeconfig [default: ./skiff-data]
    --listen ADDR        address to listen on; port 0 picks a free port [default: 127.0.0.1:6443]
    --storage KIND       memory | embedded | etcd=URL [default: memory]
    --token-file FILE    a static token file (token,user,uid,\"groups\") instead of DIR/tokens.csv
    --tls-san NAME       an extra DNS name or IP for the serving certificate (repeatable)
    --audit-log FILE     append one JSON line per mutating request to FILE
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

fn storage(kind: &str) -> Result<Arc<dyn Storage>, String> {
    match kind {
        "memory" => Ok(Arc::new(MemoryStorage::new())),
        "embedded" => Err(
            "--storage embedded: not built yet (the embedded store comes with lab 07's backend)"
                .to_string(),
        ),
        url if url.starts_with("etcd=") => Err(format!(
            "--storage {url}: not built yet (the etcd backend comes with lab 07's backend)"
        )),
        other => Err(format!(
            "--storage {other:?}: expected memory, embedded or etcd=URL"
        )),
    }
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
    let storage = storage(&args.storage)?;
    if let Some(path) = &args.audit_log {
        // Opened now so a bad path fails at start, not at the first write.
        apiserver::audit::AuditLog::to_file(path)
            .map_err(|e| format!("--audit-log {}: {e}", path.display()))?;
        return Err(format!(
            "--audit-log {}: not built yet (the core does not record audit entries yet)",
            path.display()
        ));
    }
    let core = ApiServer::new(storage);
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
    println!("admin kubeconfig: {kubeconfig}");
    println!("try: kubectl --kubeconfig {kubeconfig} get nodes");
    tokio::select! {
        _ = interrupt.recv() => {}
        _ = terminate.recv() => {}
    }
    tracing::info!("shutting down");
    started.handle.shutdown().await;
    Ok(())
}
