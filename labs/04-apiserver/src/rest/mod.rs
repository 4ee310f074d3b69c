//! The REST verbs, one file per idea: route parsing, get/list, create, update, delete, watch,
//! subresources and logs. Each verb reads and writes JSON objects through [`Storage`], and
//! answers with an object, a list, a stream, or a [`StatusError`].

pub mod create;
pub mod delete;
pub mod filter;
pub mod list;
pub mod logs;
pub mod object;
pub mod patch;
pub mod protobuf;
pub mod route;
pub mod subresources;
pub mod update;
pub mod watch;

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use serde_json::Value;

use crate::request::{ApiResponse, User};
use crate::status::StatusError;
use crate::storage::{Storage, StorageError};
use logs::PodLogs;
use route::{Query, Route};

/// Where the server's time comes from; tests inject a fixed or stepping clock.
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// What every verb needs: storage, time, and the optional collaborators.
#[derive(Clone)]
pub struct Context {
    /// The objects.
    pub storage: Arc<dyn Storage>,
    /// The time source.
    pub clock: Clock,
    /// How often a watch that asked for bookmarks gets one.
    pub bookmark_interval: Duration,
    /// Where `pods/log` is served from (the kubelet proxy), if anywhere.
    pub pod_logs: Option<Arc<dyn PodLogs>>,
    /// The source of uids and generated names.
    pub ids: Arc<Ids>,
    /// The checks a write must pass before it is stored, if any.
    pub admission: Option<Arc<dyn Admission>>,
    /// The mutating hooks (e.g. the ClusterIP allocator of lab 08), each for one resource.
    pub mutations: Vec<Arc<dyn MutatingAdmission>>,
}

/// The future a [`MutatingAdmission`] hook returns.
pub type HookFuture<'a, T> = std::pin::Pin<Box<dyn Future<Output = T> + Send + 'a>>;

// ANCHOR: mutating_admission
/// A mutating admission hook for one resource (Kubernetes does ClusterIP allocation this way,
/// synchronously in the create path): it may change an object before it is first stored or
/// refuse it (usually 422 naming the field), check an update against the stored object, and
/// release what it took once the object is gone.
pub trait MutatingAdmission: Send + Sync {
    /// The resource (plural, e.g. `services`) the hook is for.
    fn resource(&self) -> &'static str;
    /// Before a create is stored: mutate `object` or refuse it. If the create then fails,
    /// [`on_delete`](Self::on_delete) is called with the same object.
    fn on_create<'a>(&'a self, object: &'a mut Value) -> HookFuture<'a, Result<(), StatusError>>;
    /// Before an update (or patch) is stored: `incoming` may be fixed up from `existing`, or
    /// refused (e.g. a field that is immutable).
    fn on_update(&self, existing: &Value, incoming: &mut Value) -> Result<(), StatusError>;
    /// After the object left storage: release what `on_create` took.
    fn on_delete<'a>(&'a self, object: &'a Value) -> HookFuture<'a, ()>;
}
// ANCHOR_END: mutating_admission

/// A check on the objects a write involves, run just before it is stored (Kubernetes'
/// validating admission): `existing` is the stored object (update, patch, delete),
/// `incoming` the object to store (create, update, patch).
pub trait Admission: Send + Sync {
    /// `Ok` to let the write happen; a Status (usually 403) to refuse it.
    fn admit(
        &self,
        call: &Call,
        existing: Option<&Value>,
        incoming: Option<&Value>,
    ) -> Result<(), StatusError>;
}

impl Context {
    /// The mutating hooks for `plural`.
    pub fn mutations_for(&self, plural: &str) -> impl Iterator<Item = &Arc<dyn MutatingAdmission>> {
        self.mutations
            .iter()
            .filter(move |m| m.resource() == plural)
    }

    /// The current time as a Kubernetes timestamp (whole seconds).
    pub fn now(&self) -> api::Time {
        let since = (self.clock)()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        api::Time(since.as_secs() as i64)
    }

    /// Runs the admission check, if one is configured.
    pub fn admit(
        &self,
        call: &Call,
        existing: Option<&Value>,
        incoming: Option<&Value>,
    ) -> Result<(), StatusError> {
        match &self.admission {
            Some(admission) => admission.admit(call, existing, incoming),
            None => Ok(()),
        }
    }
}

