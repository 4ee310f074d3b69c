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
}

/// Parses the flags; `Ok(None)` for `--help`. Flags this subcommand does not know go to lab
/// 02's parser, whose errors name them.
pub fn parse(args: &[String]) -> Result<Option<KubeletArgs>, String> {
    let mut kubeconfig = std::env::var_os("KUBECONFIG").map(PathBuf::from);
    let mut ready_file = None;
    let mut rest = Vec::new();
    let mut flags = Flags::new(args);
    while let Some(flag) = flags.next_flag() {
        match flag.name.as_str() {
            "--kubeconfig" => kubeconfig = Some(flags.value(&flag)?.into()),
            "--ready-file" => ready_file = Some(PathBuf::from(flags.value(&flag)?)),
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
    }))
}

// ANCHOR: run
/// Runs the kubelet until SIGINT or SIGTERM, then stops its pods.
pub async fn run(args: KubeletArgs) -> Result<(), String> {
    let stop = stop_signal()?;
    let api = connect(&args.client.kubeconfig)?;
    kubelet::cli::run_with_api(args.kubelet, api, stop).await
}
// ANCHOR_END: run
