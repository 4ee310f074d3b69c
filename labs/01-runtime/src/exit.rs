//! How a process ended, turned into the exit code and reason Kubernetes shows.

use std::fmt;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

/// Why a container exited, as in a Pod's `state.terminated.reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitReason {
    /// Exit code 0.
    Completed,
    /// Any other exit code, including death by a signal.
    Error,
    /// The kernel's OOM killer ended it because it went over its memory limit.
    OOMKilled,
}

impl fmt::Display for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            ExitReason::Completed => "Completed",
            ExitReason::Error => "Error",
            ExitReason::OOMKilled => "OOMKilled",
        };
        f.write_str(text)
    }
}

/// How a process ended, as the kernel tells its parent through `waitpid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Termination {
    /// It called `exit(code)` (or returned from `main`).
    Exited(i32),
    /// It was killed by this signal number.
    Signaled(i32),
}

impl Termination {
    /// Reads a std `ExitStatus` (which wraps the raw wait status).
    pub fn from_status(status: ExitStatus) -> Self {
        match (status.code(), status.signal()) {
            (Some(code), _) => Termination::Exited(code),
            (None, Some(signal)) => Termination::Signaled(signal),
            // A stopped or continued status never reaches us: we do not ask for them.
            (None, None) => Termination::Exited(-1),
        }
    }
}

/// The exit code and reason of a container, as Kubernetes reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitInfo {
    /// The exit code: the process's own, or 128 + the signal number.
    pub code: i32,
    /// Completed, Error or OOMKilled.
    pub reason: ExitReason,
}

// ANCHOR: exit_info
/// Maps how the main process ended, and whether the cgroup saw an OOM kill, to an exit code and
/// reason. A signal `n` becomes code `128 + n`, as a shell reports it (SIGKILL → 137,
/// SIGTERM → 143). An OOM kill wins over everything: the SIGKILL came from the kernel's OOM
/// killer, and "OOMKilled" is what the user needs to see to raise the limit.
pub fn exit_info(termination: Termination, oom_killed: bool) -> ExitInfo {
    // EXERCISE(runtime-exit-reason): a signal n gives code 128+n; OOM beats everything, then 0 is Completed, anything else Error
    let code = match termination {
        Termination::Exited(code) => code,
        Termination::Signaled(signal) => 128 + signal,
    };
    let reason = if oom_killed {
        ExitReason::OOMKilled
    } else if code == 0 {
        ExitReason::Completed
    } else {
        ExitReason::Error
    };
    ExitInfo { code, reason }
    // END EXERCISE
}
// ANCHOR_END: exit_info
