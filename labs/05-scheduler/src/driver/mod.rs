//! The IO shell: runs the sans-IO [`Scheduler`] against an [`ApiClient`].
//!
//! It lists and watches nodes and pods to keep the [`ClusterCache`] and the queue current,
//! runs scheduling cycles, and carries out their decisions: assume, bind, report. The same
//! driver serves the tests, stepped by hand on an [`api::client::InMemoryApi`] with virtual
//! time ([`SchedulerDriver::run_until_quiet`]), and real mode, where [`SchedulerDriver::run`]
//! waits on the watches and a tokio timer.

mod report;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use api::client::{ApiClient, ApiError, ApiResult, WatchEvent, WatchEventType, WatchStream};
use api::{EventNames, LabelSelector, Node, Pod, PodPhase, PodSpec, Time};

use crate::cache::ClusterCache;
use crate::pod_info::{InvalidPod, PodInfo, PodKey};
use crate::scheduler::{Decision, Outcome, Scheduler};
pub use report::{EventNote, SCHEDULER_NAME, event_about, pod_scheduled, set_condition};

/// How many names one event tries before it is given up (logged) as colliding.
const EVENT_NAME_ATTEMPTS: usize = 4;

/// The longest the real loop sleeps without looking at the queue.
const MAX_IDLE: Duration = Duration::from_secs(1);

/// A scheduler wired to an API.
pub struct SchedulerDriver<C: ApiClient> {
    api: C,
    scheduler: Scheduler,
    cache: ClusterCache,
    nodes: Option<WatchStream<Node>>,
    pods: Option<WatchStream<Pod>>,
    /// The wall-clock time at virtual time zero, for timestamps in events and conditions.
    epoch: Time,
    /// Names events by their time, so that a restarted scheduler does not reuse names.
    event_names: EventNames,
    /// Pods already reported as malformed, with the spec that was reported, so that our own
    /// status write does not trigger the same report again.
    reported_invalid: HashMap<PodKey, PodSpec>,
    /// Malformed pods seen by the watch, waiting to be reported.
    invalid: Vec<(Pod, InvalidPod)>,
}

impl<C: ApiClient> SchedulerDriver<C> {
    /// A driver for `scheduler` on `api`; `epoch` is the time that virtual time zero stands for.
    pub fn new(api: C, scheduler: Scheduler, epoch: Time) -> Self {
        SchedulerDriver {
            api,
            scheduler,
            cache: ClusterCache::new(),
            nodes: None,
            pods: None,
            epoch,
            event_names: EventNames::new(),
            reported_invalid: HashMap::new(),
            invalid: Vec::new(),
        }
    }

    /// The scheduler's view of the cluster.
    pub fn cache(&self) -> &ClusterCache {
        &self.cache
    }

    /// The scheduler (and through it, the queue).
    pub fn scheduler(&mut self) -> &mut Scheduler {
        &mut self.scheduler
    }

    // ANCHOR: sync
    /// Lists nodes and pods, rebuilds the cache and queue from them, and watches from the
    /// versions the lists were read at, so that no change is missed or seen twice.
    pub async fn sync(&mut self, now: Duration) -> ApiResult<()> {
        let everything = LabelSelector::default();
        let nodes = self.api.list::<Node>(None, &everything).await?;
        let pods = self.api.list::<Pod>(None, &everything).await?;
        self.cache = ClusterCache::new();
        for node in nodes.items {
            self.cache.upsert_node(node);
        }
        // After a dropped watch, pods deleted meanwhile must leave the queue too.
        let listed: HashSet<PodKey> = pods.items.iter().map(PodKey::of).collect();
        self.scheduler.queue().retain(&listed);
        for pod in pods.items {
            self.on_pod(WatchEventType::Added, pod, now);
        }
        // Whatever changed while we were not watching came with no event: a pod waiting for a
        // change must be tried against the relisted cluster, not wait out its 5 minutes.
        self.scheduler.queue().on_cluster_change(now);
        self.nodes = Some(self.api.watch(None, &nodes.resource_version).await?);
        self.pods = Some(self.api.watch(None, &pods.resource_version).await?);
        Ok(())
    }
    // ANCHOR_END: sync

    // ANCHOR: step
    /// Applies every watch event already delivered, then runs one scheduling cycle and carries
    /// out its decision. `None` when no pod is ready to be tried at `now`.
    pub async fn step(&mut self, now: Duration) -> ApiResult<Option<Decision>> {
        if self.nodes.is_none() || self.pods.is_none() {
            self.sync(now).await?;
        }
        self.drain_watches(now);
        self.report_invalid_pods(now).await;
        let Some(decision) = self.scheduler.schedule_one(now, &self.cache) else {
            return Ok(None);
        };
        match &decision.outcome {
            Outcome::Bind { node, .. } => self.assume_and_bind(&decision.pod, node, now).await,
            Outcome::Unschedulable { message } => {
                self.scheduler
                    .queue()
                    .park_unschedulable(&decision.pod.key, now);
                self.report_unschedulable(&decision.pod, message, now).await;
            }
        }
        Ok(Some(decision))
    }
    // ANCHOR_END: step