/// One request, routed: what the verbs receive.
#[derive(Debug, Clone)]
pub struct Call {
    /// The Kubernetes verb: `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`,
    /// `deletecollection`.
    pub verb: &'static str,
    /// The resource, namespace, name and subresource.
    pub route: Route,
    /// The query parameters.
    pub query: Query,
    /// The request body.
    pub body: Bytes,
    /// The `Content-Type` header (empty when absent).
    pub content_type: String,
    /// The `Accept` header (empty when absent).
    pub accept: String,
    /// Who is asking.
    pub user: User,
}

impl Call {
    /// The object's name; routing guarantees it for the verbs that need one.
    pub fn name(&self) -> &str {
        self.route.name.as_deref().unwrap_or("")
    }

    /// The storage key of the named object.
    pub fn key(&self) -> String {
        self.route
            .resource
            .key(self.route.namespace.as_deref(), self.name())
    }

    /// 404 for the named object.
    pub fn not_found(&self) -> StatusError {
        StatusError::not_found(
            self.route.resource.group,
            self.route.resource.plural,
            self.name(),
        )
    }

    /// 409 Conflict for the named object.
    pub fn conflict(&self) -> StatusError {
        StatusError::conflict(
            self.route.resource.group,
            self.route.resource.plural,
            self.name(),
        )
    }
}

/// A verb's result: the response, or why not.
pub type RestResult = Result<ApiResponse, StatusError>;

/// The JSON response of a successful verb.
pub fn ok(status: u16, body: &Value) -> RestResult {
    Ok(ApiResponse::json(status, body))
}

/// Reads the named object of `call`: its stored form (whose `mod_revision` a later write must
/// find unchanged) and its decoded JSON; 404 if it does not exist.
pub async fn read_stored(
    ctx: &Context,
    call: &Call,
) -> Result<(crate::storage::Stored, Value), StatusError> {
    let stored = ctx
        .storage
        .get(&call.key())
        .await
        .map_err(|e| storage_error(call, e))?
        .ok_or_else(|| call.not_found())?;
    let object = object::decode(&stored)?;
    Ok((stored, object))
}

/// A storage failure as a Status, for the named object of `call`.
pub fn storage_error(call: &Call, error: StorageError) -> StatusError {
    let resource = call.route.resource;
    match error {
        StorageError::AlreadyExists { .. } => {
            StatusError::already_exists(resource.group, resource.plural, call.name())
        }
        StorageError::NotFound { .. } => call.not_found(),
        StorageError::Conflict { .. } => call.conflict(),
        StorageError::Compacted {
            requested,
            compacted,
        } => StatusError::expired(format!(
            "too old resource version: {requested} ({compacted})"
        )),
        StorageError::FutureRevision { requested, current } => StatusError::new(
            504,
            "Timeout",
            format!("Too large resource version: {requested}, current: {current}"),
        ),
        StorageError::Unavailable { message } => StatusError::unavailable(message),
    }
}

/// Unique ids and random name suffixes, without a random-number crate: the standard library's
/// per-process random hash keys, fed with a counter and the time.
#[derive(Debug)]
pub struct Ids {
    counter: AtomicU64,
    keys: RandomState,
}

impl Default for Ids {
    fn default() -> Self {
        Ids {
            counter: AtomicU64::new(0),
            keys: RandomState::new(),
        }
    }
}

impl Ids {
    /// 64 unpredictable bits.
    pub fn random(&self) -> u64 {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        self.keys.hash_one((n, nanos))
    }

    /// A version-4 UUID: `8c6b3f7e-1d2a-4c5b-9e8f-0a1b2c3d4e5f`.
    pub fn uid(&self) -> String {
        let (high, low) = (self.random(), self.random());
        let high = (high & 0xffff_ffff_ffff_0fff) | 0x4000;
        let low = (low & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            high >> 32,
            (high >> 16) & 0xffff,
            high & 0xffff,
            low >> 48,
            low & 0xffff_ffff_ffff
        )
    }

    /// Five characters for `generateName`, from Kubernetes' alphabet (no vowels, no
    /// look-alikes).
    pub fn suffix(&self) -> String {
        const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
        let mut bits = self.random();
        (0..5)
            .map(|_| {
                let c = ALPHABET[(bits % ALPHABET.len() as u64) as usize] as char;
                bits /= ALPHABET.len() as u64;
                c
            })
            .collect()
    }
}
