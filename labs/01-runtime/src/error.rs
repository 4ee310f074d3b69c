//! The one error type of the runtime.
//!
//! Every variant names *what* was wrong (the field, the id, the image) and *why*, so that the
//! kubelet can turn it into a pod condition or an event without guessing.

use std::fmt;
use std::path::Path;

/// Everything that can go wrong when asking the runtime to do something.
#[derive(Debug)]
pub enum RuntimeError {
    /// A config field is invalid: `field` is its path (`limits.memory_bytes`), `reason` the rule.
    InvalidConfig {
        /// Path of the offending field, e.g. `limits.cpu_millicores`.
        field: String,
        /// The rule it breaks, e.g. `must be greater than 0`.
        reason: String,
    },
    /// No sandbox with this id exists (it was never created or has been removed).
    SandboxNotFound(String),
    /// No container with this id was ever created.
    ContainerNotFound(String),
    /// The container existed but has been removed; its id is never reused.
    ContainerRemoved(String),
    /// The operation does not fit the container's (or sandbox's) current state.
    InvalidState {
        /// The container or sandbox id.
        id: String,
        /// What was asked, e.g. `start`.
        action: &'static str,
        /// Why it cannot be done now, e.g. `container is Running`.
        reason: String,
    },
    /// The image cannot be turned into a program to run.
    ImageNotFound {
        /// The image name as given in the container config.
        image: String,
        /// What was looked for and where.
        reason: String,
    },
    /// No more pod IPs are free in the configured range.
    PodIpsExhausted {
        /// The range that is full, e.g. `127.1.0.0/16`.
        range: String,
    },
    /// An operating-system call failed.
    Io {
        /// What the runtime was doing, e.g. `creating log file /tmp/x/c-1.log`.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl RuntimeError {
    /// Shorthand for [`RuntimeError::InvalidConfig`].
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        RuntimeError::InvalidConfig {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`RuntimeError::Io`], with the path or action that failed.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        RuntimeError::Io {
            context: context.into(),
            source,
        }
    }

    /// An [`RuntimeError::Io`] about a file system path.
    pub fn io_at(action: &str, path: &Path, source: std::io::Error) -> Self {
        Self::io(format!("{action} {}", path.display()), source)
    }
}

impl fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuntimeError::InvalidConfig { field, reason } => write!(f, "{field}: {reason}"),
            RuntimeError::SandboxNotFound(id) => write!(f, "sandbox {id:?} not found"),
            RuntimeError::ContainerNotFound(id) => write!(f, "container {id:?} not found"),
            RuntimeError::ContainerRemoved(id) => {
                write!(f, "container {id:?} has been removed; create a new one")
            }
            RuntimeError::InvalidState { id, action, reason } => {
                write!(f, "cannot {action} {id:?}: {reason}")
            }
            RuntimeError::ImageNotFound { image, reason } => {
                write!(f, "image {image:?} not found: {reason}")
            }
            RuntimeError::PodIpsExhausted { range } => {
                write!(f, "no free pod IP left in {range}")
            }
            RuntimeError::Io { context, source } => write!(f, "{context}: {source}"),
        }
    }
}

impl std::error::Error for RuntimeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RuntimeError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The result type of every runtime call.
pub type Result<T, E = RuntimeError> = std::result::Result<T, E>;
