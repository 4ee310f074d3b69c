//! `skiff up`: the whole cluster on this machine, one process per component.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use api::client::ApiClient;
use api::{LabelSelector, Node};
use apiserver::client::HttpApi;
use apiserver::http::TokenFile;
use tokio::sync::{mpsc, watch};

use crate::backoff::RestartPolicy;
use crate::cmd::apiserver::StorageKind;
use crate::component::{ClusterSpec, Component, cluster_components, component_args, node_name};
use crate::flags::Flags;
use crate::layout::Layout;
use crate::progress::{Progress, State};
use crate::supervisor::{ProcessSpec, Report, Supervised};

/// `skiff up --help`.
pub const USAGE: &str = "\
skiff up: a whole cluster on this machine, every component a process of its own

Usage: skiff up [options]

Options:
  --nodes N          how many worker nodes (a kubelet and a kube-proxy each) [default: 1]
  --data-dir DIR     where the cluster keeps its state; run again on the same DIR to resume
                     [default: ./skiff-data] [env: SKIFF_DATA_DIR]
  --listen ADDR      the API server's IP:PORT; port 0 picks a free one [default: 127.0.0.1:6443]
  --storage KIND     embedded | memory | etcd=URL [default: embedded]
  --demo             once ready, deploy 3 echo servers and a Service, narrating each step
  --standby          run a second scheduler and controller manager; each pair elects a
                     leader through a Lease, the standby takes over when it expires
  --lease-seconds N  the leader Leases' duration with --standby [default: 15]
  --node-grace-seconds N
                     a node missing heartbeats this long is NotReady [default: 5]
  --toleration-seconds N
                     then its pods are evicted after this long [default: 3]
  -h, --help         print this help

Ctrl-C stops the cluster: kubelets stop their pods first, the API server last.
Each component logs to DIR/logs/<component>.log; NO_COLOR=1 turns colour off.
";

/// How long a component has to stop after SIGTERM before its group is killed.
pub const STOP_GRACE: Duration = Duration::from_secs(20);

/// How often `skiff up` looks again at a component that is not ready yet.
const POLL: Duration = Duration::from_millis(200);

/// The parsed flags of `skiff up`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpArgs {
    /// `--data-dir`.
    pub data_dir: PathBuf,
    /// The cluster to run.
    pub spec: ClusterSpec,
    /// `--demo`.
    pub demo: bool,
    /// `--standby`, with the `--lease-seconds` it passes to both schedulers.
    pub standby: Option<u64>,
    /// `--node-grace-seconds` and `--toleration-seconds`, for the controller manager.
    pub node_lifecycle: (Option<u64>, Option<u64>),
}

/// Parses the flags; `Ok(None)` for `--help`. Errors name the flag.
pub fn parse(args: &[String]) -> Result<Option<UpArgs>, String> {
    let mut parsed = UpArgs {
        data_dir: std::env::var_os("SKIFF_DATA_DIR")
            .map_or_else(|| PathBuf::from("./skiff-data"), PathBuf::from),
        spec: ClusterSpec {
            nodes: 1,
            listen: SocketAddr::from(([127, 0, 0, 1], 6443)),
            storage: "embedded".to_string(),
        },
        demo: false,
        standby: None,
        node_lifecycle: (None, None),
    };
    let mut standby = false;
    let mut lease_seconds: u64 = 15;
    let mut flags = Flags::new(args);
    while let Some(flag) = flags.next_flag() {
        match flag.name.as_str() {
            "-h" | "--help" => return Ok(None),
            "--nodes" => {
                let nodes: u16 = flags.parsed(&flag, "a number of nodes (1 to 89)")?;
                // Each node's proxy needs a loopback block of its own (lab 08: 89 of them).
                if !(1..=89).contains(&nodes) {
                    return Err(format!("--nodes: {nodes} is not between 1 and 89"));
                }
                parsed.spec.nodes = nodes;
            }
            "--data-dir" => parsed.data_dir = flags.value(&flag)?.into(),
            "--listen" => parsed.spec.listen = flags.parsed(&flag, "an IP:PORT address")?,
            "--storage" => {
                let value = flags.value(&flag)?;
                StorageKind::parse(&value)?;
                parsed.spec.storage = value;
            }
            "--demo" => parsed.demo = true,
            "--standby" => standby = true,
            "--lease-seconds" => {
                lease_seconds = flags.parsed(&flag, "a number of seconds")?;
                crate::cmd::scheduler::election_config("check", lease_seconds)?;
            }
            "--node-grace-seconds" => {
                let seconds: u64 = flags.parsed(&flag, "a number of seconds")?;
                crate::cmd::controller_manager::node_grace(seconds)?;
                parsed.node_lifecycle.0 = Some(seconds);
            }
            "--toleration-seconds" => {
                let seconds: u32 = flags.parsed(&flag, "a number of seconds")?;
                parsed.node_lifecycle.1 = Some(u64::from(seconds));
            }
            other => return Err(format!("{other}: unknown option (see --help)")),
        }
    }
    parsed.standby = standby.then_some(lease_seconds);
    Ok(Some(parsed))
}

