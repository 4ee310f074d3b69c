//! The simulated network between every component and the API: one [`SimApi`] handle per
//! component, all sharing one [`Net`]. The net can cut a component off (partition), take the
//! API server down (restart), and hold a component's watch events back (slow watcher), all on
//! virtual time. It also keeps the books the invariants need: the history of every revision
//! (an auditor's watch that no fault touches), which node each pod was bound to, and every
//! write a client was told succeeded.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use api::client::{
    ApiClient, ApiError, ApiResource, ApiResult, DeleteOptions, InMemoryApi, ObjectList,
    WatchEvent, WatchEventType, WatchStream,
};
use api::{Deployment, Event, LabelSelector, Lease, Node, Pod, ReplicaSet};
use tokio::sync::mpsc;

/// How many events a watch may buffer before the consumer reads them.
const WATCH_BUFFER: usize = api::client::DEFAULT_HISTORY + 256;

/// One revision as the auditor saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The revision (resourceVersion) of the change.
    pub revision: u64,
    /// The object's namespace (empty for cluster-scoped kinds).
    pub namespace: String,
    /// `namespace/name`.
    pub key: String,
    /// True for a deletion.
    pub deleted: bool,
}

/// Every revision of every audited kind, in order, per plural (`pods`, `nodes`, ...).
pub type History = BTreeMap<&'static str, Vec<Seen>>;

// ANCHOR: state
/// What the net knows and decides, behind one lock.
#[derive(Default)]
struct State {
    /// Virtual time now.
    now: Duration,
    /// The API server is down (restarting) until then.
    api_down_until: Option<Duration>,
    /// Components cut off from the API (by component name, e.g. `node-2`).
    partitioned: BTreeSet<String>,
    /// Components whose watch events arrive late, and by how much.
    slow: BTreeMap<String, Duration>,
    /// Components whose next watch event the net drops (a broken server, for testing the
    /// checker).
    lossy: BTreeSet<String>,
    /// Every open watch of every component.
    pipes: Vec<Box<dyn Pipe>>,
    /// The auditor's own watches, one per audited kind.
    taps: Vec<Box<dyn Tap>>,
    /// What the auditor saw.
    history: History,
    /// (plural, revision) -> key, for the acknowledged-write check.
    revisions: HashMap<(&'static str, u64), String>,
    /// Pod uid -> the node it was first bound to.
    bindings: HashMap<String, String>,
    /// Broken invariants found so far, oldest first.
    violations: Vec<String>,
    /// Writes acknowledged to a client (count).
    acknowledged: usize,
}
// ANCHOR_END: state

/// The shared network: the API's store, the faults in force, the books.
#[derive(Clone)]
pub struct Net {
    api: InMemoryApi,
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Net").finish_non_exhaustive()
    }
}

impl Net {
    /// A net in front of `api`, auditing Pods, Nodes, ReplicaSets, Deployments, Leases and
    /// Events from its first revision. Call before anything is written.
    pub async fn new(api: InMemoryApi) -> ApiResult<Net> {
        let mut taps: Vec<Box<dyn Tap>> = Vec::new();
        taps.push(tap::<Pod>(&api).await?);
        taps.push(tap::<Node>(&api).await?);
        taps.push(tap::<ReplicaSet>(&api).await?);
        taps.push(tap::<Deployment>(&api).await?);
        taps.push(tap::<Lease>(&api).await?);
        taps.push(tap::<Event>(&api).await?);
        let state = State {
            taps,
            ..State::default()
        };
        Ok(Net {
            api,
            state: Arc::new(Mutex::new(state)),
        })
    }

    /// The API behind the net, reached without faults (the user's and the observer's view).
    pub fn raw(&self) -> &InMemoryApi {
        &self.api
    }

