//! Graded: `scheduler-explain`. The message of an unschedulable pod, for a table of clusters.

mod common;

use api::{Node, Pod};
use common::{cache_of, info, labelled, node, pod, tainted, with_host_port};
use scheduler::{Outcome, Profile, Scheduler, Unfit, explain};

#[test]
fn counts_each_reason_and_sorts_the_counted_strings() {
    let rejections = [
        Unfit::because("node(s) didn't match Pod's node affinity/selector"),
        Unfit::because("Insufficient cpu"),
        Unfit::because("node(s) didn't match Pod's node affinity/selector"),
    ];
    assert_eq!(
        explain(3, &rejections),
        "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector."
    );
}

#[test]
fn a_node_with_two_reasons_counts_under_each() {
    let rejections = [
        Unfit(vec![
            "Insufficient cpu".into(),
            "Insufficient memory".into(),
        ]),
        Unfit::because("Insufficient memory"),
    ];
    assert_eq!(
        explain(2, &rejections),
        "0/2 nodes are available: 1 Insufficient cpu, 2 Insufficient memory."
    );
}

#[test]
fn no_nodes_at_all() {
    assert_eq!(explain(0, &[]), "no nodes available to schedule pods");
}

/// Schedules `pod` on a cluster of `nodes`, some with pods already bound, and returns the
/// message (or where it went, should a case accidentally fit).
fn message(nodes: Vec<Node>, bound: Vec<Pod>, pod: Pod) -> String {
    let mut cache = cache_of(nodes);
    for p in &bound {
        cache.add_bound_pod(p);
    }
    let mut scheduler = Scheduler::new(Profile::default_plugins());
    match scheduler.decide(&info(pod), &cache) {
        Outcome::Unschedulable { message } => message,
        Outcome::Bind { node, .. } => format!("bound to {node}"),
    }
}

fn three(make: impl Fn(&str) -> Node) -> Vec<Node> {
    ["n1", "n2", "n3"].into_iter().map(make).collect()
}

fn bound_to(mut pod: Pod, node: &str) -> Pod {
    pod.spec.node_name = Some(node.to_string());
    pod
}

#[test]
fn explanations_for_a_table_of_clusters() {
    let small = |name: &str| node(name, "2", "4Gi");
    let cordoned = |name: &str| {
        let mut n = small(name);
        n.spec.unschedulable = Some(true);
        n
    };
    let not_ready = |name: &str| {
        let mut n = small(name);
        n.status.as_mut().unwrap().conditions[0].status = "False".to_string();
        n
    };
    let full = |name: &str| {
        let mut n = small(name);
        let allocatable = &mut n.status.as_mut().unwrap().allocatable;
        allocatable.insert("pods".into(), api::Quantity::from_integer(0));
        n
    };
    let mut selector_pod = pod("p", "1", "1Gi");
    selector_pod
        .spec
        .node_selector
        .insert("disk".into(), "ssd".into());
    let mut affinity_pod = pod("p", "1", "1Gi");
    affinity_pod.spec.affinity = Some(api::Affinity {
        node_affinity: Some(api::NodeAffinity {
            required: Some(api::NodeSelector {
                node_selector_terms: vec![api::NodeSelectorTerm {
                    match_expressions: vec![api::NodeSelectorRequirement {
                        key: "zone".into(),
                        operator: "In".into(),
                        values: vec!["z9".into()],
                    }],
                    match_fields: vec![],
                }],
            }),
            preferred: vec![],
        }),
    });
    let port_holders = ["n1", "n2", "n3"]
        .map(|n| bound_to(with_host_port(pod(&format!("web-{n}"), "", ""), 8080), n))
        .to_vec();
    let mixed = vec![
        cordoned("n1"),
        node("n2", "500m", "4Gi"),
        tainted(small("n3"), "dedicated", "gpu", "NoSchedule"),
        not_ready("n4"),
    ];
    let with_labels = vec![
        cordoned("n1"),
        node("n2", "500m", "4Gi"),
        tainted(small("n3"), "dedicated", "gpu", "NoSchedule"),
        labelled(small("n4"), "zone", "z2"),
        tainted(
            small("n5"),
            "node-role.kubernetes.io/control-plane",
            "",
            "NoSchedule",
        ),
    ];
    let mut zone_pod = pod("p", "1", "1Gi");
    zone_pod
        .spec
        .node_selector
        .insert("zone".into(), "z1".into());
    let cases: Vec<(&str, String)> = vec![
        (
            "insufficient cpu",
            message(three(small), vec![], pod("p", "3", "1Gi")),
        ),
        (
            "insufficient cpu and memory",
            message(three(small), vec![], pod("p", "3", "8Gi")),
        ),
        (
            "insufficient memory",
            message(three(small), vec![], pod("p", "1", "5Gi")),
        ),
        (
            "too many pods",
            message(three(full), vec![], pod("p", "1", "1Gi")),
        ),
        (
            "taints",
            message(
                vec![
                    tainted(
                        small("n1"),
                        "node-role.kubernetes.io/control-plane",
                        "",
                        "NoSchedule",
                    ),
                    tainted(small("n2"), "dedicated", "gpu", "NoExecute"),
                    tainted(small("n3"), "dedicated", "gpu", "NoSchedule"),
                ],
                vec![],
                pod("p", "1", "1Gi"),
            ),
        ),
        ("node selector", message(three(small), vec![], selector_pod)),
        ("node affinity", message(three(small), vec![], affinity_pod)),
        (
            "host ports",
            message(
                three(small),
                port_holders,
                with_host_port(pod("p", "", ""), 8080),
            ),
        ),
        (
            "unschedulable nodes",
            message(three(cordoned), vec![], pod("p", "1", "1Gi")),
        ),
        (
            "nodes not ready",
            message(three(not_ready), vec![], pod("p", "1", "1Gi")),
        ),
        ("mixed", message(mixed, vec![], pod("p", "1", "1Gi"))),
        (
            "mixed, with a selector",
            message(with_labels, vec![], zone_pod),
        ),
        ("no nodes", message(vec![], vec![], pod("p", "1", "1Gi"))),
    ];
    let table: String = cases
        .iter()
        .map(|(case, message)| format!("{case:<28} → {message}\n"))
        .collect();
    insta::assert_snapshot!(table);
}