// ANCHOR: healing_args
/// The flags `skiff up` adds to a component's command line for self-healing: with
/// `--standby`, both schedulers and both controller managers elect a leader (each under its
/// own identity); the controller managers get the node lifecycle timing, when set.
pub fn healing_args(component: &Component, args: &UpArgs) -> Vec<String> {
    let mut extra = Vec::new();
    let elected = matches!(
        component,
        Component::Scheduler
            | Component::StandbyScheduler
            | Component::ControllerManager
            | Component::StandbyControllerManager
    );
    if let (true, Some(seconds)) = (elected, args.standby) {
        extra.push("--leader-elect".to_string());
        extra.push(format!("--lease-seconds={seconds}"));
    }
    match component {
        Component::ControllerManager | Component::StandbyControllerManager => {
            if let Some(seconds) = args.node_lifecycle.0 {
                extra.push(format!("--node-grace-seconds={seconds}"));
            }
            if let Some(seconds) = args.node_lifecycle.1 {
                extra.push(format!("--toleration-seconds={seconds}"));
            }
        }
        _ => {}
    }
    extra
}
// ANCHOR_END: healing_args

/// Runs the cluster until SIGINT or SIGTERM, then stops it.
pub async fn run(args: UpArgs) -> Result<(), String> {
    let progress = Progress::new();
    let stopping = stop_channel()?;
    let data_dir = std::path::absolute(&args.data_dir)
        .map_err(|e| format!("--data-dir {}: {e}", args.data_dir.display()))?;
    let layout = Layout::new(&data_dir);
    let bootstrap_token = prepare(&layout, args.spec.nodes)?;
    let mut args = args;
    args.spec.listen = pin_port(args.spec.listen)?;
    // Heartbeats older than this are the previous run's (see `ready_nodes_since`).
    let since = crate::cmd::wall_clock_now();
    let program = std::env::current_exe().map_err(|e| format!("finding my own binary: {e}"))?;
    let (reports_tx, mut reports) = mpsc::unbounded_channel();
    let mut components = cluster_components(args.spec.nodes);
    if args.standby.is_some() {
        // [apiserver, scheduler, controller-manager, ...] gets a standby after each.
        components.insert(2, Component::StandbyScheduler);
        components.insert(4, Component::StandbyControllerManager);
    }
    progress.say(&format!(
        "{} {} node(s), data in {}",
        progress.bold("skiff up:"),
        args.spec.nodes,
        data_dir.display()
    ));
    let mut running: Vec<(Component, Supervised)> = Vec::new();
    let mut start = |component: &Component| {
        let name = component.name();
        let spec = ProcessSpec {
            name: name.clone(),
            program: program.clone(),
            args: [
                component_args(component, &args.spec, &layout),
                healing_args(component, &args),
            ]
            .concat(),
            log_file: layout.log_file(&name),
        };
        let supervised = Supervised::start(
            spec,
            RestartPolicy::default(),
            STOP_GRACE,
            reports_tx.clone(),
        );
        running.push((component.clone(), supervised));
    };
    // The API server first: everything else needs it.
    start(&components[0]);
    let waited = wait_ready(
        &components[..1],
        &layout,
        &progress,
        &mut reports,
        &stopping,
        since,
    )
    .await;
    let admin = match waited {
        Some(()) => HttpApi::from_kubeconfig(&layout.admin_kubeconfig())?,
        None => return shutdown(running, &progress).await,
    };
    for component in &components[1..] {
        start(component);
    }
    if wait_ready(
        &components[1..],
        &layout,
        &progress,
        &mut reports,
        &stopping,
        since,
    )
    .await
    .is_none()
    {
        return shutdown(running, &progress).await;
    }
    let kubeconfig = layout.admin_kubeconfig();
    progress.say("");
    progress.say(&format!(
        "{} {} node(s) Ready",
        progress.bold("cluster ready:"),
        args.spec.nodes
    ));
    progress.say(&format!("  API server   {}", admin.server()));
    progress.say(&format!("  kubeconfig   {}", kubeconfig.display()));
    progress.say(&format!("  dashboard    {}", dashboard_url(admin.server())));
    progress.say(&format!(
        "  tokens       {} (sign in with the admin's or the viewer's)",
        layout.token_file().display()
    ));
    progress.say(&format!(
        "  logs         {}",
        layout.root().join("logs").display()
    ));
    progress.say(&format!(
        "  try          kubectl --kubeconfig {} get nodes",
        kubeconfig.display()
    ));
    progress.say(&format!(
        "  join         {}",
        join_command(
            admin.server(),
            &bootstrap_token,
            &layout,
            node_name(args.spec.nodes)
        )
    ));
    progress.say("Press Ctrl-C to stop the cluster (pods included).");
    let mut stop_rx = stopping.clone();
    if args.demo {
        tokio::select! {
            result = crate::demo::run(&admin, &progress) => {
                if let Err(error) = result {
                    progress.say(&format!("demo: {error}"));
                }
            }
            _ = stop_rx.wait_for(|s| *s) => return shutdown(running, &progress).await,
        }
    }
    loop {
        tokio::select! {
            Some(report) = reports.recv() => show_report(&progress, &report),
            _ = stop_rx.wait_for(|s| *s) => break,
        }
    }
    shutdown(running, &progress).await
}

