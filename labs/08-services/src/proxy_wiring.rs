//! kube-proxy wiring: a node's proxy (lab 03) kept in step with the Services and Endpoints of
//! the API.
//!
//! [`ServiceProxy`] owns one lab-03 [`Proxy`]. For every port of every Service that has a
//! ClusterIP it serves a listener, and it feeds that listener the Endpoints of the Service,
//! port by port, with each address's node so that lab 03's same-node preference applies.
//! [`ServiceProxy::sync`] is the whole reconcile step (desired listeners and endpoint lists
//! from two lists of objects); [`ServiceProxy::run`] drives it from two informers.
//!
//! Where does a node's proxy listen? In Kubernetes every node's kernel answers the ClusterIP
//! itself, because kube-proxy programs the same rewrite rules on every node. skiff's nodes
//! share one machine and one loopback, so two node proxies cannot both bind the ClusterIP.
//! [`NodeView`] says what a node's pods dial: the ClusterIP itself (one node per machine), or
//! the ClusterIP moved into that node's own block of loopback addresses.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use api::client::{ApiClient, ApiError, ApiResult};
use api::{Endpoints, Service};
use controllers::runtime::Informer;
use proxy::{Endpoint, Proxy, ProxyError};

// ANCHOR: node_view
/// What the pods of one node dial to reach a Service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeView {
    /// The ClusterIP itself: one node per machine, as in a real cluster.
    ClusterIp,
    /// The ClusterIP's last two bytes in this node's block `127.(11 + n).0.0/16`, so that
    /// several nodes' proxies share one machine (nodes 0 to 88).
    Node(u8),
}

impl NodeView {
    /// The address pods on this node use for the Service whose ClusterIP is `cluster_ip`.
    pub fn address(self, cluster_ip: Ipv4Addr) -> Ipv4Addr {
        match self {
            NodeView::ClusterIp => cluster_ip,
            NodeView::Node(n) => {
                let [_, _, c, d] = cluster_ip.octets();
                Ipv4Addr::new(127, 11u8.saturating_add(n), c, d)
            }
        }
    }
}
// ANCHOR_END: node_view

/// The name a Service port is served under in the lab-03 proxy: `namespace/name:port`.
pub fn listener_name(service: &Service, port: i32) -> String {
    format!(
        "{}/{}:{port}",
        service.metadata.namespace.as_deref().unwrap_or("default"),
        service.metadata.name.as_deref().unwrap_or("")
    )
}

// ANCHOR: endpoints_for_port
/// The lab-03 endpoint list of one Service port: every address of `endpoints` (ready ones
/// from `addresses`, the others from `notReadyAddresses`) at the port whose name matches the
/// Service port's. Addresses without a node get `"unknown"`, so they are never local.
pub fn endpoints_for_port(endpoints: &Endpoints, port_name: Option<&str>) -> Vec<Endpoint> {
    let mut list = Vec::new();
    for subset in &endpoints.subsets {
        let Some(port) = subset
            .ports
            .iter()
            .find(|p| p.name.as_deref().unwrap_or("") == port_name.unwrap_or(""))
        else {
            continue;
        };
        let Ok(port) = u16::try_from(port.port) else {
            continue;
        };
        let ready = subset.addresses.iter().map(|a| (a, true));
        let not_ready = subset.not_ready_addresses.iter().map(|a| (a, false));
        for (address, ready) in ready.chain(not_ready) {
            let Ok(ip) = address.ip.parse::<Ipv4Addr>() else {
                tracing::warn!(ip = %address.ip, "skipping an endpoint address that is not IPv4");
                continue;
            };
            list.push(Endpoint {
                addr: SocketAddr::V4(SocketAddrV4::new(ip, port)),
                node: address
                    .node_name
                    .clone()
                    .unwrap_or_else(|| "unknown".into()),
                ready,
            });
        }
    }
    list
}
// ANCHOR_END: endpoints_for_port

/// Why [`ServiceProxy::sync_from`] failed.
#[derive(Debug)]
pub enum SyncError {
    /// Listing Services or Endpoints failed.
    Api(ApiError),
    /// The proxy refused a listener or an endpoint list.
    Proxy(ProxyError),
}

impl std::fmt::Display for SyncError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SyncError::Api(error) => write!(f, "listing services and endpoints: {error}"),
            SyncError::Proxy(error) => write!(f, "updating the proxy: {error}"),
        }
    }
}

impl std::error::Error for SyncError {}

/// One node's kube-proxy, driven by the API's Services and Endpoints.
#[derive(Debug)]
pub struct ServiceProxy {
    proxy: Proxy,
    view: NodeView,
    /// Listener name -> the address it is bound to.
    served: BTreeMap<String, SocketAddr>,
}

impl ServiceProxy {
    /// The proxy of node `node`, whose pods see Services through `view`.
    pub fn new(node: &str, view: NodeView) -> Result<ServiceProxy, ProxyError> {
        Ok(ServiceProxy {
            proxy: Proxy::new(node)?,
            view,
            served: BTreeMap::new(),
        })
    }

