//! `skiffctl`: a small kubectl for skiff clusters, one file per command group.
//!
//! It reads a kubeconfig, talks HTTPS to the API server with lab 04's
//! [`apiserver::client::HttpApi`], and prints what kubectl prints: tables with the API
//! server's own column printers, `kind/name created|configured|unchanged`, the rollout
//! messages. Every failure is one line on stderr and a non-zero exit, never a panic.

pub mod apply;
pub mod args;
pub mod client;
pub mod delete;
pub mod describe;
pub mod get;
pub mod logs;
pub mod node;
pub mod output;
pub mod rollout;
pub mod scale;
pub mod top;

use client::{Ctl, CtlError, CtlResult, kubeconfig_path};

/// `skiffctl --help`.
pub const USAGE: &str = "\
skiffctl: talk to a skiff cluster (the same operations as kubectl)

Usage: skiffctl <command> [args] [flags]

Commands:
  get KIND [NAME...]          list or show objects (-o wide|yaml|json|name, -l SEL, -A, -w)
  describe KIND NAME          an object for people, with its events
  apply -f FILE|DIR|-         create or update (merge patch) every document
  create -f FILE|DIR|-        create every document (create namespace|deployment NAME also work)
  delete KIND NAME | -f FILE  delete and wait until gone (--wait=false not to wait, -l SEL)
  logs POD [-c C] [-f]        a container's log (--tail N)
  scale KIND/NAME --replicas=N
  rollout status|history|undo deployment/NAME   (--to-revision=N for undo)
  cordon|uncordon|drain NODE
  top nodes|pods              requested cpu/memory (requests, not usage: no metrics server)

Flags: --kubeconfig FILE (else KUBECONFIG, else $SKIFF_DATA_DIR/kubeconfigs/admin.kubeconfig,
       SKIFF_DATA_DIR defaulting to ./skiff-data), -n NAMESPACE, --timeout 2m
";

/// Runs one command line; `Err` holds the message to print. `Ok(false)` asks for the usage.
pub async fn run(args: &[String]) -> CtlResult<bool> {
    let inv = args::parse(args).map_err(CtlError::local)?;
    let Some(command) = inv.words.first().cloned() else {
        return Ok(false);
    };
    if inv.help || command == "help" {
        print!("{USAGE}");
        return Ok(true);
    }
    let known = [
        "get", "describe", "apply", "create", "delete", "logs", "scale", "rollout", "cordon",
        "uncordon", "drain", "top",
    ];
    if !known.contains(&command.as_str()) {
        return Err(CtlError::local(format!(
            "error: unknown command \"{command}\" for \"skiffctl\" (see skiffctl --help)"
        )));
    }
    let ctl = Ctl::new(
        &kubeconfig_path(inv.kubeconfig.as_deref()),
        inv.namespace.as_deref(),
    )?;
    run_command(&ctl, &inv, &command).await?;
    Ok(true)
}

async fn run_command(ctl: &Ctl, inv: &args::Invocation, command: &str) -> CtlResult<()> {
    match command {
        "get" => get::run(ctl, inv).await,
        "describe" => describe::run(ctl, inv).await,
        "apply" => apply::apply(ctl, inv).await,
        "create" => apply::create(ctl, inv).await,
        "delete" => delete::run(ctl, inv).await,
        "logs" => logs::run(ctl, inv).await,
        "scale" => scale::run(ctl, inv).await,
        "rollout" => rollout::run(ctl, inv).await,
        "cordon" | "uncordon" | "drain" => node::run(ctl, inv).await,
        _ => top::run(ctl, inv).await,
    }
}
