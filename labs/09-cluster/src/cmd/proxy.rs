//! `skiff proxy --node n1 --node-index 0 --kubeconfig FILE`: one node's kube-proxy, which is
//! lab 03's proxy fed from the API by lab 08's `ServiceProxy`.
//!
//! All the nodes share one machine, so each node's proxy serves a Service on an address of its
//! own: the ClusterIP's last two bytes in the node's block `127.(11 + index).0.0/16`
//! (lab 08's `NodeView::Node`).

use std::path::PathBuf;

use services::proxy_wiring::{NodeView, ServiceProxy};

use super::{ClientArgs, RETRY, connect, mark_ready, stop_signal};
use crate::flags::Flags;

/// `skiff proxy --help`.
pub const USAGE: &str = "\
skiff proxy: one node's kube-proxy, forwarding each Service to its ready endpoints

Usage: skiff proxy --kubeconfig FILE --node NAME --node-index N [options]

Options:
  --kubeconfig FILE    the proxy's kubeconfig (user system:kube-proxy) [env: KUBECONFIG]
  --node NAME          this node's name (endpoints on it are preferred)
  --node-index N       this node's number, 0 to 88: a Service with ClusterIP 127.10.c.d is
                       served on 127.(11+N).c.d [default: 0]
  --ready-file FILE    created after the first successful sync
  -h, --help           print this help
";

/// The highest node index: `127.(11 + 88)` is the last block lab 08 gives a node.
pub const MAX_NODE_INDEX: u8 = 88;

/// The parsed flags of `skiff proxy`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyArgs {
    /// `--kubeconfig` and `--ready-file`.
    pub client: ClientArgs,
    /// `--node`.
    pub node: String,
    /// `--node-index`.
    pub node_index: u8,
}

/// Parses the flags; `Ok(None)` for `--help`.
pub fn parse(args: &[String]) -> Result<Option<ProxyArgs>, String> {
    let mut kubeconfig = std::env::var_os("KUBECONFIG").map(PathBuf::from);
    let mut ready_file = None;
    let mut node = None;
    let mut node_index = 0;
    let mut flags = Flags::new(args);
    while let Some(flag) = flags.next_flag() {
        match flag.name.as_str() {
            "-h" | "--help" => return Ok(None),
            "--kubeconfig" => kubeconfig = Some(flags.value(&flag)?.into()),
            "--ready-file" => ready_file = Some(flags.value(&flag)?.into()),
            "--node" => node = Some(flags.value(&flag)?),
            "--node-index" => {
                node_index = flags.parsed(&flag, "a node number (0 to 88)")?;
                if node_index > MAX_NODE_INDEX {
                    return Err(format!("--node-index: {node_index} is more than 88"));
                }
            }
            other => return Err(format!("{other}: unknown option (see --help)")),
        }
    }
    let node = node.ok_or("--node: required (the name of this node)")?;
    let kubeconfig = kubeconfig.ok_or("--kubeconfig: required (or set KUBECONFIG)")?;
    Ok(Some(ProxyArgs {
        client: ClientArgs {
            kubeconfig,
            ready_file,
        },
        node,
        node_index,
    }))
}

/// Serves until SIGINT or SIGTERM; when the API fails the proxy, it starts over with a fresh
/// list after a second (the listeners of a new `ServiceProxy` replace the old ones).
pub async fn run(args: ProxyArgs) -> Result<(), String> {
    let stop = stop_signal()?;
    let api = connect(&args.client.kubeconfig)?;
    let view = NodeView::Node(args.node_index);
    let serve = async {
        let mut ready = false;
        loop {
            match ServiceProxy::new(&args.node, view) {
                Ok(mut proxy) => match proxy.sync_from(&api).await {
                    Ok(()) => {
                        if !ready {
                            mark_ready(args.client.ready_file.as_deref());
                            ready = true;
                        }
                        if let Err(error) = proxy.run(api.clone()).await {
                            tracing::warn!(%error, "proxy stopped; starting over");
                        }
                    }
                    Err(error) => tracing::warn!(%error, "first sync failed; retrying"),
                },
                Err(error) => tracing::warn!(%error, "cannot make the proxy"),
            }
            tokio::time::sleep(RETRY).await;
        }
    };
    tokio::select! {
        () = stop => Ok(()),
        () = serve => Ok(()),
    }
}
