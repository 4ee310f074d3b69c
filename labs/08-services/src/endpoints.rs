//! The endpoints controller: for every Service with a selector, an Endpoints object of the same
//! name listing the Pods behind it.
//!
//! The core is [`endpoints_for_service`], a pure function from a Service and the Pods of its
//! namespace to the Endpoints it should have: ready Pods under `addresses`, the others under
//! `notReadyAddresses`, each with its node name (so proxies can prefer local Pods) and a
//! reference to the Pod; ports come from the Service's `targetPort`, a number or the name of a
//! container port. [`EndpointsController`] runs it on lab 06's controller runtime.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use api::client::{ApiClient, ApiResult, DeleteOptions};
use api::{
    EndpointAddress, EndpointPort, EndpointSubset, Endpoints, IntOrString, ObjectReference, Pod,
    Service, ServicePort,
};
use controllers::pods::is_ready;
use controllers::runtime::{Action, Controller, Delta, Informer, Key, ReconcileError};

/// The controller's name, for logs.
pub const NAME: &str = "endpoint-controller";

// ANCHOR: target_port
/// The Pod port a Service port sends to: `targetPort` as a number, the number of the container
/// port with that name, or `port` when `targetPort` is absent. `None` when the Pod has no
/// container port of that name (the Pod is then left out for this port, as in Kubernetes).
pub fn resolve_target_port(port: &ServicePort, pod: &Pod) -> Option<i32> {
    // EXERCISE(services-target-port): no targetPort (or 0) means `port`; a number is itself; a name is looked up among the containers' ports
    match &port.target_port {
        None => Some(port.port),
        Some(IntOrString::Int(0)) => Some(port.port),
        Some(IntOrString::Int(number)) => Some(*number),
        Some(IntOrString::String(name)) => pod
            .spec
            .containers
            .iter()
            .flat_map(|c| c.ports.iter())
            .find(|p| p.name.as_deref() == Some(name.as_str()))
            .map(|p| p.container_port),
    }
    // END EXERCISE
}
// ANCHOR_END: target_port

/// The address entry of `pod`: its IP, its node and a reference back to it.
fn address_of(pod: &Pod, ip: &str) -> EndpointAddress {
    EndpointAddress {
        ip: ip.to_string(),
        hostname: None,
        node_name: pod.spec.node_name.clone(),
        target_ref: Some(ObjectReference {
            kind: Some("Pod".to_string()),
            namespace: pod.metadata.namespace.clone(),
            name: pod.metadata.name.clone(),
            uid: pod.metadata.uid.clone(),
            ..Default::default()
        }),
    }
}

// ANCHOR: endpoints_for_service
/// The Endpoints `service` should have, given the Pods of its namespace: Pods that match the
/// selector, have an IP and are not being deleted, grouped into one subset per distinct set of
/// resolved ports; ready ones as `addresses`, the rest as `notReadyAddresses` (all ready when
/// the Service publishes not-ready addresses). Addresses are sorted by IP, so the result does
/// not depend on the order of `pods`.
pub fn endpoints_for_service(service: &Service, pods: &[Pod]) -> Endpoints {
    // EXERCISE(services-endpoints-for-service): for each matching pod with an IP, resolve every port, and file its address under ready or not-ready in the subset of those ports
    let publish_all = service.spec.publish_not_ready_addresses == Some(true);
    let mut subsets: BTreeMap<Vec<EndpointPortKey>, (Vec<EndpointAddress>, Vec<EndpointAddress>)> =
        BTreeMap::new();
    for pod in pods {
        let labels = &pod.metadata.labels;
        let matches = service
            .spec
            .selector
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v));
        let ip = pod.status.as_ref().and_then(|s| s.pod_ip.as_deref());
        let (true, Some(ip), None) = (matches, ip, &pod.metadata.deletion_timestamp) else {
            continue;
        };
        let ports: Vec<EndpointPortKey> = service
            .spec
            .ports
            .iter()
            .filter_map(|port| {
                let number = resolve_target_port(port, pod)?;
                Some((port.name.clone(), number, port.protocol.clone()))
            })
            .collect();
        if ports.is_empty() && !service.spec.ports.is_empty() {
            continue;
        }
        let (ready, not_ready) = subsets.entry(ports).or_default();
        if publish_all || is_ready(pod) {
            ready.push(address_of(pod, ip));
        } else {
            not_ready.push(address_of(pod, ip));
        }
    }
    let subsets = subsets
        .into_iter()
        .map(|(ports, (mut addresses, mut not_ready_addresses))| {
            addresses.sort_by(|a, b| a.ip.cmp(&b.ip));
            not_ready_addresses.sort_by(|a, b| a.ip.cmp(&b.ip));
            EndpointSubset {
                addresses,
                not_ready_addresses,
                ports: ports
                    .into_iter()
                    .map(|(name, port, protocol)| EndpointPort {
                        name,
                        port,
                        protocol: Some(protocol.unwrap_or_else(|| "TCP".to_string())),
                        app_protocol: None,
                    })
                    .collect(),
            }
        })
        .collect();
    let mut endpoints = Endpoints {
        subsets,
        ..Default::default()
    };
    endpoints.metadata.name = service.metadata.name.clone();
    endpoints.metadata.namespace = service.metadata.namespace.clone();
    endpoints.metadata.labels = service.metadata.labels.clone();
    endpoints
    // END EXERCISE
}
// ANCHOR_END: endpoints_for_service

