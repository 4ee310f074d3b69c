//! One backend of a service, as the proxy sees it.

use std::net::SocketAddr;

use crate::error::ProxyError;

/// A pod that backs a service: where to dial it, which node it runs on, and whether it may
/// receive traffic.
///
/// This is the proxy's own small type, not the API's `Endpoints` object: the proxy needs only
/// these three facts, and keeping its core free of API types lets lab 08 feed it from watched
/// `Endpoints` without this crate knowing how they are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The pod's IP and the service's target port, e.g. `127.1.0.7:8080`.
    pub addr: SocketAddr,
    /// The node the pod runs on, e.g. `node-a`; compared with the proxy's own node name.
    pub node: String,
    /// Whether the pod passes its readiness probe; a not-ready endpoint gets no new traffic.
    pub ready: bool,
}

// ANCHOR: parse
impl Endpoint {
    /// Builds an endpoint from text, e.g. `Endpoint::parse("127.1.0.7:8080", "node-a", true)`.
    ///
    /// The address must be `ip:port` with a non-zero port and the node name must not be
    /// empty; anything else is an [`ProxyError::Invalid`] naming the field.
    pub fn parse(addr: &str, node: &str, ready: bool) -> Result<Endpoint, ProxyError> {
        let addr: SocketAddr = addr.parse().map_err(|_| {
            ProxyError::invalid("addr", format!("{addr:?} is not an ip:port address"))
        })?;
        let endpoint = Endpoint {
            addr,
            node: node.to_string(),
            ready,
        };
        endpoint.validate("")?;
        Ok(endpoint)
    }

    /// Checks the rules `parse` enforces on an endpoint built by hand; `path` prefixes the
    /// field names in errors (e.g. `endpoints[2].`).
    pub fn validate(&self, path: &str) -> Result<(), ProxyError> {
        if self.addr.port() == 0 {
            return Err(ProxyError::invalid(
                format!("{path}addr"),
                format!("port must not be 0 in {}", self.addr),
            ));
        }
        if self.addr.ip().is_unspecified() {
            return Err(ProxyError::invalid(
                format!("{path}addr"),
                format!(
                    "{} is unspecified; an endpoint needs a pod IP",
                    self.addr.ip()
                ),
            ));
        }
        if self.node.trim().is_empty() {
            return Err(ProxyError::invalid(
                format!("{path}node"),
                "must not be empty",
            ));
        }
        Ok(())
    }
}
// ANCHOR_END: parse

/// Checks a whole endpoint list: every endpoint valid, and no address listed twice (a
/// duplicate would silently get twice its share of the traffic).
pub fn validate_all(endpoints: &[Endpoint]) -> Result<(), ProxyError> {
    for (index, endpoint) in endpoints.iter().enumerate() {
        endpoint.validate(&format!("endpoints[{index}]."))?;
        if let Some(first) = endpoints[..index]
            .iter()
            .position(|e| e.addr == endpoint.addr)
        {
            return Err(ProxyError::invalid(
                format!("endpoints[{index}].addr"),
                format!("{} is already listed as endpoints[{first}]", endpoint.addr),
            ));
        }
    }
    Ok(())
}
