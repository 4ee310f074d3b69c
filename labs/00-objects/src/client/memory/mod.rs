//! `InMemoryApi`: the API in one process, for tests and for components that run before the
//! API server exists (the kubelet and the proxy of Part I).

mod store;

use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;
use tokio::sync::mpsc;

use super::error::ApiError;
use super::resource::ApiResource;
use super::watch::{ObjectList, WatchEvent, WatchEventType, WatchStream};
use super::{ApiClient, ApiResult, DeleteOptions, assign};
use crate::Pod;
use crate::meta::ObjectMeta;
use crate::selector::LabelSelector;
use crate::time::Time;
use crate::validation::{FieldError, FieldPath};
use store::{Change, ObjectKey, Store, Watcher};

/// How many changes the in-memory API remembers for watchers that resume (etcd keeps changes
/// until compaction, about five minutes' worth in Kubernetes).
pub const DEFAULT_HISTORY: usize = 1000;

/// Where the API reads the time for `creationTimestamp` and `deletionTimestamp`; tests pass a
/// virtual clock so that stored objects are identical on every run.
pub type ApiClock = Arc<dyn Fn() -> Time + Send + Sync>;

/// The grace period of a Pod that says nothing, as in Kubernetes.
const DEFAULT_GRACE_SECONDS: i64 = 30;

// ANCHOR: in_memory_api
/// An API server in memory: typed verbs over a JSON store with one global revision counter,
/// uid and timestamp assignment, validation on every write, optimistic concurrency on updates,
/// and watches fed from a bounded history. Clones share the same store.
#[derive(Clone)]
pub struct InMemoryApi {
    store: Arc<Mutex<Store>>,
    clock: ApiClock,
}
// ANCHOR_END: in_memory_api

impl std::fmt::Debug for InMemoryApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InMemoryApi")
            .field("revision", &self.lock().revision)
            .finish_non_exhaustive()
    }
}

impl Default for InMemoryApi {
    fn default() -> Self {
        Self::new()
    }
}

impl InMemoryApi {
    /// An empty API reading the machine's clock.
    pub fn new() -> Self {
        Self::with_clock(Arc::new(system_time))
    }

    /// An empty API reading time from `clock`.
    pub fn with_clock(clock: ApiClock) -> Self {
        Self::with_clock_and_history(clock, DEFAULT_HISTORY)
    }

    /// An empty API reading time from `clock` and keeping `history` changes for watches.
    pub fn with_clock_and_history(clock: ApiClock, history: usize) -> Self {
        InMemoryApi {
            store: Arc::new(Mutex::new(Store::new(history))),
            clock,
        }
    }

    /// The revision of the latest change, as a resourceVersion string.
    pub fn resource_version(&self) -> String {
        self.lock().revision.to_string()
    }

    fn lock(&self) -> MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Validates, assigns identity and stores a new object (the body of `create`).
    fn create_now<K: ApiResource>(&self, mut object: K) -> ApiResult<K> {
        default_namespace(&mut object);
        validate(&object)?;
        let mut store = self.lock();
        let key = key_of(&object);
        if store.objects.contains_key(&key) {
            return Err(ApiError::AlreadyExists {
                resource: K::PLURAL,
                name: key.name,
            });
        }
        store.revision += 1;
        store.uids += 1;
        let meta = object.metadata_mut();
        meta.uid = Some(format!("00000000-0000-4000-8000-{:012x}", store.uids));
        meta.creation_timestamp = Some((self.clock)());
        meta.generation = Some(1);
        meta.resource_version = Some(store.revision.to_string());
        meta.deletion_timestamp = None;
        write(&mut store, key, WatchEventType::Added, &object)?;
        Ok(object)
    }