// ANCHOR: prepare
/// Creates the directories, forgets the previous run's markers, and makes sure the token file
/// holds a token for every identity, nodes included, before the API server reads it, and that
/// the token the API server shows the kubelets' log endpoints exists. A
/// second run finds the tokens (and PKI, and store) of the first: the cluster resumes.
/// Returns the bootstrap token that `skiff join` takes.
fn prepare(layout: &Layout, nodes: u16) -> Result<String, String> {
    for dir in [layout.apiserver_dir(), layout.root().join("run")] {
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("--data-dir: creating {}: {e}", dir.display()))?;
    }
    let _ = std::fs::remove_file(layout.url_file());
    if let Ok(entries) = std::fs::read_dir(layout.root().join("run")) {
        for entry in entries.flatten() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    let tokens = TokenFile::new(layout.token_file());
    tokens.ensure_builtin().map_err(|e| e.to_string())?;
    for index in 0..nodes {
        tokens
            .node_token(&node_name(index))
            .map_err(|e| e.to_string())?;
    }
    // The API server's token for the kubelets' log endpoints: both sides read this file.
    crate::cmd::apiserver::kubelet_token(&layout.kubelet_token_file())?;
    crate::bootstrap::ensure_bootstrap_token(&tokens)
}
// ANCHOR_END: prepare

/// The dashboard's address on the API server at `server` (`https://127.0.0.1:6443` gives
/// `https://127.0.0.1:6443/ui/`).
pub fn dashboard_url(server: &str) -> String {
    format!("{}/ui/", server.trim_end_matches('/'))
}

/// The command that adds node `node` to this cluster from the same machine: the bootstrap
/// token, and the CA file that lets the new node check it talks to the real API server.
pub fn join_command(server: &str, token: &str, layout: &Layout, node: String) -> String {
    format!(
        "skiff join --api {server} --token {token} --ca-file {} --node {node}",
        layout.apiserver_dir().join("pki").join("ca.crt").display()
    )
}

/// `--listen` with port 0 becomes a free port chosen now, so that an API server restarted by
/// the supervisor comes back on the same port: the kubeconfigs every component already read
/// stay right. (Another program could take the port in between; then the API server fails to
/// bind, and the crash is reported.)
pub fn pin_port(listen: SocketAddr) -> Result<SocketAddr, String> {
    if listen.port() != 0 {
        return Ok(listen);
    }
    let probe =
        std::net::TcpListener::bind(listen).map_err(|e| format!("--listen {listen}: {e}"))?;
    probe
        .local_addr()
        .map_err(|e| format!("--listen {listen}: {e}"))
}

/// A channel that turns true on the first SIGINT or SIGTERM.
fn stop_channel() -> Result<watch::Receiver<bool>, String> {
    let signal = crate::cmd::stop_signal()?;
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        signal.await;
        let _ = tx.send(true);
    });
    Ok(rx)
}

/// Shows a supervisor report (a crash, a failed start) on the progress display.
pub(crate) fn show_report(progress: &Progress, report: &Report) {
    match report {
        Report::Started { .. } => {}
        Report::Crashed {
            name,
            status,
            restart_in,
        } => progress.show(
            name,
            State::Crashed,
            &format!("{status}; restarting in {}s", restart_in.as_secs_f32()),
        ),
        Report::SpawnFailed { name, error } => {
            progress.show(name, State::Crashed, &format!("cannot start: {error}"))
        }
    }
}

