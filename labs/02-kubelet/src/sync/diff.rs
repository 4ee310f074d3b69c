//! The first step of every sync: which pods are new, which are gone, which are strays.

use std::collections::BTreeSet;

/// How the pods the kubelet should run compare with the pods it knows and the runtime holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodDiff {
    /// Desired, but not yet known: start a worker for each (sorted).
    pub new: Vec<String>,
    /// Known, but no longer desired: stop each gracefully (sorted).
    pub gone: Vec<String>,
    /// In the runtime, but neither desired nor known (left by an earlier kubelet): remove
    /// each (sorted).
    pub orphans: Vec<String>,
}

// ANCHOR: diff_pods
/// Compares three sets of pod uids: `desired` (from manifests and the API), `known` (pods
/// with a worker) and `in_runtime` (pods with a sandbox or container in the runtime).
pub fn diff_pods(
    desired: &BTreeSet<String>,
    known: &BTreeSet<String>,
    in_runtime: &BTreeSet<String>,
) -> PodDiff {
    // EXERCISE(kubelet-sync-diff): new = desired minus known; gone = known minus desired; orphans = in_runtime minus both desired and known
    PodDiff {
        new: desired.difference(known).cloned().collect(),
        gone: known.difference(desired).cloned().collect(),
        orphans: in_runtime
            .iter()
            .filter(|uid| !desired.contains(*uid) && !known.contains(*uid))
            .cloned()
            .collect(),
    }
    // END EXERCISE
}
// ANCHOR_END: diff_pods
