//! `TaintToleration`: taints repel pods, tolerations let chosen pods through.

use api::{Taint, Toleration};

use crate::cache::NodeInfo;
use crate::framework::{FilterPlugin, ScorePlugin, Unfit, reverse_normalize};
use crate::pod_info::PodInfo;

/// Filters out nodes with a `NoSchedule` or `NoExecute` taint the pod does not tolerate, and
/// scores down nodes with untolerated `PreferNoSchedule` taints (a soft taint: avoided, not
/// forbidden).
#[derive(Debug, Clone, Copy, Default)]
pub struct TaintToleration;

// ANCHOR: tolerates
/// True if `toleration` tolerates `taint`: the effects match (an empty effect matches every
/// effect) and either the operator is `Exists` and the keys match (an empty key matches every
/// key), or the operator is `Equal` (the default) with the same key and the same value (a
/// missing value is the empty string).
pub fn tolerates(toleration: &Toleration, taint: &Taint) -> bool {
    // EXERCISE(scheduler-taints): check the effect first (empty matches all); Exists ignores the value and an empty key matches every key; Equal (the default) needs key and value equal
    let effect_matches = toleration
        .effect
        .as_deref()
        .is_none_or(|effect| effect.is_empty() || effect == taint.effect);
    if !effect_matches {
        return false;
    }
    let key = toleration.key.as_deref().unwrap_or_default();
    match toleration.operator.as_deref().unwrap_or("Equal") {
        "Exists" => key.is_empty() || key == taint.key,
        "Equal" => {
            key == taint.key
                && toleration.value.as_deref().unwrap_or_default()
                    == taint.value.as_deref().unwrap_or_default()
        }
        _ => false,
    }
    // END EXERCISE
}
// ANCHOR_END: tolerates

/// The first taint with one of `effects` that no toleration of the pod tolerates.
fn first_untolerated<'a>(pod: &PodInfo, node: &'a NodeInfo, effects: &[&str]) -> Option<&'a Taint> {
    if !node.tainted {
        return None;
    }
    node.node
        .spec
        .taints
        .iter()
        .filter(|taint| effects.contains(&taint.effect.as_str()))
        .find(|taint| !pod.pod.spec.tolerations.iter().any(|t| tolerates(t, taint)))
}

impl FilterPlugin for TaintToleration {
    fn name(&self) -> &'static str {
        "TaintToleration"
    }

    fn filter(&self, pod: &PodInfo, node: &NodeInfo) -> Result<(), Unfit> {
        match first_untolerated(pod, node, &["NoSchedule", "NoExecute"]) {
            None => Ok(()),
            Some(taint) => Err(Unfit::because(format!(
                "node(s) had untolerated taint {{{}: {}}}",
                taint.key,
                taint.value.as_deref().unwrap_or_default()
            ))),
        }
    }
}

impl ScorePlugin for TaintToleration {
    fn name(&self) -> &'static str {
        "TaintToleration"
    }

    /// How many `PreferNoSchedule` taints the pod does not tolerate (fewer is better).
    fn score(&self, pod: &PodInfo, node: &NodeInfo) -> i64 {
        if !node.tainted {
            return 0;
        }
        let untolerated = node
            .node
            .spec
            .taints
            .iter()
            .filter(|taint| taint.effect == "PreferNoSchedule")
            .filter(|taint| !pod.pod.spec.tolerations.iter().any(|t| tolerates(t, taint)))
            .count();
        untolerated as i64
    }

    fn normalize(&self, scores: &mut [i64]) {
        reverse_normalize(scores);
    }
}
