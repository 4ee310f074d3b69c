//! The command line of the `kubelet` binary, parsed by hand (one small need, no extra crate).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::config::KubeletConfig;

/// The usage text printed by `--help`.
pub const USAGE: &str = "\
kubelet: runs the pods of one skiff node

Usage: kubelet --node NAME [options]

Options:
  --node NAME            this node's name (required)
  --manifests DIR        run the static pod manifests (*.yaml, *.yml, *.json) of DIR
  --root DIR             where the runtime keeps sandboxes and logs, and the kubelet
                         the pods' ConfigMap and Secret volumes (DIR/pods)
                         (default: a new directory under the system temp dir)
  --image-binary PATH    the program behind the built-in images skiff/* (default: this
                         kubelet binary, which contains them)
  --sync-period-ms N     longest time between two syncs (default 1000)
  --backoff-base-ms N    first restart back-off (default 10000)
  --backoff-cap-ms N     longest restart back-off (default 300000)
  --pod-range CIDR       loopback range for pod IPs (default 127.1.0.0/16)
  --no-cgroups           do not use cgroups even where available
  --logs-token-file FILE serve the log endpoint (GET /containerLogs/NS/POD/CONTAINER, what
                         `kubectl logs` reaches through the API server) to callers that
                         send the token in FILE, and advertise it in the Node's status
  --logs-listen ADDR     the log endpoint's IP:PORT; port 0 picks a free one
                         (default 127.0.0.1:0; only with --logs-token-file)
  -h, --help             print this help

The kubelet talks to an in-memory API inside the process until the API server exists
(lab 04). Stop it with Ctrl-C or SIGTERM: every pod is stopped gracefully first.
Set RUST_LOG=debug for more detail.
";

/// Everything the command line says.
#[derive(Debug, Clone)]
pub struct Args {
    /// The kubelet's configuration.
    pub config: KubeletConfig,
    /// `--root`.
    pub root: Option<PathBuf>,
    /// `--image-binary`.
    pub image_binary: Option<PathBuf>,
    /// `--pod-range`, as (base, prefix length).
    pub pod_range: Option<(std::net::Ipv4Addr, u8)>,
    /// `--no-cgroups`.
    pub no_cgroups: bool,
    /// `--logs-token-file`: the log endpoint is served only when it is given.
    pub logs_token_file: Option<PathBuf>,
    /// `--logs-listen`.
    pub logs_listen: SocketAddr,
}

/// The log endpoint's address when `--logs-listen` is not given: a free port on loopback.
pub const DEFAULT_LOGS_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 0);

/// What the command line asks for.
#[derive(Debug, Clone)]
pub enum Command {
    /// Print the usage and exit.
    Help,
    /// Run a kubelet.
    Run(Box<Args>),
}

// ANCHOR: parse
/// Parses the arguments (without the program name). Errors name the flag and the problem.
pub fn parse(args: &[String]) -> Result<Command, String> {
    let mut node = None;
    let mut parsed = Args {
        config: KubeletConfig::new(""),
        root: None,
        image_binary: None,
        pod_range: None,
        no_cgroups: false,
        logs_token_file: None,
        logs_listen: DEFAULT_LOGS_LISTEN,
    };
    let mut logs_listen_given = false;
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        let mut value = || {
            rest.next()
                .cloned()
                .ok_or_else(|| format!("{flag}: missing value"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--node" => node = Some(value()?),
            "--manifests" => parsed.config.manifest_dir = Some(PathBuf::from(value()?)),
            "--root" => parsed.root = Some(PathBuf::from(value()?)),
            "--image-binary" => parsed.image_binary = Some(PathBuf::from(value()?)),
            "--sync-period-ms" => parsed.config.sync_period = millis(flag, &value()?)?,
            "--backoff-base-ms" => parsed.config.backoff.base = millis(flag, &value()?)?,
            "--backoff-cap-ms" => parsed.config.backoff.cap = millis(flag, &value()?)?,
            "--pod-range" => parsed.pod_range = Some(cidr(flag, &value()?)?),
            "--no-cgroups" => parsed.no_cgroups = true,
            "--logs-token-file" => parsed.logs_token_file = Some(PathBuf::from(value()?)),
            "--logs-listen" => {
                let text = value()?;
                parsed.logs_listen = text.parse().map_err(|_| {
                    format!("{flag}: {text:?} is not an IP:PORT address such as 127.0.0.1:0")
                })?;
                logs_listen_given = true;
            }
            other => return Err(format!("{other}: unknown option (see --help)")),
        }
    }
    let node = node.ok_or("--node: required (the name of this node)")?;
    if logs_listen_given && parsed.logs_token_file.is_none() {
        return Err(
            "--logs-listen: needs --logs-token-file (the endpoint only answers the token's holder)"
                .to_string(),
        );
    }
    if node.is_empty() || !api::validation::names::dns1123_subdomain(&node).is_empty() {
        return Err(format!(
            "--node: {node:?} is not a valid node name (a DNS-1123 subdomain)"
        ));
    }
    parsed.config.pods_dir = match &parsed.root {
        Some(root) => root.join("pods"),
        None => KubeletConfig::new(&node).pods_dir,
    };
    parsed.config.node_name = node;
    Ok(Command::Run(Box::new(parsed)))
}
// ANCHOR_END: parse

/// A positive number of milliseconds.
fn millis(flag: &str, text: &str) -> Result<Duration, String> {
    match text.parse::<u64>() {
        Ok(ms) if ms > 0 => Ok(Duration::from_millis(ms)),
        _ => Err(format!(
            "{flag}: {text:?} is not a positive number of milliseconds"
        )),
    }
}

/// `127.1.0.0/16` as (address, prefix length).
fn cidr(flag: &str, text: &str) -> Result<(std::net::Ipv4Addr, u8), String> {
    let error = || format!("{flag}: {text:?} is not an IPv4 CIDR such as 127.1.0.0/16");
    let (address, prefix) = text.split_once('/').ok_or_else(error)?;
    Ok((
        address.parse().map_err(|_| error())?,
        prefix.parse().map_err(|_| error())?,
    ))
}

// ANCHOR: builtin_images
/// The kubelet's binaries are also the program behind the built-in images (`skiff/sleeper`,
/// `skiff/echo`, ...): the runtime runs `<binary> <program> <args>`. So `cargo run --bin
/// kubelet` needs nothing else built. Call this first thing in `main`: when this process was
/// started as an image, it runs that program and exits.
pub fn serve_builtin_image() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `serves` also covers the runtime's sandbox helpers, which the namespaced isolation
    // modes start through the image binary.
    let is_image = args
        .first()
        .is_some_and(|program| runtime::programs::serves(program));
    if is_image {
        std::process::exit(runtime::programs::run(&args));
    }
}

/// The image binary when none was given: this very binary (see [`serve_builtin_image`]).
pub fn default_image_binary() -> Option<PathBuf> {
    std::env::current_exe().ok()
}
// ANCHOR_END: builtin_images

/// What lab 08 adds to a kubelet: the Service variables and the Service names of the pods'
/// hosts files (see [`crate::Kubelet::with_service_env`], [`crate::Kubelet::with_service_hosts`]).
#[derive(Clone, Default)]
pub struct ServiceHooks {
    /// The `<NAME>_SERVICE_HOST` family, if any.
    pub env: Option<crate::ServiceEnv>,
    /// The hosts-file lines of the Services, if any.
    pub hosts: Option<crate::ServiceHosts>,
}

/// Runs a kubelet configured by `args` against `api` (an in-memory API in the `kubelet`
/// binary, the API server over HTTPS in `skiff kubelet`) on the real runtime, until `stop`
/// completes; then stops every pod and, if the runtime root was a temporary one, removes it.
pub async fn run_with_api<C: api::client::ApiClient + Clone>(
    args: Args,
    api: C,
    stop: impl std::future::Future<Output = ()>,
) -> Result<(), String> {
    run_with_hooks(args, api, ServiceHooks::default(), stop).await
}

/// [`run_with_api`], with the Service `hooks` lab 08 provides (`skiff kubelet` gives them).
pub async fn run_with_hooks<C: api::client::ApiClient + Clone>(
    args: Args,
    api: C,
    hooks: ServiceHooks,
    stop: impl std::future::Future<Output = ()>,
) -> Result<(), String> {
    use std::sync::Arc;

    // The log endpoint first: a bad token file or address stops the start before anything runs.
    let endpoint = logs_endpoint(&args).await?;
    let root = args.root.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("skiff-kubelet-{}", std::process::id()))
    });
    let mut config = runtime::RuntimeConfig::new(&root);
    config.node_name = Some(args.config.node_name.clone());
    config.image_binary = args.image_binary.clone().or_else(default_image_binary);
    config.use_cgroups = !args.no_cgroups;
    if let Some(range) = args.pod_range {
        config.pod_range = range;
    }
    let runtime = Arc::new(
        runtime::RealRuntime::new(config).map_err(|e| format!("starting the runtime: {e}"))?,
    );
    // Pods' volumes live under the runtime's root, and go with it when it is a temp dir.
    let mut kubelet_config = args.config.clone();
    kubelet_config.pods_dir = root.join("pods");
    // The log endpoint, when there is a token to check: bound before the Node is registered,
    // so the status advertises the real port.
    let (logs_stop, logs_stopped) = tokio::sync::oneshot::channel::<()>();
    let logs = match endpoint {
        Some((listener, token)) => {
            let address = listener
                .local_addr()
                .map_err(|e| format!("--logs-listen {}: {e}", args.logs_listen))?;
            kubelet_config.kubelet_endpoint = Some(address);
            tracing::info!(%address, "serving container logs");
            let stop = async {
                let _ = logs_stopped.await;
            };
            Some(tokio::spawn(crate::logs::serve_logs_until(
                listener,
                runtime.clone(),
                token,
                stop,
            )))
        }
        None => None,
    };
    let mut kubelet = crate::Kubelet::new(
        kubelet_config,
        runtime.clone(),
        api,
        crate::RealProber,
        Arc::new(runtime::SystemClock),
    );
    if let Some(env) = hooks.env {
        kubelet = kubelet.with_service_env(env);
    }
    if let Some(hosts) = hooks.hosts {
        kubelet = kubelet.with_service_hosts(hosts);
    }
    kubelet.run(stop).await;
    drop(kubelet);
    // Followed logs end with their pods; whatever is still open ends now.
    let _ = logs_stop.send(());
    if let Some(task) = logs {
        let _ = task.await;
    }
    if let Ok(runtime) = Arc::try_unwrap(runtime) {
        drop(runtime); // kills and reaps anything left, removes cgroups
    }
    if args.root.is_none() {
        let _ = std::fs::remove_dir_all(&root);
    }
    Ok(())
}

// ANCHOR: logs_endpoint
/// The log endpoint's listener and token, if `--logs-token-file` was given. Errors name the
/// flag: an unreadable or empty token file, an address that cannot be bound.
pub async fn logs_endpoint(
    args: &Args,
) -> Result<Option<(tokio::net::TcpListener, String)>, String> {
    let Some(path) = &args.logs_token_file else {
        return Ok(None);
    };
    let token = std::fs::read_to_string(path)
        .map_err(|e| format!("--logs-token-file {}: {e}", path.display()))?
        .trim()
        .to_string();
    if token.is_empty() {
        return Err(format!(
            "--logs-token-file {}: the file holds no token",
            path.display()
        ));
    }
    let listener = tokio::net::TcpListener::bind(args.logs_listen)
        .await
        .map_err(|e| format!("--logs-listen {}: {e}", args.logs_listen))?;
    Ok(Some((listener, token)))
}
// ANCHOR_END: logs_endpoint
