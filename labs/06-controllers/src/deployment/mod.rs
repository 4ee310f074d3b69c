//! The Deployment controller: one ReplicaSet per template version, rolled forward step by
//! step (RollingUpdate) or all at once (Recreate), with revision history and rollback.

mod hash;
mod history;
mod rolling;
mod status;

use std::time::Duration;

use api::client::{ApiClient, ApiResult, DeleteOptions};
use api::{Deployment, ObjectMeta, Pod, ReplicaSet, ReplicaSetSpec, Resource, Time};

pub use hash::{POD_TEMPLATE_HASH, fnv1a_32, pod_template_hash, without_hash};
pub use history::{
    DEFAULT_HISTORY_LIMIT, REVISION, RollbackError, replica_sets_to_clean_up, revision_of,
    rollback, undo,
};
pub use rolling::{
    DEFAULT_BOUND, fenceposts_of, new_rs_replicas, old_scale_down_budget, resolve_fenceposts,
    scaled_value,
};
pub use status::deployment_status;

use crate::events::Recorder;
use crate::informer_keys::owner_key;
use crate::pods::{self, controller_of, controller_ref, is_controlled_by};
use crate::runtime::{Action, Controller, Informer, Key, ReconcileError};

/// The controller's name, in Events.
pub const NAME: &str = "deployment-controller";

/// The annotation with the Deployment's replicas, on each of its ReplicaSets.
pub const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";

/// The annotation with `replicas + maxSurge`, on each of its ReplicaSets.
pub const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";

// ANCHOR: controller
/// The Deployment controller: informers on Deployments, ReplicaSets and Pods.
#[derive(Debug)]
pub struct DeploymentController {
    deployments: Informer<Deployment>,
    replica_sets: Informer<ReplicaSet>,
    pods: Informer<Pod>,
    recorder: Recorder,
    epoch: Time,
}
// ANCHOR_END: controller

/// A Deployment's ReplicaSets: the one running the current template (if it exists yet) and
/// the others, oldest first.
#[derive(Debug, Clone, Default)]
struct Family {
    new: Option<ReplicaSet>,
    old: Vec<ReplicaSet>,
}

impl Family {
    fn all(&self) -> impl Iterator<Item = &ReplicaSet> {
        self.old.iter().chain(self.new.iter())
    }

    fn spec_replicas(&self) -> i32 {
        self.all().map(|rs| rs.spec.replicas.unwrap_or(1)).sum()
    }

    fn available(&self) -> i32 {
        self.all()
            .map(|rs| {
                rs.status
                    .as_ref()
                    .and_then(|s| s.available_replicas)
                    .unwrap_or(0)
            })
            .sum()
    }
}

impl DeploymentController {
    /// A controller; `epoch` is the wall-clock time `now = 0` stands for.
    pub fn new(epoch: Time) -> Self {
        DeploymentController {
            deployments: Informer::new(None),
            replica_sets: Informer::new(None),
            pods: Informer::new(None),
            recorder: Recorder::new(NAME),
            epoch,
        }
    }

    fn wall(&self, now: Duration) -> Time {
        Time(self.epoch.0 + now.as_secs() as i64)
    }

    /// The Deployment that controls `rs`, by key.
    fn deployment_of_rs(&self, rs: &ReplicaSet) -> Option<Key> {
        owner_key(rs, Deployment::KIND)
    }

    /// Adopts orphan ReplicaSets that match, releases owned ones that stopped matching, and
    /// sorts the rest into the new one and the old ones.
    async fn family<C: ApiClient>(&self, api: &C, d: &Deployment) -> ApiResult<Family> {
        let namespace = d.metadata.namespace.as_deref().unwrap_or("default");
        let mut owned = Vec::new();
        for rs in self.replica_sets.in_namespace(namespace) {
            let matches = d.spec.selector.matches(&rs.metadata.labels);
            if is_controlled_by(rs, d) {
                if matches {
                    owned.push(rs.clone());
                } else {
                    let mut released = rs.clone();
                    let uid = d.metadata.uid.clone().unwrap_or_default();
                    released.metadata.owner_references.retain(|r| r.uid != uid);
                    api.update(released).await?;
                }
            } else if controller_of(rs).is_none()
                && matches
                && d.metadata.deletion_timestamp.is_none()
            {
                let mut adopted = rs.clone();
                adopted.metadata.owner_references.push(controller_ref(d));
                owned.push(api.update(adopted).await?);
            }
        }
        owned.sort_by_key(|rs| {
            (
                rs.metadata.creation_timestamp,
                revision_of(rs),
                rs.metadata.name.clone(),
            )
        });
        let mut family = Family::default();
        for rs in owned {
            if family.new.is_none() && without_hash(&rs.spec.template) == d.spec.template {
                family.new = Some(rs);
            } else {
                family.old.push(rs);
            }
        }
        Ok(family)
    }