    // ANCHOR: replace
    /// The body of `update` and `update_status`: checks the resourceVersion, lets `merge` pick
    /// what to keep from the stored object, and stores the result at a new revision.
    fn replace<K: ApiResource>(
        &self,
        mut object: K,
        merge: impl FnOnce(&mut K, &K),
    ) -> ApiResult<K> {
        default_namespace(&mut object);
        let mut store = self.lock();
        let key = key_of(&object);
        let stored: K = read(&store, &key)?;
        let given = object.metadata().resource_version.clone();
        let Some(given) = given else {
            let path = FieldPath::root("metadata").child("resourceVersion");
            return Err(invalid(
                &object,
                vec![FieldError::required(
                    &path,
                    "must be specified for an update",
                )],
            ));
        };
        if Some(&given) != stored.metadata().resource_version.as_ref() {
            return Err(ApiError::Conflict {
                resource: K::PLURAL,
                name: key.name,
            });
        }
        merge(&mut object, &stored);
        if let Some(error) = new_finalizers_on_deleted(object.metadata(), stored.metadata()) {
            return Err(invalid(&object, vec![error]));
        }
        keep_server_fields(object.metadata_mut(), stored.metadata());
        validate(&object)?;
        if spec_of(&object)? != spec_of(&stored)? {
            let generation = stored.metadata().generation.unwrap_or(0) + 1;
            object.metadata_mut().generation = Some(generation);
        }
        if deletion_finished(object.metadata()) {
            // The update removed the last finalizer of a deleted object: now it really goes.
            return remove(&mut store, key, object);
        }
        store.revision += 1;
        object.metadata_mut().resource_version = Some(store.revision.to_string());
        write(&mut store, key, WatchEventType::Modified, &object)?;
        Ok(object)
    }
    // ANCHOR_END: replace

    // ANCHOR: delete_now
    /// The body of `delete`. An object goes at once unless something must happen first: a
    /// finalizer to be removed (one may come from the propagation policy), or a Pod's grace
    /// period. Then it is only marked with `deletionTimestamp`, once; a later delete can only
    /// cut the grace period to zero.
    fn delete_now<K: ApiResource>(
        &self,
        namespace: Option<&str>,
        name: &str,
        options: DeleteOptions,
    ) -> ApiResult<K> {
        let mut store = self.lock();
        let key = key_for::<K>(namespace, name);
        let mut object: K = read(&store, &key)?;
        let grace = graceful_period(&object, options)?;
        let meta = object.metadata_mut();
        let marked = meta.deletion_timestamp.is_some();
        if !marked
            && let Some(finalizer) = options.propagation_policy.and_then(|p| p.finalizer())
            && !meta.finalizers.iter().any(|f| f == finalizer)
        {
            meta.finalizers.push(finalizer.to_string());
        }
        if grace.is_none() && meta.finalizers.is_empty() {
            return remove(&mut store, key, object);
        }
        if marked {
            // Already marked: only a delete without grace changes anything.
            if grace.is_none() && meta.deletion_grace_period_seconds != Some(0) {
                meta.deletion_grace_period_seconds = Some(0);
                store.revision += 1;
                meta.resource_version = Some(store.revision.to_string());
                write(&mut store, key, WatchEventType::Modified, &object)?;
            }
            return Ok(object);
        }
        let grace = grace.unwrap_or(0);
        store.revision += 1;
        let now = (self.clock)();
        meta.deletion_timestamp = Some(Time(now.0 + grace));
        meta.deletion_grace_period_seconds = Some(grace);
        meta.resource_version = Some(store.revision.to_string());
        write(&mut store, key, WatchEventType::Modified, &object)?;
        Ok(object)
    }
    // ANCHOR_END: delete_now
}

/// Removes an object from the store at a new revision and tells the watchers.
fn remove<K: ApiResource>(store: &mut Store, key: ObjectKey, mut object: K) -> ApiResult<K> {
    store.objects.remove(&key);
    store.revision += 1;
    object.metadata_mut().resource_version = Some(store.revision.to_string());
    let value = to_value(&object)?;
    store.record(key, WatchEventType::Deleted, value);
    Ok(object)
}

