//! Graded tests of `kubelet-backoff`: the crash-loop back-off.

mod common;

use std::time::Duration;

use common::{Sim, pod};
use kubelet::BackoffPolicy;

const S: fn(u64) -> Duration = Duration::from_secs;

#[test]
fn the_first_wait_is_the_base() {
    let policy = BackoffPolicy::default();
    assert_eq!(policy.next_delay(None, S(0)), S(10));
    assert_eq!(policy.next_delay(None, S(3600)), S(10));
}

#[test]
fn each_crash_doubles_the_wait_up_to_the_cap() {
    let policy = BackoffPolicy::default();
    let mut delay = None;
    let mut waits = Vec::new();
    for _ in 0..8 {
        let next = policy.next_delay(delay, S(1));
        waits.push(next.as_secs());
        delay = Some(next);
    }
    assert_eq!(waits, [10, 20, 40, 80, 160, 300, 300, 300]);
}

#[test]
fn ten_minutes_of_clean_running_resets_the_wait() {
    let policy = BackoffPolicy::default();
    assert_eq!(policy.next_delay(Some(S(160)), S(599)), S(300));
    assert_eq!(policy.next_delay(Some(S(160)), S(600)), S(10));
    assert_eq!(policy.next_delay(Some(S(300)), S(3600)), S(10));
}

#[test]
fn a_configured_policy_is_honoured() {
    let policy = BackoffPolicy {
        base: Duration::from_millis(100),
        cap: Duration::from_millis(250),
        reset_after: S(5),
    };
    assert_eq!(policy.next_delay(None, S(0)), Duration::from_millis(100));
    assert_eq!(
        policy.next_delay(Some(Duration::from_millis(100)), S(0)),
        Duration::from_millis(200)
    );
    assert_eq!(
        policy.next_delay(Some(Duration::from_millis(200)), S(0)),
        Duration::from_millis(250)
    );
    assert_eq!(
        policy.next_delay(Some(Duration::from_millis(250)), S(5)),
        Duration::from_millis(100)
    );
}

/// A container that exits at once, for 20 virtual minutes: starts at 0 s, then waits of
/// 10 s, 20 s, 40 s, 80 s, 160 s and 300 s (the cap) between restarts.
#[tokio::test(flavor = "current_thread")]
async fn crash_loop_timeline() {
    let mut sim = Sim::new();
    sim.write_manifest("crasher.json", &pod("crasher", &[("app", "fake/crasher")]));
    sim.run_for(Duration::from_secs(20 * 60)).await;
    insta::assert_snapshot!(sim.journal(&["start", "status"]));
}
