//! The garbage collector: deletes objects whose owners are gone, and carries out the
//! `Foreground` and `Orphan` propagation policies that the API server records as finalizers.
//!
//! [`graph`] holds the owner graph and the pure decisions; [`GarbageCollector`] keeps the
//! graph from informers (Deployments, ReplicaSets, Pods) and acts on the API.

pub mod graph;

use std::time::Duration;

use api::client::{ApiClient, ApiResource, ApiResult, DeleteOptions};
use api::{Deployment, ObjectMeta, OwnerReference, Pod, ReplicaSet};

use crate::runtime::{Action, Controller, Delta, Informer, Key, ReconcileError};
use graph::{GcAction, GraphNode, ObjectRef, OwnerGraph};

/// The garbage collector, for the [`crate::runtime::Runner`]. Its keys are
/// `namespace/uid`: an object's uid, because an owner is identified by uid, not by name.
#[derive(Default)]
pub struct GarbageCollector {
    deployments: Informer<Deployment>,
    replica_sets: Informer<ReplicaSet>,
    pods: Informer<Pod>,
    graph: OwnerGraph,
    /// Every action carried out, in order, for reports and tests.
    log: Vec<String>,
}

impl GarbageCollector {
    /// A collector with empty caches.
    pub fn new() -> Self {
        GarbageCollector::default()
    }

    /// The owner graph as last built.
    pub fn graph(&self) -> &OwnerGraph {
        &self.graph
    }

    /// Every action carried out so far, e.g. `delete ReplicaSet shop/web-1 (Background)`.
    pub fn log(&self) -> &[String] {
        &self.log
    }

    /// Rebuilds the graph from the informers' caches.
    fn rebuild(&mut self) {
        let mut graph = OwnerGraph::new();
        let nodes = (self.deployments.objects().filter_map(GraphNode::of))
            .chain(self.replica_sets.objects().filter_map(GraphNode::of))
            .chain(self.pods.objects().filter_map(GraphNode::of));
        for node in nodes {
            graph.insert(node);
        }
        self.graph = graph;
    }
}

/// The keys a change to one object maps to: the object, its owners (a foreground owner waits
/// for it), and, once it is gone, its dependents (their owner is now absent).
fn keys_for<K: ApiResource>(delta: &Delta<K>, graph: &OwnerGraph, keys: &mut Vec<Key>) {
    let Some(node) = GraphNode::of(delta.object()) else {
        return;
    };
    let namespace = node.object.namespace.clone();
    keys.push(Key::new(&namespace, &node.object.uid));
    for owner in &node.owners {
        keys.push(Key::new(&namespace, &owner.uid));
    }
    if matches!(delta, Delta::Deleted(_)) {
        for dependent in graph.dependents(&node.object.uid) {
            keys.push(Key::new(&namespace, &dependent.object.uid));
        }
    }
}

// ANCHOR: gc_controller
impl<C: ApiClient> Controller<C> for GarbageCollector {
    fn name(&self) -> &'static str {
        "garbage-collector"
    }

    async fn observe(&mut self, api: &C, _now: Duration) -> ApiResult<Vec<Key>> {
        let deployments = self.deployments.sync(api).await?;
        let replica_sets = self.replica_sets.sync(api).await?;
        let pods = self.pods.sync(api).await?;
        self.rebuild();
        let mut keys = Vec::new();
        deployments
            .iter()
            .for_each(|d| keys_for(d, &self.graph, &mut keys));
        replica_sets
            .iter()
            .for_each(|d| keys_for(d, &self.graph, &mut keys));
        pods.iter()
            .for_each(|d| keys_for(d, &self.graph, &mut keys));
        Ok(keys)
    }

    async fn reconcile(
        &mut self,
        api: &C,
        key: &Key,
        _now: Duration,
    ) -> Result<Action, ReconcileError> {
        for action in self.graph.plan(&key.name) {
            if let Some(done) = execute(api, &action).await? {
                tracing::info!(action = %done, "garbage collector");
                self.log.push(done);
            }
        }
        Ok(Action::Done)
    }

    fn resync_keys(&self) -> Vec<Key> {
        self.graph
            .nodes()
            .map(|n| Key::new(&n.object.namespace, &n.object.uid))
            .collect()
    }
}
// ANCHOR_END: gc_controller

