//! Why a pod fits nowhere, in the words `kubectl describe pod` shows.

use std::collections::BTreeMap;

use crate::framework::Unfit;

// ANCHOR: explain
/// Kubernetes' message for a pod no node can take: how many nodes were considered, then each
/// reason with the number of nodes that gave it, as `"<count> <reason>"` strings sorted
/// alphabetically (Kubernetes sorts the whole string) and joined by `", "`:
///
/// `0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector.`
///
/// A node that gives two reasons (too little cpu *and* memory) counts once under each. With no
/// nodes at all the message is `no nodes available to schedule pods`.
pub fn explain(total_nodes: usize, rejections: &[Unfit]) -> String {
    // EXERCISE(scheduler-explain): count nodes per reason, format each as "<count> <reason>", sort those strings, join with ", " after "0/<n> nodes are available: " and end with "."
    if total_nodes == 0 {
        return "no nodes available to schedule pods".to_string();
    }
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for reason in rejections.iter().flat_map(|unfit| &unfit.0) {
        *counts.entry(reason.as_str()).or_default() += 1;
    }
    let mut parts: Vec<String> = counts
        .iter()
        .map(|(reason, count)| format!("{count} {reason}"))
        .collect();
    parts.sort();
    format!("0/{total_nodes} nodes are available: {}.", parts.join(", "))
    // END EXERCISE
}
// ANCHOR_END: explain
