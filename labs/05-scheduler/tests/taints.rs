//! Graded: `scheduler-taints`.

mod common;

use common::{cache_of, info, node, pod, taint, tainted, toleration};
use scheduler::FilterPlugin;
use scheduler::plugins::TaintToleration;
use scheduler::plugins::taints::tolerates;

#[test]
fn equal_needs_the_same_key_and_value() {
    let gpu = taint("dedicated", "gpu", "NoSchedule");
    assert!(tolerates(
        &toleration("dedicated", "Equal", "gpu", "NoSchedule"),
        &gpu
    ));
    assert!(!tolerates(
        &toleration("dedicated", "Equal", "db", "NoSchedule"),
        &gpu
    ));
    assert!(!tolerates(
        &toleration("other", "Equal", "gpu", "NoSchedule"),
        &gpu
    ));
}

#[test]
fn equal_is_the_default_operator() {
    let gpu = taint("dedicated", "gpu", "NoSchedule");
    assert!(tolerates(&toleration("dedicated", "", "gpu", ""), &gpu));
    assert!(!tolerates(&toleration("dedicated", "", "", ""), &gpu));
}

#[test]
fn exists_ignores_the_value_and_an_empty_key_matches_every_taint() {
    let gpu = taint("dedicated", "gpu", "NoExecute");
    assert!(tolerates(&toleration("dedicated", "Exists", "", ""), &gpu));
    assert!(tolerates(&toleration("", "Exists", "", ""), &gpu));
    assert!(!tolerates(&toleration("other", "Exists", "", ""), &gpu));
}

#[test]
fn the_effect_must_match_unless_it_is_empty() {
    let gpu = taint("dedicated", "gpu", "NoSchedule");
    assert!(!tolerates(
        &toleration("dedicated", "Exists", "", "NoExecute"),
        &gpu
    ));
    assert!(tolerates(
        &toleration("dedicated", "Exists", "", "NoSchedule"),
        &gpu
    ));
    assert!(tolerates(&toleration("dedicated", "Exists", "", ""), &gpu));
}

#[test]
fn a_missing_value_equals_the_empty_value() {
    let control_plane = taint("node-role.kubernetes.io/control-plane", "", "NoSchedule");
    let t = toleration(
        "node-role.kubernetes.io/control-plane",
        "Equal",
        "",
        "NoSchedule",
    );
    assert!(tolerates(&t, &control_plane));
}

#[test]
fn the_filter_names_the_first_untolerated_hard_taint() {
    let soft_then_hard = tainted(
        tainted(node("n1", "4", "8Gi"), "soft", "", "PreferNoSchedule"),
        "dedicated",
        "gpu",
        "NoSchedule",
    );
    let cache = cache_of(vec![soft_then_hard]);
    let mut p = pod("p", "1", "1Gi");
    p.spec
        .tolerations
        .push(toleration("dedicated", "Equal", "db", "NoSchedule"));
    let result = TaintToleration.filter(&info(p), &cache.nodes()[0]);
    let reasons = result.unwrap_err().0;
    assert_eq!(reasons, ["node(s) had untolerated taint {dedicated: gpu}"]);
}

#[test]
fn a_tolerated_taint_lets_the_pod_through() {
    let cache = cache_of(vec![tainted(
        node("n1", "4", "8Gi"),
        "dedicated",
        "gpu",
        "NoSchedule",
    )]);
    let mut tolerant = pod("p", "1", "1Gi");
    tolerant
        .spec
        .tolerations
        .push(toleration("dedicated", "Equal", "gpu", "NoSchedule"));
    assert!(
        TaintToleration
            .filter(&info(tolerant), &cache.nodes()[0])
            .is_ok()
    );
}