    // ANCHOR: new_replica_set
    /// Makes sure the ReplicaSet for the current template exists and carries the newest
    /// revision: creates `<deployment>-<hash>` with 0 replicas, or bumps the revision of an
    /// old one that became current again (a rollback).
    async fn ensure_new<C: ApiClient>(
        &mut self,
        api: &C,
        d: &Deployment,
        family: &mut Family,
        now: Duration,
    ) -> ApiResult<()> {
        let max_old = family.old.iter().map(revision_of).max().unwrap_or(0);
        if let Some(rs) = &family.new {
            if revision_of(rs) <= max_old {
                let mut bumped = rs.clone();
                bumped
                    .metadata
                    .annotations
                    .insert(REVISION.into(), (max_old + 1).to_string());
                family.new = Some(api.update(bumped).await?);
            }
            return Ok(());
        }
        let hash = pod_template_hash(&d.spec.template, None);
        let name = format!("{}-{hash}", d.metadata.name.as_deref().unwrap_or(""));
        let namespace = d.metadata.namespace.as_deref().unwrap_or("default");
        let mut template = d.spec.template.clone();
        template
            .metadata
            .labels
            .insert(POD_TEMPLATE_HASH.into(), hash.clone());
        let mut selector = d.spec.selector.clone();
        selector.match_labels.insert(POD_TEMPLATE_HASH.into(), hash);
        let desired = d.spec.replicas.unwrap_or(1);
        let mut meta = ObjectMeta::namespaced(namespace, &name);
        meta.labels = template.metadata.labels.clone();
        meta.owner_references = vec![controller_ref(d)];
        meta.annotations
            .insert(REVISION.into(), (max_old + 1).to_string());
        meta.annotations
            .insert(DESIRED_REPLICAS.into(), desired.to_string());
        let rs = ReplicaSet {
            metadata: meta,
            spec: ReplicaSetSpec {
                replicas: Some(0),
                min_ready_seconds: d.spec.min_ready_seconds,
                selector,
                template,
            },
            ..ReplicaSet::default()
        };
        let created = api.create(rs).await?;
        let message = format!("Created new replica set {name:?}");
        let time = self.wall(now);
        self.recorder
            .normal(api, d, "ScalingReplicaSet", message, time)
            .await;
        family.new = Some(created);
        Ok(())
    }
    // ANCHOR_END: new_replica_set

    /// Sets `rs.spec.replicas`, with the Deployment's size in its annotations, and says so in
    /// an Event. Returns the stored ReplicaSet.
    async fn scale<C: ApiClient>(
        &mut self,
        api: &C,
        d: &Deployment,
        rs: &ReplicaSet,
        replicas: i32,
        max_surge: i32,
        now: Duration,
    ) -> ApiResult<ReplicaSet> {
        let before = rs.spec.replicas.unwrap_or(1);
        let desired = d.spec.replicas.unwrap_or(1);
        let mut scaled = rs.clone();
        scaled.spec.replicas = Some(replicas);
        let annotations = &mut scaled.metadata.annotations;
        annotations.insert(DESIRED_REPLICAS.into(), desired.to_string());
        annotations.insert(MAX_REPLICAS.into(), (desired + max_surge).to_string());
        let stored = api.update(scaled).await?;
        if before != replicas {
            let direction = if replicas > before { "up" } else { "down" };
            let name = rs.metadata.name.as_deref().unwrap_or("");
            let message =
                format!("Scaled {direction} replica set {name} to {replicas} from {before}");
            let time = self.wall(now);
            self.recorder
                .normal(api, d, "ScalingReplicaSet", message, time)
                .await;
        }
        Ok(stored)
    }

