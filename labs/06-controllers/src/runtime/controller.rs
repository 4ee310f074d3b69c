//! The `Controller` trait: what every controller (ReplicaSet, Deployment, node lifecycle,
//! garbage collector) provides to the runner.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use api::client::{ApiClient, ApiError, ApiResult};

use super::key::Key;

/// What a successful reconcile asks of the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Nothing more to do until something changes.
    Done,
    /// Look again after this delay even if nothing changes (e.g. a pod becomes available once
    /// `minReadySeconds` have passed: no event announces that).
    RequeueAfter(Duration),
}

/// Why a reconcile failed; the runner retries the key with back-off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReconcileError {
    /// An API call failed (a conflict, a validation error, a server error).
    Api(ApiError),
    /// The object cannot be acted on as it is; the message names the field and the reason.
    Invalid(String),
}

impl From<ApiError> for ReconcileError {
    fn from(error: ApiError) -> Self {
        ReconcileError::Api(error)
    }
}

impl fmt::Display for ReconcileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReconcileError::Api(error) => write!(f, "API error: {error}"),
            ReconcileError::Invalid(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for ReconcileError {}

// ANCHOR: controller_trait
/// A level-triggered controller: it learns *which* keys to look at from its informers, and
/// each reconcile compares the desired state of one key with the observed state, as a whole,
/// and acts on the difference. It never relies on the event that woke it up.
pub trait Controller<C: ApiClient> {
    /// The controller's name, for logs and Events (e.g. `replicaset-controller`).
    fn name(&self) -> &'static str;

    /// Brings the controller's informers up to date with what the API delivered (without
    /// waiting) and returns the keys their changes map to: the event handlers. A changed pod
    /// maps to its owner's key, for instance.
    fn observe(&mut self, api: &C, now: Duration) -> impl Future<Output = ApiResult<Vec<Key>>>;

    /// Makes the world match the desired state of `key`, reading from the informers' caches.
    fn reconcile(
        &mut self,
        api: &C,
        key: &Key,
        now: Duration,
    ) -> impl Future<Output = Result<Action, ReconcileError>>;

    /// Every key the controller manages, for the periodic resync that re-reconciles
    /// everything (a safety net for missed changes and for time-based conditions).
    fn resync_keys(&self) -> Vec<Key>;
}
// ANCHOR_END: controller_trait
