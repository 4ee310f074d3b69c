//! A probe as the kubelet runs it: an `api::Probe` with Kubernetes' defaults filled in.

use std::time::Duration;

use api::{Container, IntOrString, Probe};

/// How a probe checks the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeHandler {
    /// Runs a command in the container's environment; exit code 0 is success.
    Exec {
        /// The command and its arguments.
        command: Vec<String>,
    },
    /// Opens a TCP connection to `POD_IP:port`; connecting is success.
    Tcp {
        /// The port.
        port: u16,
    },
    /// Sends `GET path` to `POD_IP:port`; a status from 200 to 399 is success.
    Http {
        /// The port.
        port: u16,
        /// The request path, e.g. `/healthz`.
        path: String,
    },
}

/// A probe with every setting resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeSpec {
    /// What to check.
    pub handler: ProbeHandler,
    /// Wait after the container starts before the first probe (default 0).
    pub initial_delay: Duration,
    /// Time between probes (default 10 s).
    pub period: Duration,
    /// How long one probe may take before it counts as a failure (default 1 s).
    pub timeout: Duration,
    /// Successes in a row needed to become Success (default 1).
    pub success_threshold: u32,
    /// Failures in a row needed to become Failure (default 3).
    pub failure_threshold: u32,
}

impl ProbeSpec {
    /// Resolves `probe` of `container`: defaults, named ports. Errors name the field.
    pub fn resolve(probe: &Probe, container: &Container) -> Result<Self, String> {
        let seconds = |value: Option<i32>, default: u64| {
            Duration::from_secs(value.map_or(default, |v| v.max(0) as u64))
        };
        let count = |value: Option<i32>, default: u32| value.map_or(default, |v| v.max(1) as u32);
        Ok(ProbeSpec {
            handler: handler(probe, container)?,
            initial_delay: seconds(probe.initial_delay_seconds, 0),
            period: seconds(probe.period_seconds, 10).max(Duration::from_secs(1)),
            timeout: seconds(probe.timeout_seconds, 1).max(Duration::from_secs(1)),
            success_threshold: count(probe.success_threshold, 1),
            failure_threshold: count(probe.failure_threshold, 3),
        })
    }
}

fn handler(probe: &Probe, container: &Container) -> Result<ProbeHandler, String> {
    if let Some(exec) = &probe.exec {
        return Ok(ProbeHandler::Exec {
            command: exec.command.clone(),
        });
    }
    if let Some(tcp) = &probe.tcp_socket {
        return Ok(ProbeHandler::Tcp {
            port: port(&tcp.port, container, "tcpSocket.port")?,
        });
    }
    if let Some(http) = &probe.http_get {
        return Ok(ProbeHandler::Http {
            port: port(&http.port, container, "httpGet.port")?,
            path: http.path.clone().unwrap_or_else(|| "/".to_string()),
        });
    }
    Err("must specify one of exec, tcpSocket, httpGet".to_string())
}

/// A port given as a number, or as the name of one of the container's ports.
fn port(port: &IntOrString, container: &Container, field: &str) -> Result<u16, String> {
    let number = match port {
        IntOrString::Int(number) => *number,
        IntOrString::String(name) => container
            .ports
            .iter()
            .find(|p| p.name.as_deref() == Some(name.as_str()))
            .map(|p| p.container_port)
            .ok_or_else(|| format!("{field}: no container port named {name:?}"))?,
    };
    u16::try_from(number)
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{field}: {number} is not a port number (1-65535)"))
}
