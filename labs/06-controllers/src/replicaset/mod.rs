//! The ReplicaSet controller: keeps exactly `spec.replicas` pods matching a selector.

mod diff;
mod expectations;

use std::time::Duration;

use api::client::{ApiClient, ApiResult, DeleteOptions};
use api::{ObjectMeta, Pod, ReplicaSet, ReplicaSetStatus, Resource, Time};

pub use diff::{BURST_REPLICAS, ReplicaChange, deletion_order, pods_to_delete, replica_change};
pub use expectations::{EXPECTATIONS_TIMEOUT, Expectations};

use crate::events::Recorder;
use crate::informer_keys::owner_key;
use crate::pods::{self, controller_of, controller_ref, is_controlled_by};
use crate::rng::NameRng;
use crate::runtime::{Action, Controller, Delta, Informer, Key, ReconcileError};

/// The controller's name, in Events.
pub const NAME: &str = "replicaset-controller";

// ANCHOR: controller
/// The ReplicaSet controller: informers on ReplicaSets and Pods, expectations, and a seeded
/// generator for pod names.
#[derive(Debug)]
pub struct ReplicaSetController {
    replica_sets: Informer<ReplicaSet>,
    pods: Informer<Pod>,
    expectations: Expectations,
    names: NameRng,
    recorder: Recorder,
    /// The wall-clock time virtual time zero stands for (for pod availability).
    epoch: Time,
}
// ANCHOR_END: controller

impl ReplicaSetController {
    /// A controller whose pod names come from `seed`; `epoch` is the time `now = 0` stands for.
    pub fn new(seed: u64, epoch: Time) -> Self {
        ReplicaSetController {
            replica_sets: Informer::new(None),
            pods: Informer::new(None),
            expectations: Expectations::new(),
            names: NameRng::new(seed),
            recorder: Recorder::new(NAME),
            epoch,
        }
    }

    /// The expectations (tests look at what is still pending).
    pub fn expectations(&self) -> &Expectations {
        &self.expectations
    }

    /// The cached pods.
    pub fn pods(&self) -> &Informer<Pod> {
        &self.pods
    }

    /// The cached ReplicaSets.
    pub fn replica_sets(&self) -> &Informer<ReplicaSet> {
        &self.replica_sets
    }

    // ANCHOR: pod_handler
    /// The pod event handler: a pod maps to its controlling ReplicaSet (and lowers that
    /// one's expectations), an orphan to every ReplicaSet whose selector matches it.
    fn pod_keys(&mut self, delta: &Delta<Pod>, keys: &mut Vec<Key>) {
        let pod = delta.object();
        let pod_key = Key::of(pod);
        if let Delta::Updated { old, .. } = delta
            && let Some(old_owner) = owner_key(old, ReplicaSet::KIND)
            && owner_key(pod, ReplicaSet::KIND).as_ref() != Some(&old_owner)
        {
            // Released (or re-owned): the old owner must count again.
            keys.push(old_owner);
        }
        match owner_key(pod, ReplicaSet::KIND) {
            Some(owner) => {
                match delta {
                    Delta::Added(p) if p.metadata.deletion_timestamp.is_none() => {
                        self.expectations.creation_observed(&owner)
                    }
                    Delta::Updated { old, new }
                        if old.metadata.deletion_timestamp.is_none()
                            && new.metadata.deletion_timestamp.is_some() =>
                    {
                        self.expectations.deletion_observed(&owner, &pod_key)
                    }
                    Delta::Deleted(_) => self.expectations.deletion_observed(&owner, &pod_key),
                    _ => {}
                }
                keys.push(owner);
            }
            None if controller_of(pod).is_none() => {
                let matching = self.replica_sets.objects().filter(|rs| {
                    rs.metadata.namespace == pod.metadata.namespace
                        && !rs.spec.selector.is_empty()
                        && rs.spec.selector.matches(&pod.metadata.labels)
                });
                keys.extend(matching.map(Key::of));
            }
            None => {}
        }
    }
    // ANCHOR_END: pod_handler

