//! `ObjectMeta`: the part of every object that the system, not the user, mostly owns.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::time::Time;

// ANCHOR: object_meta
/// Metadata shared by every kind: identity, labels, ownership and lifecycle.
///
/// Fields are optional because a manifest usually sets only `name` (and maybe `namespace` and
/// `labels`); the API server fills in `uid`, `resourceVersion`, `generation` and
/// `creationTimestamp` when it stores the object.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct ObjectMeta {
    /// Unique within a namespace and kind; chosen by the user, reused after deletion.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Prefix from which the server generates a unique name when `name` is empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generate_name: Option<String>,
    /// The namespace of a namespaced object; `None` means "default" for namespaced kinds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Unique across all time: tells apart two objects that had the same name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// Identifying key/value pairs, the target of label selectors.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Non-identifying key/value pairs for tools; never selected on.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// The objects this one belongs to; the garbage collector deletes orphans.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub owner_references: Vec<OwnerReference>,
    /// Keys that must be removed (by their controllers) before the object is really deleted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub finalizers: Vec<String>,
    /// Opaque version of this object in the store; an update that carries a stale one is
    /// rejected (optimistic concurrency).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    /// Incremented by the server on every change to the desired state (`spec`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generation: Option<i64>,
    /// When the server first stored the object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creation_timestamp: Option<Time>,
    /// Set when deletion was requested; the object lingers until finalizers and grace end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_timestamp: Option<Time>,
    /// Seconds the object is given to shut down once `deletionTimestamp` is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_grace_period_seconds: Option<i64>,
}
// ANCHOR_END: object_meta

impl ObjectMeta {
    /// Metadata with just a name: the common case in tests and demos.
    pub fn named(name: &str) -> Self {
        ObjectMeta {
            name: Some(name.to_string()),
            ..ObjectMeta::default()
        }
    }

    /// Metadata with a name and a namespace.
    pub fn namespaced(namespace: &str, name: &str) -> Self {
        ObjectMeta {
            namespace: Some(namespace.to_string()),
            ..ObjectMeta::named(name)
        }
    }
}

/// A link from a dependent object to the object that owns it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct OwnerReference {
    /// API version of the owner, e.g. `apps/v1`.
    pub api_version: String,
    /// Kind of the owner, e.g. `ReplicaSet`.
    pub kind: String,
    /// Name of the owner.
    pub name: String,
    /// UID of the owner: a new object with the same name is a different owner.
    pub uid: String,
    /// True for the one owner that manages this object (at most one may say so).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub controller: Option<bool>,
    /// In foreground deletion, the owner waits for this dependent to go first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_owner_deletion: Option<bool>,
}

/// Implemented by every top-level kind: its type identity and its metadata.
pub trait Resource {
    /// The `apiVersion` manifests of this kind carry, e.g. `apps/v1`.
    const API_VERSION: &'static str;
    /// The `kind` manifests of this kind carry, e.g. `Deployment`.
    const KIND: &'static str;
    /// Whether objects of this kind live in a namespace (Pods) or not (Nodes).
    const NAMESPACED: bool;
    /// The object's metadata.
    fn metadata(&self) -> &ObjectMeta;
    /// The object's metadata, for the server to fill in uid, resourceVersion, ...
    fn metadata_mut(&mut self) -> &mut ObjectMeta;
}

/// Implements [`Resource`] and a `Default` that fills in `apiVersion` and `kind`, so that
/// `Pod::default()` serializes as a valid Pod rather than an object without a type.
macro_rules! resource {
    ($ty:ident, $api:literal, $kind:literal, namespaced: $ns:literal, [$($field:ident),*]) => {
        impl $crate::meta::Resource for $ty {
            const API_VERSION: &'static str = $api;
            const KIND: &'static str = $kind;
            const NAMESPACED: bool = $ns;
            fn metadata(&self) -> &$crate::meta::ObjectMeta {
                &self.metadata
            }
            fn metadata_mut(&mut self) -> &mut $crate::meta::ObjectMeta {
                &mut self.metadata
            }
        }

        impl Default for $ty {
            fn default() -> Self {
                $ty {
                    api_version: $api.to_string(),
                    kind: $kind.to_string(),
                    metadata: Default::default(),
                    $($field: Default::default(),)*
                }
            }
        }
    };
}
pub(crate) use resource;

/// A condition as most kinds report it: a type, a status and why.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Condition {
    /// What the condition is about, e.g. `Ready` or `Available`.
    #[serde(rename = "type")]
    pub condition_type: String,
    /// `True`, `False` or `Unknown`: a string, because "unknown" is a real answer.
    pub status: String,
    /// When the status last changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<Time>,
    /// When a component last checked it (nodes and deployments report this).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_heartbeat_time: Option<Time>,
    /// When a deployment condition was last updated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_update_time: Option<Time>,
    /// When a pod condition was last probed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_probe_time: Option<Time>,
    /// A CamelCase machine-readable reason for the last transition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A human-readable explanation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The `metadata.generation` this condition was computed from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

/// A reference to another object, as Events and Endpoints use it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct ObjectReference {
    /// API version of the referent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Kind of the referent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Namespace of the referent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name of the referent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// UID of the referent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// The referent's resourceVersion when the reference was made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    /// A field within the referent, e.g. `spec.containers{web}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field_path: Option<String>,
}
