//! `OwnerSpread`: do not put all the replicas of a ReplicaSet on one node.

use crate::cache::NodeInfo;
use crate::framework::{ScorePlugin, reverse_normalize};
use crate::pod_info::PodInfo;

/// Prefers nodes running fewer pods of the same controller (by the controller owner
/// reference's uid), so that losing one node loses as few replicas as possible. The node with
/// the most scores 0, nodes with none score 100.
///
/// This is Kubernetes' former `SelectorSpread` plugin, simplified; today's default,
/// `PodTopologySpread`, spreads over any topology (zones, racks) by label selector.
#[derive(Debug, Clone, Copy, Default)]
pub struct OwnerSpread;

impl ScorePlugin for OwnerSpread {
    fn name(&self) -> &'static str {
        "OwnerSpread"
    }

    fn score(&self, pod: &PodInfo, node: &NodeInfo) -> i64 {
        pod.owner_uid
            .as_ref()
            .map_or(0, |uid| i64::from(node.owner_count_of(uid)))
    }

    fn normalize(&self, scores: &mut [i64]) {
        reverse_normalize(scores);
    }
}
