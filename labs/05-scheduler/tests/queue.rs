//! Graded: `scheduler-queue-order`; also back-off and re-queueing, on virtual time.

mod common;

use std::time::Duration;

use common::{info, pod, with_priority};
use scheduler::{BackoffPolicy, PodKey, SchedulingQueue};

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

fn drain(queue: &mut SchedulingQueue, now: Duration) -> Vec<String> {
    std::iter::from_fn(|| queue.pop(now))
        .map(|p| p.key.0)
        .collect()
}

#[test]
fn higher_priority_first() {
    let mut queue = SchedulingQueue::new();
    queue.add(info(with_priority(pod("low", "", ""), 1)), secs(0.0));
    queue.add(info(with_priority(pod("high", "", ""), 1000)), secs(0.0));
    queue.add(info(pod("none", "", "")), secs(0.0));
    queue.add(info(with_priority(pod("negative", "", ""), -5)), secs(0.0));
    assert_eq!(
        drain(&mut queue, secs(0.0)),
        [
            "default/high",
            "default/low",
            "default/none",
            "default/negative"
        ]
    );
}

#[test]
fn equal_priority_in_arrival_order() {
    let mut queue = SchedulingQueue::new();
    for name in ["c", "a", "d", "b"] {
        queue.add(info(pod(name, "", "")), secs(0.0));
    }
    assert_eq!(
        drain(&mut queue, secs(0.0)),
        ["default/c", "default/a", "default/d", "default/b"]
    );
}

#[test]
fn back_off_doubles_from_one_second_to_ten() {
    let policy = BackoffPolicy::default();
    let delays: Vec<u64> = (1..=6).map(|n| policy.delay(n).as_secs()).collect();
    assert_eq!(delays, [1, 2, 4, 8, 10, 10]);
}

#[test]
fn an_unschedulable_pod_waits_for_a_cluster_change() {
    let mut queue = SchedulingQueue::new();
    queue.add(info(pod("p", "", "")), secs(0.0));
    let p = queue.pop(secs(0.0)).unwrap();
    queue.park_unschedulable(&p.key, secs(0.0));
    // Nothing changed: even after its back-off, the pod is not retried.
    assert!(queue.pop(secs(30.0)).is_none());
    assert_eq!(queue.unschedulable_len(), 1);
    // A node is added: the pod is retried.
    queue.on_cluster_change(secs(30.0));
    assert_eq!(drain(&mut queue, secs(30.0)), ["default/p"]);
}

#[test]
fn a_change_during_back_off_waits_for_the_back_off() {
    let mut queue = SchedulingQueue::new();
    queue.add(info(pod("p", "", "")), secs(0.0));
    let key = queue.pop(secs(0.0)).unwrap().key;
    queue.park_unschedulable(&key, secs(0.0));
    queue.on_cluster_change(secs(0.5));
    assert_eq!(queue.backoff_len(), 1);
    assert_eq!(queue.next_wake_up(), Some(secs(1.0)));
    assert!(queue.pop(secs(0.9)).is_none());
    assert_eq!(drain(&mut queue, secs(1.0)), ["default/p"]);
    // Second failure: two seconds.
    queue.park_unschedulable(&key, secs(1.0));
    queue.on_cluster_change(secs(1.0));
    assert!(queue.pop(secs(2.9)).is_none());
    assert_eq!(drain(&mut queue, secs(3.0)), ["default/p"]);
}

#[test]
fn unschedulable_pods_are_retried_after_five_minutes_anyway() {
    let mut queue = SchedulingQueue::new();
    queue.add(info(pod("p", "", "")), secs(0.0));
    let key = queue.pop(secs(0.0)).unwrap().key;
    queue.park_unschedulable(&key, secs(0.0));
    assert!(queue.pop(secs(299.0)).is_none());
    assert_eq!(drain(&mut queue, secs(300.0)), ["default/p"]);
}

#[test]
fn a_failed_bind_backs_off_without_waiting_for_a_change() {
    let mut queue = SchedulingQueue::with_policy(BackoffPolicy {
        initial: secs(2.0),
        max: secs(3.0),
    });
    queue.add(info(pod("p", "", "")), secs(0.0));
    let key = queue.pop(secs(0.0)).unwrap().key;
    queue.back_off(&key, secs(0.0));
    assert!(queue.pop(secs(1.9)).is_none());
    assert_eq!(drain(&mut queue, secs(2.0)), ["default/p"]);
    queue.back_off(&key, secs(2.0));
    assert!(
        queue.pop(secs(4.9)).is_none(),
        "second failure: 3 s (capped), not 4"
    );
    assert_eq!(drain(&mut queue, secs(5.0)), ["default/p"]);
}

#[test]
fn a_removed_pod_is_never_popped() {
    let mut queue = SchedulingQueue::new();
    queue.add(info(pod("gone", "", "")), secs(0.0));
    queue.add(info(pod("kept", "", "")), secs(0.0));
    queue.remove(&PodKey("default/gone".to_string()));
    assert_eq!(drain(&mut queue, secs(0.0)), ["default/kept"]);
    assert_eq!(queue.len(), 1, "kept is in flight until reported done");
}

#[test]
fn retain_forgets_pods_that_are_gone() {
    let mut queue = SchedulingQueue::new();
    queue.add(info(pod("gone", "", "")), secs(0.0));
    queue.add(info(pod("kept", "", "")), secs(0.0));
    let keep = std::collections::HashSet::from([PodKey("default/kept".to_string())]);
    queue.retain(&keep);
    assert!(!queue.contains(&PodKey("default/gone".to_string())));
    assert_eq!(drain(&mut queue, secs(0.0)), ["default/kept"]);
}
