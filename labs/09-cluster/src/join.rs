//! `skiff join`: one more node for a running cluster, from the bootstrap token `skiff up`
//! printed (issue #9).
//!
//! The token may only ask for a node credential (see [`crate::bootstrap`]). `skiff join`
//! exchanges it for the node's own identity, keeps that in a kubeconfig under its data
//! directory, then runs the node's kubelet and kube-proxy as supervised processes, like
//! `skiff up` does for its own nodes, until Ctrl-C stops them and their pods. Run again on the
//! same data directory, it finds the credential and skips the exchange.

use std::path::PathBuf;
use std::time::Duration;

use apiserver::client::HttpApi;
use apiserver::kubeconfig::write_kubeconfig;
use bytes::Bytes;
use tokio::sync::{mpsc, watch};

use crate::backoff::RestartPolicy;
use crate::bootstrap::{NODE_CREDENTIALS_PATH, validate_node_name};
use crate::component::{ClusterSpec, Component, component_args};
use crate::flags::Flags;
use crate::layout::Layout;
use crate::progress::{Progress, State};
use crate::supervisor::{ProcessSpec, Supervised};
use crate::up::STOP_GRACE;

/// `skiff join --help`.
pub const USAGE: &str = "\
skiff join: add a node (a kubelet and a kube-proxy) to a running skiff cluster

Usage: skiff join --api URL --token TOKEN --ca-file FILE --node NAME [options]

Options:
  --api URL          the API server, e.g. https://127.0.0.1:6443
  --token TOKEN      the bootstrap token `skiff up` printed (<id>.<secret>)
  --ca-file FILE     the cluster's CA certificate (DATA/apiserver/pki/ca.crt)
  --node NAME        the new node's name; it must not be taken
  --node-index N     which pod IP range (127.1.(N+1).0/24) and proxy block (127.(11+N)) the
                     node uses, 0 to 88; they must not overlap another node's
                     [default: K-1 for a node named nK]
  --data-dir DIR     where the node keeps its credential, pods and logs
                     [default: ./skiff-node-NAME]
  -h, --help         print this help

Ctrl-C stops the node: the kubelet stops its pods first.
";

/// How often `skiff join` looks again for its Node's Ready condition.
const POLL: Duration = Duration::from_millis(200);

/// The parsed flags of `skiff join`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinArgs {
    /// `--api`.
    pub api: String,
    /// `--token`.
    pub token: String,
    /// `--ca-file`.
    pub ca_file: PathBuf,
    /// `--node`.
    pub node: String,
    /// `--node-index`, or the one the name implies.
    pub node_index: u16,
    /// `--data-dir`.
    pub data_dir: PathBuf,
}

/// Parses the flags; `Ok(None)` for `--help`. Errors name the flag.
pub fn parse(args: &[String]) -> Result<Option<JoinArgs>, String> {
    let (mut api, mut token, mut ca_file, mut node) = (None, None, None, None);
    let (mut node_index, mut data_dir) = (None, None);
    let mut flags = Flags::new(args);
    while let Some(flag) = flags.next_flag() {
        match flag.name.as_str() {
            "-h" | "--help" => return Ok(None),
            "--api" => {
                let url = flags.value(&flag)?;
                if !url.starts_with("https://") {
                    return Err(format!("--api: {url:?} must start with https://"));
                }
                api = Some(url.trim_end_matches('/').to_string());
            }
            "--token" => token = Some(flags.value(&flag)?),
            "--ca-file" => ca_file = Some(PathBuf::from(flags.value(&flag)?)),
            "--node" => {
                let name = flags.value(&flag)?;
                validate_node_name(&name).map_err(|why| format!("--node: {why}"))?;
                node = Some(name);
            }
            "--node-index" => {
                let index: u16 = flags.parsed(&flag, "a node number (0 to 88)")?;
                if index > 88 {
                    return Err(format!("--node-index: {index} is more than 88"));
                }
                node_index = Some(index);
            }
            "--data-dir" => data_dir = Some(PathBuf::from(flags.value(&flag)?)),
            other => return Err(format!("{other}: unknown option (see --help)")),
        }
    }
    let api = api.ok_or("--api: required (the API server's URL)")?;
    let token = token.ok_or("--token: required (the bootstrap token skiff up printed)")?;
    let ca_file = ca_file.ok_or("--ca-file: required (the cluster's CA certificate)")?;
    let node = node.ok_or("--node: required (the new node's name)")?;
    let node_index = match node_index.or_else(|| index_from_name(&node)) {
        Some(index) => index,
        None => {
            return Err(format!(
                "--node-index: required, since {node:?} is not of the form nK"
            ));
        }
    };
    let data_dir = data_dir.unwrap_or_else(|| PathBuf::from(format!("./skiff-node-{node}")));
    Ok(Some(JoinArgs {
        api,
        token,
        ca_file,
        node,
        node_index,
        data_dir,
    }))
}