    /// A client for the component `owner`, subject to the faults aimed at it.
    pub fn client(&self, owner: &str) -> SimApi {
        SimApi {
            net: self.clone(),
            owner: owner.to_string(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Moves virtual time to `now` and delivers what is due.
    pub fn set_now(&self, now: Duration) {
        let mut state = self.lock();
        state.now = now;
        if state.api_down_until.is_some_and(|until| until <= now) {
            state.api_down_until = None;
        }
        state.pump();
    }

    /// Takes the API server down until `until`: every open watch ends at once (the
    /// components must relist and watch again) and every call fails until then.
    pub fn restart_api(&self, until: Duration) {
        let mut state = self.lock();
        state.pump();
        state.pipes.clear();
        state.api_down_until = Some(until);
    }

    /// Cuts `owner` off from the API (its calls fail, its watches stall) or heals the cut.
    pub fn partition(&self, owner: &str, cut: bool) {
        let mut state = self.lock();
        if cut {
            state.partitioned.insert(owner.to_string());
        } else {
            state.partitioned.remove(owner);
        }
        state.pump();
    }

    /// Delays every watch event to `owner` by `delay` (`None`: on time again).
    pub fn slow(&self, owner: &str, delay: Option<Duration>) {
        let mut state = self.lock();
        match delay {
            Some(delay) => state.slow.insert(owner.to_string(), delay),
            None => state.slow.remove(owner),
        };
        state.pump();
    }

    /// Drops the next watch event on its way to `owner`: a server bug the watch check must
    /// catch (no real server may do this).
    pub fn lose_next_event(&self, owner: &str) {
        self.lock().lossy.insert(owner.to_string());
    }

    /// Ends every watch of `owner` (its process died).
    pub fn disconnect(&self, owner: &str) {
        let mut state = self.lock();
        state.pump();
        state.pipes.retain(|p| p.owner() != owner);
    }

    /// Delivers what is due and returns the violations found since the last call.
    pub fn take_violations(&self) -> Vec<String> {
        let mut state = self.lock();
        state.pump();
        std::mem::take(&mut state.violations)
    }

    /// A copy of the auditor's history.
    pub fn history(&self) -> History {
        let mut state = self.lock();
        state.pump();
        state.history.clone()
    }

    /// How many writes the API acknowledged to a component.
    pub fn acknowledged(&self) -> usize {
        self.lock().acknowledged
    }

    /// Fails the call of `owner` if the API is down or `owner` is cut off.
    fn enter(&self, owner: &str) -> ApiResult<()> {
        let mut state = self.lock();
        state.pump();
        if state.api_down_until.is_some() {
            return Err(unavailable("the API server is restarting"));
        }
        if state.partitioned.contains(owner) {
            return Err(unavailable(&format!(
                "{owner} cannot reach the API server (network partition)"
            )));
        }
        Ok(())
    }

    // ANCHOR: acknowledge
    /// Records a write the API acknowledged: its revision must be in the history, for the
    /// same object. A write the client was told succeeded and that no watcher ever sees is a
    /// lost write.
    fn acknowledge<K: ApiResource>(&self, object: &K) {
        let mut state = self.lock();
        state.pump();
        state.acknowledged += 1;
        if !state.history.contains_key(K::PLURAL) {
            return;
        }
        let key = key_of(object);
        let revision = revision_of(object);
        let problem = match state.revisions.get(&(K::PLURAL, revision)) {
            Some(seen) if *seen == key => return,
            Some(other) => format!("is {other} in the history"),
            None => "is not in the history".to_string(),
        };
        state.violations.push(format!(
            "acknowledged write of {} {key} at revision {revision} {problem}",
            K::PLURAL
        ));
    }
    // ANCHOR_END: acknowledge
}

fn unavailable(message: &str) -> ApiError {
    ApiError::Internal {
        message: format!("simulated fault: {message}"),
    }
}

fn key_of<K: ApiResource>(object: &K) -> String {
    let meta = object.metadata();
    format!(
        "{}/{}",
        meta.namespace.as_deref().unwrap_or(""),
        meta.name.as_deref().unwrap_or("")
    )
}

fn revision_of<K: ApiResource>(object: &K) -> u64 {
    object
        .metadata()
        .resource_version
        .as_deref()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

impl State {
    /// Drains the auditor's watches into the history, then moves every component's watch
    /// events along.
    fn pump(&mut self) {
        let mut taps = std::mem::take(&mut self.taps);
        for tap in &mut taps {
            tap.drain(self);
        }
        self.taps = taps;
        let now = self.now;
        let mut pipes = std::mem::take(&mut self.pipes);
        pipes.retain_mut(|pipe| {
            let owner = pipe.owner().to_string();
            let stalled = self.partitioned.contains(&owner);
            let delay = self.slow.get(&owner).copied().unwrap_or_default();
            let mut lose = self.lossy.contains(&owner);
            let history = &self.history;
            let alive = pipe.pump(
                now,
                delay,
                stalled,
                &mut lose,
                history,
                &mut self.violations,
            );
            if !lose {
                self.lossy.remove(&owner);
            }
            alive
        });
        self.pipes = pipes;
    }
}

/// The auditor's watch of one kind.
trait Tap: Send {
    fn drain(&mut self, state: &mut State);
}

struct TapOf<K> {
    stream: WatchStream<K>,
    lost: bool,
}

async fn tap<K: ApiResource>(api: &InMemoryApi) -> ApiResult<Box<dyn Tap>> {
    let stream = api.watch::<K>(None, "").await?;
    Ok(Box::new(TapOf {
        stream,
        lost: false,
    }))
}

impl<K: ApiResource> Tap for TapOf<K> {
    fn drain(&mut self, state: &mut State) {
        state.history.entry(K::PLURAL).or_default();
        while let Some(event) = self.stream.try_next() {
            let Ok(event) = event else {
                self.lost = true;
                break;
            };
            let object = &event.object;
            let revision = revision_of(object);
            let key = key_of(object);
            state.history.entry(K::PLURAL).or_default().push(Seen {
                revision,
                namespace: object.metadata().namespace.clone().unwrap_or_default(),
                key: key.clone(),
                deleted: event.event_type == WatchEventType::Deleted,
            });
            state.revisions.insert((K::PLURAL, revision), key.clone());
            if K::PLURAL == "pods" {
                bind(state, object, &key);
            }
        }
        if self.stream.is_closed() && !self.lost {
            self.lost = true;
            state
                .violations
                .push(format!("the auditor's watch of {} ended", K::PLURAL));
        }
    }
}

// ANCHOR: bind_check
/// A pod is bound once: the first node it is seen on is its node for life.
fn bind<K: ApiResource>(state: &mut State, object: &K, key: &str) {
    // EXERCISE(cluster-sim-bind-once): read spec.nodeName from the object as JSON; the first non-empty node seen for a uid is recorded, any other node later is a violation naming both
    let Ok(value) = serde_json::to_value(object) else {
        return;
    };
    let Some(node) = value["spec"]["nodeName"].as_str().filter(|n| !n.is_empty()) else {
        return;
    };
    let uid = object.metadata().uid.clone().unwrap_or_default();
    match state.bindings.get(&uid) {
        None => {
            state.bindings.insert(uid, node.to_string());
        }
        Some(first) if first != node => {
            let message =
                format!("pod {key} (uid {uid}) is bound to two nodes: {first} and {node}");
            state.violations.push(message);
        }
        Some(_) => {}
    }
    // END EXERCISE
}
// ANCHOR_END: bind_check

/// One component's watch, type-erased so the net can hold them all.
trait Pipe: Send {
    fn owner(&self) -> &str;
    /// Moves events from the API to the component; false once the watch is over.
    fn pump(
        &mut self,
        now: Duration,
        delay: Duration,
        stalled: bool,
        lose: &mut bool,
        history: &History,
        violations: &mut Vec<String>,
    ) -> bool;
}

struct PipeOf<K> {
    owner: String,
    namespace: Option<String>,
    from_api: WatchStream<K>,
    to_component: mpsc::Sender<ApiResult<WatchEvent<K>>>,
    /// Events taken from the API, with the virtual time they are due at the component.
    held: VecDeque<(Duration, ApiResult<WatchEvent<K>>)>,
    /// Where in the history to look for the next expected revision.
    cursor: usize,
}

impl<K: ApiResource> PipeOf<K> {
    // ANCHOR: watch_check
    /// Checks that `revision` is the next revision of this watch's kind (and namespace) in
    /// the history: every revision once, in order, none skipped.
    fn expect(&mut self, revision: u64, history: &History, violations: &mut Vec<String>) {
        // EXERCISE(cluster-sim-watch-order): from the cursor, find the next history entry of this watch's namespace; it must carry `revision`; move the cursor past it either way
        let Some(seen) = history.get(K::PLURAL) else {
            return;
        };
        let next = seen[self.cursor..].iter().position(|s| {
            self.namespace
                .as_deref()
                .is_none_or(|ns| !K::NAMESPACED || s.namespace == ns)
        });
        match next {
            Some(offset) if seen[self.cursor + offset].revision == revision => {
                self.cursor += offset + 1;
            }
            Some(offset) => {
                let expected = seen[self.cursor + offset].revision;
                violations.push(format!(
                    "watcher {} of {} got revision {revision}, expected {expected}",
                    self.owner,
                    K::PLURAL
                ));
                self.cursor += offset + 1;
            }
            None => violations.push(format!(
                "watcher {} of {} got revision {revision}, which is not in the history",
                self.owner,
                K::PLURAL
            )),
        }
        // END EXERCISE
    }
    // ANCHOR_END: watch_check
}

impl<K: ApiResource> Pipe for PipeOf<K> {
    fn owner(&self) -> &str {
        &self.owner
    }

    fn pump(
        &mut self,
        now: Duration,
        delay: Duration,
        stalled: bool,
        lose: &mut bool,
        history: &History,
        violations: &mut Vec<String>,
    ) -> bool {
        while let Some(event) = self.from_api.try_next() {
            self.held.push_back((now + delay, event));
        }
        let api_ended = self.from_api.is_closed();
        while let Some((due, _)) = self.held.front() {
            if stalled || *due > now {
                break;
            }
            let Some((_, event)) = self.held.pop_front() else {
                break;
            };
            if *lose && event.is_ok() {
                *lose = false;
                continue;
            }
            let revision = event.as_ref().ok().map(|e| revision_of(&e.object));
            match self.to_component.try_send(event) {
                Ok(()) => match revision {
                    Some(revision) => self.expect(revision, history, violations),
                    // An error ends the watch.
                    None => return false,
                },
                // The component went away, or fell too far behind: its watch ends and it
                // relists, as with a real server.
                Err(_) => return false,
            }
        }
        !(self.to_component.is_closed() || (api_ended && self.held.is_empty()))
    }
}

// ANCHOR: sim_api
/// The API as one component sees it: the in-memory API behind the simulated network.
#[derive(Clone, Debug)]
pub struct SimApi {
    net: Net,
    owner: String,
}

impl SimApi {
    /// The component this client belongs to.
    pub fn owner(&self) -> &str {
        &self.owner
    }
}

impl ApiClient for SimApi {
    async fn get<K: ApiResource>(&self, namespace: Option<&str>, name: &str) -> ApiResult<K> {
        self.net.enter(&self.owner)?;
        self.net.api.get(namespace, name).await
    }

    async fn list<K: ApiResource>(
        &self,
        namespace: Option<&str>,
        selector: &LabelSelector,
    ) -> ApiResult<ObjectList<K>> {
        self.net.enter(&self.owner)?;
        self.net.api.list(namespace, selector).await
    }

    async fn create<K: ApiResource>(&self, object: K) -> ApiResult<K> {
        self.net.enter(&self.owner)?;
        let created = self.net.api.create(object).await?;
        self.net.acknowledge(&created);
        Ok(created)
    }

    async fn update<K: ApiResource>(&self, object: K) -> ApiResult<K> {
        self.net.enter(&self.owner)?;
        let updated = self.net.api.update(object).await?;
        self.net.acknowledge(&updated);
        Ok(updated)
    }

    async fn update_status<K: ApiResource>(&self, object: K) -> ApiResult<K> {
        self.net.enter(&self.owner)?;
        let updated = self.net.api.update_status(object).await?;
        self.net.acknowledge(&updated);
        Ok(updated)
    }

    async fn delete<K: ApiResource>(
        &self,
        namespace: Option<&str>,
        name: &str,
        options: DeleteOptions,
    ) -> ApiResult<K> {
        self.net.enter(&self.owner)?;
        let deleted = self.net.api.delete(namespace, name, options).await?;
        // Deliver the change now, as the in-memory API alone would.
        self.net.lock().pump();
        Ok(deleted)
    }

    async fn watch<K: ApiResource>(
        &self,
        namespace: Option<&str>,
        resource_version: &str,
    ) -> ApiResult<WatchStream<K>> {
        self.net.enter(&self.owner)?;
        let from: u64 = match resource_version {
            "" => self.net.api.resource_version().parse().unwrap_or(0),
            text => text.parse().unwrap_or(0),
        };
        let from_api = self.net.api.watch::<K>(namespace, resource_version).await?;
        let (to_component, stream) = mpsc::channel(WATCH_BUFFER);
        let mut state = self.net.lock();
        let cursor = state
            .history
            .get(K::PLURAL)
            .map_or(0, |seen| seen.partition_point(|s| s.revision <= from));
        state.pipes.push(Box::new(PipeOf {
            owner: self.owner.clone(),
            namespace: namespace.map(str::to_string),
            from_api,
            to_component,
            held: VecDeque::new(),
            cursor,
        }));
        state.pump();
        Ok(WatchStream::new(stream))
    }
}
// ANCHOR_END: sim_api
