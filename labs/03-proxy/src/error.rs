//! The one error type of the proxy's public API.

use std::fmt;
use std::io;
use std::net::SocketAddr;

/// Why a proxy call was refused. Every variant names what was wrong, so a caller (and a
/// learner reading a log) can fix the input without reading the proxy's code.
#[derive(Debug)]
pub enum ProxyError {
    /// An input field is malformed: `field` is its path (e.g. `endpoints[1].addr`), `reason`
    /// says which rule it broke.
    Invalid {
        /// The path of the offending field, e.g. `endpoints[1].addr`.
        field: String,
        /// The rule it broke, e.g. `port must not be 0`.
        reason: String,
    },
    /// `update` or `remove_service` named a service this proxy does not serve.
    UnknownService(String),
    /// `add_service` named a service this proxy already serves.
    DuplicateService(String),
    /// The listening socket for a service could not be bound.
    Bind {
        /// The service whose address could not be bound.
        service: String,
        /// The address that was asked for.
        addr: SocketAddr,
        /// What the operating system said.
        source: io::Error,
    },
}

impl ProxyError {
    /// Shorthand for [`ProxyError::Invalid`].
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        ProxyError::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxyError::Invalid { field, reason } => write!(f, "{field}: {reason}"),
            ProxyError::UnknownService(name) => {
                write!(f, "service: no service named {name:?} on this proxy")
            }
            ProxyError::DuplicateService(name) => {
                write!(f, "service: {name:?} is already served by this proxy")
            }
            ProxyError::Bind {
                service,
                addr,
                source,
            } => write!(
                f,
                "listen: cannot bind {addr} for service {service:?}: {source}"
            ),
        }
    }
}

impl std::error::Error for ProxyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ProxyError::Bind { source, .. } => Some(source),
            _ => None,
        }
    }
}