    /// The node this proxy runs on.
    pub fn node(&self) -> &str {
        self.proxy.node()
    }

    /// The address pods on this node dial for `service`'s port `port`, if it is served.
    pub fn address(&self, service: &Service, port: i32) -> Option<SocketAddr> {
        self.served.get(&listener_name(service, port)).copied()
    }

    /// Every listener this proxy serves, by name.
    pub fn served(&self) -> &BTreeMap<String, SocketAddr> {
        &self.served
    }

    // ANCHOR: sync
    /// Makes the proxy serve exactly the given Services: opens a listener for each new
    /// Service port, gives each its endpoints (a Service without Endpoints gets none, so its
    /// connections are refused), and closes the listeners of Services that are gone. A
    /// closed listener drains: connections already accepted run to their end. A Service that
    /// cannot be served does not stop the others; the first such error is returned.
    pub async fn sync(
        &mut self,
        services: &[Service],
        endpoints: &[Endpoints],
    ) -> Result<(), ProxyError> {
        let by_key: BTreeMap<(Option<&str>, Option<&str>), &Endpoints> = endpoints
            .iter()
            .map(|e| {
                let key = (e.metadata.namespace.as_deref(), e.metadata.name.as_deref());
                (key, e)
            })
            .collect();
        let mut wanted = BTreeMap::new();
        for service in services {
            let ip = service.spec.cluster_ip.as_deref().unwrap_or("");
            let Ok(cluster_ip) = ip.parse::<Ipv4Addr>() else {
                continue; // headless, ExternalName, or not allocated yet
            };
            let key = (
                service.metadata.namespace.as_deref(),
                service.metadata.name.as_deref(),
            );
            for port in &service.spec.ports {
                if port.protocol.as_deref().is_some_and(|p| p != "TCP") {
                    continue; // the userspace proxy forwards TCP only
                }
                let Ok(number) = u16::try_from(port.port) else {
                    continue;
                };
                let listen =
                    SocketAddr::V4(SocketAddrV4::new(self.view.address(cluster_ip), number));
                let list = by_key
                    .get(&key)
                    .map(|e| endpoints_for_port(e, port.name.as_deref()))
                    .unwrap_or_default();
                wanted.insert(listener_name(service, port.port), (listen, list));
            }
        }
        let gone: Vec<String> = self
            .served
            .iter()
            .filter(|(name, addr)| wanted.get(*name).is_none_or(|(listen, _)| listen != *addr))
            .map(|(name, _)| name.clone())
            .collect();
        for name in gone {
            self.proxy.remove_service(&name)?;
            self.served.remove(&name);
        }
        // One Service that cannot be served (its address is taken, say) must not keep the
        // others from being updated: carry on, and report the first failure.
        let mut first_error = None;
        for (name, (listen, list)) in wanted {
            if !self.served.contains_key(&name) {
                match self.proxy.add_service(&name, listen).await {
                    Ok(bound) => {
                        self.served.insert(name.clone(), bound);
                    }
                    Err(error) => {
                        tracing::warn!(node = %self.node(), service = %name, %error, "cannot serve");
                        first_error.get_or_insert(error);
                        continue;
                    }
                }
            }
            if let Err(error) = self.proxy.update(&name, list) {
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
    // ANCHOR_END: sync

    /// Lists Services and Endpoints through `api` and [`sync`](Self::sync)s once.
    pub async fn sync_from<C: ApiClient>(&mut self, api: &C) -> Result<(), SyncError> {
        let services = api
            .list::<Service>(None, &Default::default())
            .await
            .map_err(SyncError::Api)?
            .items;
        let endpoints = api
            .list::<Endpoints>(None, &Default::default())
            .await
            .map_err(SyncError::Api)?
            .items;
        self.sync(&services, &endpoints)
            .await
            .map_err(SyncError::Proxy)
    }

    /// Watches Services and Endpoints through `api` and syncs after every batch of changes,
    /// until the API fails.
    pub async fn run<C: ApiClient>(mut self, api: C) -> ApiResult<()> {
        let mut services: Informer<Service> = Informer::new(None);
        let mut endpoints: Informer<Endpoints> = Informer::new(None);
        services.sync(&api).await?;
        endpoints.sync(&api).await?;
        loop {
            let all_services: Vec<Service> = services.objects().cloned().collect();
            let all_endpoints: Vec<Endpoints> = endpoints.objects().cloned().collect();
            if let Err(error) = self.sync(&all_services, &all_endpoints).await {
                tracing::warn!(node = %self.node(), %error, "proxy sync failed; retrying on the next change");
            }
            tokio::select! {
                changed = services.next(&api) => { changed?; }
                changed = endpoints.next(&api) => { changed?; }
            }
        }
    }
}
