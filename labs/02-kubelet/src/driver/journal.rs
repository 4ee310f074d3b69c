//! The journal: one line per thing the kubelet did, stamped with the time since it started.
//! Tests snapshot it (on virtual time it is identical on every run); real mode logs it.

use std::time::{Duration, SystemTime};

/// The kubelet's record of what it did, in order.
#[derive(Debug, Clone)]
pub struct Journal {
    start: SystemTime,
    lines: Vec<String>,
}

impl Journal {
    /// An empty journal whose times count from `start`.
    pub fn new(start: SystemTime) -> Self {
        Journal {
            start,
            lines: Vec::new(),
        }
    }

    /// Records `what` at `now`, and logs it.
    pub fn record(&mut self, now: SystemTime, what: String) {
        let offset = now.duration_since(self.start).unwrap_or(Duration::ZERO);
        tracing::info!("{what}");
        self.lines.push(format!("[{:>6}] {what}", clock(offset)));
    }

    /// Every line so far.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }
}

/// `+75s` as `1m15s`: a timeline reads better in minutes.
fn clock(offset: Duration) -> String {
    let seconds = offset.as_secs();
    let millis = offset.subsec_millis();
    let fraction = if millis == 0 {
        String::new()
    } else {
        format!(".{millis:03}")
    };
    match seconds / 60 {
        0 => format!("{seconds}{fraction}s"),
        minutes => format!("{minutes}m{:02}{fraction}s", seconds % 60),
    }
}
