//! `skiff controller-manager --kubeconfig FILE`: lab 06's controllers in one process.

use std::time::Duration;

use api::client::ApiClient;
use controllers::deployment::DeploymentController;
use controllers::gc::GarbageCollector;
use controllers::leader::{ElectionConfig, LEADER_LEASE_NAMESPACE, LeaderElector};
use controllers::nodelifecycle::{NodeLifecycleConfig, NodeLifecycleController};
use controllers::replicaset::ReplicaSetController;
use controllers::runtime::{Controller, Runner};
use services::endpoints::EndpointsController;

use std::path::PathBuf;

use super::scheduler::ElectionFlags;
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
                       [default: 5; Kubernetes: 50]; at least 3 (kubelets renew every second)
  --toleration-seconds N
                       how long pods stay on a NotReady node before they are evicted, unless
                       they say otherwise [default: 3; Kubernetes: 300]
  --leader-elect       run the controllers only while holding the Lease
                       kube-system/kube-controller-manager, so that a standby can run
  --lease-seconds N    the lease's duration with --leader-elect [default: 15]
  --identity NAME      this process's holderIdentity [default: controller-manager-<pid>]
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
    /// `--leader-elect` (with `--lease-seconds` and `--identity`); `None` without it.
    pub election: Option<ElectionConfig>,
}

/// The name of the controller manager's Lease in `kube-system` (as in Kubernetes).
pub const LEASE_NAME: &str = "kube-controller-manager";

/// The kubelets renew their heartbeat Lease every second: a grace period shorter than three
/// renewals would call a healthy node NotReady as soon as one renewal is a little late.
pub const MIN_NODE_GRACE_SECONDS: u64 = 3;

/// Checks `--node-grace-seconds` (for `skiff controller-manager` and `skiff up`).
pub fn node_grace(seconds: u64) -> Result<Duration, String> {
    if seconds < MIN_NODE_GRACE_SECONDS {
        return Err(format!(
            "--node-grace-seconds: {seconds} is less than {MIN_NODE_GRACE_SECONDS} \
             (kubelets renew their heartbeat every second)"
        ));
    }
    Ok(Duration::from_secs(seconds))
}

/// Parses the flags; `Ok(None)` for `--help`. Errors name the flag.
pub fn parse(args: &[String]) -> Result<Option<ControllerManagerArgs>, String> {
    let mut kubeconfig = std::env::var_os("KUBECONFIG").map(PathBuf::from);
    let mut ready_file = None;
    let mut node_lifecycle = NodeLifecycleConfig::default();
    let mut election = ElectionFlags::new("controller-manager");
    let mut flags = Flags::new(args);
    while let Some(flag) = flags.next_flag() {
        if election.take(&flag, &mut flags)? {
            continue;
        }
        match flag.name.as_str() {
            "-h" | "--help" => return Ok(None),
            "--kubeconfig" => kubeconfig = Some(flags.value(&flag)?.into()),
            "--ready-file" => ready_file = Some(flags.value(&flag)?.into()),
            "--node-grace-seconds" => {
                let seconds: u64 = flags.parsed(&flag, "a number of seconds")?;
                node_lifecycle.grace_period = node_grace(seconds)?;
            }
            "--toleration-seconds" => {
                let seconds: u32 = flags.parsed(&flag, "a number of seconds")?;
                node_lifecycle.default_toleration_seconds = i64::from(seconds);
            }
            other => return Err(format!("{other}: unknown option (see --help)")),
        }
    }
    let election = election.config()?;
    let kubeconfig = kubeconfig.ok_or("--kubeconfig: required (or set KUBECONFIG)")?;
    Ok(Some(ControllerManagerArgs {
        kubeconfig,
        ready_file,
        node_lifecycle,
        election,
    }))
}

/// Runs the five controllers until SIGINT or SIGTERM (with `--leader-elect`, only while
/// leading).
pub async fn run(args: ControllerManagerArgs) -> Result<(), String> {
    let stop = stop_signal()?;
    let api = connect(&args.kubeconfig)?;
    let (synced_tx, mut synced_rx) = tokio::sync::mpsc::unbounded_channel::<&'static str>();
    let all = || async {
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
    if let Some(config) = args.election.clone() {
        let mut elector = LeaderElector::new(
            api.clone(),
            LEADER_LEASE_NAMESPACE,
            LEASE_NAME,
            config,
            wall_clock_now(),
        )?;
        let start = tokio::time::Instant::now();
        return tokio::select! {
            () = stop => {
                if let Err(error) = elector.release(start.elapsed()).await {
                    tracing::warn!(%error, "releasing the lease failed");
                }
                Ok(())
            }
            () = lead_forever(&mut elector, start, args.ready_file.as_deref(), all) => Ok(()),
        };
    }
    let ready = async {
        for _ in 0..5 {
            synced_rx.recv().await;
        }
        mark_ready(args.ready_file.as_deref());
        std::future::pending::<()>().await;
    };
    tokio::select! {
        () = stop => Ok(()),
        () = all() => Ok(()),
        () = ready => Ok(()),
    }
}

// ANCHOR: lead_forever
/// Stands by until the elector leads, then runs a fresh `term` (every controller, each with
/// its own first list) until a renewal fails past the deadline or someone else holds the
/// lease; then drops it (stopping every controller) and stands by again. Ready once the lease
/// was first read.
async fn lead_forever<C, F, T>(
    elector: &mut LeaderElector<C>,
    start: tokio::time::Instant,
    ready_file: Option<&std::path::Path>,
    term: F,
) where
    C: ApiClient,
    F: Fn() -> T,
    T: std::future::Future<Output = ()>,
{
    let mut ready = false;
    loop {
        let ticked = elector.tick(start.elapsed()).await;
        if ticked.is_ok() && !ready {
            mark_ready(ready_file);
            ready = true;
        }
        if elector.is_leading(start.elapsed()) {
            tracing::info!("leading: starting the controllers");
            tokio::select! {
                () = term() => {}
                () = keep_leading(elector, start) => {}
            }
            tracing::info!("not leading any more: controllers stopped");
            continue;
        }
        sleep_until_next_tick(elector, start).await;
    }
}
// ANCHOR_END: lead_forever

/// Renews when due; returns as soon as we no longer lead.
async fn keep_leading<C: ApiClient>(elector: &mut LeaderElector<C>, start: tokio::time::Instant) {
    loop {
        sleep_until_next_tick(elector, start).await;
        let _ = elector.tick(start.elapsed()).await;
        if !elector.is_leading(start.elapsed()) {
            return;
        }
    }
}

/// Sleeps until the elector's next tick (at most one retry period, at least 10 ms).
async fn sleep_until_next_tick<C: ApiClient>(
    elector: &LeaderElector<C>,
    start: tokio::time::Instant,
) {
    let now = start.elapsed();
    let retry = elector.elector().config().retry_period;
    let next = elector
        .next_tick(now)
        .min(now + retry)
        .max(now + Duration::from_millis(10));
    tokio::time::sleep_until(start + next).await;
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