    /// Steps until no pod is ready at `now`; returns the decisions made, in order. Virtual
    /// time stands still meanwhile: pods backing off stay queued for a later `now`.
    pub async fn run_until_quiet(&mut self, now: Duration) -> ApiResult<Vec<Decision>> {
        let mut decisions = Vec::new();
        while let Some(decision) = self.step(now).await? {
            decisions.push(decision);
        }
        // Our own binds come back through the watch: apply them so the cache is confirmed.
        self.drain_watches(now);
        Ok(decisions)
    }

    /// Real mode: schedules forever, sleeping until a watch event arrives or a back-off ends.
    pub async fn run(mut self) -> ApiResult<()> {
        let start = tokio::time::Instant::now();
        loop {
            let now = start.elapsed();
            self.run_until_quiet(now).await?;
            let wake = self.scheduler.queue().next_wake_up();
            let idle = wake.map_or(MAX_IDLE, |at| at.saturating_sub(now).min(MAX_IDLE));
            self.wait_for_change(idle, start).await;
        }
    }

    async fn wait_for_change(&mut self, idle: Duration, start: tokio::time::Instant) {
        let (Some(nodes), Some(pods)) = (self.nodes.as_mut(), self.pods.as_mut()) else {
            return;
        };
        tokio::select! {
            event = nodes.next() => self.on_node_result(event, start.elapsed()),
            event = pods.next() => self.on_pod_result(event, start.elapsed()),
            () = tokio::time::sleep(idle) => {}
        }
    }

    fn drain_watches(&mut self, now: Duration) {
        while let Some(event) = self.nodes.as_mut().and_then(WatchStream::try_next) {
            self.on_node_result(Some(event), now);
        }
        while let Some(event) = self.pods.as_mut().and_then(WatchStream::try_next) {
            self.on_pod_result(Some(event), now);
        }
        // A closed watch means the server dropped us: list and watch again on the next step.
        if self.nodes.as_ref().is_some_and(WatchStream::is_closed)
            || self.pods.as_ref().is_some_and(WatchStream::is_closed)
        {
            self.nodes = None;
            self.pods = None;
        }
    }

    fn on_node_result(&mut self, event: Option<ApiResult<WatchEvent<Node>>>, now: Duration) {
        match event {
            Some(Ok(event)) => self.on_node(event.event_type, event.object, now),
            Some(Err(error)) => {
                tracing::warn!(%error, "node watch failed; will list again");
                self.nodes = None;
            }
            None => self.nodes = None,
        }
    }

    fn on_pod_result(&mut self, event: Option<ApiResult<WatchEvent<Pod>>>, now: Duration) {
        match event {
            Some(Ok(event)) => self.on_pod(event.event_type, event.object, now),
            Some(Err(error)) => {
                tracing::warn!(%error, "pod watch failed; will list again");
                self.pods = None;
            }
            None => self.pods = None,
        }
    }

    // ANCHOR: on_events
    fn on_node(&mut self, event_type: WatchEventType, node: Node, now: Duration) {
        if event_type == WatchEventType::Deleted {
            let name = node.metadata.name.unwrap_or_default();
            self.cache.remove_node(&name);
            return;
        }
        // A new node, or a change to what the filters read, may be what an unschedulable pod
        // was waiting for; a heartbeat is not.
        if self.cache.upsert_node(node) {
            self.scheduler.queue().on_cluster_change(now);
        }
    }

    fn on_pod(&mut self, event_type: WatchEventType, pod: Pod, now: Duration) {
        let key = PodKey::of(&pod);
        let finished = matches!(
            pod.status.as_ref().and_then(|s| s.phase),
            Some(PodPhase::Succeeded | PodPhase::Failed)
        );
        if event_type == WatchEventType::Deleted || finished {
            self.scheduler.queue().remove(&key);
            if self.cache.remove_pod(&key) {
                // Freed resources or ports may let a waiting pod fit.
                self.scheduler.queue().on_cluster_change(now);
            }
        } else if pod.spec.node_name.as_deref().is_some_and(|n| !n.is_empty()) {
            self.scheduler.queue().remove(&key);
            self.cache.add_bound_pod(&pod);
        } else if is_ours(&pod) && pod.metadata.deletion_timestamp.is_none() {
            self.enqueue(pod, now);
        }
    }
    // ANCHOR_END: on_events

    fn enqueue(&mut self, pod: Pod, now: Duration) {
        let key = PodKey::of(&pod);
        if self.cache.is_assumed(&key) {
            return; // an older, unbound version of a pod we are binding right now
        }
        match PodInfo::new(Arc::new(pod.clone())) {
            Ok(info) => {
                self.reported_invalid.remove(&key);
                self.scheduler.queue().add(info, now);
            }
            Err(invalid) => {
                self.scheduler.queue().remove(&key);
                if self.reported_invalid.get(&key) != Some(&pod.spec) {
                    self.reported_invalid.insert(key, pod.spec.clone());
                    self.invalid.push((pod, invalid));
                }
            }
        }
    }

