//! How a pod finds a Service: environment variables, and names.
//!
//! Kubernetes gives every container, when it starts, variables for each Service that exists
//! in its namespace at that moment (`WEB_SERVICE_HOST`, `WEB_SERVICE_PORT`, and the Docker-link
//! style `WEB_PORT_80_TCP_ADDR` family). Names such as `web.default.svc.cluster.local` are
//! answered by cluster DNS (CoreDNS), which watches Services like a proxy does.
//!
//! skiff runs no DNS server. It gives the same answers as hosts-file lines ([`host_entries`])
//! that the kubelet writes into every pod's `/etc/hosts` (bind-mounted where the runtime
//! isolates pods, `$SKIFF_ROOT/etc/hosts` in process mode), and [`resolve`] is the lookup
//! with the pod's search path, as cluster DNS answers it. Every address is the one the pod's
//! node serves ([`NodeView`]).

use std::net::Ipv4Addr;

use api::Service;
use kubelet::HostEntry;

use crate::proxy_wiring::NodeView;

/// The cluster's DNS domain, as Kubernetes' default.
pub const CLUSTER_DOMAIN: &str = "cluster.local";

/// The prefix of a Service's variables: its name upper-cased, `-` turned into `_`.
pub fn env_prefix(name: &str) -> String {
    name.to_ascii_uppercase().replace('-', "_")
}

/// The address pods on a node with `view` dial for `service`, if it has a ClusterIP.
fn service_address(service: &Service, view: NodeView) -> Option<Ipv4Addr> {
    let ip = service.spec.cluster_ip.as_deref()?.parse().ok()?;
    Some(view.address(ip))
}

// ANCHOR: service_env
/// The environment variables Kubernetes injects for `services` (those of the pod's namespace),
/// sorted by name: for each Service with a ClusterIP, `<NAME>_SERVICE_HOST`,
/// `<NAME>_SERVICE_PORT` (its first port), `<NAME>_SERVICE_PORT_<PORTNAME>` for named ports,
/// `<NAME>_PORT` (`tcp://host:port`), and for each port `<NAME>_PORT_<port>_<PROTO>` with its
/// `_PROTO`, `_PORT` and `_ADDR`. Headless Services get none.
pub fn service_env(services: &[Service], view: NodeView) -> Vec<(String, String)> {
    // EXERCISE(services-env-vars): for each service with an address, emit the SERVICE_HOST/SERVICE_PORT pair and the docker-link PORT family, then sort
    let mut env = Vec::new();
    for service in services {
        let (Some(name), Some(host)) = (&service.metadata.name, service_address(service, view))
        else {
            continue;
        };
        let Some(first) = service.spec.ports.first() else {
            continue;
        };
        let prefix = env_prefix(name);
        env.push((format!("{prefix}_SERVICE_HOST"), host.to_string()));
        env.push((format!("{prefix}_SERVICE_PORT"), first.port.to_string()));
        let proto = |p: &api::ServicePort| p.protocol.clone().unwrap_or_else(|| "TCP".into());
        env.push((
            format!("{prefix}_PORT"),
            format!("{}://{host}:{}", proto(first).to_lowercase(), first.port),
        ));
        for port in &service.spec.ports {
            if let Some(port_name) = &port.name {
                env.push((
                    format!("{prefix}_SERVICE_PORT_{}", env_prefix(port_name)),
                    port.port.to_string(),
                ));
            }
            let protocol = proto(port);
            let base = format!("{prefix}_PORT_{}_{}", port.port, protocol.to_uppercase());
            let lower = protocol.to_lowercase();
            env.push((base.clone(), format!("{lower}://{host}:{}", port.port)));
            env.push((format!("{base}_PROTO"), lower));
            env.push((format!("{base}_PORT"), port.port.to_string()));
            env.push((format!("{base}_ADDR"), host.to_string()));
        }
    }
    env.sort();
    env
    // END EXERCISE
}
// ANCHOR_END: service_env

// ANCHOR: resolve
/// Looks `name` up as a pod in `namespace` would through cluster DNS with Kubernetes' search
/// path (`<ns>.svc.cluster.local`, `svc.cluster.local`, `cluster.local`): `web`,
/// `web.default`, `web.default.svc` and `web.default.svc.cluster.local` all find the Service
/// `web` of `default`. A trailing dot makes the name absolute.
pub fn resolve(
    name: &str,
    namespace: &str,
    services: &[Service],
    view: NodeView,
) -> Option<Ipv4Addr> {
    // EXERCISE(services-dns-lookup): try the name with each search-path suffix (unless it ends with a dot), then find `<service>.<namespace>.svc.cluster.local`
    let name = name.to_ascii_lowercase();
    let absolute = name.ends_with('.');
    let name = name.trim_end_matches('.');
    let suffix = format!(".svc.{CLUSTER_DOMAIN}");
    let candidates: Vec<String> = if absolute {
        vec![name.to_string()]
    } else {
        vec![
            format!("{name}.{namespace}{suffix}"),
            format!("{name}{suffix}"),
            format!("{name}.{CLUSTER_DOMAIN}"),
            name.to_string(),
        ]
    };
    candidates.iter().find_map(|fqdn| {
        let (service, namespace) = fqdn.strip_suffix(&suffix)?.split_once('.')?;
        services
            .iter()
            .find(|s| {
                s.metadata.name.as_deref() == Some(service)
                    && s.metadata.namespace.as_deref().unwrap_or("default") == namespace
            })
            .and_then(|s| service_address(s, view))
    })
    // END EXERCISE
}
// ANCHOR_END: resolve

// ANCHOR: host_entries
/// The hosts-file lines for a pod in `namespace` on a node with `view` (the kubelet writes them
/// into the pod's `/etc/hosts`, see `kubelet::hosts`): one per Service with an address, named
/// by its fully qualified name and `.svc` form, plus the bare name and `name.namespace` for
/// Services of the pod's own namespace, which is what the search path
/// `<ns>.svc.cluster.local svc.cluster.local cluster.local` would make of them. Sorted by
/// name, so the file only changes when a Service does.
pub fn host_entries(namespace: &str, services: &[Service], view: NodeView) -> Vec<HostEntry> {
    let mut entries = Vec::new();
    for service in services {
        let (Some(name), Some(ip)) = (&service.metadata.name, service_address(service, view))
        else {
            continue;
        };
        let ns = service.metadata.namespace.as_deref().unwrap_or("default");
        let mut names = vec![
            format!("{name}.{ns}.svc.{CLUSTER_DOMAIN}"),
            format!("{name}.{ns}.svc"),
        ];
        if ns == namespace {
            names.push(format!("{name}.{ns}"));
            names.push(name.clone());
        }
        entries.push(HostEntry {
            address: ip.into(),
            names,
        });
    }
    entries.sort_by(|a, b| a.names.cmp(&b.names));
    entries
}
// ANCHOR_END: host_entries