/// `n4` is node number 3, as `skiff up` names them (see [`crate::component::node_name`]).
pub fn index_from_name(node: &str) -> Option<u16> {
    let number: u16 = node.strip_prefix('n')?.parse().ok()?;
    (1..=89).contains(&number).then(|| number - 1)
}

// ANCHOR: exchange
/// What the API server hands a joining node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeCredential {
    /// The node's own bearer token, for user `system:node:<name>`.
    pub token: String,
    /// The token the API server shows this node's kubelet when it asks it for pod logs.
    pub kubelet_client_token: String,
}

/// Trades the bootstrap token for node `node`'s own token: one POST to the credentials
/// endpoint, which only a bootstrapper may call. Each refusal becomes an error naming the flag
/// to fix.
pub async fn exchange(args: &JoinArgs, ca_pem: &str) -> Result<NodeCredential, String> {
    let bootstrap =
        HttpApi::new(&args.api, ca_pem, &args.token).map_err(|e| format!("--api: {e}"))?;
    let request = serde_json::json!({
        "apiVersion": "skiff.dev/v1",
        "kind": "NodeCredential",
        "spec": {"nodeName": args.node},
    });
    let (status, body) = bootstrap
        .raw(
            hyper::Method::POST,
            NODE_CREDENTIALS_PATH,
            Some("application/json"),
            Bytes::from(request.to_string()),
        )
        .await
        .map_err(|e| format!("--api {}: {e}", args.api))?;
    let answer: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let message = answer["message"].as_str().unwrap_or("").to_string();
    match status {
        201 => {
            let field = |name: &str| {
                answer["status"][name]
                    .as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("the API server's NodeCredential has no status.{name}"))
            };
            Ok(NodeCredential {
                token: field("token")?,
                kubelet_client_token: field("kubeletClientToken")?,
            })
        }
        401 => Err(format!(
            "--token: the API server at {} does not know this token (401 Unauthorized)",
            args.api
        )),
        403 => Err(format!(
            "--token: this token may not ask for a node credential (403): {message}"
        )),
        409 => Err(format!("--node: {message}")),
        other => Err(format!(
            "asking {} for a node credential: {other} {message}",
            args.api
        )),
    }
}
// ANCHOR_END: exchange

