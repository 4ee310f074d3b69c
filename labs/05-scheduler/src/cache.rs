//! `ClusterCache`: the scheduler's picture of the cluster, and the assume-cache.
//!
//! Built from the node and pod watches, it keeps, for each node, what its bound pods already
//! request, the host ports they hold and how many pods of each controller run there. A
//! scheduling cycle reads it without copying anything.
//!
//! The cache also holds *assumed* pods: the scheduler charges the chosen node the moment it
//! decides, before the bind has reached the API. The next cycle, which may start before the
//! bind completes and long before the watch reports it, therefore sees that capacity as taken:
//! this is what keeps the scheduler from putting ten pods on a node with room for three.

use std::collections::HashMap;
use std::sync::Arc;

use api::{Node, Pod};

use crate::fnv::{FnvHashMap, HashedKey};
use crate::plugins::is_ready;
use crate::pod_info::{HostPort, PodInfo, PodKey};
use crate::resources::{Resources, pod_requests};

/// One node and the totals of the pods placed on it (bound or assumed).
#[derive(Debug, Clone)]
pub struct NodeInfo {
    /// `metadata.name`.
    pub name: String,
    /// The first 16 bytes of the name as one big-endian number (zero-padded), so that
    /// ordering nodes by name, the scheduler's tie-break, is one integer comparison unless
    /// two names share 16 bytes.
    pub name_prefix: u128,
    /// The node as last seen; plugins read labels, taints and conditions from it.
    pub node: Arc<Node>,
    /// The `Ready` condition is `True` (read once here, not once per pod).
    pub ready: bool,
    /// `spec.unschedulable` (cordoned), read once here: the filters run on hundreds of nodes
    /// per pod, and reaching into each node object costs a cache miss.
    pub unschedulable: bool,
    /// The node has taints at all (most have none, and their filters can stop at once).
    pub tainted: bool,
    /// `status.allocatable`, parsed.
    pub allocatable: Resources,
    /// The sum of the requests of the pods placed here.
    pub requested: Resources,
    /// Host ports in use, with how many pods hold each (normally one).
    pub used_ports: FnvHashMap<HostPort, u32>,
    /// Pods per controller uid, for spreading.
    pub owner_counts: FnvHashMap<HashedKey, u32>,
}

impl NodeInfo {
    fn new(node: Node) -> NodeInfo {
        let allocatable = node
            .status
            .as_ref()
            .map(|status| Resources::from_map(&status.allocatable))
            .unwrap_or_default();
        let name = node.metadata.name.clone().unwrap_or_default();
        NodeInfo {
            name_prefix: name_prefix(&name),
            name,
            ready: is_ready(&node),
            unschedulable: node.spec.unschedulable == Some(true),
            tainted: !node.spec.taints.is_empty(),
            node: Arc::new(node),
            allocatable,
            requested: Resources::default(),
            used_ports: FnvHashMap::default(),
            owner_counts: FnvHashMap::default(),
        }
    }

    /// How many pods of the controller `uid` are placed here.
    pub fn owner_count(&self, uid: &str) -> u32 {
        self.owner_count_of(&HashedKey::new(uid))
    }

    /// [`NodeInfo::owner_count`] for a uid hashed beforehand (the spreading score's case).
    pub fn owner_count_of(&self, uid: &HashedKey) -> u32 {
        if self.owner_counts.is_empty() {
            return 0;
        }
        self.owner_counts.get(uid).copied().unwrap_or(0)
    }

    /// Orders nodes by name, as `self.name.cmp(&other.name)` would, but faster.
    pub fn cmp_name(&self, other: &NodeInfo) -> std::cmp::Ordering {
        self.name_prefix
            .cmp(&other.name_prefix)
            .then_with(|| self.name.cmp(&other.name))
    }

    fn charge(&mut self, footprint: &Footprint) {
        self.requested = self.requested.plus(footprint.requests);
        for port in &footprint.host_ports {
            *self.used_ports.entry(port.clone()).or_default() += 1;
        }
        if let Some(uid) = &footprint.owner_uid {
            *self.owner_counts.entry(uid.clone()).or_default() += 1;
        }
    }

    fn refund(&mut self, footprint: &Footprint) {
        self.requested = self.requested.minus(footprint.requests);
        for port in &footprint.host_ports {
            decrement(&mut self.used_ports, port);
        }
        if let Some(uid) = &footprint.owner_uid {
            decrement(&mut self.owner_counts, uid);
        }
    }
}

/// The first 16 bytes of `name`, zero-padded, big-endian: comparing two of these orders names
/// as their bytes do, up to the 16th (names hold no zero bytes, so a shorter name, padded,
/// sorts before a longer one with the same start, as in string order).
fn name_prefix(name: &str) -> u128 {
    let mut bytes = [0u8; 16];
    let n = name.len().min(16);
    bytes[..n].copy_from_slice(&name.as_bytes()[..n]);
    u128::from_be_bytes(bytes)
}

fn decrement<K: Eq + std::hash::Hash>(counts: &mut FnvHashMap<K, u32>, key: &K) {
    if let Some(count) = counts.get_mut(key) {
        *count -= 1;
        if *count == 0 {
            counts.remove(key);
        }
    }
}

/// True when what the filters and scores read from the node object differs.
fn schedulable_view_changed(old: &NodeInfo, new: &NodeInfo) -> bool {
    let (a, b) = (&old.node, &new.node);
    old.ready != new.ready
        || old.allocatable != new.allocatable
        || a.spec.unschedulable != b.spec.unschedulable
        || a.spec.taints != b.spec.taints
        || a.metadata.labels != b.metadata.labels
}

