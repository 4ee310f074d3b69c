//! Scripts for fake containers: what a fake image does once started.

use std::time::Duration;

// ANCHOR: fake_image
/// What a fake container does once started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FakeBehavior {
    /// Runs until stopped.
    RunForever,
    /// Exits with `code` once `after` of virtual time has passed.
    ExitAfter {
        /// Virtual run time before the exit.
        after: Duration,
        /// The exit code.
        code: i32,
    },
    /// Is OOM-killed (exit code 137, reason OOMKilled) once `after` has passed.
    OomAfter {
        /// Virtual run time before the kill.
        after: Duration,
    },
}

/// A scripted image for the fake runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeImage {
    /// What its containers do.
    pub behavior: FakeBehavior,
    /// Lines it "prints" to stdout when it starts.
    pub logs: Vec<String>,
    /// On SIGTERM: `true` exits at once with code 0, `false` ignores it and is SIGKILLed (137).
    pub handles_sigterm: bool,
}
// ANCHOR_END: fake_image

impl FakeImage {
    /// An image with this behavior, no logs, that handles SIGTERM.
    pub fn new(behavior: FakeBehavior) -> Self {
        FakeImage {
            behavior,
            logs: Vec::new(),
            handles_sigterm: true,
        }
    }

    /// Adds log lines printed at start.
    pub fn with_logs<S: Into<String>>(mut self, lines: impl IntoIterator<Item = S>) -> Self {
        self.logs = lines.into_iter().map(Into::into).collect();
        self
    }

    /// Makes it ignore SIGTERM.
    pub fn ignoring_sigterm(mut self) -> Self {
        self.handles_sigterm = false;
        self
    }
}