/// Joins the cluster and runs the node until SIGINT or SIGTERM, then stops it.
pub async fn run(args: JoinArgs) -> Result<(), String> {
    let progress = Progress::new();
    let stop = crate::cmd::stop_signal()?;
    let (stop_tx, mut stopping) = watch::channel(false);
    tokio::spawn(async move {
        stop.await;
        let _ = stop_tx.send(true);
    });
    let data_dir = std::path::absolute(&args.data_dir)
        .map_err(|e| format!("--data-dir {}: {e}", args.data_dir.display()))?;
    let layout = Layout::new(&data_dir);
    let kubelet = Component::Kubelet {
        node: args.node.clone(),
        index: args.node_index,
    };
    let proxy = Component::Proxy {
        node: args.node.clone(),
        index: args.node_index,
    };
    let kubeconfig = layout.kubeconfig(&kubelet.name());
    if kubeconfig.exists() {
        progress.say(&format!(
            "{} node {} already has its credential in {}",
            progress.bold("skiff join:"),
            args.node,
            kubeconfig.display()
        ));
    } else {
        let ca_pem = std::fs::read_to_string(&args.ca_file)
            .map_err(|e| format!("--ca-file {}: {e}", args.ca_file.display()))?;
        // Before the exchange: a credential issued but not kept would leave the name taken.
        if let Some(dir) = kubeconfig.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("--data-dir: creating {}: {e}", dir.display()))?;
        }
        let credential = exchange(&args, &ca_pem).await?;
        // The kubelet's log endpoint accepts only the API server's token.
        let _ = std::fs::remove_file(layout.kubelet_token_file());
        crate::cmd::apiserver::write_kubelet_token(
            &layout.kubelet_token_file(),
            &credential.kubelet_client_token,
        )?;
        write_kubeconfig(
            &kubeconfig,
            &args.api,
            &ca_pem,
            &format!("system:node:{}", args.node),
            &credential.token,
        )
        .map_err(|e| format!("--data-dir: {e}"))?;
        progress.say(&format!(
            "{} node {} got its own identity (user system:node:{})",
            progress.bold("skiff join:"),
            args.node,
            args.node
        ));
    }
    let node_api = HttpApi::from_kubeconfig(&kubeconfig)?;
    let since = crate::cmd::wall_clock_now();
    let program = std::env::current_exe().map_err(|e| format!("finding my own binary: {e}"))?;
    let (reports_tx, mut reports) = mpsc::unbounded_channel();
    // Only the node's components: the cluster spec's control-plane fields are not used.
    let spec = ClusterSpec {
        nodes: args.node_index + 1,
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        storage: String::new(),
    };
    let mut running = Vec::new();
    for component in [&kubelet, &proxy] {
        let mut component_args = component_args(component, &spec, &layout);
        // The joined node's proxy reads Services and Endpoints as the node itself: the node
        // role allows it, and the node has no other credential.
        if let Some(i) = component_args.iter().position(|a| a == "--kubeconfig") {
            component_args[i + 1] = kubeconfig.display().to_string();
        }
        let spec = ProcessSpec {
            name: component.name(),
            program: program.clone(),
            args: component_args,
            log_file: layout.log_file(&component.name()),
        };
        progress.show(&component.name(), State::Starting, "");
        running.push(Supervised::start(
            spec,
            RestartPolicy::default(),
            STOP_GRACE,
            reports_tx.clone(),
        ));
    }
    let proxy_ready = layout.ready_file(&proxy.name());
    let _ = std::fs::remove_file(&proxy_ready);
    let (mut node_ready, mut proxy_shown) = (false, false);
    loop {
        if !node_ready
            && crate::up::ready_nodes_since(&node_api, since)
                .await
                .contains(&args.node)
        {
            progress.show(
                &kubelet.name(),
                State::Ready,
                &format!("node {} Ready", args.node),
            );
            node_ready = true;
        }
        if !proxy_shown && proxy_ready.exists() {
            progress.show(&proxy.name(), State::Ready, "");
            proxy_shown = true;
        }
        if node_ready && proxy_shown {
            progress.say(&format!(
                "{} node {} Ready; logs in {}. Press Ctrl-C to stop it (pods included).",
                progress.bold("joined:"),
                args.node,
                layout.root().join("logs").display()
            ));
            break;
        }
        tokio::select! {
            Some(report) = reports.recv() => crate::up::show_report(&progress, &report),
            _ = stopping.wait_for(|s| *s) => return stop_node(running, &progress).await,
            () = tokio::time::sleep(POLL) => {}
        }
    }
    loop {
        tokio::select! {
            Some(report) = reports.recv() => crate::up::show_report(&progress, &report),
            _ = stopping.wait_for(|s| *s) => break,
        }
    }
    stop_node(running, &progress).await
}

/// Stops the kubelet (which stops its pods) and the proxy, and waits for both.
async fn stop_node(running: Vec<Supervised>, progress: &Progress) -> Result<(), String> {
    progress.say(&format!(
        "{} stopping the node",
        progress.bold("skiff join:")
    ));
    let tasks: Vec<_> = running
        .into_iter()
        .map(|supervised| {
            tokio::spawn(async move {
                let name = supervised.name().to_string();
                supervised.stop().await;
                name
            })
        })
        .collect();
    for task in tasks {
        if let Ok(name) = task.await {
            progress.show(&name, State::Stopped, "");
        }
    }
    progress.say("stopped: no process left behind");
    Ok(())
}