    // ANCHOR: rolling
    /// One step of a rolling update: scale the new ReplicaSet up within the surge; if it
    /// cannot grow, scale old ones down within the unavailability budget. Returns true when
    /// it changed something (the next step waits for the result to be observed).
    async fn rollout_rolling<C: ApiClient>(
        &mut self,
        api: &C,
        d: &Deployment,
        family: &mut Family,
        now: Duration,
    ) -> Result<bool, ReconcileError> {
        let (max_surge, max_unavailable) =
            fenceposts_of(&d.spec).map_err(ReconcileError::Invalid)?;
        let desired = d.spec.replicas.unwrap_or(1);
        let Some(new) = family.new.clone() else {
            return Ok(false);
        };
        // 1. Grow the new ReplicaSet as far as the surge allows (or shrink it to `desired`).
        let current = new.spec.replicas.unwrap_or(1);
        let target = if current > desired {
            desired
        } else {
            new_rs_replicas(desired, max_surge, family.spec_replicas(), current)
        };
        if target != current {
            family.new = Some(self.scale(api, d, &new, target, max_surge, now).await?);
            return Ok(true);
        }
        // 2. Shrink old ReplicaSets, never below `desired - maxUnavailable` available pods.
        if family
            .old
            .iter()
            .all(|rs| rs.spec.replicas.unwrap_or(1) == 0)
        {
            return Ok(false);
        }
        let new_unavailable = current
            - new
                .status
                .as_ref()
                .and_then(|s| s.available_replicas)
                .unwrap_or(0);
        let min_available = desired - max_unavailable;
        // Old pods that are not available cost nothing to remove: they go first.
        let mut budget = family.spec_replicas() - min_available - new_unavailable;
        if budget <= 0 {
            return Ok(false);
        }
        let mut changed = false;
        for i in 0..family.old.len() {
            let rs = family.old[i].clone();
            let replicas = rs.spec.replicas.unwrap_or(1);
            let available = rs
                .status
                .as_ref()
                .and_then(|s| s.available_replicas)
                .unwrap_or(0);
            let unhealthy = (replicas - available).max(0).min(budget);
            if replicas > 0 && unhealthy > 0 {
                budget -= unhealthy;
                family.old[i] = self
                    .scale(api, d, &rs, replicas - unhealthy, max_surge, now)
                    .await?;
                changed = true;
            }
        }
        // Then available old pods, as far as availability above the minimum allows.
        let mut budget = old_scale_down_budget(desired, max_unavailable, family.available());
        for i in 0..family.old.len() {
            let rs = family.old[i].clone();
            let replicas = rs.spec.replicas.unwrap_or(1);
            if budget == 0 || replicas == 0 {
                continue;
            }
            let down = replicas.min(budget);
            budget -= down;
            family.old[i] = self
                .scale(api, d, &rs, replicas - down, max_surge, now)
                .await?;
            changed = true;
        }
        Ok(changed)
    }
    // ANCHOR_END: rolling

    /// Recreate: every old pod goes first, then the new ReplicaSet is scaled up at once.
    async fn rollout_recreate<C: ApiClient>(
        &mut self,
        api: &C,
        d: &Deployment,
        family: &mut Family,
        now: Duration,
    ) -> Result<bool, ReconcileError> {
        let mut changed = false;
        for i in 0..family.old.len() {
            let rs = family.old[i].clone();
            if rs.spec.replicas.unwrap_or(1) != 0 {
                family.old[i] = self.scale(api, d, &rs, 0, 0, now).await?;
                changed = true;
            }
        }
        if changed {
            return Ok(true);
        }
        // Wait until no old pod is left running (or terminating).
        let old_pods_left = self.pods.objects().any(|pod| {
            family
                .old
                .iter()
                .any(|rs| is_controlled_by(pod, rs) && pod_not_finished(pod))
        });
        if old_pods_left {
            return Ok(false);
        }
        let desired = d.spec.replicas.unwrap_or(1);
        if let Some(new) = family.new.clone()
            && new.spec.replicas.unwrap_or(1) != desired
        {
            family.new = Some(self.scale(api, d, &new, desired, 0, now).await?);
            return Ok(true);
        }
        Ok(false)
    }

    /// Deletes old ReplicaSets beyond `revisionHistoryLimit`.
    async fn clean_up<C: ApiClient>(
        &self,
        api: &C,
        d: &Deployment,
        family: &Family,
    ) -> ApiResult<()> {
        let limit = d
            .spec
            .revision_history_limit
            .unwrap_or(DEFAULT_HISTORY_LIMIT);
        for rs in replica_sets_to_clean_up(&family.old, limit) {
            let key = Key::of(rs);
            let result = api
                .delete::<ReplicaSet>(key.namespace(), &key.name, DeleteOptions::default())
                .await;
            if let Err(error) = result
                && !error.is_not_found()
            {
                return Err(error);
            }
        }
        Ok(())
    }

