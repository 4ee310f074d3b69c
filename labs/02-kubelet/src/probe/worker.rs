//! `ProbeWorker`: when one probe of one container runs, and what it has concluded so far.

use std::time::{Duration, SystemTime};

use super::{ProbeCounter, ProbeKind, ProbeOutcome, ProbeSpec};

// ANCHOR: worker
/// The schedule and the result of one probe of one container instance. A restarted container
/// gets fresh workers: its history starts over, as in Kubernetes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeWorker {
    /// Which probe.
    pub kind: ProbeKind,
    /// Its settings.
    pub spec: ProbeSpec,
    /// When it is next due.
    pub next_run: SystemTime,
    /// Consecutive outcomes so far.
    pub counter: ProbeCounter,
    /// The settled result; `None` until a threshold is first reached.
    pub result: Option<ProbeOutcome>,
}
// ANCHOR_END: worker

impl ProbeWorker {
    /// A worker for a container that started at `started_at`: first due after the initial
    /// delay.
    pub fn new(kind: ProbeKind, spec: ProbeSpec, started_at: SystemTime) -> Self {
        ProbeWorker {
            kind,
            next_run: started_at + spec.initial_delay,
            spec,
            counter: ProbeCounter::default(),
            result: None,
        }
    }

    /// Is a run due at `now`?
    pub fn is_due(&self, now: SystemTime) -> bool {
        now >= self.next_run
    }

    /// Marks a run as started at `now`: the next one is a period later.
    pub fn start_run(&mut self, now: SystemTime) {
        self.next_run = now + self.spec.period;
    }

    /// Records the outcome of a run; returns the new result if it changed.
    pub fn record(&mut self, outcome: ProbeOutcome) -> Option<ProbeOutcome> {
        let settled = self.counter.observe(
            outcome,
            self.spec.success_threshold,
            self.spec.failure_threshold,
        )?;
        (self.result != Some(settled)).then(|| {
            self.result = Some(settled);
            settled
        })
    }

    /// Delay until the next run, seen from `now` (zero when overdue).
    pub fn until_due(&self, now: SystemTime) -> Duration {
        self.next_run.duration_since(now).unwrap_or_default()
    }
}
