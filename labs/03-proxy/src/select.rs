//! The sans-IO core: which endpoint gets the next connection.
//!
//! Everything here is a pure function of the endpoint list, the proxy's own node name and a
//! round-robin cursor. No sockets, no clocks: the tests call these functions directly, and
//! the proxy's IO shell calls them once per accepted connection.

use std::net::SocketAddr;

use crate::endpoint::Endpoint;

// ANCHOR: round_robin
/// A round-robin cursor: it remembers how many connections it has handed out, so that
/// consecutive connections go to consecutive candidates.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RoundRobin {
    handed_out: usize,
}

impl RoundRobin {
    /// A cursor that starts at the first candidate.
    pub fn new() -> RoundRobin {
        RoundRobin::default()
    }

    /// The index, among `len` candidates, of the endpoint for the next connection, or `None`
    /// when there is no candidate. Calling it with no candidates does not move the cursor.
    pub fn next_index(&mut self, len: usize) -> Option<usize> {
        // EXERCISE(proxy-round-robin): return None for no candidates; else handed_out % len, then count one more
        if len == 0 {
            return None;
        }
        let index = self.handed_out % len;
        // Wrapping keeps a proxy that has served usize::MAX connections alive; the order
        // stays a rotation, only its phase jumps once.
        self.handed_out = self.handed_out.wrapping_add(1);
        Some(index)
        // END EXERCISE
    }
}
// ANCHOR_END: round_robin

// ANCHOR: ready
/// The endpoints that may receive new connections: the ready ones, in list order.
pub fn ready_endpoints(endpoints: &[Endpoint]) -> Vec<&Endpoint> {
    // EXERCISE(proxy-skip-not-ready): keep only the endpoints whose `ready` flag is set, in order
    endpoints.iter().filter(|endpoint| endpoint.ready).collect()
    // END EXERCISE
}
// ANCHOR_END: ready

// ANCHOR: prefer_node
/// Narrows `ready` to the endpoints on `node` when there is at least one; otherwise keeps
/// them all, so that a node without a local pod still reaches the service.
pub fn prefer_node<'a>(ready: Vec<&'a Endpoint>, node: &str) -> Vec<&'a Endpoint> {
    // EXERCISE(proxy-same-node): return the endpoints whose node is `node` if any, else all of `ready`
    let local: Vec<&Endpoint> = ready
        .iter()
        .copied()
        .filter(|endpoint| endpoint.node == node)
        .collect();
    if local.is_empty() { ready } else { local }
    // END EXERCISE
}
// ANCHOR_END: prefer_node

// ANCHOR: dial_order
/// The addresses to dial for the next connection, best first.
///
/// The first is the round-robin choice among the preferred candidates (ready, same node if
/// possible). The rest are the fallbacks the dialer tries if that one refuses: the other
/// preferred candidates in rotation order, then every other ready endpoint. An empty list
/// means no endpoint is ready, and the connection must be refused.
pub fn dial_order(endpoints: &[Endpoint], node: &str, cursor: &mut RoundRobin) -> Vec<SocketAddr> {
    let ready = ready_endpoints(endpoints);
    let preferred = prefer_node(ready.clone(), node);
    let Some(first) = cursor.next_index(preferred.len()) else {
        return Vec::new();
    };
    let rotation = preferred[first..].iter().chain(&preferred[..first]);
    let elsewhere = ready.iter().filter(|e| !preferred.contains(e));
    rotation
        .chain(elsewhere)
        .map(|endpoint| endpoint.addr)
        .collect()
}
// ANCHOR_END: dial_order

/// The endpoint that gets the next connection, if any is ready: the head of [`dial_order`].
pub fn choose<'a>(
    endpoints: &'a [Endpoint],
    node: &str,
    cursor: &mut RoundRobin,
) -> Option<&'a Endpoint> {
    let first = *dial_order(endpoints, node, cursor).first()?;
    endpoints.iter().find(|endpoint| endpoint.addr == first)
}