/// An object being deleted may lose finalizers but not gain any: otherwise whoever removes
/// the last one could never be sure the object is about to go.
fn new_finalizers_on_deleted(meta: &ObjectMeta, stored: &ObjectMeta) -> Option<FieldError> {
    stored.deletion_timestamp?;
    let new: Vec<&String> = meta
        .finalizers
        .iter()
        .filter(|f| !stored.finalizers.contains(f))
        .collect();
    (!new.is_empty()).then(|| {
        let path = FieldPath::root("metadata").child("finalizers");
        let detail = format!(
            "no new finalizers can be added if the object is being deleted, found new finalizers {new:?}"
        );
        FieldError::forbidden(&path, &detail)
    })
}

/// Whether a marked object has nothing left to wait for: no finalizer and no grace period.
fn deletion_finished(meta: &ObjectMeta) -> bool {
    meta.deletion_timestamp.is_some()
        && meta.finalizers.is_empty()
        && meta.deletion_grace_period_seconds.unwrap_or(0) == 0
}

impl ApiClient for InMemoryApi {
    async fn get<K: ApiResource>(&self, namespace: Option<&str>, name: &str) -> ApiResult<K> {
        read(&self.lock(), &key_for::<K>(namespace, name))
    }

    async fn list<K: ApiResource>(
        &self,
        namespace: Option<&str>,
        selector: &LabelSelector,
    ) -> ApiResult<ObjectList<K>> {
        let store = self.lock();
        let mut items = Vec::new();
        for (key, value) in &store.objects {
            if key.resource == K::PLURAL && namespace.is_none_or(|ns| key.namespace == ns) {
                let object: K = from_value(value)?;
                if selector.matches(&object.metadata().labels) {
                    items.push(object);
                }
            }
        }
        Ok(ObjectList {
            items,
            resource_version: store.revision.to_string(),
        })
    }

    async fn create<K: ApiResource>(&self, object: K) -> ApiResult<K> {
        self.create_now(object)
    }

    async fn update<K: ApiResource>(&self, object: K) -> ApiResult<K> {
        self.replace(object, |new, stored| new.take_status_from(stored))
    }

    async fn update_status<K: ApiResource>(&self, object: K) -> ApiResult<K> {
        // Only the status changes: spec and metadata stay as stored (the resourceVersion
        // given is kept for the concurrency check).
        self.replace(object, |new, stored| {
            let mut merged = stored.clone();
            merged.take_status_from(new);
            merged.metadata_mut().resource_version = new.metadata().resource_version.clone();
            *new = merged;
        })
    }

    async fn delete<K: ApiResource>(
        &self,
        namespace: Option<&str>,
        name: &str,
        options: DeleteOptions,
    ) -> ApiResult<K> {
        self.delete_now(namespace, name, options)
    }

    // ANCHOR: bind
    async fn bind(&self, namespace: &str, pod: &str, node: &str) -> ApiResult<()> {
        // One lock from read to write: two binders of one pod cannot both succeed.
        let mut store = self.lock();
        let key = key_for::<Pod>(Some(namespace), pod);
        let mut stored: Pod = read(&store, &key)?;
        assign(&mut stored, node, Some((self.clock)()))?;
        validate(&stored)?;
        store.revision += 1;
        stored.metadata.resource_version = Some(store.revision.to_string());
        write(&mut store, key, WatchEventType::Modified, &stored)
    }
    // ANCHOR_END: bind

    async fn watch<K: ApiResource>(
        &self,
        namespace: Option<&str>,
        resource_version: &str,
    ) -> ApiResult<WatchStream<K>> {
        let mut store = self.lock();
        let from = match resource_version {
            "" => store.revision,
            text => text.parse().map_err(|_| ApiError::BadRequest {
                message: format!("resourceVersion: {text:?} is not a valid resource version"),
            })?,
        };
        let (sender, receiver) = mpsc::channel(DEFAULT_HISTORY + 256);
        let watcher = Watcher {
            resource: K::PLURAL,
            namespace: (K::NAMESPACED)
                .then(|| namespace.map(str::to_string))
                .flatten(),
            deliver: Box::new(move |change: &Change| {
                let event = from_value::<K>(&change.object).map(|object| WatchEvent {
                    event_type: change.event_type,
                    object,
                });
                sender.try_send(event).is_ok()
            }),
        };
        store.add_watcher(from, watcher)?;
        Ok(WatchStream::new(receiver))
    }
}

