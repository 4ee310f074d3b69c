//! `skiff controller-manager --kubeconfig FILE`: lab 06's controllers in one process.

use std::time::Duration;

use api::client::ApiClient;
use controllers::deployment::DeploymentController;
use controllers::gc::GarbageCollector;
use controllers::nodelifecycle::{NodeLifecycleConfig, NodeLifecycleController};
use controllers::replicaset::ReplicaSetController;
use controllers::runtime::{Controller, Runner};
use services::endpoints::EndpointsController;

use std::path::PathBuf;

use super::{RETRY, connect, mark_ready, stop_signal, wall_clock_now};
use crate::flags::Flags;

/// `skiff controller-manager --help`.
pub const USAGE: &str = "\
skiff controller-manager: the reconcile loops that keep the cluster as declared
(Deployments, ReplicaSets, node lifecycle, garbage collection, Endpoints)

Usage: skiff controller-manager --kubeconfig FILE [options]

Options:
  --kubeconfig FILE    its kubeconfig (user system:kube-controller-manager) [env: KUBECONFIG]
  --ready-file FILE    created once every controller has listed what it watches
  --node-grace-seconds N
                       how long a node may miss heartbeats before it is NotReady (Unknown)
                       [default: 20; Kubernetes: 50]; more than the kubelets' 10 s renewal
  --toleration-seconds N
                       how long pods stay on a NotReady node before they are evicted, unless
                       they say otherwise [default: 20; Kubernetes: 300]
  -h, --help           print this help
";

/// The parsed flags of `skiff controller-manager`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControllerManagerArgs {
    /// `--kubeconfig`.
    pub kubeconfig: PathBuf,
    /// `--ready-file`.
    pub ready_file: Option<PathBuf>,
    /// `--node-grace-seconds` and `--toleration-seconds`.
    pub node_lifecycle: NodeLifecycleConfig,
}

/// The kubelets renew their heartbeat Lease every 10 s: a grace period of that or less would
/// call a healthy node NotReady between two renewals.
pub const MIN_NODE_GRACE_SECONDS: u64 = 11;

/// Parses the flags; `Ok(None)` for `--help`. Errors name the flag.
pub fn parse(args: &[String]) -> Result<Option<ControllerManagerArgs>, String> {
    let mut kubeconfig = std::env::var_os("KUBECONFIG").map(PathBuf::from);
    let mut ready_file = None;
    let mut node_lifecycle = NodeLifecycleConfig::default();
    let mut flags = Flags::new(args);
    while let Some(flag) = flags.next_flag() {
        match flag.name.as_str() {
            "-h" | "--help" => return Ok(None),
            "--kubeconfig" => kubeconfig = Some(flags.value(&flag)?.into()),
            "--ready-file" => ready_file = Some(flags.value(&flag)?.into()),
            "--node-grace-seconds" => {
                let seconds: u64 = flags.parsed(&flag, "a number of seconds")?;
                if seconds < MIN_NODE_GRACE_SECONDS {
                    return Err(format!(
                        "--node-grace-seconds: {seconds} is less than {MIN_NODE_GRACE_SECONDS} \
                         (kubelets renew their heartbeat every 10 s)"
                    ));
                }
                node_lifecycle.grace_period = Duration::from_secs(seconds);
            }
            "--toleration-seconds" => {
                let seconds: u32 = flags.parsed(&flag, "a number of seconds")?;
                node_lifecycle.default_toleration_seconds = i64::from(seconds);
            }
            other => return Err(format!("{other}: unknown option (see --help)")),
        }
    }
    let kubeconfig = kubeconfig.ok_or("--kubeconfig: required (or set KUBECONFIG)")?;
    Ok(Some(ControllerManagerArgs {
        kubeconfig,
        ready_file,
        node_lifecycle,
    }))
}

/// Runs the five controllers until SIGINT or SIGTERM.
pub async fn run(args: ControllerManagerArgs) -> Result<(), String> {
    let stop = stop_signal()?;
    let api = connect(&args.kubeconfig)?;
    let (synced_tx, mut synced_rx) = tokio::sync::mpsc::unbounded_channel::<&'static str>();
    let all = async {
        tokio::join!(
            keep_running("deployment", synced_tx.clone(), || Runner::new(
                api.clone(),
                DeploymentController::new(wall_clock_now())
            )),
            keep_running("replicaset", synced_tx.clone(), || Runner::new(
                api.clone(),
                ReplicaSetController::new(fresh_seed(), wall_clock_now())
            )),
            keep_running("nodelifecycle", synced_tx.clone(), || Runner::new(
                api.clone(),
                NodeLifecycleController::new(args.node_lifecycle.clone(), wall_clock_now())
            )),
            keep_running("garbagecollector", synced_tx.clone(), || Runner::new(
                api.clone(),
                GarbageCollector::new()
            )),
            keep_running("endpoints", synced_tx.clone(), || Runner::new(
                api.clone(),
                EndpointsController::new()
            )),
        );
    };
    let ready = async {
        for _ in 0..5 {
            synced_rx.recv().await;
        }
        mark_ready(args.ready_file.as_deref());
        std::future::pending::<()>().await;
    };
    tokio::select! {
        () = stop => Ok(()),
        () = all => Ok(()),
        () = ready => Ok(()),
    }
}

/// Runs one controller forever: a runner made by `make` observes once (then `name` is
/// reported synced), and runs; if the API fails it, a fresh runner starts over after a second.
async fn keep_running<C, R>(
    name: &'static str,
    synced: tokio::sync::mpsc::UnboundedSender<&'static str>,
    make: impl Fn() -> Runner<C, R>,
) where
    C: ApiClient,
    R: Controller<C>,
{
    {
        let mut reported = false;
        loop {
            let mut runner = make();
            match runner.observe(Duration::ZERO).await {
                Ok(_) => {
                    if !reported {
                        let _ = synced.send(name);
                        reported = true;
                    }
                    if let Err(error) = runner.run().await {
                        tracing::warn!(controller = name, %error, "stopped; starting over");
                    }
                }
                Err(error) => tracing::warn!(controller = name, %error, "first list failed"),
            }
            tokio::time::sleep(RETRY).await;
        }
    }
}

/// A seed for the names of the pods a ReplicaSet controller creates. Each new controller (a
/// restarted process, or a runner started over after the API failed it) needs a seed of its
/// own: the same seed would produce the same names again, and a replacement pod would take the
/// name of the pod it replaces.
fn fresh_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}
