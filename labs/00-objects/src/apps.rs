//! `Deployment` and `ReplicaSet` (`apps/v1`): keep N copies of a Pod template running.

use serde::{Deserialize, Serialize};

use crate::int_or_string::IntOrString;
use crate::meta::{Condition, ObjectMeta, resource};
use crate::pod::PodSpec;
use crate::selector::LabelSelector;

/// The Pod a controller stamps out: metadata (labels!) and a spec, without a status.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct PodTemplateSpec {
    /// Labels must match the owner's selector, or the owner could not find its own Pods.
    pub metadata: ObjectMeta,
    /// The Pods' spec.
    pub spec: PodSpec,
}

/// A Deployment: rolls a ReplicaSet forward to a new template, step by step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Deployment {
    /// Always `apps/v1`.
    pub api_version: String,
    /// Always `Deployment`.
    pub kind: String,
    /// Name and namespace.
    pub metadata: ObjectMeta,
    /// How many Pods, which ones, and how to roll out changes.
    pub spec: DeploymentSpec,
    /// Rollout progress.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<DeploymentStatus>,
}
resource!(Deployment, "apps/v1", "Deployment", namespaced: true, [spec, status]);

/// The desired state of a Deployment.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct DeploymentSpec {
    /// Desired number of Pods (1 when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    /// Which Pods belong to this Deployment; must match the template's labels.
    pub selector: LabelSelector,
    /// The Pod to run.
    pub template: PodTemplateSpec,
    /// `Recreate` or `RollingUpdate` (the default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strategy: Option<DeploymentStrategy>,
    /// Seconds a new Pod must be ready before it counts as available.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_ready_seconds: Option<i32>,
    /// Old ReplicaSets kept for rollback (10 when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision_history_limit: Option<i32>,
    /// Stops rolling out template changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paused: Option<bool>,
    /// Seconds without progress before the rollout is reported as failed (600 when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress_deadline_seconds: Option<i32>,
}

/// How a Deployment replaces old Pods with new ones.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct DeploymentStrategy {
    /// `Recreate` (kill all, then start all) or `RollingUpdate`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub strategy_type: Option<String>,
    /// Bounds for `RollingUpdate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rolling_update: Option<RollingUpdateDeployment>,
}

/// The bounds of a rolling update: a count or a percentage of `replicas`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct RollingUpdateDeployment {
    /// How many Pods may be missing during the update (25% when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_unavailable: Option<IntOrString>,
    /// How many extra Pods may exist during the update (25% when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_surge: Option<IntOrString>,
}

/// The observed state of a Deployment.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct DeploymentStatus {
    /// The `metadata.generation` the controller last acted on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Pods that exist, old and new.
    pub replicas: i32,
    /// Pods that run the current template.
    pub updated_replicas: i32,
    /// Pods passing readiness.
    pub ready_replicas: i32,
    /// Pods ready for at least `minReadySeconds`.
    pub available_replicas: i32,
    /// Pods still needed to reach `replicas` available ones.
    pub unavailable_replicas: i32,
    /// `Available`, `Progressing`, `ReplicaFailure`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// Bumped when ReplicaSet names collide; part of the name hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collision_count: Option<i32>,
}

/// A ReplicaSet: keeps exactly `replicas` Pods matching its selector running.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct ReplicaSet {
    /// Always `apps/v1`.
    pub api_version: String,
    /// Always `ReplicaSet`.
    pub kind: String,
    /// Name, namespace, owner (usually a Deployment).
    pub metadata: ObjectMeta,
    /// How many Pods and which ones.
    pub spec: ReplicaSetSpec,
    /// How many exist.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<ReplicaSetStatus>,
}
resource!(ReplicaSet, "apps/v1", "ReplicaSet", namespaced: true, [spec, status]);

/// The desired state of a ReplicaSet.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct ReplicaSetSpec {
    /// Desired number of Pods (1 when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    /// Seconds a Pod must be ready to count as available.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_ready_seconds: Option<i32>,
    /// Which Pods count; must match the template's labels.
    pub selector: LabelSelector,
    /// The Pod to create when there are too few.
    pub template: PodTemplateSpec,
}

/// The observed state of a ReplicaSet.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct ReplicaSetStatus {
    /// Pods that exist.
    pub replicas: i32,
    /// Pods whose labels match the template's exactly.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fully_labeled_replicas: Option<i32>,
    /// Pods passing readiness.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ready_replicas: Option<i32>,
    /// Pods ready for at least `minReadySeconds`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub available_replicas: Option<i32>,
    /// The `metadata.generation` the controller last acted on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// E.g. `ReplicaFailure`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}
