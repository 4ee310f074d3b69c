//! `skiff proxy --node n1 --node-index 0 --kubeconfig FILE`: lab 03's proxy, fed from the API.
//!
//! Every second the proxy lists Services, Endpoints and Pods and makes its listeners match:
//! each Service port gets a listener on this node's proxy IP (`127.2.0.1` for the first node,
//! see `proxy::addressing`) and the service's port, forwarding to the ready endpoints. The
//! endpoints come from the Service's `Endpoints` object when one exists; until the endpoints
//! controller (lab 08) runs, from the Running pods its selector matches.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use api::client::ApiClient;
use api::{Endpoints, IntOrString, LabelSelector, Pod, PodPhase, Service};
use proxy::{Endpoint, Proxy};

use super::{ClientArgs, connect, mark_ready, stop_signal};
use crate::flags::Flags;

/// `skiff proxy --help`.
pub const USAGE: &str = "\
skiff proxy: one node's kube-proxy, forwarding each Service to its ready pods

Usage: skiff proxy --kubeconfig FILE --node NAME --node-index N [options]

Options:
  --kubeconfig FILE    the proxy's kubeconfig (user system:kube-proxy) [env: KUBECONFIG]
  --node NAME          this node's name (endpoints on it are preferred)
  --node-index N       this node's number: the proxy listens on 127.2.0.(N+1) [default: 0]
  --ready-file FILE    created after the first successful sync
  -h, --help           print this help
";

/// How often the proxy lists the API again.
pub const SYNC_PERIOD: Duration = Duration::from_secs(1);

/// The parsed flags of `skiff proxy`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyArgs {
    /// `--kubeconfig` and `--ready-file`.
    pub client: ClientArgs,
    /// `--node`.
    pub node: String,
    /// `--node-index`.
    pub node_index: u16,
}

/// Parses the flags; `Ok(None)` for `--help`.
pub fn parse(args: &[String]) -> Result<Option<ProxyArgs>, String> {
    let mut kubeconfig = std::env::var_os("KUBECONFIG").map(PathBuf::from);
    let mut ready_file = None;
    let mut node = None;
    let mut node_index = 0;
    let mut flags = Flags::new(args);
    while let Some(flag) = flags.next_flag() {
        match flag.name.as_str() {
            "-h" | "--help" => return Ok(None),
            "--kubeconfig" => kubeconfig = Some(flags.value(&flag)?.into()),
            "--ready-file" => ready_file = Some(flags.value(&flag)?.into()),
            "--node" => node = Some(flags.value(&flag)?),
            "--node-index" => node_index = flags.parsed(&flag, "a node number (0 to 65534)")?,
            other => return Err(format!("{other}: unknown option (see --help)")),
        }
    }
    let node = node.ok_or("--node: required (the name of this node)")?;
    let kubeconfig = kubeconfig.ok_or("--kubeconfig: required (or set KUBECONFIG)")?;
    Ok(Some(ProxyArgs {
        client: ClientArgs {
            kubeconfig,
            ready_file,
        },
        node,
        node_index,
    }))
}

/// One service port the proxy should serve: its key, where to listen, where to forward.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// `namespace/name:port`.
    pub key: String,
    /// The proxy's listen address for it.
    pub listen: SocketAddr,
    /// The endpoints, in a stable order.
    pub endpoints: Vec<Endpoint>,
}

/// What the proxy of the node at `ip` should serve, from the API's objects. Pure: tested
/// without a network.
pub fn desired_routes(
    ip: Ipv4Addr,
    services: &[Service],
    endpoints: &[Endpoints],
    pods: &[Pod],
) -> Vec<Route> {
    let mut routes = Vec::new();
    for service in services {
        let namespace = service.metadata.namespace.clone().unwrap_or_default();
        let name = service.metadata.name.clone().unwrap_or_default();
        let spec = &service.spec;
        let listed = endpoints.iter().find(|e| {
            e.metadata.name.as_deref() == Some(name.as_str())
                && e.metadata.namespace.as_deref() == Some(namespace.as_str())
        });
        for port in &spec.ports {
            let Ok(listen_port) = u16::try_from(port.port) else {
                continue;
            };
            let mut targets: Vec<Endpoint> = match listed {
                Some(listed) => from_endpoints(listed, port.name.as_deref()),
                None if !spec.selector.is_empty() => from_pods(
                    pods,
                    &namespace,
                    &spec.selector,
                    port.target_port.as_ref(),
                    port.port,
                ),
                None => Vec::new(),
            };
            targets.sort_by_key(|e| e.addr);
            routes.push(Route {
                key: format!("{namespace}/{name}:{}", port.port),
                listen: SocketAddr::from((ip, listen_port)),
                endpoints: targets,
            });
        }
    }
    routes.sort_by(|a, b| a.key.cmp(&b.key));
    routes
}

