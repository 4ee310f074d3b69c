//! Graded: `scheduler-fit-resources`.

mod common;

use common::{cache_of, info, node, pod};
use scheduler::plugins::insufficient_resources;

fn reasons_on_empty_node(cpu: &str, memory: &str, pod_cpu: &str, pod_memory: &str) -> Vec<String> {
    let cache = cache_of(vec![node("n1", cpu, memory)]);
    let pod = info(pod("p", pod_cpu, pod_memory));
    insufficient_resources(pod.requests, &cache.nodes()[0])
}

#[test]
fn a_pod_that_fits_has_no_reasons() {
    assert_eq!(
        reasons_on_empty_node("2", "4Gi", "2", "4Gi"),
        Vec::<String>::new()
    );
}

#[test]
fn too_much_cpu_is_insufficient_cpu() {
    assert_eq!(
        reasons_on_empty_node("2", "4Gi", "2001m", "1Gi"),
        ["Insufficient cpu"]
    );
}

#[test]
fn too_much_of_both_lists_both_in_order() {
    assert_eq!(
        reasons_on_empty_node("1", "1Gi", "2", "2Gi"),
        ["Insufficient cpu", "Insufficient memory"]
    );
}

#[test]
fn pods_already_placed_use_up_the_room() {
    let mut cache = cache_of(vec![node("n1", "2", "4Gi")]);
    cache.assume(&info(pod("first", "1500m", "1Gi")), "n1");
    let second = info(pod("second", "600m", "1Gi"));
    assert_eq!(
        insufficient_resources(second.requests, &cache.nodes()[0]),
        ["Insufficient cpu"]
    );
    let third = info(pod("third", "500m", "3Gi"));
    assert!(insufficient_resources(third.requests, &cache.nodes()[0]).is_empty());
}

#[test]
fn a_full_node_has_too_many_pods() {
    let mut small = node("n1", "100", "100Gi");
    let status = small.status.as_mut().unwrap();
    status
        .allocatable
        .insert("pods".to_string(), api::Quantity::from_integer(2));
    let mut cache = cache_of(vec![small]);
    cache.assume(&info(pod("a", "", "")), "n1");
    cache.assume(&info(pod("b", "", "")), "n1");
    let third = info(pod("c", "", ""));
    assert_eq!(
        insufficient_resources(third.requests, &cache.nodes()[0]),
        ["Too many pods"]
    );
}

#[test]
fn a_zero_request_fits_even_an_overcommitted_node() {
    let mut cache = cache_of(vec![node("n1", "1", "1Gi")]);
    // Bound by someone else (a static pod, say): the node is overcommitted on cpu.
    let mut big = pod("big", "3", "");
    big.spec.node_name = Some("n1".to_string());
    cache.add_bound_pod(&big);
    let memory_only = info(pod("m", "", "512Mi"));
    assert!(insufficient_resources(memory_only.requests, &cache.nodes()[0]).is_empty());
}
