//! `Object`: any one of the kinds skiff knows, for code that handles manifests generically.

use serde::{Serialize, Serializer};

use crate::apps::{Deployment, ReplicaSet};
use crate::config::{ConfigMap, Secret};
use crate::events::{Event, Lease};
use crate::meta::{ObjectMeta, Resource};
use crate::node::{Namespace, Node};
use crate::pod::Pod;
use crate::service::{Endpoints, Service};

/// Calls `$body` with `$inner` bound to the object inside any variant.
macro_rules! each_kind {
    ($object:expr, $inner:ident => $body:expr) => {
        match $object {
            Object::Pod($inner) => $body,
            Object::Service($inner) => $body,
            Object::Endpoints($inner) => $body,
            Object::ConfigMap($inner) => $body,
            Object::Secret($inner) => $body,
            Object::Node($inner) => $body,
            Object::Namespace($inner) => $body,
            Object::Deployment($inner) => $body,
            Object::ReplicaSet($inner) => $body,
            Object::Event($inner) => $body,
            Object::Lease($inner) => $body,
        }
    };
}
pub(crate) use each_kind;

/// One object of any kind skiff knows. Serializes exactly like the object inside.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // a manifest is parsed once; boxing would only add noise
pub enum Object {
    /// A `v1` Pod.
    Pod(Pod),
    /// A `v1` Service.
    Service(Service),
    /// `v1` Endpoints.
    Endpoints(Endpoints),
    /// A `v1` ConfigMap.
    ConfigMap(ConfigMap),
    /// A `v1` Secret.
    Secret(Secret),
    /// A `v1` Node.
    Node(Node),
    /// A `v1` Namespace.
    Namespace(Namespace),
    /// An `apps/v1` Deployment.
    Deployment(Deployment),
    /// An `apps/v1` ReplicaSet.
    ReplicaSet(ReplicaSet),
    /// A `v1` Event.
    Event(Event),
    /// A `coordination.k8s.io/v1` Lease.
    Lease(Lease),
}

/// Reads `T::API_VERSION` and `T::KIND` from a value's type.
fn type_of<T: Resource>(_: &T) -> (&'static str, &'static str) {
    (T::API_VERSION, T::KIND)
}

impl Object {
    /// The object's `apiVersion`, e.g. `apps/v1`.
    pub fn api_version(&self) -> &'static str {
        each_kind!(self, o => type_of(o).0)
    }

    /// The object's `kind`, e.g. `Deployment`.
    pub fn kind(&self) -> &'static str {
        each_kind!(self, o => type_of(o).1)
    }

    /// The object's metadata.
    pub fn metadata(&self) -> &ObjectMeta {
        each_kind!(self, o => o.metadata())
    }

    /// The object's metadata, mutable (the API server fills in uid and resourceVersion).
    pub fn metadata_mut(&mut self) -> &mut ObjectMeta {
        each_kind!(self, o => o.metadata_mut())
    }

    /// `Kind/name`, as kubectl prints it: `Pod/web`.
    pub fn display_name(&self) -> String {
        let name = self.metadata().name.as_deref().unwrap_or("<unnamed>");
        format!("{}/{name}", self.kind())
    }
}

impl Serialize for Object {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        each_kind!(self, o => o.serialize(serializer))
    }
}
