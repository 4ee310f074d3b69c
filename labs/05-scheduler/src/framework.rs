//! The plugin framework: one trait per extension point, and a [`Profile`] that lists the
//! plugins a scheduler runs, in order, with their weights.
//!
//! Kubernetes' scheduling framework has a dozen extension points (QueueSort, PreFilter,
//! Filter, PostFilter, PreScore, Score, Reserve, Permit, PreBind, Bind, PostBind). Skiff keeps
//! the two that decide *where* a pod goes, Filter and Score; the queue's order and the bind
//! are fixed code. A new plugin is one type and one line in [`Profile::default_plugins`].

use crate::cache::NodeInfo;
use crate::plugins::{
    BalancedAllocation, LeastAllocated, NodeAffinity, NodePorts, NodeReady, NodeResourcesFit,
    NodeUnschedulable, OwnerSpread, TaintToleration,
};
use crate::pod_info::PodInfo;

/// The highest score a plugin may give a node, after normalisation (as in Kubernetes).
pub const MAX_NODE_SCORE: i64 = 100;

/// Why a node cannot take a pod: one or more reasons, each in Kubernetes' words
/// (`Insufficient cpu`, `node(s) were unschedulable`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unfit(pub Vec<String>);

impl Unfit {
    /// A single reason.
    pub fn because(reason: impl Into<String>) -> Unfit {
        Unfit(vec![reason.into()])
    }
}

// ANCHOR: plugin_traits
/// The Filter extension point: may this pod run on this node at all?
pub trait FilterPlugin: Send + Sync {
    /// The plugin's name, as in Kubernetes (`NodeResourcesFit`, `TaintToleration`, ...).
    fn name(&self) -> &'static str;

    /// `Ok` if the node fits; otherwise every reason it does not.
    fn filter(&self, pod: &PodInfo, node: &NodeInfo) -> Result<(), Unfit>;
}

/// The Score extension point: among the nodes that fit, how good is this one?
pub trait ScorePlugin: Send + Sync {
    /// The plugin's name.
    fn name(&self) -> &'static str;

    /// A raw score for one node; higher is better.
    fn score(&self, pod: &PodInfo, node: &NodeInfo) -> i64;

    /// Rescales the raw scores of all feasible nodes to `0..=MAX_NODE_SCORE`. The default
    /// leaves them alone, for plugins whose raw score is already in range.
    fn normalize(&self, scores: &mut [i64]) {
        let _ = scores;
    }
}
// ANCHOR_END: plugin_traits

/// A weighted score plugin.
pub struct WeightedScore {
    /// The plugin.
    pub plugin: Box<dyn ScorePlugin>,
    /// What its normalised score is multiplied by before the scores are added.
    pub weight: i64,
}

// ANCHOR: profile
/// The plugins a scheduler runs: filters in order (the first that rejects a node decides its
/// reasons), then weighted scores.
pub struct Profile {
    /// The Filter plugins.
    pub filters: Vec<Box<dyn FilterPlugin>>,
    /// The Score plugins and their weights.
    pub scores: Vec<WeightedScore>,
}

impl Profile {
    /// Kubernetes' default plugins that skiff implements, in Kubernetes' order (which decides
    /// the reason a node failing several filters reports), with Kubernetes' default weights.
    pub fn default_plugins() -> Profile {
        Profile::empty()
            .with_filter(NodeUnschedulable)
            .with_filter(NodeReady)
            .with_filter(TaintToleration)
            .with_filter(NodeAffinity)
            .with_filter(NodePorts)
            .with_filter(NodeResourcesFit)
            .with_score(LeastAllocated, 1)
            .with_score(BalancedAllocation, 1)
            .with_score(TaintToleration, 3)
            .with_score(NodeAffinity, 2)
            .with_score(OwnerSpread, 2)
    }
    // ANCHOR_END: profile

    /// A profile with no plugins: every node fits and scores zero.
    pub fn empty() -> Profile {
        Profile {
            filters: Vec::new(),
            scores: Vec::new(),
        }
    }

    /// Appends a filter.
    pub fn with_filter(mut self, plugin: impl FilterPlugin + 'static) -> Profile {
        self.filters.push(Box::new(plugin));
        self
    }

    /// Appends a score plugin with a weight.
    pub fn with_score(mut self, plugin: impl ScorePlugin + 'static, weight: i64) -> Profile {
        self.scores.push(WeightedScore {
            plugin: Box::new(plugin),
            weight,
        });
        self
    }

    /// Runs the filters in order; the first rejection is the node's answer, as in Kubernetes
    /// (which stops at the first failing plugin unless told to run them all).
    pub fn filter(&self, pod: &PodInfo, node: &NodeInfo) -> Result<(), Unfit> {
        self.filters
            .iter()
            .try_for_each(|plugin| plugin.filter(pod, node))
    }
}

/// Normalises "fewer is better" counts: the node with the most gets 0, a node with none gets
/// `MAX_NODE_SCORE`, the rest in proportion (how Kubernetes normalises taint and spread
/// counts). All zero means all equally good.
pub fn reverse_normalize(scores: &mut [i64]) {
    let max = scores.iter().copied().max().unwrap_or(0);
    for score in scores.iter_mut() {
        *score = if max == 0 {
            MAX_NODE_SCORE
        } else {
            MAX_NODE_SCORE * (max - *score) / max
        };
    }
}

/// Normalises "more is better" sums: the best node gets `MAX_NODE_SCORE`, the rest in
/// proportion; all zero stays zero.
pub fn scale_to_max(scores: &mut [i64]) {
    let max = scores.iter().copied().max().unwrap_or(0);
    if max > 0 {
        for score in scores.iter_mut() {
            *score = MAX_NODE_SCORE * *score / max;
        }
    }
}