/// Shows each of `components` starting, then ready as soon as it is (a node: with a heartbeat
/// at `since` or later); `None` if a stop signal came first.
async fn wait_ready(
    components: &[Component],
    layout: &Layout,
    progress: &Progress,
    reports: &mut mpsc::UnboundedReceiver<Report>,
    stopping: &watch::Receiver<bool>,
    since: api::Time,
) -> Option<()> {
    let mut pending: BTreeMap<String, &Component> = BTreeMap::new();
    for component in components {
        progress.show(&component.name(), State::Starting, "");
        pending.insert(component.name(), component);
    }
    let mut stopping = stopping.clone();
    let mut admin: Option<HttpApi> = None;
    while !pending.is_empty() {
        if admin.is_none() && layout.url_file().exists() {
            admin = HttpApi::from_kubeconfig(&layout.admin_kubeconfig()).ok();
        }
        let ready_nodes = match &admin {
            Some(api) => ready_nodes_since(api, since).await,
            None => Vec::new(),
        };
        let mut now_ready = Vec::new();
        for (name, component) in &pending {
            if let Some(detail) = readiness(component, layout, admin.as_ref(), &ready_nodes).await {
                progress.show(name, State::Ready, &detail);
                now_ready.push(name.clone());
            }
        }
        for name in now_ready {
            pending.remove(&name);
        }
        if pending.is_empty() {
            break;
        }
        tokio::select! {
            Some(report) = reports.recv() => show_report(progress, &report),
            _ = stopping.wait_for(|s| *s) => return None,
            () = tokio::time::sleep(POLL) => {}
        }
    }
    Some(())
}

// ANCHOR: readiness
/// Whether `component` is ready, with a detail to show: the API server when it answers
/// `/readyz`, a kubelet when its Node's Ready condition is True, the others once they wrote
/// their ready marker (after their first successful list from the API).
async fn readiness(
    component: &Component,
    layout: &Layout,
    admin: Option<&HttpApi>,
    ready_nodes: &[String],
) -> Option<String> {
    match component {
        Component::ApiServer => {
            let api = admin?;
            let (status, _) = api
                .raw(hyper::Method::GET, "/readyz", None, bytes::Bytes::new())
                .await
                .ok()?;
            (status == 200).then(|| api.server().to_string())
        }
        Component::Kubelet { node, .. } => ready_nodes
            .contains(node)
            .then(|| format!("node {node} Ready")),
        other => layout.ready_file(&other.name()).exists().then(String::new),
    }
}
// ANCHOR_END: readiness

/// The names of the nodes whose Ready condition is True.
pub async fn ready_nodes<C: ApiClient>(api: &C) -> Vec<String> {
    ready_nodes_since(api, api::Time(i64::MIN)).await
}

/// The names of the nodes whose Ready condition is True and was reported at `since` or later.
/// On a resumed cluster the stored Nodes still say Ready from the previous run: only a fresh
/// heartbeat proves that this run's kubelet is up.
pub async fn ready_nodes_since<C: ApiClient>(api: &C, since: api::Time) -> Vec<String> {
    let Ok(nodes) = api.list::<Node>(None, &LabelSelector::default()).await else {
        return Vec::new();
    };
    nodes
        .items
        .into_iter()
        .filter(|node| {
            node.status.as_ref().is_some_and(|s| {
                s.conditions.iter().any(|c| {
                    c.condition_type == "Ready"
                        && c.status == "True"
                        && c.last_heartbeat_time.is_some_and(|t| t >= since)
                })
            })
        })
        .filter_map(|node| node.metadata.name)
        .collect()
}

// ANCHOR: shutdown
/// Stops everything in order: the nodes first (each kubelet stops its pods while the API
/// server can still record it), then the controllers and the scheduler, the API server last.
async fn shutdown(
    running: Vec<(Component, Supervised)>,
    progress: &Progress,
) -> Result<(), String> {
    progress.say("");
    progress.say(&format!(
        "{} stopping the cluster",
        progress.bold("skiff up:")
    ));
    let (nodes, mut control): (Vec<_>, Vec<_>) =
        running.into_iter().partition(|(c, _)| c.is_node());
    stop_all(nodes, progress).await;
    let apiserver: Vec<_> = control
        .iter()
        .position(|(c, _)| *c == Component::ApiServer)
        .map(|i| control.remove(i))
        .into_iter()
        .collect();
    stop_all(control, progress).await;
    stop_all(apiserver, progress).await;
    progress.say("stopped: no process left behind");
    Ok(())
}
// ANCHOR_END: shutdown

/// Stops these processes at the same time and waits for all of them.
async fn stop_all(group: Vec<(Component, Supervised)>, progress: &Progress) {
    let tasks: Vec<_> = group
        .into_iter()
        .map(|(component, supervised)| {
            tokio::spawn(async move {
                supervised.stop().await;
                component.name()
            })
        })
        .collect();
    for task in tasks {
        if let Ok(name) = task.await {
            progress.show(&name, State::Stopped, "");
        }
    }
}
