//! Revision history: every ReplicaSet of a Deployment is one revision of its template, and
//! rolling back means making an old template current again.

use std::fmt;

use api::client::{ApiClient, ApiError};
use api::{Deployment, LabelSelector, ReplicaSet};

use super::hash::without_hash;
use crate::pods::is_controlled_by;

/// The annotation with a ReplicaSet's revision number.
pub const REVISION: &str = "deployment.kubernetes.io/revision";

/// How many old ReplicaSets are kept when `revisionHistoryLimit` is unset.
pub const DEFAULT_HISTORY_LIMIT: i32 = 10;

/// The revision of `rs` (0 when it has none or it is not a number).
pub fn revision_of(rs: &ReplicaSet) -> i64 {
    rs.metadata
        .annotations
        .get(REVISION)
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

// ANCHOR: cleanup
/// The old ReplicaSets to delete so that at most `limit` remain: only those scaled to zero
/// with no pods left, oldest revision first.
pub fn replica_sets_to_clean_up(old: &[ReplicaSet], limit: i32) -> Vec<&ReplicaSet> {
    let limit = limit.max(0) as usize;
    let mut idle: Vec<&ReplicaSet> = old
        .iter()
        .filter(|rs| {
            rs.spec.replicas.unwrap_or(1) == 0
                && rs.status.as_ref().is_none_or(|s| s.replicas == 0)
                && rs.metadata.deletion_timestamp.is_none()
        })
        .collect();
    let excess = old.len().saturating_sub(limit).min(idle.len());
    idle.sort_by_key(|rs| (revision_of(rs), rs.metadata.name.clone()));
    idle.truncate(excess);
    idle
}
// ANCHOR_END: cleanup

/// Why a rollback could not be done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RollbackError {
    /// The Deployment has no ReplicaSet with a revision.
    NoHistory,
    /// No ReplicaSet has the requested revision.
    RevisionNotFound(i64),
    /// The requested revision is the current template already: nothing to do.
    AlreadyCurrent(i64),
    /// Reading or writing through the API failed.
    Api(ApiError),
}

impl fmt::Display for RollbackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RollbackError::NoHistory => f.write_str("no rollout history found for deployment"),
            RollbackError::RevisionNotFound(r) => {
                write!(
                    f,
                    "toRevision: unable to find specified revision {r} in history"
                )
            }
            RollbackError::AlreadyCurrent(r) => write!(
                f,
                "skipped rollback (current template already matches revision {r})"
            ),
            RollbackError::Api(error) => write!(f, "API error: {error}"),
        }
    }
}

impl std::error::Error for RollbackError {}

// ANCHOR: rollback
/// The Deployment with its template set back to revision `to_revision` (0: the revision
/// before the current one), found among `replica_sets` (those it controls). This is what
/// `kubectl rollout undo` does today, on the client: copy the old ReplicaSet's template,
/// minus its pod-template-hash label; the controller then rolls forward to it as to any
/// new template, and that ReplicaSet gets the next revision number.
pub fn rollback(
    deployment: &Deployment,
    replica_sets: &[ReplicaSet],
    to_revision: i64,
) -> Result<Deployment, RollbackError> {
    let mut history: Vec<&ReplicaSet> = replica_sets
        .iter()
        .filter(|rs| is_controlled_by(*rs, deployment) && revision_of(rs) > 0)
        .collect();
    if history.is_empty() {
        return Err(RollbackError::NoHistory);
    }
    history.sort_by_key(|rs| revision_of(rs));
    let target = if to_revision == 0 {
        // The newest revision that is not the current template.
        history
            .iter()
            .rev()
            .find(|rs| without_hash(&rs.spec.template) != deployment.spec.template)
            .ok_or(RollbackError::RevisionNotFound(0))?
    } else {
        history
            .iter()
            .find(|rs| revision_of(rs) == to_revision)
            .ok_or(RollbackError::RevisionNotFound(to_revision))?
    };
    let template = without_hash(&target.spec.template);
    if template == deployment.spec.template {
        return Err(RollbackError::AlreadyCurrent(revision_of(target)));
    }
    let mut rolled_back = deployment.clone();
    rolled_back.spec.template = template;
    Ok(rolled_back)
}
// ANCHOR_END: rollback

/// Rolls the Deployment `name` back to `to_revision` through the API (what a CLI calls):
/// reads it and its ReplicaSets, and writes the old template.
pub async fn undo<C: ApiClient>(
    api: &C,
    namespace: &str,
    name: &str,
    to_revision: i64,
) -> Result<Deployment, RollbackError> {
    let deployment: Deployment = api
        .get(Some(namespace), name)
        .await
        .map_err(RollbackError::Api)?;
    let replica_sets = api
        .list::<ReplicaSet>(Some(namespace), &LabelSelector::default())
        .await
        .map_err(RollbackError::Api)?
        .items;
    let rolled_back = rollback(&deployment, &replica_sets, to_revision)?;
    api.update(rolled_back).await.map_err(RollbackError::Api)
}