    /// Scales the new ReplicaSet (only) to `replicas` while paused: a paused Deployment
    /// still follows scaling, it only stops rolling out templates.
    async fn sync_paused<C: ApiClient>(
        &mut self,
        api: &C,
        d: &Deployment,
        family: &mut Family,
        now: Duration,
    ) -> ApiResult<()> {
        let desired = d.spec.replicas.unwrap_or(1);
        let target = family.new.clone().or_else(|| family.old.last().cloned());
        if let Some(rs) = target
            && rs.spec.replicas.unwrap_or(1) != desired
            && family
                .all()
                .filter(|r| r.spec.replicas.unwrap_or(1) > 0)
                .count()
                <= 1
        {
            let scaled = self.scale(api, d, &rs, desired, 0, now).await?;
            if family.new.is_some() {
                family.new = Some(scaled);
            }
        }
        Ok(())
    }
}

/// True while a pod exists and has not finished: running, pending or still terminating.
fn pod_not_finished(pod: &Pod) -> bool {
    pods::is_active(pod) || pod.metadata.deletion_timestamp.is_some()
}

impl<C: ApiClient> Controller<C> for DeploymentController {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn observe(&mut self, api: &C, _now: Duration) -> ApiResult<Vec<Key>> {
        let mut keys = Vec::new();
        for delta in self.deployments.sync(api).await? {
            keys.push(Key::of(delta.object()));
        }
        for delta in self.replica_sets.sync(api).await? {
            let rs = delta.object();
            match self.deployment_of_rs(rs) {
                Some(key) => keys.push(key),
                None if controller_of(rs).is_none() => {
                    let matching = self.deployments.objects().filter(|d| {
                        d.metadata.namespace == rs.metadata.namespace
                            && d.spec.selector.matches(&rs.metadata.labels)
                    });
                    keys.extend(matching.map(Key::of));
                }
                None => {}
            }
        }
        // Pods matter for Recreate only (it waits for old pods to be gone): a pod maps to
        // its ReplicaSet, and that to its Deployment.
        for delta in self.pods.sync(api).await? {
            let owner = owner_key(delta.object(), ReplicaSet::KIND)
                .and_then(|rs_key| self.replica_sets.get(&rs_key))
                .and_then(|rs| self.deployment_of_rs(rs));
            keys.extend(owner);
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
        let Some(d) = self.deployments.get(key).cloned() else {
            return Ok(Action::Done);
        };
        let mut family = self.family(api, &d).await?;
        let strategy = d
            .spec
            .strategy
            .as_ref()
            .and_then(|s| s.strategy_type.as_deref());
        let paused = d.spec.paused == Some(true);
        if d.metadata.deletion_timestamp.is_some() {
            // Nothing to roll: the garbage collector removes what it owned.
        } else if paused {
            self.sync_paused(api, &d, &mut family, now).await?;
        } else {
            self.ensure_new(api, &d, &mut family, now).await?;
            let changed = match strategy {
                Some("Recreate") => self.rollout_recreate(api, &d, &mut family, now).await?,
                None | Some("RollingUpdate") => {
                    self.rollout_rolling(api, &d, &mut family, now).await?
                }
                Some(other) => {
                    return Err(ReconcileError::Invalid(format!(
                        "deployment {key}: spec.strategy.type: {other:?} must be \"Recreate\" or \"RollingUpdate\""
                    )));
                }
            };
            if !changed {
                self.clean_up(api, &d, &family).await?;
            }
        }
        let all: Vec<ReplicaSet> = family.all().cloned().collect();
        let status = deployment_status(&d, family.new.as_ref(), &all, self.wall(now))
            .map_err(ReconcileError::Invalid)?;
        if d.status.as_ref() != Some(&status) {
            let mut updated = d.clone();
            updated.status = Some(status);
            api.update_status(updated).await?;
        }
        Ok(Action::Done)
    }
    // ANCHOR_END: reconcile

    fn resync_keys(&self) -> Vec<Key> {
        self.deployments.keys().cloned().collect()
    }
}
