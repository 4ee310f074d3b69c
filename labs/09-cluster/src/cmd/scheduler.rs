//! `skiff scheduler --kubeconfig FILE`: lab 05's scheduler, binding pods through the API.

use api::client::ApiClient;
use scheduler::driver::SchedulerDriver;
use scheduler::framework::Profile;
use scheduler::scheduler::Scheduler;

use super::{ClientArgs, RETRY, connect, mark_ready, stop_signal, wall_clock_now};
use crate::flags::Flags;

/// `skiff scheduler --help`.
pub const USAGE: &str = "\
skiff scheduler: assigns each new pod to a node (filter, score, bind)

Usage: skiff scheduler --kubeconfig FILE [options]

Options:
  --kubeconfig FILE    the scheduler's kubeconfig (user system:kube-scheduler) [env: KUBECONFIG]
  --ready-file FILE    created once the first list of nodes and pods succeeded
  -h, --help           print this help
";

/// Parses `--kubeconfig` and `--ready-file` (what the scheduler and the controller manager
/// take); `Ok(None)` for `--help`.
pub fn parse(args: &[String]) -> Result<Option<ClientArgs>, String> {
    let mut kubeconfig = std::env::var_os("KUBECONFIG").map(std::path::PathBuf::from);
    let mut ready_file = None;
    let mut flags = Flags::new(args);
    while let Some(flag) = flags.next_flag() {
        match flag.name.as_str() {
            "-h" | "--help" => return Ok(None),
            "--kubeconfig" => kubeconfig = Some(flags.value(&flag)?.into()),
            "--ready-file" => ready_file = Some(flags.value(&flag)?.into()),
            other => return Err(format!("{other}: unknown option (see --help)")),
        }
    }
    let kubeconfig = kubeconfig.ok_or("--kubeconfig: required (or set KUBECONFIG)")?;
    Ok(Some(ClientArgs {
        kubeconfig,
        ready_file,
    }))
}

// ANCHOR: schedule_forever
/// Schedules until SIGINT or SIGTERM. When the API fails the driver (server restarting,
/// watch dropped), a new driver lists everything again after a second: level-triggered, so
/// nothing is lost.
pub async fn run(args: ClientArgs) -> Result<(), String> {
    let stop = stop_signal()?;
    let api = connect(&args.kubeconfig)?;
    tokio::select! {
        () = stop => Ok(()),
        () = schedule_forever(api, args.ready_file) => Ok(()),
    }
}

async fn schedule_forever<C: ApiClient + Clone>(api: C, ready_file: Option<std::path::PathBuf>) {
    let mut ready = false;
    loop {
        let scheduler = Scheduler::new(Profile::default_plugins());
        let mut driver = SchedulerDriver::new(api.clone(), scheduler, wall_clock_now());
        match driver.sync(std::time::Duration::ZERO).await {
            Ok(()) => {
                if !ready {
                    mark_ready(ready_file.as_deref());
                    ready = true;
                }
                if let Err(error) = driver.run().await {
                    tracing::warn!(%error, "scheduler stopped; starting over");
                }
            }
            Err(error) => tracing::warn!(%error, "listing nodes and pods failed; retrying"),
        }
        tokio::time::sleep(RETRY).await;
    }
}
// ANCHOR_END: schedule_forever