/// What a placed pod costs its node.
#[derive(Debug, Clone)]
struct Footprint {
    requests: Resources,
    host_ports: Vec<HostPort>,
    owner_uid: Option<HashedKey>,
}

impl Footprint {
    fn of_pod_info(info: &PodInfo) -> Footprint {
        Footprint {
            requests: info.requests,
            host_ports: info.host_ports.clone(),
            owner_uid: info.owner_uid.clone(),
        }
    }

    /// A bound pod is charged even if a field is malformed: it runs there whatever we think.
    fn of_bound_pod(pod: &Pod) -> Footprint {
        match PodInfo::new(Arc::new(pod.clone())) {
            Ok(info) => Footprint::of_pod_info(&info),
            Err(_) => Footprint {
                requests: pod_requests(pod),
                host_ports: Vec::new(),
                owner_uid: None,
            },
        }
    }
}

/// A pod the cache charges to a node.
#[derive(Debug, Clone)]
struct PlacedPod {
    node: String,
    footprint: Footprint,
    /// True while only the scheduler believes it: the watch has not confirmed the bind yet.
    assumed: bool,
}

// ANCHOR: cluster_cache
/// Nodes, and the pods placed on them, bound or assumed.
#[derive(Debug, Default)]
pub struct ClusterCache {
    /// In arrival order; the scheduler's round-robin start index walks this.
    nodes: Vec<NodeInfo>,
    /// Node name to position in `nodes`.
    index: HashMap<String, usize>,
    /// Every pod charged to a node.
    pods: HashMap<PodKey, PlacedPod>,
}
// ANCHOR_END: cluster_cache

impl ClusterCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// All known nodes.
    pub fn nodes(&self) -> &[NodeInfo] {
        &self.nodes
    }

    /// One node by name.
    pub fn node(&self, name: &str) -> Option<&NodeInfo> {
        self.index.get(name).map(|&i| &self.nodes[i])
    }

    /// Adds a node, or replaces what the node object says while keeping its pods' totals.
    /// Returns true when the change could let a pod fit that did not before: a new node, or
    /// a change to what the filters read. A kubelet's status heartbeat is not such a change,
    /// and must not wake every unschedulable pod.
    pub fn upsert_node(&mut self, node: Node) -> bool {
        let mut info = NodeInfo::new(node);
        match self.index.get(&info.name) {
            Some(&i) => {
                let old = std::mem::replace(&mut self.nodes[i], info);
                let info = &mut self.nodes[i];
                let changed = schedulable_view_changed(&old, info);
                info.requested = old.requested;
                info.used_ports = old.used_ports;
                info.owner_counts = old.owner_counts;
                changed
            }
            None => {
                // Pods may have been bound to this node before we saw it: charge them now.
                let name = info.name.clone();
                for placed in self.pods.values().filter(|p| p.node == name) {
                    info.charge(&placed.footprint);
                }
                self.index.insert(name, self.nodes.len());
                self.nodes.push(info);
                true
            }
        }
    }

    /// Forgets a node (its pods stay charged in case it comes back).
    pub fn remove_node(&mut self, name: &str) {
        let Some(i) = self.index.remove(name) else {
            return;
        };
        self.nodes.swap_remove(i);
        if let Some(moved) = self.nodes.get(i) {
            self.index.insert(moved.name.clone(), i);
        }
    }

    // ANCHOR: assume
    /// Charges `node` for `pod` now, before the bind completes.
    pub fn assume(&mut self, pod: &PodInfo, node: &str) {
        let footprint = Footprint::of_pod_info(pod);
        self.place(pod.key.clone(), node, footprint, true);
    }

    /// Undoes [`ClusterCache::assume`] after a failed bind; a confirmed pod is left alone.
    pub fn forget(&mut self, key: &PodKey) {
        if self.pods.get(key).is_some_and(|placed| placed.assumed) {
            self.remove_pod(key);
        }
    }
    // ANCHOR_END: assume

    /// Records a pod the watch reports bound to a node: confirms an assumption, or charges
    /// a pod someone else bound.
    pub fn add_bound_pod(&mut self, pod: &Pod) {
        let Some(node) = pod.spec.node_name.as_deref() else {
            return;
        };
        let key = PodKey::of(pod);
        if let Some(placed) = self.pods.get_mut(&key)
            && placed.node == node
        {
            placed.assumed = false;
            return;
        }
        self.place(key, node, Footprint::of_bound_pod(pod), false);
    }

    /// Removes a pod from its node; true if it was charged anywhere.
    pub fn remove_pod(&mut self, key: &PodKey) -> bool {
        let Some(placed) = self.pods.remove(key) else {
            return false;
        };
        if let Some(&i) = self.index.get(&placed.node) {
            self.nodes[i].refund(&placed.footprint);
        }
        true
    }

    /// True while `key` is assumed and not yet confirmed by the watch.
    pub fn is_assumed(&self, key: &PodKey) -> bool {
        self.pods.get(key).is_some_and(|placed| placed.assumed)
    }

    /// The node `key` is charged to, if any.
    pub fn node_of(&self, key: &PodKey) -> Option<&str> {
        self.pods.get(key).map(|placed| placed.node.as_str())
    }

    fn place(&mut self, key: PodKey, node: &str, footprint: Footprint, assumed: bool) {
        self.remove_pod(&key);
        if let Some(&i) = self.index.get(node) {
            self.nodes[i].charge(&footprint);
        }
        let node = node.to_string();
        self.pods.insert(
            key,
            PlacedPod {
                node,
                footprint,
                assumed,
            },
        );
    }
}
