//! `skiff kubelet --node n1 --kubeconfig FILE`: lab 02's kubelet, talking to the API server.

use std::path::PathBuf;

use super::{ClientArgs, connect, stop_signal};
use crate::flags::Flags;

/// `skiff kubelet --help`: this subcommand's flags, then the kubelet's own.
pub fn usage() -> String {
    format!(
        "\
skiff kubelet: one node's kubelet, registered with the API server

Usage: skiff kubelet --kubeconfig FILE --node NAME [kubelet options]

Options of skiff:
  --kubeconfig FILE      the node's kubeconfig (user system:node:NAME) [env: KUBECONFIG]
  --ready-file FILE      accepted for symmetry; a kubelet is ready when its Node is Ready
  --node-index N         this node's number, 0 to 88, as the proxy's: the pods' Service
                         variables and hosts file give the address this node's proxy serves
                         (default: the ClusterIP itself)

The kubelet's own options (lab 02):
{}",
        kubelet::cli::USAGE
    )
}

/// The parsed flags: the client's, and the kubelet's own.
#[derive(Debug, Clone)]
pub struct KubeletArgs {
    /// `--kubeconfig` and `--ready-file`.
    pub client: ClientArgs,
    /// Everything lab 02's parser understood.
    pub kubelet: kubelet::cli::Args,
    /// `--node-index`, if given.
    pub node_index: Option<u8>,
}

/// Parses the flags; `Ok(None)` for `--help`. Flags this subcommand does not know go to lab
/// 02's parser, whose errors name them.
pub fn parse(args: &[String]) -> Result<Option<KubeletArgs>, String> {
    let mut kubeconfig = std::env::var_os("KUBECONFIG").map(PathBuf::from);
    let mut ready_file = None;
    let mut node_index = None;
    let mut rest = Vec::new();
    let mut flags = Flags::new(args);
    while let Some(flag) = flags.next_flag() {
        match flag.name.as_str() {
            "--kubeconfig" => kubeconfig = Some(flags.value(&flag)?.into()),
            "--ready-file" => ready_file = Some(PathBuf::from(flags.value(&flag)?)),
            "--node-index" => {
                let index: u8 = flags.parsed(&flag, "a node number (0 to 88)")?;
                if index > super::proxy::MAX_NODE_INDEX {
                    return Err(format!("--node-index: {index} is more than 88"));
                }
                node_index = Some(index);
            }
            _ => {
                rest.push(flag.name.clone());
                if let Some(value) = flag.inline_value() {
                    rest.push(value.to_string());
                }
            }
        }
    }
    let kubelet = match kubelet::cli::parse(&rest)? {
        kubelet::cli::Command::Help => return Ok(None),
        kubelet::cli::Command::Run(args) => *args,
    };
    let kubeconfig = kubeconfig.ok_or("--kubeconfig: required (or set KUBECONFIG)")?;
    Ok(Some(KubeletArgs {
        client: ClientArgs {
            kubeconfig,
            ready_file,
        },
        kubelet,
        node_index,
    }))
}

// ANCHOR: run
/// Runs the kubelet until SIGINT or SIGTERM, then stops its pods.
pub async fn run(args: KubeletArgs) -> Result<(), String> {
    let stop = stop_signal()?;
    let api = connect(&args.client.kubeconfig)?;
    kubelet::cli::run_with_hooks(args.kubelet, api, service_hooks(args.node_index), stop).await
}

/// Lab 08's Service variables and hosts-file names, for pods on the node `node_index`.
fn service_hooks(node_index: Option<u8>) -> kubelet::cli::ServiceHooks {
    use services::discovery::{host_entries, service_env};
    use services::proxy_wiring::NodeView;
    use std::sync::Arc;
    let view = node_index.map_or(NodeView::ClusterIp, NodeView::Node);
    kubelet::cli::ServiceHooks {
        env: Some(Arc::new(move |services| service_env(services, view))),
        hosts: Some(Arc::new(move |namespace, services| {
            host_entries(namespace, services, view)
        })),
    }
}
// ANCHOR_END: run