fn from_endpoints(endpoints: &Endpoints, port_name: Option<&str>) -> Vec<Endpoint> {
    let mut out = Vec::new();
    for subset in &endpoints.subsets {
        let Some(port) = subset
            .ports
            .iter()
            .find(|p| p.name.as_deref() == port_name || subset.ports.len() == 1)
        else {
            continue;
        };
        let tagged = subset
            .addresses
            .iter()
            .map(|a| (a, true))
            .chain(subset.not_ready_addresses.iter().map(|a| (a, false)));
        for (address, ready) in tagged {
            let node = address
                .node_name
                .clone()
                .unwrap_or_else(|| "unknown".into());
            if let Ok(endpoint) =
                Endpoint::parse(&format!("{}:{}", address.ip, port.port), &node, ready)
            {
                out.push(endpoint);
            }
        }
    }
    out
}

fn from_pods(
    pods: &[Pod],
    namespace: &str,
    selector: &BTreeMap<String, String>,
    target: Option<&IntOrString>,
    port: i32,
) -> Vec<Endpoint> {
    let selector =
        LabelSelector::from_pairs(selector.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let mut out = Vec::new();
    for pod in pods {
        if pod.metadata.namespace.as_deref() != Some(namespace)
            || !selector.matches(&pod.metadata.labels)
            || pod.metadata.deletion_timestamp.is_some()
        {
            continue;
        }
        let Some(status) = &pod.status else { continue };
        let (Some(ip), Some(PodPhase::Running)) = (&status.pod_ip, &status.phase) else {
            continue;
        };
        let ready = status
            .conditions
            .iter()
            .any(|c| c.condition_type == "Ready" && c.status == "True");
        let Some(target_port) = target_port(pod, target, port) else {
            continue;
        };
        let node = pod
            .spec
            .node_name
            .clone()
            .unwrap_or_else(|| "unknown".into());
        if let Ok(endpoint) = Endpoint::parse(&format!("{ip}:{target_port}"), &node, ready) {
            out.push(endpoint);
        }
    }
    out
}

/// The pod's port a service port targets: a number, a named container port, or (no
/// targetPort) the service port itself.
fn target_port(pod: &Pod, target: Option<&IntOrString>, port: i32) -> Option<i32> {
    match target {
        None => Some(port),
        Some(IntOrString::Int(number)) => Some(*number),
        Some(IntOrString::String(name)) => pod.spec.containers.iter().find_map(|c| {
            c.ports
                .iter()
                .find(|p| p.name.as_deref() == Some(name.as_str()))
                .map(|p| p.container_port)
        }),
    }
}

/// Serves until SIGINT or SIGTERM.
pub async fn run(args: ProxyArgs) -> Result<(), String> {
    let stop = stop_signal()?;
    let api = connect(&args.client.kubeconfig)?;
    let ip = proxy::addressing::node_proxy_ip(args.node_index)
        .map_err(|e| format!("--node-index: {e}"))?;
    let mut proxy = Proxy::new(&args.node).map_err(|e| format!("--node: {e}"))?;
    let sync = async {
        let mut ready = false;
        let mut serving: BTreeMap<String, SocketAddr> = BTreeMap::new();
        loop {
            match sync_once(&api, ip, &mut proxy, &mut serving).await {
                Ok(()) if !ready => {
                    mark_ready(args.client.ready_file.as_deref());
                    ready = true;
                }
                Ok(()) => {}
                Err(error) => tracing::warn!(%error, "sync failed; retrying"),
            }
            tokio::time::sleep(SYNC_PERIOD).await;
        }
    };
    tokio::select! {
        () = stop => Ok(()),
        () = sync => Ok(()),
    }
}

async fn sync_once<C: ApiClient>(
    api: &C,
    ip: Ipv4Addr,
    proxy: &mut Proxy,
    serving: &mut BTreeMap<String, SocketAddr>,
) -> Result<(), String> {
    let all = LabelSelector::default();
    let services = api
        .list::<Service>(None, &all)
        .await
        .map_err(|e| e.to_string())?;
    let endpoints = api
        .list::<Endpoints>(None, &all)
        .await
        .map_err(|e| e.to_string())?;
    let pods = api
        .list::<Pod>(None, &all)
        .await
        .map_err(|e| e.to_string())?;
    let routes = desired_routes(ip, &services.items, &endpoints.items, &pods.items);
    let wanted: BTreeMap<&str, &Route> = routes.iter().map(|r| (r.key.as_str(), r)).collect();
    let gone: Vec<String> = serving
        .keys()
        .filter(|key| !wanted.contains_key(key.as_str()))
        .cloned()
        .collect();
    for key in gone {
        let _ = proxy.remove_service(&key);
        serving.remove(&key);
    }
    for route in &routes {
        if !serving.contains_key(&route.key) {
            match proxy.add_service(&route.key, route.listen).await {
                Ok(bound) => {
                    serving.insert(route.key.clone(), bound);
                }
                Err(error) => {
                    tracing::warn!(service = %route.key, %error, "cannot serve");
                    continue;
                }
            }
        }
        if let Err(error) = proxy.update(&route.key, route.endpoints.clone()) {
            tracing::warn!(service = %route.key, %error, "bad endpoints");
        }
    }
    Ok(())
}
