//! `restartPolicy`: whether a container that exited is started again.

use std::fmt;

/// A pod's `spec.restartPolicy`; it applies to every container of the pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RestartPolicy {
    /// Restart whatever the exit code (the default: servers should never stop).
    #[default]
    Always,
    /// Restart only after a failure (non-zero exit code): jobs that must finish once.
    OnFailure,
    /// Never restart.
    Never,
}

impl RestartPolicy {
    /// Reads `spec.restartPolicy`; `None` is `Always`, as in Kubernetes. Validation (lab 00)
    /// has already refused other values, so an unknown one is an error naming the field.
    pub fn from_spec(value: Option<&str>) -> Result<Self, String> {
        match value {
            None | Some("Always") => Ok(RestartPolicy::Always),
            Some("OnFailure") => Ok(RestartPolicy::OnFailure),
            Some("Never") => Ok(RestartPolicy::Never),
            Some(other) => Err(format!(
                "spec.restartPolicy: Unsupported value: {other:?}: supported values: \
                 \"Always\", \"OnFailure\", \"Never\""
            )),
        }
    }
}

impl fmt::Display for RestartPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

// ANCHOR: should_restart
/// Whether a container that exited with `exit_code` is started again under `policy`.
pub fn should_restart(policy: RestartPolicy, exit_code: i32) -> bool {
    // EXERCISE(kubelet-should-restart): Always restarts, OnFailure only after a non-zero exit code, Never never does
    match policy {
        RestartPolicy::Always => true,
        RestartPolicy::OnFailure => exit_code != 0,
        RestartPolicy::Never => false,
    }
    // END EXERCISE
}
// ANCHOR_END: should_restart
