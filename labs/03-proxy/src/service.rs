//! One service on one proxy: the accept loop and the life of each connection.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tracing::Instrument;

use crate::copy::copy_both_ways;
use crate::dial::{MAX_DIAL_ATTEMPTS, dial_first};
use crate::endpoint::Endpoint;
use crate::select::{RoundRobin, dial_order};

/// After a failed `accept` (e.g. out of file descriptors) wait this long before the next, so
/// that a persistent error does not turn the loop into a busy spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// The part of a service that changes while it runs: its endpoints and its cursor.
#[derive(Debug, Default)]
pub(crate) struct Backends {
    pub(crate) endpoints: Vec<Endpoint>,
    pub(crate) cursor: RoundRobin,
}

/// What the accept loop needs to route a connection: shared with the [`crate::Proxy`] handle,
/// which swaps the endpoints in place on `update`.
#[derive(Debug)]
pub(crate) struct Route {
    pub(crate) service: String,
    pub(crate) node: String,
    pub(crate) backends: Mutex<Backends>,
}

impl Route {
    /// The dial order for the next connection. The lock is held only for this pure
    /// computation, never across a dial or a copy, so an update never waits on traffic.
    fn next_dial_order(&self) -> Vec<SocketAddr> {
        // A panic elsewhere while holding the lock cannot leave `Backends` half-written (every
        // write is a single assignment), so a poisoned lock is safe to keep using.
        let mut backends = self.backends.lock().unwrap_or_else(PoisonError::into_inner);
        let Backends { endpoints, cursor } = &mut *backends;
        dial_order(endpoints, &self.node, cursor)
    }
}

// ANCHOR: accept_loop
/// Accepts connections for one service forever, routing each as it arrives.
///
/// The endpoint is chosen here, in accept order, and each connection then lives in its own
/// task. That task owns its two sockets and nothing else, so when the endpoint list changes,
/// or the service is removed and this loop stops, connections already accepted carry on
/// until their peers close them: they drain, while new connections see the new list.
pub(crate) async fn accept_loop(listener: TcpListener, route: Arc<Route>) {
    loop {
        match listener.accept().await {
            Ok((client, peer)) => {
                let order = route.next_dial_order();
                let span = tracing::info_span!("conn", service = %route.service, %peer);
                tokio::spawn(forward(client, order).instrument(span));
            }
            Err(error) => {
                tracing::warn!(service = %route.service, %error, "accept failed");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
            }
        }
    }
}
// ANCHOR_END: accept_loop

// ANCHOR: forward
/// Connects one client to the first endpoint of `order` that answers, then copies bytes
/// both ways until both sides are done.
async fn forward(client: TcpStream, order: Vec<SocketAddr>) {
    if order.is_empty() {
        tracing::warn!("no ready endpoint; refusing the connection");
        return refuse(client);
    }
    let (backend, endpoint) = match dial_first(&order, MAX_DIAL_ATTEMPTS).await {
        Ok(connected) => connected,
        Err(error) => {
            tracing::warn!(%error, "refusing the connection");
            return refuse(client);
        }
    };
    // The proxy must not add its own batching delay to small writes: whatever Nagle policy
    // the client and the pod chose for their sockets is theirs, and ours relays at once.
    for socket in [&client, &backend] {
        if let Err(error) = socket.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
    }
    tracing::debug!(%endpoint, "forwarding");
    match copy_both_ways(client, backend).await {
        Ok(bytes) => tracing::debug!(%endpoint, bytes.sent, bytes.received, "closed"),
        Err(error) => tracing::debug!(%endpoint, %error, "ended with an error"),
    }
}

/// Closes `client` with a reset rather than a clean close, so the client sees the connection
/// refused (as with real kube-proxy's REJECT rule) instead of an empty successful reply.
fn refuse(client: TcpStream) {
    if let Err(error) = client.set_zero_linger() {
        tracing::debug!(%error, "could not set SO_LINGER; closing normally");
    }
    drop(client);
}
// ANCHOR_END: forward
