//! Thresholds: a probe's result changes only after enough identical outcomes in a row.

use super::ProbeOutcome;

/// Counts consecutive identical outcomes of one probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProbeCounter {
    /// The outcome of the current run of identical outcomes (`None` before the first).
    pub last: Option<ProbeOutcome>,
    /// How many times in a row `last` happened.
    pub run: u32,
}

impl ProbeCounter {
    // ANCHOR: observe
    /// Records one outcome. Returns `Some(outcome)` when this outcome has now happened
    /// `success_threshold` (for a success) or `failure_threshold` (for a failure) times in a
    /// row, i.e. when the probe's result should be set to it; `None` while the run is shorter.
    pub fn observe(
        &mut self,
        outcome: ProbeOutcome,
        success_threshold: u32,
        failure_threshold: u32,
    ) -> Option<ProbeOutcome> {
        // EXERCISE(kubelet-probe-threshold): extend the run if the outcome repeats, else start a new run of 1; report the outcome once the run reaches its threshold
        if self.last == Some(outcome) {
            self.run = self.run.saturating_add(1);
        } else {
            self.last = Some(outcome);
            self.run = 1;
        }
        let threshold = match outcome {
            ProbeOutcome::Success => success_threshold,
            ProbeOutcome::Failure => failure_threshold,
        };
        (self.run >= threshold.max(1)).then_some(outcome)
        // END EXERCISE
    }
    // ANCHOR_END: observe
}
