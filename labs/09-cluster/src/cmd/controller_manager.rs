//! `skiff controller-manager --kubeconfig FILE`: lab 06's controllers in one process.

use std::time::Duration;

use api::client::ApiClient;
use controllers::deployment::DeploymentController;
use controllers::gc::GarbageCollector;
use controllers::nodelifecycle::{NodeLifecycleConfig, NodeLifecycleController};
use controllers::replicaset::ReplicaSetController;
use controllers::runtime::{Controller, Runner};
use services::endpoints::EndpointsController;

use super::{ClientArgs, RETRY, connect, mark_ready, stop_signal, wall_clock_now};

/// `skiff controller-manager --help`.
pub const USAGE: &str = "\
skiff controller-manager: the reconcile loops that keep the cluster as declared
(Deployments, ReplicaSets, node lifecycle, garbage collection, Endpoints)

Usage: skiff controller-manager --kubeconfig FILE [options]

Options:
  --kubeconfig FILE    its kubeconfig (user system:kube-controller-manager) [env: KUBECONFIG]
  --ready-file FILE    created once every controller has listed what it watches
  -h, --help           print this help
";

/// Parses the flags (the same as the scheduler's); `Ok(None)` for `--help`.
pub fn parse(args: &[String]) -> Result<Option<ClientArgs>, String> {
    super::scheduler::parse(args)
}

/// Runs the five controllers until SIGINT or SIGTERM.
pub async fn run(args: ClientArgs) -> Result<(), String> {
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
                NodeLifecycleController::new(NodeLifecycleConfig::default(), wall_clock_now())
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