    // ANCHOR: assume_and_bind
    async fn assume_and_bind(&mut self, pod: &PodInfo, node: &str, now: Duration) {
        // Charge the node first: the next cycle must see this pod's resources as taken even
        // though the API (and so the watch) does not know about the binding yet.
        self.cache.assume(pod, node);
        match self.bind(pod, node).await {
            Ok(()) => {
                self.scheduler.queue().done(&pod.key);
                let namespace = pod.pod.metadata.namespace.as_deref().unwrap_or("default");
                let name = pod.pod.metadata.name.as_deref().unwrap_or_default();
                let message = format!("Successfully assigned {namespace}/{name} to {node}");
                let note = EventNote {
                    event_type: "Normal",
                    reason: "Scheduled",
                    action: "Binding",
                    message: &message,
                };
                self.record_event(&pod.pod, note, now).await;
            }
            Err(error) => {
                // The bind did not happen: give the node its room back, retry after back-off.
                tracing::warn!(pod = %pod.key, node, %error, "bind failed");
                self.cache.forget(&pod.key);
                self.scheduler.queue().back_off(&pod.key, now);
                let message = format!("Binding rejected: {error}");
                let note = EventNote {
                    event_type: "Warning",
                    reason: "FailedScheduling",
                    action: "Binding",
                    message: &message,
                };
                self.record_event(&pod.pod, note, now).await;
            }
        }
    }

    /// POSTs a `Binding` to the pod's `binding` subresource: one write, in which the API
    /// server sets `spec.nodeName` and `PodScheduled=True`, and refuses a pod that is already
    /// bound (another scheduler won) or being deleted.
    async fn bind(&self, pod: &PodInfo, node: &str) -> ApiResult<()> {
        let namespace = pod.pod.metadata.namespace.as_deref().unwrap_or("default");
        let name = pod.pod.metadata.name.as_deref().unwrap_or_default();
        self.api.bind(namespace, name, node).await
    }
    // ANCHOR_END: assume_and_bind

    async fn report_unschedulable(&mut self, pod: &PodInfo, message: &str, now: Duration) {
        let mut updated = (*pod.pod).clone();
        set_condition(
            &mut updated,
            pod_scheduled(false, Some(message), self.time(now)),
        );
        if let Err(error) = self.api.update_status(updated).await {
            // A conflict means the pod changed; the watch brings the new version and the
            // next attempt reports again.
            tracing::debug!(pod = %pod.key, %error, "could not set PodScheduled=False");
        }
        let note = EventNote {
            event_type: "Warning",
            reason: "FailedScheduling",
            action: "Scheduling",
            message,
        };
        self.record_event(&pod.pod, note, now).await;
    }

    async fn report_invalid_pods(&mut self, now: Duration) {
        for (pod, invalid) in std::mem::take(&mut self.invalid) {
            let message = invalid.to_string();
            let note = EventNote {
                event_type: "Warning",
                reason: "FailedScheduling",
                action: "Scheduling",
                message: &message,
            };
            self.record_event(&pod, note, now).await;
        }
    }

    // ANCHOR: record_event
    async fn record_event(&mut self, pod: &Pod, note: EventNote<'_>, now: Duration) {
        let pod_name = pod.metadata.name.as_deref().unwrap_or_default();
        let nanos = self.nanos(now);
        let mut event = event_about(
            pod,
            note,
            &self.event_names.next(pod_name, nanos),
            self.time(now),
        );
        for attempt in 1..=EVENT_NAME_ATTEMPTS {
            match self.api.create(event.clone()).await {
                Ok(_) => return,
                Err(ApiError::AlreadyExists { .. }) if attempt < EVENT_NAME_ATTEMPTS => {
                    // A scheduler before a restart named an event at this instant.
                    self.event_names.skip();
                    event.metadata.name = Some(self.event_names.next(pod_name, nanos));
                }
                Err(error) => {
                    tracing::warn!(%error, "could not record event");
                    return;
                }
            }
        }
    }
    // ANCHOR_END: record_event

    /// Nanoseconds since the Unix epoch at virtual time `now`.
    fn nanos(&self, now: Duration) -> u128 {
        let epoch = u128::try_from(self.epoch.unix_seconds()).unwrap_or(0);
        epoch * 1_000_000_000 + now.as_nanos()
    }

    fn time(&self, now: Duration) -> Time {
        let seconds = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
        Time::from_unix_seconds(self.epoch.unix_seconds().saturating_add(seconds))
    }
}

/// True for pods this scheduler is responsible for (`schedulerName` absent or the default).
fn is_ours(pod: &Pod) -> bool {
    pod.spec
        .scheduler_name
        .as_deref()
        .is_none_or(|name| name.is_empty() || name == SCHEDULER_NAME)
}