/// Seconds since the epoch from the machine's clock.
fn system_time() -> Time {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Time(since_epoch.as_secs() as i64)
}

/// A namespaced object without a namespace goes to `default`, as with kubectl.
fn default_namespace<K: ApiResource>(object: &mut K) {
    let meta = object.metadata_mut();
    if K::NAMESPACED && meta.namespace.is_none() {
        meta.namespace = Some("default".to_string());
    }
}

fn key_of<K: ApiResource>(object: &K) -> ObjectKey {
    let meta = object.metadata();
    key_for::<K>(
        meta.namespace.as_deref(),
        meta.name.as_deref().unwrap_or(""),
    )
}

fn key_for<K: ApiResource>(namespace: Option<&str>, name: &str) -> ObjectKey {
    let namespace = match (K::NAMESPACED, namespace) {
        (false, _) => String::new(),
        (true, Some(ns)) => ns.to_string(),
        (true, None) => "default".to_string(),
    };
    ObjectKey {
        resource: K::PLURAL,
        namespace,
        name: name.to_string(),
    }
}

fn validate<K: ApiResource>(object: &K) -> ApiResult<()> {
    let errors = object.field_errors();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(invalid(object, errors))
    }
}

fn invalid<K: ApiResource>(object: &K, errors: Vec<FieldError>) -> ApiError {
    ApiError::Invalid {
        kind: K::KIND,
        name: object.metadata().name.clone().unwrap_or_default(),
        errors,
    }
}

/// Fields only the server sets survive any update unchanged.
fn keep_server_fields(meta: &mut ObjectMeta, stored: &ObjectMeta) {
    meta.uid = stored.uid.clone();
    meta.creation_timestamp = stored.creation_timestamp;
    meta.generation = stored.generation;
    meta.deletion_timestamp = stored.deletion_timestamp;
    meta.deletion_grace_period_seconds = stored.deletion_grace_period_seconds;
}

/// `Some(grace)` when this delete only marks the object: a graceful kind, a non-zero grace,
/// and (for Pods) a node that has to stop it. An unscheduled Pod has nothing to stop.
fn graceful_period<K: ApiResource>(object: &K, options: DeleteOptions) -> ApiResult<Option<i64>> {
    if !K::GRACEFUL_DELETION || options.grace_period_seconds == Some(0) {
        return Ok(None);
    }
    let value = to_value(object)?;
    let spec = &value["spec"];
    if spec["nodeName"].as_str().is_none_or(str::is_empty) {
        return Ok(None);
    }
    let from_spec = spec["terminationGracePeriodSeconds"].as_i64();
    let grace = options
        .grace_period_seconds
        .or(from_spec)
        .unwrap_or(DEFAULT_GRACE_SECONDS);
    Ok((grace > 0).then_some(grace))
}

fn read<K: ApiResource>(store: &Store, key: &ObjectKey) -> ApiResult<K> {
    let value = store.objects.get(key).ok_or_else(|| ApiError::NotFound {
        resource: K::PLURAL,
        name: key.name.clone(),
    })?;
    from_value(value)
}

fn write<K: ApiResource>(
    store: &mut Store,
    key: ObjectKey,
    event_type: WatchEventType,
    object: &K,
) -> ApiResult<()> {
    let value = to_value(object)?;
    store.objects.insert(key.clone(), value.clone());
    store.record(key, event_type, value);
    Ok(())
}

/// The `spec` of an object as JSON (`Null` for kinds without one), to detect spec changes.
fn spec_of<K: ApiResource>(object: &K) -> ApiResult<Value> {
    Ok(to_value(object)?["spec"].take())
}

fn to_value<K: ApiResource>(object: &K) -> ApiResult<Value> {
    serde_json::to_value(object).map_err(|error| ApiError::Internal {
        message: format!("encoding {}: {error}", K::KIND),
    })
}

fn from_value<K: ApiResource>(value: &Value) -> ApiResult<K> {
    K::deserialize(value).map_err(|error| ApiError::Internal {
        message: format!("decoding a stored {}: {error}", K::KIND),
    })
}
