//! The scheduling cycle on the sans-IO core: spreading, the assume-cache, priority, sampling,
//! and adding a plugin.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use api::Pod;
use common::{cache_of, info, labelled, node, owned_by, pod, with_priority};
use scheduler::plugins::{BalancedAllocation, LeastAllocated, NodeResourcesFit};
use scheduler::{
    ClusterCache, FilterPlugin, NodeInfo, Outcome, PodInfo, Profile, Scheduler, Unfit,
    nodes_to_find,
};

const NOW: Duration = Duration::ZERO;

/// Queues `pods`, then runs cycles until the queue is empty, assuming every binding (as the
/// driver does before it calls the API). Returns `pod → node or message`, in decision order.
fn schedule_all(
    scheduler: &mut Scheduler,
    cache: &mut ClusterCache,
    pods: Vec<Pod>,
) -> Vec<(String, String)> {
    for p in pods {
        scheduler.queue().add(info(p), NOW);
    }
    let mut placements = Vec::new();
    while let Some(decision) = scheduler.schedule_one(NOW, cache) {
        let key = decision.pod.key.clone();
        let place = match decision.outcome {
            Outcome::Bind { node, .. } => {
                cache.assume(&decision.pod, &node);
                scheduler.queue().done(&key);
                node
            }
            Outcome::Unschedulable { message } => {
                scheduler.queue().park_unschedulable(&key, NOW);
                message
            }
        };
        placements.push((key.0, place));
    }
    placements
}

fn per_node(placements: &[(String, String)]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for (_, place) in placements {
        *counts.entry(place.clone()).or_default() += 1;
    }
    counts
}

fn replicas(owner: &str, n: usize) -> Vec<Pod> {
    (0..n)
        .map(|i| owned_by(pod(&format!("{owner}-{i}"), "", ""), owner))
        .collect()
}

fn three_equal_nodes() -> ClusterCache {
    cache_of(vec![
        node("n1", "4", "8Gi"),
        node("n2", "4", "8Gi"),
        node("n3", "4", "8Gi"),
    ])
}

#[test]
fn six_replicas_spread_two_two_two() {
    let mut cache = three_equal_nodes();
    let mut scheduler = Scheduler::new(Profile::default_plugins());
    let placements = schedule_all(&mut scheduler, &mut cache, replicas("web", 6));
    let expected = BTreeMap::from([("n1".into(), 2), ("n2".into(), 2), ("n3".into(), 2)]);
    assert_eq!(per_node(&placements), expected);
}

#[test]
fn without_spreading_requestless_replicas_pile_up_on_the_first_node_by_name() {
    let mut cache = three_equal_nodes();
    let profile = Profile::empty()
        .with_filter(NodeResourcesFit)
        .with_score(LeastAllocated, 1)
        .with_score(BalancedAllocation, 1);
    let mut scheduler = Scheduler::new(profile);
    let placements = schedule_all(&mut scheduler, &mut cache, replicas("web", 6));
    assert_eq!(per_node(&placements), BTreeMap::from([("n1".into(), 6)]));
}

#[test]
fn assumed_pods_keep_ten_racing_pods_to_the_three_that_fit() {
    let mut cache = cache_of(vec![node("only", "3", "8Gi")]);
    let mut scheduler = Scheduler::new(Profile::default_plugins());
    let pods = (0..10).map(|i| pod(&format!("p{i}"), "1", "1Gi")).collect();
    // No bind completes during the race: only the assume-cache knows about the first pods.
    let placements = schedule_all(&mut scheduler, &mut cache, pods);
    let bound = placements
        .iter()
        .filter(|(_, place)| place == "only")
        .count();
    assert_eq!(bound, 3);
    let refused = placements
        .iter()
        .filter(|(_, place)| *place == "0/1 nodes are available: 1 Insufficient cpu.");
    assert_eq!(refused.count(), 7);
    assert_eq!(cache.node("only").unwrap().requested.milli_cpu, 3000);
}

#[test]
fn a_failed_bind_forgets_the_assumption() {
    let mut cache = cache_of(vec![node("only", "1", "8Gi")]);
    let first = info(pod("first", "1", "1Gi"));
    cache.assume(&first, "only");
    assert!(cache.is_assumed(&first.key));
    cache.forget(&first.key);
    assert_eq!(cache.node("only").unwrap().requested.milli_cpu, 0);
    assert_eq!(cache.node_of(&first.key), None);
}

