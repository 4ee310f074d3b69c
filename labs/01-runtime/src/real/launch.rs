//! Starting a container and watching it until its end.

use std::sync::{Arc, Mutex};

use tokio::process::Child;
use tokio::sync::watch;

use crate::cgroup::{ContainerCgroup, Controller, LimitSupport, RuntimeCgroups};
use crate::clock::Clock;
use crate::config::ResourceLimits;
use crate::exit::{Termination, exit_info};
use crate::log_format::Stream;
use crate::process::{ProcessGroup, RlimitResource, kill_and_reap};
use crate::status::{ContainerId, ContainerState};

use super::logs::pump;
use super::state::State;

/// The rlimits that stand in for cgroup limits this machine cannot enforce.
///
/// `RLIMIT_AS` caps *virtual* memory, not resident memory, so a program that reserves more
/// than it touches can fail early, and going over it makes allocations fail (the program
/// usually aborts) instead of an OOM kill. `RLIMIT_NPROC` counts the user's processes, not the
/// container's, and is ignored for root. Weak, but better than nothing, and said so by `info()`.
pub(crate) fn fallback_rlimits(
    cgroups: &RuntimeCgroups,
    limits: &ResourceLimits,
) -> Vec<(RlimitResource, u64)> {
    let mut rlimits = Vec::new();
    if cgroups.support(Controller::Memory) == LimitSupport::Rlimit
        && let Some(bytes) = limits.memory_bytes
    {
        rlimits.push((libc::RLIMIT_AS, bytes));
    }
    if cgroups.support(Controller::Pids) == LimitSupport::Rlimit
        && let Some(pids) = limits.pids
    {
        rlimits.push((libc::RLIMIT_NPROC, pids));
    }
    if cgroups.support(Controller::Cpu) == LimitSupport::NotEnforced
        && limits.cpu_millicores.is_some()
    {
        tracing::warn!("no cpu cgroup controller: the CPU limit is not enforced");
    }
    rlimits
}

/// What the monitor task needs to finish a container's life.
pub(crate) struct Watch {
    pub id: ContainerId,
    pub child: Child,
    pub cgroup: ContainerCgroup,
    pub state: Arc<Mutex<State>>,
    pub clock: Arc<dyn Clock>,
    pub exited: watch::Sender<bool>,
}

// ANCHOR: monitor
/// Follows a started container: copies its output to the log, waits for its main process,
/// cleans up what it left behind, and records the exit code and reason.
pub(crate) fn monitor(mut watch: Watch, log_path: std::path::PathBuf) {
    let stdout = watch.child.stdout.take().map(|out| {
        tokio::spawn(pump(
            out,
            Stream::Stdout,
            log_path.clone(),
            watch.clock.clone(),
        ))
    });
    let stderr = watch
        .child
        .stderr
        .take()
        .map(|err| tokio::spawn(pump(err, Stream::Stderr, log_path, watch.clock.clone())));
    tokio::spawn(async move {
        let pid = watch.child.id().unwrap_or_default() as i32;
        let termination = match watch.child.wait().await {
            Ok(status) => Termination::from_status(status),
            // Only when the runtime itself reaped it while shutting down: it was SIGKILLed.
            Err(_) => Termination::Signaled(libc::SIGKILL),
        };
        // A container ends with its main process (as in Kubernetes): whatever it left running
        // in its group or cgroup is killed and reaped now.
        let cgroup = watch.cgroup.clone();
        let _ =
            tokio::task::spawn_blocking(move || kill_and_reap(ProcessGroup(pid), Some(&cgroup)))
                .await;
        for pump in [stdout, stderr].into_iter().flatten() {
            let _ = pump.await;
        }
        let oom_killed = watch.cgroup.oom_killed();
        record_exit(&watch, exit_info(termination, oom_killed));
        let _ = watch.exited.send(true);
    });
}
// ANCHOR_END: monitor

/// Marks the container Exited with its exit code and reason.
fn record_exit(watch: &Watch, exit: crate::exit::ExitInfo) {
    let mut state = watch.state.lock().expect("runtime state lock poisoned");
    if let Some(record) = state.containers.get_mut(&watch.id) {
        record.state = ContainerState::Exited;
        record.pid = None;
        record.exit = Some(exit);
        record.finished_at = Some(watch.clock.now());
    }
}