    /// Adopts orphans that match, releases owned pods that no longer match; returns the pods
    /// this ReplicaSet owns afterwards (Kubernetes' `ClaimPods`).
    async fn claim_pods<C: ApiClient>(&self, api: &C, rs: &ReplicaSet) -> ApiResult<Vec<Pod>> {
        let namespace = rs.metadata.namespace.as_deref().unwrap_or("default");
        let selector = &rs.spec.selector;
        let mut owned = Vec::new();
        for pod in self.pods.in_namespace(namespace) {
            let matches = selector.matches(&pod.metadata.labels);
            if is_controlled_by(pod, rs) {
                if matches || rs.metadata.deletion_timestamp.is_some() {
                    owned.push(pod.clone());
                } else {
                    let mut released = pod.clone();
                    released
                        .metadata
                        .owner_references
                        .retain(|r| r.uid != rs.metadata.uid.clone().unwrap_or_default());
                    ignore_gone(api.update(released).await)?;
                }
            } else if controller_of(pod).is_none()
                && matches
                && rs.metadata.deletion_timestamp.is_none()
                && pod.metadata.deletion_timestamp.is_none()
            {
                let mut adopted = pod.clone();
                adopted.metadata.owner_references.push(controller_ref(rs));
                if let Some(pod) = ignore_gone(api.update(adopted).await)? {
                    owned.push(pod);
                }
            }
        }
        Ok(owned)
    }

    // ANCHOR: manage
    /// Creates or deletes pods so that `active` reaches `spec.replicas`, recording
    /// expectations first so that the next syncs wait for these writes to be observed.
    async fn manage_replicas<C: ApiClient>(
        &mut self,
        api: &C,
        key: &Key,
        rs: &ReplicaSet,
        active: &[Pod],
        now: Duration,
    ) -> Result<(), ReconcileError> {
        let desired = rs.spec.replicas.unwrap_or(1);
        match replica_change(desired, active.len(), BURST_REPLICAS) {
            ReplicaChange::None => Ok(()),
            ReplicaChange::Create(count) => {
                self.expectations.expect_creations(key, count, now);
                let mut first_error = None;
                for _ in 0..count {
                    let pod = self.new_pod(rs);
                    let name = pod.metadata.name.clone().unwrap_or_default();
                    match api.create(pod).await {
                        Ok(_) => {
                            let message = format!("Created pod: {name}");
                            let time = self.wall(now);
                            self.recorder
                                .normal(api, rs, "SuccessfulCreate", message, time)
                                .await;
                        }
                        Err(error) => {
                            // This creation will never be observed.
                            self.expectations.creation_observed(key);
                            first_error.get_or_insert(error);
                        }
                    }
                }
                first_error.map_or(Ok(()), |e| Err(e.into()))
            }
            ReplicaChange::Delete(count) => {
                let doomed: Vec<Pod> = pods_to_delete(active, count).into_iter().cloned().collect();
                self.expectations
                    .expect_deletions(key, doomed.iter().map(Key::of), now);
                let mut first_error = None;
                for pod in &doomed {
                    let pod_key = Key::of(pod);
                    let result = api
                        .delete::<Pod>(pod_key.namespace(), &pod_key.name, DeleteOptions::default())
                        .await;
                    match result {
                        Ok(_) => {
                            let message = format!("Deleted pod: {}", pod_key.name);
                            let time = self.wall(now);
                            self.recorder
                                .normal(api, rs, "SuccessfulDelete", message, time)
                                .await;
                        }
                        Err(error) => {
                            self.expectations.deletion_observed(key, &pod_key);
                            if !error.is_not_found() {
                                first_error.get_or_insert(error);
                            }
                        }
                    }
                }
                first_error.map_or(Ok(()), |e| Err(e.into()))
            }
        }
    }
    // ANCHOR_END: manage

