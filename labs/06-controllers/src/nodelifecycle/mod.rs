//! The node lifecycle controller: notices nodes whose kubelet stopped heartbeating, marks
//! them `Unknown`, taints them, and evicts their pods once the pods' toleration runs out, so
//! that their owners recreate them on healthy nodes.
//!
//! [`health`] and [`eviction`] are the sans-IO decisions; [`NodeLifecycleController`] runs
//! them on the controller runtime, one reconcile per node.

pub mod eviction;
pub mod health;

use std::collections::BTreeMap;
use std::time::Duration;

use api::client::{ApiClient, ApiResult, DeleteOptions};
use api::{Lease, MicroTime, Node, NodeStatus, Pod, Time};

use crate::events::Recorder;
use crate::runtime::{Action, Controller, Informer, Key, ReconcileError};
use eviction::eviction_time;
use health::{
    NO_EXECUTE, desired_taints, fully_disrupted, last_heartbeat, ready_condition, seconds,
};

/// The controller's name, in Events.
pub const NAME: &str = "node-controller";

/// Where kubelets renew their heartbeat Leases.
pub const NODE_LEASE_NAMESPACE: &str = "kube-node-lease";

// ANCHOR: config
/// The controller's timing. Kubernetes waits 50 s (`--node-monitor-grace-period`; 40 s in
/// older releases) before a node is `Unknown`, then 300 s (the default `tolerationSeconds`)
/// before its pods are evicted: about six minutes. Skiff's defaults move a dead node's pods
/// within 10 s: 5 s + 3 s. The grace period must cover several Lease renewals (skiff's kubelet
/// renews every second, Kubernetes' every 10 s), or a healthy node that is a little late would
/// flap to `Unknown`; five renewals is Kubernetes' own ratio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeLifecycleConfig {
    /// How long a node may go without a heartbeat before it is `Unknown`.
    pub grace_period: Duration,
    /// How long a pod that says nothing tolerates the not-ready and unreachable taints.
    pub default_toleration_seconds: i64,
}

impl Default for NodeLifecycleConfig {
    fn default() -> Self {
        NodeLifecycleConfig {
            grace_period: Duration::from_secs(5),
            default_toleration_seconds: 3,
        }
    }
}

impl NodeLifecycleConfig {
    /// Kubernetes' defaults (v1.32): 50 s grace, 300 s toleration.
    pub fn kubernetes() -> Self {
        NodeLifecycleConfig {
            grace_period: Duration::from_secs(50),
            default_toleration_seconds: 300,
        }
    }
}
// ANCHOR_END: config

/// The node lifecycle controller, for the [`crate::runtime::Runner`].
pub struct NodeLifecycleController {
    config: NodeLifecycleConfig,
    /// The wall-clock time at virtual time zero.
    epoch: Time,
    nodes: Informer<Node>,
    leases: Informer<Lease>,
    pods: Informer<Pod>,
    /// When this controller first saw each node, by name: no node is judged before it has
    /// been watched for a whole grace period.
    watched_since: BTreeMap<String, MicroTime>,
    /// Whether the last reconcile found no node Ready (so that the log says it once).
    disrupted: bool,
    /// Pods this controller has evicted, as `namespace/name`, in order (for reports).
    evicted: Vec<String>,
    recorder: Recorder,
}

impl NodeLifecycleController {
    /// A controller with `config`; `epoch` is the wall-clock time of virtual time zero.
    pub fn new(config: NodeLifecycleConfig, epoch: Time) -> Self {
        NodeLifecycleController {
            config,
            epoch,
            nodes: Informer::new(None),
            leases: Informer::new(Some(NODE_LEASE_NAMESPACE)),
            pods: Informer::new(None),
            watched_since: BTreeMap::new(),
            disrupted: false,
            evicted: Vec::new(),
            recorder: Recorder::new(NAME),
        }
    }

    /// Every pod evicted so far, as `namespace/name`, in order.
    pub fn evicted(&self) -> &[String] {
        &self.evicted
    }

    fn wall(&self, now: Duration) -> MicroTime {
        let micros = i64::try_from(now.as_micros()).unwrap_or(i64::MAX);
        MicroTime(
            self.epoch
                .0
                .saturating_mul(1_000_000)
                .saturating_add(micros),
        )
    }

    /// How long from `now` until `at` (zero if past).
    fn until(&self, now: Duration, at: MicroTime) -> Duration {
        let delta = at.0.saturating_sub(self.wall(now).0);
        Duration::from_micros(u64::try_from(delta).unwrap_or(0))
    }
}