/// A resolved port: name, number, protocol.
type EndpointPortKey = (Option<String>, i32, Option<String>);

/// Runs [`endpoints_for_service`] for every Service with a selector, keeping an Endpoints
/// object of the same name in step; deletes it when the Service goes (Endpoints have no owner
/// reference in Kubernetes: the controller cleans up).
#[derive(Debug)]
pub struct EndpointsController {
    services: Informer<Service>,
    pods: Informer<Pod>,
    endpoints: Informer<Endpoints>,
}

impl Default for EndpointsController {
    fn default() -> Self {
        EndpointsController::new()
    }
}

impl EndpointsController {
    /// A controller for every namespace.
    pub fn new() -> EndpointsController {
        EndpointsController {
            services: Informer::new(None),
            pods: Informer::new(None),
            endpoints: Informer::new(None),
        }
    }

    /// The keys of the Services in `pod`'s namespace whose selector matches it.
    fn services_of(&self, pod: &Pod, keys: &mut BTreeSet<Key>) {
        let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
        for service in self.services.in_namespace(namespace) {
            let selector = &service.spec.selector;
            if !selector.is_empty()
                && selector
                    .iter()
                    .all(|(k, v)| pod.metadata.labels.get(k) == Some(v))
            {
                keys.insert(Key::of(service));
            }
        }
    }
}

impl<C: ApiClient> Controller<C> for EndpointsController {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn observe(&mut self, api: &C, _now: Duration) -> ApiResult<Vec<Key>> {
        let mut keys = BTreeSet::new();
        for delta in self.services.sync(api).await? {
            keys.insert(Key::of(delta.object()));
        }
        for delta in self.pods.sync(api).await? {
            // A pod that changed its labels may leave one Service and join another.
            if let Delta::Updated { old, .. } = &delta {
                self.services_of(old, &mut keys);
            }
            self.services_of(delta.object(), &mut keys);
        }
        for delta in self.endpoints.sync(api).await? {
            // Someone else changed or deleted our Endpoints: look again.
            keys.insert(Key::of(delta.object()));
        }
        Ok(keys.into_iter().collect())
    }

    // ANCHOR: reconcile
    async fn reconcile(
        &mut self,
        api: &C,
        key: &Key,
        _now: Duration,
    ) -> Result<Action, ReconcileError> {
        let namespace = key.namespace().unwrap_or("default").to_string();
        let name = key.name.clone();
        let existing = self.endpoints.get(key).cloned();
        let service = self.services.get(key).cloned();
        let Some(service) = service.filter(|s| !s.spec.selector.is_empty()) else {
            // No Service (or one without a selector, whose Endpoints are the user's): a stale
            // Endpoints object of ours goes with the Service.
            if existing.is_some() && self.services.get(key).is_none() {
                match api
                    .delete::<Endpoints>(Some(&namespace), &name, DeleteOptions::default())
                    .await
                {
                    Ok(_) => {}
                    Err(error) if error.is_not_found() => {}
                    Err(error) => return Err(error.into()),
                }
            }
            return Ok(Action::Done);
        };
        let pods: Vec<Pod> = self.pods.in_namespace(&namespace).cloned().collect();
        let mut desired = endpoints_for_service(&service, &pods);
        let result = match existing {
            Some(current) if current.subsets == desired.subsets => return Ok(Action::Done),
            Some(current) => {
                desired.metadata = current.metadata.clone();
                desired.metadata.labels = service.metadata.labels.clone();
                api.update(desired).await
            }
            None => api.create(desired).await,
        };
        match result {
            Ok(written) => {
                tracing::debug!(
                    service = %key,
                    ready = written.subsets.iter().map(|s| s.addresses.len()).sum::<usize>(),
                    "endpoints written"
                );
                Ok(Action::Done)
            }
            Err(error) => Err(error.into()),
        }
    }
    // ANCHOR_END: reconcile

    fn resync_keys(&self) -> Vec<Key> {
        let mut keys: BTreeSet<Key> = self.services.keys().cloned().collect();
        keys.extend(self.endpoints.keys().cloned());
        keys.into_iter().collect()
    }
}
