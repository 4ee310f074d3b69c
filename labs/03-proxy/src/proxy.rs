//! The proxy of one node: its services, their listeners and live endpoint updates.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::endpoint::{Endpoint, validate_all};
use crate::error::ProxyError;
use crate::service::{Backends, Route, accept_loop};

/// One node's kube-proxy: for each service, a listener on this node's address that forwards
/// connections to the service's ready endpoints, preferring those on this node.
///
/// ```no_run
/// # async fn demo() -> Result<(), proxy::ProxyError> {
/// use proxy::{Endpoint, Proxy};
/// let mut node_a = Proxy::new("node-a")?;
/// let address = node_a.add_service("web", "127.2.0.1:0".parse().unwrap()).await?;
/// node_a.update("web", vec![Endpoint::parse("127.1.0.7:8080", "node-a", true)?])?;
/// // Pods on node-a now reach `web` at `address`.
/// # Ok(()) }
/// ```
///
/// Dropping the proxy stops its listeners; connections already forwarded run to their end.
#[derive(Debug)]
pub struct Proxy {
    node: String,
    services: BTreeMap<String, ServiceHandle>,
}

/// A running service: where it listens, its shared route, and its accept loop.
#[derive(Debug)]
struct ServiceHandle {
    listen: SocketAddr,
    route: Arc<Route>,
    accept_loop: JoinHandle<()>,
}

impl Proxy {
    /// A proxy for the node named `node`, serving no service yet.
    pub fn new(node: &str) -> Result<Proxy, ProxyError> {
        if node.trim().is_empty() {
            return Err(ProxyError::invalid("node", "must not be empty"));
        }
        Ok(Proxy {
            node: node.to_string(),
            services: BTreeMap::new(),
        })
    }

    /// The name of the node this proxy runs on.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// The address `service` listens on, if this proxy serves it.
    pub fn address(&self, service: &str) -> Option<SocketAddr> {
        self.services.get(service).map(|handle| handle.listen)
    }

    // ANCHOR: add_service
    /// Starts serving `service` on `listen` (port 0 picks a free port) and returns the bound
    /// address. The service has no endpoints until the first [`Proxy::update`], so until then
    /// its connections are refused.
    pub async fn add_service(
        &mut self,
        service: &str,
        listen: SocketAddr,
    ) -> Result<SocketAddr, ProxyError> {
        if service.trim().is_empty() {
            return Err(ProxyError::invalid("service", "must not be empty"));
        }
        if self.services.contains_key(service) {
            return Err(ProxyError::DuplicateService(service.to_string()));
        }
        let bind_error = |source| ProxyError::Bind {
            service: service.to_string(),
            addr: listen,
            source,
        };
        let listener = TcpListener::bind(listen).await.map_err(bind_error)?;
        let bound = listener.local_addr().map_err(bind_error)?;
        let route = Arc::new(Route {
            service: service.to_string(),
            node: self.node.clone(),
            backends: Mutex::new(Backends::default()),
        });
        let accept_loop = tokio::spawn(accept_loop(listener, Arc::clone(&route)));
        tracing::info!(node = %self.node, service, %bound, "serving");
        let handle = ServiceHandle {
            listen: bound,
            route,
            accept_loop,
        };
        self.services.insert(service.to_string(), handle);
        Ok(bound)
    }
    // ANCHOR_END: add_service

    // ANCHOR: update
    /// Replaces the endpoints of `service`. New connections use the new list at once;
    /// connections already established keep their endpoint until they close. The
    /// round-robin cursor carries on, so an update does not send a burst to the first pod.
    ///
    /// The whole list is checked first: on error nothing changes.
    pub fn update(&mut self, service: &str, endpoints: Vec<Endpoint>) -> Result<(), ProxyError> {
        let handle = self
            .services
            .get(service)
            .ok_or_else(|| ProxyError::UnknownService(service.to_string()))?;
        validate_all(&endpoints)?;
        let ready = endpoints.iter().filter(|e| e.ready).count();
        let local = endpoints
            .iter()
            .filter(|e| e.ready && e.node == self.node)
            .count();
        let route = &handle.route;
        let mut backends = route
            .backends
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        backends.endpoints = endpoints;
        drop(backends);
        tracing::info!(node = %self.node, service, ready, local, "endpoints updated");
        if ready == 0 {
            tracing::warn!(node = %self.node, service, "no ready endpoint: connections will be refused");
        }
        Ok(())
    }
    // ANCHOR_END: update

    /// Stops accepting connections for `service`; its listener closes, freeing the address,
    /// as soon as the cancelled accept task is dropped. Connections already established drain:
    /// they run until their peers close them.
    pub fn remove_service(&mut self, service: &str) -> Result<(), ProxyError> {
        let handle = self
            .services
            .remove(service)
            .ok_or_else(|| ProxyError::UnknownService(service.to_string()))?;
        handle.accept_loop.abort();
        tracing::info!(node = %self.node, service, "stopped serving");
        Ok(())
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        for handle in self.services.values() {
            handle.accept_loop.abort();
        }
    }
}