#[test]
fn the_watch_confirms_an_assumption_without_charging_twice() {
    let mut cache = cache_of(vec![node("only", "4", "8Gi")]);
    let p = pod("p", "1", "1Gi");
    cache.assume(&info(p.clone()), "only");
    let mut bound = p;
    bound.spec.node_name = Some("only".to_string());
    cache.add_bound_pod(&bound);
    let key = scheduler::PodKey::of(&bound);
    assert!(!cache.is_assumed(&key));
    cache.forget(&key); // too late: confirmed pods are not forgotten
    assert_eq!(cache.node("only").unwrap().requested.milli_cpu, 1000);
}

#[test]
fn high_priority_pods_get_the_scarce_room_first() {
    let mut cache = cache_of(vec![node("only", "2", "8Gi")]);
    let mut scheduler = Scheduler::new(Profile::default_plugins());
    let pods = vec![
        pod("batch-1", "1", ""),
        pod("batch-2", "1", ""),
        with_priority(pod("critical", "1", ""), 1000),
    ];
    let placements = schedule_all(&mut scheduler, &mut cache, pods);
    let order: Vec<(&str, &str)> = placements
        .iter()
        .map(|(p, n)| (p.as_str(), n.as_str()))
        .collect();
    assert_eq!(
        order,
        [
            ("default/critical", "only"),
            ("default/batch-1", "only"),
            (
                "default/batch-2",
                "0/1 nodes are available: 1 Insufficient cpu."
            ),
        ]
    );
}

#[test]
fn the_emptier_node_wins_and_ties_go_to_the_first_name() {
    let mut cache = cache_of(vec![
        node("b", "4", "8Gi"),
        node("a", "4", "8Gi"),
        node("c", "4", "8Gi"),
    ]);
    let mut scheduler = Scheduler::new(Profile::default_plugins());
    cache.assume(&info(pod("load", "2", "4Gi")), "a");
    let placements = schedule_all(&mut scheduler, &mut cache, vec![pod("p", "1", "1Gi")]);
    assert_eq!(placements[0].1, "b");
}

#[test]
fn percentage_of_nodes_to_score_follows_kubernetes() {
    assert_eq!(nodes_to_find(50, None), 50);
    assert_eq!(
        nodes_to_find(100, None),
        100,
        "42% of 100 is below the floor of 100"
    );
    assert_eq!(nodes_to_find(1_000, None), 420);
    assert_eq!(nodes_to_find(5_000, None), 500);
    assert_eq!(nodes_to_find(10_000, None), 500, "5% at least");
    assert_eq!(nodes_to_find(5_000, Some(100)), 5_000);
    assert_eq!(nodes_to_find(5_000, Some(1)), 100);
}

#[test]
fn sampling_still_explains_with_every_node_when_none_fits() {
    let nodes = (0..300)
        .map(|i| node(&format!("n{i:03}"), "1", "1Gi"))
        .collect();
    let mut cache = cache_of(nodes);
    let mut scheduler = Scheduler::new(Profile::default_plugins());
    let placements = schedule_all(&mut scheduler, &mut cache, vec![pod("big", "2", "")]);
    assert_eq!(
        placements[0].1,
        "0/300 nodes are available: 300 Insufficient cpu."
    );
}

/// A plugin a learner might write: keep pods off nodes labelled `maintenance=true`.
struct AvoidMaintenance;

impl FilterPlugin for AvoidMaintenance {
    fn name(&self) -> &'static str {
        "AvoidMaintenance"
    }

    fn filter(&self, _pod: &PodInfo, node: &NodeInfo) -> Result<(), Unfit> {
        match node
            .node
            .metadata
            .labels
            .get("maintenance")
            .map(String::as_str)
        {
            Some("true") => Err(Unfit::because("node(s) were under maintenance")),
            _ => Ok(()),
        }
    }
}

#[test]
fn a_new_filter_plugin_joins_the_pipeline_and_the_explanation() {
    let mut cache = cache_of(vec![
        labelled(node("n1", "4", "8Gi"), "maintenance", "true"),
        node("n2", "1", "1Gi"),
    ]);
    let mut scheduler = Scheduler::new(Profile::default_plugins().with_filter(AvoidMaintenance));
    let placements = schedule_all(&mut scheduler, &mut cache, vec![pod("p", "2", "")]);
    assert_eq!(
        placements[0].1,
        "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) were under maintenance."
    );
}
