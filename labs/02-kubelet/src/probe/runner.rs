//! `ProbeRunner`: the IO half of probing, behind a trait so tests can script outcomes.

use std::future::Future;
use std::net::Ipv4Addr;

use super::{ProbeKind, ProbeOutcome, ProbeSpec};

/// One probe run to perform: which container, where, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeRequest {
    /// `namespace/name` of the pod.
    pub pod: String,
    /// The container's name.
    pub container: String,
    /// Which probe.
    pub kind: ProbeKind,
    /// The pod's IP (TCP and HTTP probes connect to it).
    pub pod_ip: Ipv4Addr,
    /// The container's environment (exec probes run with it).
    pub env: Vec<(String, String)>,
    /// How to probe, and the timeout.
    pub spec: ProbeSpec,
}

/// Runs probes. The kubelet decides *when*; a runner only does *what*.
pub trait ProbeRunner: Send + Sync {
    /// Runs one probe, never longer than its timeout, and says how it went (with a message).
    fn run(&self, request: ProbeRequest) -> impl Future<Output = (ProbeOutcome, String)> + Send;
}