    /// A pod from the ReplicaSet's template: `<rs-name>-<5 random characters>`, owned by it.
    fn new_pod(&mut self, rs: &ReplicaSet) -> Pod {
        let template = &rs.spec.template;
        let rs_name = rs.metadata.name.clone().unwrap_or_default();
        let name = format!("{rs_name}-{}", self.names.suffix());
        let namespace = rs.metadata.namespace.as_deref().unwrap_or("default");
        Pod {
            metadata: ObjectMeta {
                labels: template.metadata.labels.clone(),
                annotations: template.metadata.annotations.clone(),
                owner_references: vec![controller_ref(rs)],
                ..ObjectMeta::namespaced(namespace, &name)
            },
            spec: template.spec.clone(),
            ..Pod::default()
        }
    }

    fn wall(&self, now: Duration) -> Time {
        Time(self.epoch.0 + now.as_secs() as i64)
    }
}

// ANCHOR: status
/// The status a ReplicaSet reports for the pods it owns, at wall-clock `now`.
pub fn replica_set_status(rs: &ReplicaSet, owned_active: &[Pod], now: Time) -> ReplicaSetStatus {
    let template_labels = &rs.spec.template.metadata.labels;
    let count = |f: &dyn Fn(&Pod) -> bool| owned_active.iter().filter(|p| f(p)).count() as i32;
    let min_ready = rs.spec.min_ready_seconds.unwrap_or(0);
    ReplicaSetStatus {
        replicas: owned_active.len() as i32,
        fully_labeled_replicas: Some(count(&|p| {
            template_labels
                .iter()
                .all(|(k, v)| p.metadata.labels.get(k) == Some(v))
        })),
        ready_replicas: Some(count(&pods::is_ready)),
        available_replicas: Some(count(&|p| pods::is_available(p, min_ready, now))),
        observed_generation: rs.metadata.generation,
        conditions: rs
            .status
            .as_ref()
            .map(|s| s.conditions.clone())
            .unwrap_or_default(),
    }
}
// ANCHOR_END: status

impl<C: ApiClient> Controller<C> for ReplicaSetController {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn observe(&mut self, api: &C, _now: Duration) -> ApiResult<Vec<Key>> {
        let mut keys = Vec::new();
        for delta in self.replica_sets.sync(api).await? {
            keys.push(Key::of(delta.object()));
        }
        for delta in self.pods.sync(api).await? {
            self.pod_keys(&delta, &mut keys);
        }
        Ok(keys)
    }

    // ANCHOR: reconcile
    async fn reconcile(
        &mut self,
        api: &C,
        key: &Key,
        now: Duration,
    ) -> Result<Action, ReconcileError> {
        let Some(rs) = self.replica_sets.get(key).cloned() else {
            self.expectations.forget(key);
            return Ok(Action::Done);
        };
        // An empty selector would claim every pod; the API refuses one at validation.
        // Decide before claiming: our own adoptions must not count as unseen changes.
        let needs_sync = self.expectations.satisfied(key, now);
        let owned = self.claim_pods(api, &rs).await?;
        let active: Vec<Pod> = owned.into_iter().filter(pods::is_active).collect();
        if needs_sync && rs.metadata.deletion_timestamp.is_none() {
            self.manage_replicas(api, key, &rs, &active, now).await?;
        }
        let status = replica_set_status(&rs, &active, self.wall(now));
        if rs.status.as_ref() != Some(&status) {
            let mut updated = rs.clone();
            updated.status = Some(status.clone());
            ignore_gone(api.update_status(updated).await)?;
        }
        // Availability changes with time alone: look again when the next pod would qualify.
        let min_ready = rs.spec.min_ready_seconds.unwrap_or(0);
        let waiting = status.ready_replicas != status.available_replicas;
        if min_ready > 0 && waiting {
            return Ok(Action::RequeueAfter(Duration::from_secs(min_ready as u64)));
        }
        Ok(Action::Done)
    }
    // ANCHOR_END: reconcile

    fn resync_keys(&self) -> Vec<Key> {
        self.replica_sets.keys().cloned().collect()
    }
}

/// `Ok(None)` for NotFound: the object went away meanwhile, which is not a failure.
fn ignore_gone<T>(result: ApiResult<T>) -> ApiResult<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(error) if error.is_not_found() => Ok(None),
        Err(error) => Err(error),
    }
}
