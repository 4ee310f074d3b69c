//! Where each node's proxy listens.
//!
//! Real kube-proxy gives a service one virtual IP, the same on every node, because each node
//! has its own kernel and rewrites packets to that IP locally. skiff's nodes all share one
//! machine's loopback, so two nodes' proxies cannot both bind the same IP and port. Instead
//! each node's proxy listens on its own loopback IP, and pods on that node are pointed at it.

use std::net::Ipv4Addr;

use crate::error::ProxyError;

// ANCHOR: node_proxy_ip
/// The loopback IP the proxy of node number `node_index` (0, 1, 2, ...) listens on:
/// `127.2.0.1` for node 0, `127.2.0.2` for node 1, and so on through the `127.2.0.0/16` block.
///
/// Pod IPs come from `127.1.0.0/16` (lab 01), so the two never collide. Each service then has
/// its own port on that IP: the pair (node IP, service port) is the service's address for
/// pods on that node.
pub fn node_proxy_ip(node_index: u16) -> Result<Ipv4Addr, ProxyError> {
    // Host number 0 is skipped: by convention it names the network, not a host.
    let host = node_index.checked_add(1).ok_or_else(|| {
        ProxyError::invalid(
            "node_index",
            format!("must be below {}, got {node_index}", u16::MAX),
        )
    })?;
    let [high, low] = host.to_be_bytes();
    Ok(Ipv4Addr::new(127, 2, high, low))
}
// ANCHOR_END: node_proxy_ip