// ANCHOR: reconcile
impl<C: ApiClient> Controller<C> for NodeLifecycleController {
    fn name(&self) -> &'static str {
        "node-lifecycle-controller"
    }

    async fn observe(&mut self, api: &C, _now: Duration) -> ApiResult<Vec<Key>> {
        let mut keys = Vec::new();
        for delta in self.nodes.sync(api).await? {
            keys.push(Key::of(delta.object()));
        }
        for delta in self.leases.sync(api).await? {
            let name = delta.object().metadata.name.clone().unwrap_or_default();
            keys.push(Key::cluster(&name));
        }
        for delta in self.pods.sync(api).await? {
            if let Some(node) = delta.object().spec.node_name.as_deref() {
                keys.push(Key::cluster(node));
            }
        }
        Ok(keys)
    }

    /// One node: mark it Unknown if its heartbeat is too old, fix its taints, evict the pods
    /// whose toleration has run out, and look again when the next deadline comes.
    async fn reconcile(
        &mut self,
        api: &C,
        key: &Key,
        now: Duration,
    ) -> Result<Action, ReconcileError> {
        let Some(mut node) = self.nodes.get(key).cloned() else {
            self.watched_since.remove(&key.name);
            return Ok(Action::Done);
        };
        let wall = self.wall(now);
        let grace = i64::try_from(self.config.grace_period.as_micros()).unwrap_or(i64::MAX);
        let lease = self
            .leases
            .get(&Key::new(NODE_LEASE_NAMESPACE, &key.name))
            .cloned();
        // A node this controller has only just started watching gets a whole grace period from
        // now, as in Kubernetes: a controller manager that (re)starts must not judge the nodes
        // by the heartbeats it was not there to see (a resumed cluster's, for one).
        let watched_since = *self.watched_since.entry(key.name.clone()).or_insert(wall);
        let judged = wall.0 >= watched_since.0.saturating_add(grace);
        if judged
            && let Some(condition) =
                ready_condition(&node, lease.as_ref(), wall, self.config.grace_period)
        {
            tracing::info!(node = %key.name, "no heartbeat within the grace period: Ready=Unknown");
            let status = node.status.get_or_insert_with(NodeStatus::default);
            status.conditions.retain(|c| c.condition_type != "Ready");
            status.conditions.push(condition);
            node = api.update_status(node).await?;
            let message = format!("Node {} status is now: NodeNotReady", key.name);
            let at = seconds(wall);
            self.recorder
                .normal(api, &node, "NodeNotReady", message, at)
                .await;
        }
        let others = self
            .nodes
            .objects()
            .filter(|n| n.metadata.name != node.metadata.name);
        let disrupted = fully_disrupted(others.chain([&node]));
        if disrupted != self.disrupted {
            self.disrupted = disrupted;
            match disrupted {
                true => tracing::warn!("no node is Ready: full disruption, no evictions"),
                false => tracing::info!("a node is Ready again: full disruption over"),
            }
        }
        let mut taints = desired_taints(&node, wall);
        if disrupted {
            // No evictions while no node is Ready. The NoExecute taints come back when one is,
            // with a fresh timeAdded, so tolerations count from then (as in Kubernetes).
            taints.retain(|t| !(t.effect == NO_EXECUTE && health::is_lifecycle_taint(t)));
        }
        if taints != node.spec.taints {
            node.spec.taints = taints;
            node = api.update(node).await?;
        }
        let mut next: Option<MicroTime> = None;
        let no_execute: Vec<_> = node
            .spec
            .taints
            .iter()
            .filter(|t| t.effect == NO_EXECUTE)
            .cloned()
            .collect();
        let on_node = self.pods.objects().filter(|p| {
            p.spec.node_name.as_deref() == Some(key.name.as_str())
                && p.metadata.deletion_timestamp.is_none()
        });
        let mut due = Vec::new();
        for pod in on_node {
            let default = self.config.default_toleration_seconds;
            match eviction_time(pod, &no_execute, default, seconds(wall)) {
                Some(at) if at <= seconds(wall) => due.push(pod.clone()),
                Some(at) => next = Some(earliest(next, health::micros(at))),
                None => {}
            }
        }
        for pod in due {
            let pod_key = Key::of(&pod);
            tracing::info!(node = %key.name, pod = %pod_key, "toleration ran out: evicting");
            match api
                .delete::<Pod>(pod_key.namespace(), &pod_key.name, DeleteOptions::default())
                .await
            {
                Ok(_) => {
                    let message = format!("Marking for deletion Pod {pod_key}");
                    let at = seconds(wall);
                    self.recorder
                        .normal(api, &pod, "TaintManagerEviction", message, at)
                        .await;
                    self.evicted.push(pod_key.to_string());
                }
                Err(error) if error.is_not_found() => {}
                Err(error) => return Err(error.into()),
            }
        }
        // While disrupted, look again soon: another node coming back ends it.
        if disrupted && health::ready(&node).is_none_or(|c| c.status != "True") {
            let soon = self.wall(now + Duration::from_secs(1));
            next = Some(earliest(next, soon));
        }
        // Without news, look again when the heartbeat would expire.
        if health::ready(&node).is_none_or(|c| c.status != "Unknown")
            && let Some(last) = last_heartbeat(&node, lease.as_ref())
        {
            let from = last.max(watched_since);
            next = Some(earliest(next, MicroTime(from.0.saturating_add(grace))));
        }
        Ok(match next {
            Some(at) => Action::RequeueAfter(self.until(now, at).max(Duration::from_millis(1))),
            None => Action::Done,
        })
    }

    fn resync_keys(&self) -> Vec<Key> {
        self.nodes.keys().cloned().collect()
    }
}
// ANCHOR_END: reconcile

fn earliest(current: Option<MicroTime>, at: MicroTime) -> MicroTime {
    current.map_or(at, |c| c.min(at))
}
