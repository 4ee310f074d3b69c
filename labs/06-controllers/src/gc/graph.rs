//! The owner graph and the garbage collector's decisions, sans IO.

use std::collections::{BTreeMap, BTreeSet};

use api::client::{FOREGROUND_FINALIZER, ORPHAN_FINALIZER, PropagationPolicy};
use api::{OwnerReference, Resource};

/// Which object: kind, namespace, name and uid (a new object with the same name is another).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectRef {
    /// E.g. `ReplicaSet`.
    pub kind: String,
    /// The object's namespace.
    pub namespace: String,
    /// The object's name.
    pub name: String,
    /// The object's uid.
    pub uid: String,
}

/// What the garbage collector knows about one object: who owns it, and how it is being
/// deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphNode {
    /// The object.
    pub object: ObjectRef,
    /// Its `metadata.ownerReferences`.
    pub owners: Vec<OwnerReference>,
    /// Its `metadata.finalizers`.
    pub finalizers: Vec<String>,
    /// Whether it has a `deletionTimestamp`.
    pub deleting: bool,
}

impl GraphNode {
    /// The node for any object (objects without a uid, not yet stored, give `None`).
    pub fn of<K: Resource>(object: &K) -> Option<GraphNode> {
        let meta = object.metadata();
        Some(GraphNode {
            object: ObjectRef {
                kind: K::KIND.to_string(),
                namespace: meta.namespace.clone().unwrap_or_default(),
                name: meta.name.clone()?,
                uid: meta.uid.clone()?,
            },
            owners: meta.owner_references.clone(),
            finalizers: meta.finalizers.clone(),
            deleting: meta.deletion_timestamp.is_some(),
        })
    }

    fn has_finalizer(&self, finalizer: &str) -> bool {
        self.finalizers.iter().any(|f| f == finalizer)
    }
}

// ANCHOR: owner_graph
/// Every object the collector watches, by uid, and the reverse edges: for each owner uid, the
/// uids of the objects that name it in their `ownerReferences`. An owner uid may have
/// dependents without being in the graph itself: that owner is gone (or not seen yet).
#[derive(Debug, Clone, Default)]
pub struct OwnerGraph {
    nodes: BTreeMap<String, GraphNode>,
    dependents: BTreeMap<String, BTreeSet<String>>,
}
// ANCHOR_END: owner_graph

impl OwnerGraph {
    /// An empty graph.
    pub fn new() -> Self {
        OwnerGraph::default()
    }

    /// Adds (or replaces) a node and its edges.
    pub fn insert(&mut self, node: GraphNode) {
        let uid = node.object.uid.clone();
        self.remove(&uid);
        for owner in &node.owners {
            self.dependents
                .entry(owner.uid.clone())
                .or_default()
                .insert(uid.clone());
        }
        self.nodes.insert(uid, node);
    }

    /// Removes a node and its edges to its owners (edges from its dependents stay: they
    /// now point at an absent owner).
    pub fn remove(&mut self, uid: &str) {
        if let Some(old) = self.nodes.remove(uid) {
            for owner in &old.owners {
                if let Some(set) = self.dependents.get_mut(&owner.uid) {
                    set.remove(uid);
                    if set.is_empty() {
                        self.dependents.remove(&owner.uid);
                    }
                }
            }
        }
    }

    /// The node with this uid.
    pub fn get(&self, uid: &str) -> Option<&GraphNode> {
        self.nodes.get(uid)
    }

    /// The objects that name `owner_uid` as an owner, by uid.
    pub fn dependents(&self, owner_uid: &str) -> Vec<&GraphNode> {
        self.dependents
            .get(owner_uid)
            .into_iter()
            .flatten()
            .filter_map(|uid| self.nodes.get(uid))
            .collect()
    }

    /// Every node, by uid.
    pub fn nodes(&self) -> impl Iterator<Item = &GraphNode> {
        self.nodes.values()
    }

    /// The collector's actions for the object `uid` (see [`plan_owner`] and
    /// [`plan_dependent`]); nothing for an unknown uid.
    pub fn plan(&self, uid: &str) -> Vec<GcAction> {
        let Some(node) = self.get(uid) else {
            return Vec::new();
        };
        let mut actions = plan_owner(node, &self.dependents(uid));
        actions.extend(plan_dependent(node, |owner| self.get(&owner.uid).is_some()));
        actions
    }
}

