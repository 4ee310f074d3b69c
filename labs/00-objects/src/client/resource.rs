//! `ApiResource`: what the client needs to know about a kind to store and serve it.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::apps::{Deployment, ReplicaSet};
use crate::config::{ConfigMap, Secret};
use crate::events::{Event, Lease};
use crate::meta::Resource;
use crate::node::{Namespace, Node};
use crate::pod::Pod;
use crate::service::{Endpoints, Service};
use crate::validation::Validate;

// ANCHOR: api_resource
/// A kind the API serves: its type identity ([`Resource`]), its REST name, and whether it has a
/// `status` that only the status subresource may change.
pub trait ApiResource:
    Resource + Validate + Serialize + DeserializeOwned + Clone + Send + Sync + 'static
{
    /// The lower-case plural of the REST path: `/api/v1/namespaces/{ns}/pods`.
    const PLURAL: &'static str;

    /// Whether a delete with a grace period only *marks* the object (sets
    /// `deletionTimestamp`) and leaves the real removal to its owner. True for Pods: the
    /// kubelet must stop the containers first, then finishes the deletion itself.
    const GRACEFUL_DELETION: bool = false;

    /// Copies the `status` of `from` into `self`. `update` uses it to keep the stored status
    /// (users write spec, components write status); kinds without a status do nothing.
    fn take_status_from(&mut self, from: &Self) {
        let _ = from;
    }
}
// ANCHOR_END: api_resource

/// Implements [`ApiResource`] for a kind, with or without a status subresource.
macro_rules! api_resource {
    ($ty:ty, $plural:literal) => {
        impl ApiResource for $ty {
            const PLURAL: &'static str = $plural;
        }
    };
    ($ty:ty, $plural:literal, status) => {
        impl ApiResource for $ty {
            const PLURAL: &'static str = $plural;
            fn take_status_from(&mut self, from: &Self) {
                self.status = from.status.clone();
            }
        }
    };
}

impl ApiResource for Pod {
    const PLURAL: &'static str = "pods";
    const GRACEFUL_DELETION: bool = true;
    fn take_status_from(&mut self, from: &Self) {
        self.status = from.status.clone();
    }
}
api_resource!(Service, "services", status);
api_resource!(Endpoints, "endpoints");
api_resource!(ConfigMap, "configmaps");
api_resource!(Secret, "secrets");
api_resource!(Node, "nodes", status);
api_resource!(Namespace, "namespaces", status);
api_resource!(Deployment, "deployments", status);
api_resource!(ReplicaSet, "replicasets", status);
api_resource!(Event, "events");
api_resource!(Lease, "leases");
