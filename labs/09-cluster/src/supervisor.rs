//! Starts each component as a process of its own, restarts it when it crashes, stops it on
//! request.
//!
//! Each child runs in a process group of its own: Ctrl-C in the terminal reaches `skiff up`
//! alone, which then stops the children in order (nodes first, so kubelets stop their pods
//! while the API server is still up) instead of all at once. Stopping is SIGTERM, a grace
//! period, then SIGKILL to the whole group, so nothing the child started outlives it.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::backoff::{Backoff, RestartPolicy};

/// What a supervised process did, for the progress display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    /// The process `name` started with this pid.
    Started {
        /// The component's name.
        name: String,
        /// Its process id.
        pid: u32,
    },
    /// The process exited on its own; it starts again after `restart_in`.
    Crashed {
        /// The component's name.
        name: String,
        /// How it ended, e.g. `exit status: 1` or `signal: 9 (SIGKILL)`.
        status: String,
        /// The back-off before the next start.
        restart_in: Duration,
    },
    /// The process could not even be started.
    SpawnFailed {
        /// The component's name.
        name: String,
        /// Why.
        error: String,
    },
}

/// How to run one component.
#[derive(Debug, Clone)]
pub struct ProcessSpec {
    /// The component's name, e.g. `kubelet-n1`.
    pub name: String,
    /// The program (for `skiff up`, its own binary).
    pub program: PathBuf,
    /// The arguments (the subcommand and its flags).
    pub args: Vec<String>,
    /// stdout and stderr are appended to this file.
    pub log_file: PathBuf,
}

/// A supervised process: its task restarts it until [`Supervised::stop`].
#[derive(Debug)]
pub struct Supervised {
    name: String,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Supervised {
    /// Starts `spec` now and keeps it running, reporting to `reports`.
    pub fn start(
        spec: ProcessSpec,
        policy: RestartPolicy,
        grace: Duration,
        reports: mpsc::UnboundedSender<Report>,
    ) -> Self {
        let (stop, stopped) = watch::channel(false);
        let name = spec.name.clone();
        let task = tokio::spawn(supervise(spec, policy, grace, reports, stopped));
        Supervised { name, stop, task }
    }

    /// The component's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Stops the process (SIGTERM, then after the grace period SIGKILL to its group) and
    /// returns once it has exited.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

// ANCHOR: supervise
async fn supervise(
    spec: ProcessSpec,
    policy: RestartPolicy,
    grace: Duration,
    reports: mpsc::UnboundedSender<Report>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut backoff = Backoff::new(policy);
    loop {
        if *stopped.borrow() {
            return;
        }
        let started = tokio::time::Instant::now();
        let delay = match spawn(&spec) {
            Ok(mut child) => {
                let pid = child.id().unwrap_or(0);
                let _ = reports.send(Report::Started {
                    name: spec.name.clone(),
                    pid,
                });
                tokio::select! {
                    status = child.wait() => {
                        kill_group(pid, libc::SIGKILL); // whatever it left behind
                        if *stopped.borrow() {
                            return;
                        }
                        let delay = backoff.on_exit(started.elapsed());
                        let status = status.map_or_else(|e| e.to_string(), describe);
                        let _ = reports.send(Report::Crashed { name: spec.name.clone(), status, restart_in: delay });
                        delay
                    }
                    _ = stopped.changed() => {
                        terminate(&mut child, pid, grace).await;
                        return;
                    }
                }
            }
            Err(error) => {
                let _ = reports.send(Report::SpawnFailed {
                    name: spec.name.clone(),
                    error: error.to_string(),
                });
                backoff.on_exit(Duration::ZERO)
            }
        };
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            _ = stopped.changed() => return,
        }
    }
}

// ANCHOR_END: supervise

// ANCHOR: spawn
fn spawn(spec: &ProcessSpec) -> std::io::Result<tokio::process::Child> {
    if let Some(dir) = spec.log_file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&spec.log_file)?;
    let mut command = tokio::process::Command::new(&spec.program);
    command
        .args(&spec.args)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        // A group of its own: the terminal's Ctrl-C goes to `skiff up` only, and one signal
        // to the group reaches everything the component started.
        .process_group(0);
    // SAFETY: the closure runs between fork and exec and makes one async-signal-safe system
    // call with integer arguments.
    unsafe {
        command.pre_exec(|| {
            // If `skiff up` dies without stopping the cluster (even by SIGKILL), each
            // component gets the SIGTERM it would have sent, and stops its pods.
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command.spawn()
}

/// SIGTERM, wait up to `grace`, then SIGKILL to the whole group.
async fn terminate(child: &mut tokio::process::Child, pid: u32, grace: Duration) {
    kill_group(pid, libc::SIGTERM);
    if tokio::time::timeout(grace, child.wait()).await.is_err() {
        tracing::warn!(
            pid,
            "did not stop within {grace:?}: killing its process group"
        );
    }
    kill_group(pid, libc::SIGKILL);
    let _ = child.wait().await;
}
// ANCHOR_END: spawn

/// Sends `signal` to process group `pgid` (which is the leader's pid); a group that is gone
/// already is fine.
fn kill_group(pgid: u32, signal: i32) {
    let Ok(pgid) = i32::try_from(pgid) else {
        return;
    };
    if pgid > 0 {
        // SAFETY: a plain system call with integer arguments.
        unsafe {
            libc::kill(-pgid, signal);
        }
    }
}

fn describe(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        _ => status.to_string(),
    }
}
