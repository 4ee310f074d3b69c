//! Informers: a local cache of one kind, kept in sync by list + watch.
//!
//! Controllers never poll the API for the objects they manage; they read this cache, and the
//! changes that update it tell them which keys to reconcile (the event handlers).

use std::collections::BTreeMap;

use api::LabelSelector;
use api::client::WatchStream;
use api::client::{ApiClient, ApiError, ApiResource, ApiResult, WatchEvent, WatchEventType};

use super::key::Key;

/// How many times one [`Informer::sync`] re-opens an ended watch before giving up for now.
const MAX_REOPENS: usize = 3;

/// One change to the cache, as an informer's event handlers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delta<K> {
    /// A new object (from a watch, or found by a relist).
    Added(K),
    /// A changed object: the cached state before, and after.
    Updated {
        /// The object as the cache had it.
        old: K,
        /// The object as it is now.
        new: K,
    },
    /// A removed object, in its last known state.
    Deleted(K),
}

impl<K> Delta<K> {
    /// The object as it is after the change (its last state, for a deletion).
    pub fn object(&self) -> &K {
        match self {
            Delta::Added(object) | Delta::Deleted(object) => object,
            Delta::Updated { new, .. } => new,
        }
    }
}

/// How often an informer had to list and watch: a relist is expensive, tests check it is rare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InformerStats {
    /// Full lists (the first one, and one after each 410 Gone).
    pub lists: u64,
    /// Watches opened (the first one, and one per resume).
    pub watches: u64,
}

// ANCHOR: informer
/// A cache of every object of kind `K` (in one namespace, or all), fed by list + watch.
///
/// - The first [`Informer::sync`] lists, then watches from the list's resourceVersion.
/// - Each watch event updates the cache and the resourceVersion to resume from.
/// - When the server ends the watch, the informer watches again from that version: nothing
///   is missed or seen twice.
/// - When the server answers 410 Gone (the version is older than its history), the
///   informer lists again and reports the difference with its cache as deltas.
#[derive(Debug)]
pub struct Informer<K> {
    namespace: Option<String>,
    cache: BTreeMap<Key, K>,
    resource_version: Option<String>,
    watch: Option<WatchStream<K>>,
    needs_relist: bool,
    stats: InformerStats,
}
// ANCHOR_END: informer

impl<K: ApiResource> Default for Informer<K> {
    fn default() -> Self {
        Informer::new(None)
    }
}

impl<K: ApiResource> Informer<K> {
    /// An informer of `namespace` (`None`: all namespaces, or a cluster-scoped kind). Empty
    /// until its first [`Informer::sync`].
    pub fn new(namespace: Option<&str>) -> Self {
        Informer {
            namespace: namespace.map(str::to_string),
            cache: BTreeMap::new(),
            resource_version: None,
            watch: None,
            needs_relist: true,
            stats: InformerStats::default(),
        }
    }

    /// The cached object with this key.
    pub fn get(&self, key: &Key) -> Option<&K> {
        self.cache.get(key)
    }

    /// Every cached object, sorted by key.
    pub fn objects(&self) -> impl Iterator<Item = &K> {
        self.cache.values()
    }

    /// Every cached key, sorted.
    pub fn keys(&self) -> impl Iterator<Item = &Key> {
        self.cache.keys()
    }