// ANCHOR: gc_action
/// One thing the garbage collector does to the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GcAction {
    /// Delete `object` with `policy`. When `if_absent` is not empty, the delete is for lack
    /// of owners: the driver first checks with the API that each of them is really gone (the
    /// graph may lag behind a just-created owner).
    Delete {
        /// The dependent to delete.
        object: ObjectRef,
        /// How its own dependents are to be treated.
        policy: PropagationPolicy,
        /// Owners that must be confirmed gone first.
        if_absent: Vec<OwnerReference>,
    },
    /// Remove the owner references to `owner_uids` from `object` (orphaning it, or dropping
    /// references to owners that are gone while others remain).
    RemoveOwnerReferences {
        /// The dependent to edit.
        object: ObjectRef,
        /// The owners to forget.
        owner_uids: Vec<String>,
        /// Owners that must be confirmed gone first (empty when orphaning on purpose).
        if_absent: Vec<OwnerReference>,
    },
    /// Remove `finalizer` from `object`: its dependents are handled, it may go.
    RemoveFinalizer {
        /// The owner being deleted.
        object: ObjectRef,
        /// `foregroundDeletion` or `orphan`.
        finalizer: &'static str,
    },
}
// ANCHOR_END: gc_action

// ANCHOR: plan_owner
/// What to do for an `owner` being deleted with the `orphan` or `foregroundDeletion`
/// finalizer, given its current `dependents`.
///
/// - Orphan: remove the reference to the owner from every dependent, then the finalizer.
/// - Foreground: delete every dependent not yet being deleted (a blocking one in the
///   foreground too, so the wait cascades down the graph); once no dependent with
///   `blockOwnerDeletion` remains, remove the finalizer and the owner goes.
pub fn plan_owner(owner: &GraphNode, dependents: &[&GraphNode]) -> Vec<GcAction> {
    // EXERCISE(controllers-gc-dependents): orphan: drop every dependent's reference, then the finalizer; foreground: delete the dependents, and remove the finalizer once none blocks
    let mut actions = Vec::new();
    if !owner.deleting {
        return actions;
    }
    let uid = &owner.object.uid;
    if owner.has_finalizer(ORPHAN_FINALIZER) {
        for dependent in dependents {
            actions.push(GcAction::RemoveOwnerReferences {
                object: dependent.object.clone(),
                owner_uids: vec![uid.clone()],
                if_absent: Vec::new(),
            });
        }
        actions.push(GcAction::RemoveFinalizer {
            object: owner.object.clone(),
            finalizer: ORPHAN_FINALIZER,
        });
    } else if owner.has_finalizer(FOREGROUND_FINALIZER) {
        let mut blocked = false;
        for dependent in dependents {
            let blocks = dependent
                .owners
                .iter()
                .any(|o| o.uid == *uid && o.block_owner_deletion == Some(true));
            blocked |= blocks;
            if !dependent.deleting {
                let policy = if blocks {
                    PropagationPolicy::Foreground
                } else {
                    PropagationPolicy::Background
                };
                actions.push(GcAction::Delete {
                    object: dependent.object.clone(),
                    policy,
                    if_absent: Vec::new(),
                });
            }
        }
        if !blocked {
            actions.push(GcAction::RemoveFinalizer {
                object: owner.object.clone(),
                finalizer: FOREGROUND_FINALIZER,
            });
        }
    }
    actions
    // END EXERCISE
}
// ANCHOR_END: plan_owner

// ANCHOR: plan_dependent
/// What to do for an object whose owners may be gone (`exists` tells, from the graph): with
/// every owner gone it is garbage (delete it, in the background); with some gone, drop the
/// references to those. Objects without owners, or being deleted already, are left alone.
pub fn plan_dependent(node: &GraphNode, exists: impl Fn(&OwnerReference) -> bool) -> Vec<GcAction> {
    if node.owners.is_empty() || node.deleting {
        return Vec::new();
    }
    let absent: Vec<OwnerReference> = node.owners.iter().filter(|o| !exists(o)).cloned().collect();
    if absent.is_empty() {
        Vec::new()
    } else if absent.len() == node.owners.len() {
        vec![GcAction::Delete {
            object: node.object.clone(),
            policy: PropagationPolicy::Background,
            if_absent: absent,
        }]
    } else {
        vec![GcAction::RemoveOwnerReferences {
            object: node.object.clone(),
            owner_uids: absent.iter().map(|o| o.uid.clone()).collect(),
            if_absent: absent,
        }]
    }
}
// ANCHOR_END: plan_dependent