// ANCHOR: execute
/// Carries out one action; `None` when it turned out to be unnecessary (an owner thought
/// absent exists after all, or the object is already gone).
async fn execute<C: ApiClient>(api: &C, action: &GcAction) -> ApiResult<Option<String>> {
    let (object, if_absent) = match action {
        GcAction::Delete {
            object, if_absent, ..
        }
        | GcAction::RemoveOwnerReferences {
            object, if_absent, ..
        } => (object, if_absent),
        GcAction::RemoveFinalizer { object, .. } => (object, &Vec::new()),
    };
    // The graph may lag: before acting for lack of an owner, ask the API.
    for owner in if_absent {
        if owner_exists(api, &object.namespace, owner).await? {
            return Ok(None);
        }
    }
    let result = match action {
        GcAction::Delete { object, policy, .. } => {
            let options = DeleteOptions::propagate(*policy);
            by_kind!(object, |K| api
                .delete::<K>(Some(&object.namespace), &object.name, options)
                .await
                .map(|_| ()))
            .map(|()| format!("delete {} ({policy:?})", describe(object)))
        }
        GcAction::RemoveOwnerReferences {
            object, owner_uids, ..
        } => edit(api, object, |meta| {
            meta.owner_references
                .retain(|o| !owner_uids.contains(&o.uid));
        })
        .await
        .map(|()| {
            format!(
                "remove ownerReferences {owner_uids:?} from {}",
                describe(object)
            )
        }),
        GcAction::RemoveFinalizer { object, finalizer } => edit(api, object, |meta| {
            meta.finalizers.retain(|f| f != finalizer)
        })
        .await
        .map(|()| format!("remove finalizer {finalizer} from {}", describe(object))),
    };
    match result {
        Ok(done) => Ok(Some(done)),
        Err(error) if error.is_not_found() => Ok(None),
        Err(error) => Err(error),
    }
}
// ANCHOR_END: execute

/// Runs `$body` with `K` bound to the Rust type of `$object.kind`.
macro_rules! by_kind {
    ($object:expr, |K| $body:expr) => {
        match $object.kind.as_str() {
            "Deployment" => {
                type K = Deployment;
                $body
            }
            "ReplicaSet" => {
                type K = ReplicaSet;
                $body
            }
            "Pod" => {
                type K = Pod;
                $body
            }
            other => Err(api::client::ApiError::BadRequest {
                message: format!("kind: the garbage collector does not handle {other:?}"),
            }),
        }
    };
}
use by_kind;

/// Whether `owner` (in `namespace`) exists with the referenced uid.
async fn owner_exists<C: ApiClient>(
    api: &C,
    namespace: &str,
    owner: &OwnerReference,
) -> ApiResult<bool> {
    let object = ObjectRef {
        kind: owner.kind.clone(),
        namespace: namespace.to_string(),
        name: owner.name.clone(),
        uid: owner.uid.clone(),
    };
    let uid: ApiResult<Option<String>> = by_kind!(object, |K| api
        .get::<K>(Some(namespace), &owner.name)
        .await
        .map(|o| api::Resource::metadata(&o).uid.clone()));
    match uid {
        Ok(uid) => Ok(uid.as_deref() == Some(owner.uid.as_str())),
        Err(error) if error.is_not_found() => Ok(false),
        // An owner of a kind we do not serve: never delete on its account.
        Err(api::client::ApiError::BadRequest { .. }) => Ok(true),
        Err(error) => Err(error),
    }
}

/// Reads the object (checking it is still the same uid), changes its metadata, writes it.
async fn edit<C: ApiClient>(
    api: &C,
    object: &ObjectRef,
    change: impl FnOnce(&mut ObjectMeta),
) -> ApiResult<()> {
    by_kind!(object, |K| {
        let mut current: K = api.get(Some(&object.namespace), &object.name).await?;
        let meta = api::Resource::metadata_mut(&mut current);
        if meta.uid.as_deref() != Some(object.uid.as_str()) {
            return Ok(());
        }
        change(meta);
        api.update(current).await.map(|_| ())
    })
}

fn describe(object: &ObjectRef) -> String {
    format!("{} {}/{}", object.kind, object.namespace, object.name)
}
