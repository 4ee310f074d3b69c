//! `skiff`: the whole cluster (`skiff up`) and each of its components as a subcommand.
//!
//! The same binary is also the program behind the built-in images (`skiff/echo`...): the
//! kubelets it starts run pods as `skiff echo ...`, so nothing else needs to be built.

use std::future::Future;

use skiff::cmd;

const USAGE: &str = "\
skiff: a small Kubernetes on one machine

Usage: skiff <command> [options]    (skiff <command> --help for its options)

Commands:
  up                   the whole cluster: every component below, supervised
  join                 one more node (kubelet and proxy) for a running cluster
  apiserver            the API server (HTTPS) over its store
  scheduler            assigns pods to nodes
  controller-manager   Deployments, ReplicaSets, node lifecycle, garbage collection
  kubelet              runs one node's pods
  proxy                one node's kube-proxy
";

fn main() {
    kubelet::cli::serve_builtin_image();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        eprint!("{USAGE}");
        std::process::exit(2);
    };
    let code = match command.as_str() {
        "-h" | "--help" | "help" => {
            print!("{USAGE}");
            0
        }
        "up" => dispatch(
            true,
            skiff::up::parse(rest),
            skiff::up::USAGE,
            skiff::up::run,
        ),
        "join" => dispatch(
            true,
            skiff::join::parse(rest),
            skiff::join::USAGE,
            skiff::join::run,
        ),
        "apiserver" => dispatch(
            false,
            cmd::apiserver::parse(rest),
            cmd::apiserver::USAGE,
            cmd::apiserver::run,
        ),
        "scheduler" => dispatch(
            false,
            cmd::scheduler::parse(rest),
            cmd::scheduler::USAGE,
            cmd::scheduler::run,
        ),
        "controller-manager" => dispatch(
            false,
            cmd::controller_manager::parse(rest),
            cmd::controller_manager::USAGE,
            cmd::controller_manager::run,
        ),
        "kubelet" => dispatch(
            false,
            cmd::kubelet::parse(rest),
            &cmd::kubelet::usage(),
            cmd::kubelet::run,
        ),
        "proxy" => dispatch(
            false,
            cmd::proxy::parse(rest),
            cmd::proxy::USAGE,
            cmd::proxy::run,
        ),
        other => {
            eprintln!("skiff: {other:?} is not a command\n\n{USAGE}");
            2
        }
    };
    std::process::exit(code);
}

/// Runs one command: usage on `--help`, exit 2 on a bad flag, 1 when it fails. `quiet` logs
/// only warnings unless `RUST_LOG` says otherwise.
fn dispatch<A, F: Future<Output = Result<(), String>>>(
    quiet: bool,
    parsed: Result<Option<A>, String>,
    usage: &str,
    run: impl FnOnce(A) -> F,
) -> i32 {
    let args = match parsed {
        Ok(Some(args)) => args,
        Ok(None) => {
            print!("{usage}");
            return 0;
        }
        Err(message) => {
            eprintln!("skiff: {message}");
            return 2;
        }
    };
    cmd::init_tracing(if quiet { "warn" } else { "info" });
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("skiff: starting tokio: {error}");
            return 1;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => 0,
        Err(message) => {
            eprintln!("skiff: {message}");
            1
        }
    }
}
