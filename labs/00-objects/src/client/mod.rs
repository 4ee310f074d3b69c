//! The API client: how every component talks to "the API", whichever API that is.
//!
//! Components (kubelet, proxy, scheduler, controllers) are written against [`ApiClient`] and
//! never know which implementation they get. This lab ships [`InMemoryApi`], a small but
//! faithful API in one process (resource versions, optimistic concurrency, validation, watch),
//! good enough to test the kubelet and the proxy before the API server exists. Lab 04 adds the
//! real server and an HTTP implementation of the same trait.

mod binding;
mod error;
mod memory;
mod resource;
mod watch;

use std::future::Future;

use serde::{Deserialize, Serialize};

pub use binding::{BINDING_RESOURCE, assign};
pub use error::ApiError;
pub use memory::{ApiClock, DEFAULT_HISTORY, InMemoryApi};
pub use resource::ApiResource;
pub use watch::{ObjectList, WatchEvent, WatchEventType, WatchStream};

use crate::Pod;
use crate::selector::LabelSelector;

/// Shorthand for the result of an API call.
pub type ApiResult<T> = Result<T, ApiError>;

// ANCHOR: delete_options
/// How to delete: like Kubernetes' `DeleteOptions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DeleteOptions {
    /// Seconds the object gets to shut down. For kinds with graceful deletion (Pods), `None`
    /// or a positive value only marks the object (`deletionTimestamp`); `Some(0)` removes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grace_period_seconds: Option<i64>,
    /// What happens to the object's dependents (the objects whose `ownerReferences` name it).
    /// `None` is `Background`, as for most kinds in Kubernetes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub propagation_policy: Option<PropagationPolicy>,
}

/// What the garbage collector does with the dependents of a deleted owner. The API server only
/// records the choice (as a finalizer on the owner); the garbage collector carries it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PropagationPolicy {
    /// Keep the dependents: remove their owner reference, then delete the owner
    /// (finalizer `orphan`).
    Orphan,
    /// Delete the owner now; the garbage collector deletes the dependents afterwards.
    Background,
    /// Mark the owner, delete the dependents that block it first, then delete the owner
    /// (finalizer `foregroundDeletion`).
    Foreground,
}
// ANCHOR_END: delete_options

/// The finalizer that makes a deleted owner wait for its blocking dependents.
pub const FOREGROUND_FINALIZER: &str = "foregroundDeletion";
/// The finalizer that makes a deleted owner wait until its dependents are orphaned.
pub const ORPHAN_FINALIZER: &str = "orphan";

impl PropagationPolicy {
    /// The finalizer the API server puts on an owner deleted with this policy, if any.
    pub fn finalizer(self) -> Option<&'static str> {
        match self {
            PropagationPolicy::Orphan => Some(ORPHAN_FINALIZER),
            PropagationPolicy::Background => None,
            PropagationPolicy::Foreground => Some(FOREGROUND_FINALIZER),
        }
    }
}

impl DeleteOptions {
    /// Delete at once, without grace: what the kubelet sends once a pod has stopped.
    pub fn now() -> Self {
        DeleteOptions {
            grace_period_seconds: Some(0),
            ..DeleteOptions::default()
        }
    }

    /// Delete with a propagation policy for the dependents.
    pub fn propagate(policy: PropagationPolicy) -> Self {
        DeleteOptions {
            propagation_policy: Some(policy),
            ..DeleteOptions::default()
        }
    }
}

// ANCHOR: client_trait
/// A typed client of the Kubernetes-style API, one method per verb.
///
/// Namespaced kinds take `Some(namespace)`; cluster-scoped kinds (Node) take `None`. In `list`
/// and `watch`, `None` on a namespaced kind means "all namespaces".
///
/// The methods return `impl Future + Send` (not `async fn`) so that callers may spawn them on a
/// multi-threaded runtime; implementations still write `async fn`.
pub trait ApiClient: Send + Sync {
    /// Reads one object.
    fn get<K: ApiResource>(
        &self,
        namespace: Option<&str>,
        name: &str,
    ) -> impl Future<Output = ApiResult<K>> + Send;

    /// Lists the objects whose labels match `selector` (an empty selector matches all).
    fn list<K: ApiResource>(
        &self,
        namespace: Option<&str>,
        selector: &LabelSelector,
    ) -> impl Future<Output = ApiResult<ObjectList<K>>> + Send;

    /// Stores a new object; the server assigns uid, resourceVersion, creationTimestamp.
    fn create<K: ApiResource>(&self, object: K) -> impl Future<Output = ApiResult<K>> + Send;

    /// Replaces an object (PUT). Its `metadata.resourceVersion` must be the stored one, else
    /// [`ApiError::Conflict`]: two writers never silently overwrite each other. The stored
    /// status is kept; use [`ApiClient::update_status`] to change it.
    fn update<K: ApiResource>(&self, object: K) -> impl Future<Output = ApiResult<K>> + Send;

    /// Replaces only the status of an object (the `/status` subresource), with the same
    /// resourceVersion check as `update`.
    fn update_status<K: ApiResource>(&self, object: K)
    -> impl Future<Output = ApiResult<K>> + Send;

    /// Deletes an object and returns its last state. An object with finalizers (or one that
    /// `options.propagation_policy` gives one: `Foreground`, `Orphan`) and a Pod on a node
    /// are only marked (`deletionTimestamp`); the mark is final, and the object goes once an
    /// update clears its last finalizer (and, for a Pod, its grace period is cut to zero).
    fn delete<K: ApiResource>(
        &self,
        namespace: Option<&str>,
        name: &str,
        options: DeleteOptions,
    ) -> impl Future<Output = ApiResult<K>> + Send;

    // ANCHOR: bind
    /// Binds the unscheduled pod `namespace/pod` to `node` (the `pods/binding` subresource,
    /// the scheduler's one write): sets `spec.nodeName` and the `PodScheduled=True` condition.
    /// No resourceVersion is needed: the binding is checked against whatever is stored. A pod
    /// already assigned to a node, or being deleted, is [`ApiError::Unfulfillable`] (409); a
    /// missing pod is [`ApiError::NotFound`]; an empty `node` is [`ApiError::Invalid`].
    ///
    /// The default body is for clients without the subresource: it reads the pod and writes
    /// it back (a pod changed in between is an [`ApiError::Conflict`]), then the condition.
    fn bind(
        &self,
        namespace: &str,
        pod: &str,
        node: &str,
    ) -> impl Future<Output = ApiResult<()>> + Send {
        async move {
            let mut stored: Pod = self.get(Some(namespace), pod).await?;
            assign(&mut stored, node, None)?;
            let mut bound = self.update(stored.clone()).await?;
            bound.status = stored.status;
            self.update_status(bound).await?;
            Ok(())
        }
    }
    // ANCHOR_END: bind

    /// Streams every change after `resource_version` (from a list, or the last event seen), in
    /// order. An empty version means "from now". A version older than the kept history is
    /// [`ApiError::Gone`]: list again.
    fn watch<K: ApiResource>(
        &self,
        namespace: Option<&str>,
        resource_version: &str,
    ) -> impl Future<Output = ApiResult<WatchStream<K>>> + Send;
}
// ANCHOR_END: client_trait
