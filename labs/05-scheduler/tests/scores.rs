//! Graded: `scheduler-least-allocated`; also the other score plugins and normalisation.

mod common;

use common::{cache_of, info, node, owned_by, pod, tainted, toleration};
use scheduler::ScorePlugin;
use scheduler::framework::{reverse_normalize, scale_to_max};
use scheduler::plugins::{BalancedAllocation, LeastAllocated, OwnerSpread, TaintToleration};

#[test]
fn an_empty_node_scores_what_the_pod_leaves_free() {
    let cache = cache_of(vec![node("n1", "4", "8Gi")]);
    // After the pod: cpu 3/4 free (75), memory 6/8 free (75).
    let score = LeastAllocated.score(&info(pod("p", "1", "2Gi")), &cache.nodes()[0]);
    assert_eq!(score, 75);
}

#[test]
fn least_allocated_averages_cpu_and_memory() {
    let cache = cache_of(vec![node("n1", "4", "8Gi")]);
    // cpu: (4000 - 1000) * 100 / 4000 = 75; memory: (8 - 6) * 100 / 8 = 25; average 50.
    let score = LeastAllocated.score(&info(pod("p", "1", "6Gi")), &cache.nodes()[0]);
    assert_eq!(score, 50);
}

#[test]
fn least_allocated_counts_pods_already_there() {
    let mut cache = cache_of(vec![node("busy", "4", "8Gi"), node("idle", "4", "8Gi")]);
    cache.assume(&info(pod("old", "2", "4Gi")), "busy");
    let p = info(pod("p", "1", "2Gi"));
    let busy = LeastAllocated.score(&p, cache.node("busy").unwrap());
    let idle = LeastAllocated.score(&p, cache.node("idle").unwrap());
    assert_eq!((busy, idle), (25, 75));
}

#[test]
fn a_node_without_room_or_without_the_resource_scores_zero() {
    let cache = cache_of(vec![node("n1", "1", "1Gi"), node("none", "0", "0")]);
    let p = info(pod("p", "2", "2Gi"));
    assert_eq!(LeastAllocated.score(&p, cache.node("n1").unwrap()), 0);
    assert_eq!(LeastAllocated.score(&p, cache.node("none").unwrap()), 0);
}

#[test]
fn balanced_allocation_prefers_cpu_and_memory_in_step() {
    let cache = cache_of(vec![node("n1", "4", "8Gi")]);
    let even = BalancedAllocation.score(&info(pod("even", "2", "4Gi")), &cache.nodes()[0]);
    let skewed = BalancedAllocation.score(&info(pod("skewed", "4", "0")), &cache.nodes()[0]);
    // Half and half: deviation 0. All cpu, no memory: deviation 0.5.
    assert_eq!((even, skewed), (100, 50));
}

#[test]
fn spreading_counts_pods_of_the_same_controller() {
    let mut cache = cache_of(vec![node("a", "4", "8Gi"), node("b", "4", "8Gi")]);
    cache.assume(&info(owned_by(pod("rs-1", "", ""), "rs-uid")), "a");
    cache.assume(&info(owned_by(pod("other", "", ""), "other-uid")), "b");
    let p = info(owned_by(pod("rs-2", "", ""), "rs-uid"));
    let mut scores: Vec<i64> = cache
        .nodes()
        .iter()
        .map(|n| OwnerSpread.score(&p, n))
        .collect();
    assert_eq!(scores, [1, 0]);
    OwnerSpread.normalize(&mut scores);
    assert_eq!(scores, [0, 100]);
}

#[test]
fn prefer_no_schedule_taints_score_lower_unless_tolerated() {
    let cache = cache_of(vec![
        tainted(node("soft", "4", "8Gi"), "spot", "", "PreferNoSchedule"),
        node("plain", "4", "8Gi"),
    ]);
    let p = info(pod("p", "", ""));
    let mut scores: Vec<i64> = cache
        .nodes()
        .iter()
        .map(|n| TaintToleration.score(&p, n))
        .collect();
    TaintToleration.normalize(&mut scores);
    assert_eq!(scores, [0, 100]);
    let mut tolerant = pod("t", "", "");
    tolerant
        .spec
        .tolerations
        .push(toleration("spot", "Exists", "", "PreferNoSchedule"));
    let t = info(tolerant);
    let raw: Vec<i64> = cache
        .nodes()
        .iter()
        .map(|n| TaintToleration.score(&t, n))
        .collect();
    assert_eq!(raw, [0, 0]);
}

#[test]
fn normalisation_helpers() {
    let mut fewer_is_better = [0, 2, 4];
    reverse_normalize(&mut fewer_is_better);
    assert_eq!(fewer_is_better, [100, 50, 0]);
    let mut all_zero = [0, 0];
    reverse_normalize(&mut all_zero);
    assert_eq!(all_zero, [100, 100]);
    let mut more_is_better = [10, 40, 0];
    scale_to_max(&mut more_is_better);
    assert_eq!(more_is_better, [25, 100, 0]);
}
