//! Probes: how the kubelet learns whether a container has started, is alive, is ready.
//!
//! The *when* (initial delay, period, thresholds) is plain logic on virtual time
//! ([`ProbeWorker`], [`ProbeCounter`]); the *how* (run a command, connect, GET) is IO behind
//! [`ProbeRunner`], with a real implementation and a scripted one for tests.

mod real;
mod runner;
mod scripted;
mod spec;
mod threshold;
mod worker;

pub use real::RealProber;
pub use runner::{ProbeRequest, ProbeRunner};
pub use scripted::ScriptedProber;
pub use spec::{ProbeHandler, ProbeSpec};
pub use threshold::ProbeCounter;
pub use worker::ProbeWorker;

use std::fmt;

/// The three kinds of probe, each with its own consequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProbeKind {
    /// Gates the other two until the container has started; failing it restarts the container.
    Startup,
    /// Failing it restarts the container.
    Liveness,
    /// Failing it takes the container (and pod) out of Service endpoints; nothing restarts.
    Readiness,
}

impl fmt::Display for ProbeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            ProbeKind::Startup => "startup",
            ProbeKind::Liveness => "liveness",
            ProbeKind::Readiness => "readiness",
        };
        f.write_str(name)
    }
}

/// The outcome of one probe run, or the result a probe settles on after its thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeOutcome {
    /// The check passed.
    Success,
    /// The check failed (or timed out).
    Failure,
}