    /// The cached objects of `namespace`.
    pub fn in_namespace<'a>(&'a self, namespace: &'a str) -> impl Iterator<Item = &'a K> + 'a {
        self.cache
            .iter()
            .filter(move |(key, _)| key.namespace == namespace)
            .map(|(_, object)| object)
    }

    /// How many objects are cached.
    pub fn len(&self) -> usize {
        self.cache.len()
    }

    /// True when the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.cache.is_empty()
    }

    /// True once a list has filled the cache (client-go's `HasSynced`): before that, a
    /// controller must not act on an empty cache as if the cluster were empty.
    pub fn has_synced(&self) -> bool {
        self.resource_version.is_some()
    }

    /// The version the next watch resumes from.
    pub fn resource_version(&self) -> Option<&str> {
        self.resource_version.as_deref()
    }

    /// How many lists and watches this informer made.
    pub fn stats(&self) -> InformerStats {
        self.stats
    }

    // ANCHOR: sync
    /// Brings the cache up to date with what the API has delivered so far, without waiting:
    /// lists if needed (first time, or after 410 Gone), (re)opens the watch, applies every
    /// event already received. Returns the changes, for the event handlers.
    pub async fn sync<C: ApiClient>(&mut self, api: &C) -> ApiResult<Vec<Delta<K>>> {
        let mut deltas = Vec::new();
        for _ in 0..MAX_REOPENS {
            if self.watch.is_none() {
                if self.needs_relist {
                    deltas.extend(self.relist(api).await?);
                }
                let from = self.resource_version.clone().unwrap_or_default();
                match api.watch::<K>(self.namespace.as_deref(), &from).await {
                    Ok(stream) => {
                        self.stats.watches += 1;
                        self.watch = Some(stream);
                    }
                    Err(ApiError::Gone { .. }) => {
                        self.needs_relist = true;
                        continue;
                    }
                    Err(error) => return Err(error),
                }
            }
            self.drain(&mut deltas)?;
            if self.watch.is_some() {
                break;
            }
        }
        Ok(deltas)
    }
    // ANCHOR_END: sync

    /// Waits until the watch delivers at least one event (or ends), then applies everything
    /// ready: the real-time counterpart of [`Informer::sync`] for tokio drivers.
    pub async fn next<C: ApiClient>(&mut self, api: &C) -> ApiResult<Vec<Delta<K>>> {
        if self.watch.is_none() {
            return self.sync(api).await;
        }
        let mut deltas = Vec::new();
        if let Some(stream) = self.watch.as_mut() {
            match stream.next().await {
                Some(event) => self.receive(event, &mut deltas)?,
                None => self.watch = None,
            }
        }
        deltas.extend(self.sync(api).await?);
        Ok(deltas)
    }

    /// Applies one watch event to the cache and returns the change it made.
    pub fn apply(&mut self, event: WatchEvent<K>) -> Option<Delta<K>> {
        let object = event.object;
        if let Some(version) = &object.metadata().resource_version {
            self.resource_version = Some(version.clone());
        }
        let key = Key::of(&object);
        match event.event_type {
            WatchEventType::Added | WatchEventType::Modified => {
                match self.cache.insert(key, object.clone()) {
                    Some(old) => Some(Delta::Updated { old, new: object }),
                    None => Some(Delta::Added(object)),
                }
            }
            WatchEventType::Deleted => self.cache.remove(&key).map(|_| Delta::Deleted(object)),
        }
    }

    /// Applies every event already delivered; ends the watch if the server ended it.
    fn drain(&mut self, deltas: &mut Vec<Delta<K>>) -> ApiResult<()> {
        while let Some(stream) = self.watch.as_mut() {
            match stream.try_next() {
                Some(event) => self.receive(event, deltas)?,
                None => {
                    if stream.is_closed() {
                        self.watch = None;
                    }
                    break;
                }
            }
        }
        Ok(())
    }

    /// Handles one item of the watch stream: an event, or an error that ends the watch.
    fn receive(
        &mut self,
        event: Result<WatchEvent<K>, ApiError>,
        deltas: &mut Vec<Delta<K>>,
    ) -> ApiResult<()> {
        match event {
            Ok(event) => {
                deltas.extend(self.apply(event));
                Ok(())
            }
            Err(ApiError::Gone { .. }) => {
                self.watch = None;
                self.needs_relist = true;
                Ok(())
            }
            Err(error) => {
                self.watch = None;
                Err(error)
            }
        }
    }

    // ANCHOR: relist
    /// Lists everything and replaces the cache, reporting what changed since the cache was
    /// last right: objects added, changed (a different resourceVersion) or gone.
    async fn relist<C: ApiClient>(&mut self, api: &C) -> ApiResult<Vec<Delta<K>>> {
        let list = api
            .list::<K>(self.namespace.as_deref(), &LabelSelector::default())
            .await?;
        self.stats.lists += 1;
        let mut old = std::mem::take(&mut self.cache);
        let mut deltas = Vec::new();
        for object in list.items {
            let key = Key::of(&object);
            match old.remove(&key) {
                None => deltas.push(Delta::Added(object.clone())),
                Some(before)
                    if before.metadata().resource_version != object.metadata().resource_version =>
                {
                    deltas.push(Delta::Updated {
                        old: before,
                        new: object.clone(),
                    });
                }
                Some(_) => {}
            }
            self.cache.insert(key, object);
        }
        deltas.extend(old.into_values().map(Delta::Deleted));
        self.resource_version = Some(list.resource_version);
        self.needs_relist = false;
        Ok(deltas)
    }
    // ANCHOR_END: relist
}
