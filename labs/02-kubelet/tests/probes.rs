//! Graded tests of `kubelet-probe-threshold`, and the probe behaviour on virtual time.

mod common;

use std::time::Duration;

use common::{Sim, exec_probe, pod};
use kubelet::ProbeKind;
use kubelet::ProbeOutcome::{Failure, Success};
use kubelet::probe::ProbeCounter;

#[test]
fn failures_settle_only_at_the_failure_threshold() {
    let mut counter = ProbeCounter::default();
    assert_eq!(counter.observe(Failure, 1, 3), None);
    assert_eq!(counter.observe(Failure, 1, 3), None);
    assert_eq!(counter.observe(Failure, 1, 3), Some(Failure));
    assert_eq!(
        counter.observe(Failure, 1, 3),
        Some(Failure),
        "stays failed"
    );
}

#[test]
fn a_success_breaks_a_run_of_failures() {
    let mut counter = ProbeCounter::default();
    assert_eq!(counter.observe(Failure, 1, 3), None);
    assert_eq!(counter.observe(Failure, 1, 3), None);
    assert_eq!(counter.observe(Success, 1, 3), Some(Success));
    assert_eq!(counter.observe(Failure, 1, 3), None, "the run starts over");
    assert_eq!(counter.run, 1);
}

#[test]
fn successes_settle_at_the_success_threshold() {
    let mut counter = ProbeCounter::default();
    assert_eq!(counter.observe(Success, 2, 3), None);
    assert_eq!(counter.observe(Success, 2, 3), Some(Success));
    assert_eq!(
        counter.observe(Failure, 2, 1),
        Some(Failure),
        "a threshold of 1 settles at once"
    );
}

/// A sleeper whose liveness probe (every 10 s, threshold 3) fails from 60 s on: killed at
/// 80 s after the third failure, restarted after the 10 s back-off; its new instance fails
/// again and is restarted after 20 s.
#[tokio::test(flavor = "current_thread")]
async fn liveness_failures_restart_the_container() {
    let mut sim = Sim::new();
    let mut web = pod("web", &[("app", "fake/sleeper")]);
    web.spec.containers[0].liveness_probe = Some(exec_probe(10, 3));
    sim.write_manifest("web.json", &web);
    sim.prober.fail_from(
        "default/web",
        "app",
        ProbeKind::Liveness,
        Duration::from_secs(60),
    );
    sim.run_for(Duration::from_secs(150)).await;
    insta::assert_snapshot!(sim.journal(&["start", "probe", "kill", "status"]));
}

/// A readiness probe that fails between 30 s and 60 s takes the pod out of Ready and puts
/// it back; nothing restarts.
#[tokio::test(flavor = "current_thread")]
async fn readiness_failures_only_flip_ready() {
    let mut sim = Sim::new();
    let mut web = pod("web", &[("app", "fake/sleeper")]);
    web.spec.containers[0].readiness_probe = Some(exec_probe(5, 1));
    sim.write_manifest("web.json", &web);
    sim.prober
        .script("default/web", "app", ProbeKind::Readiness, |elapsed| {
            let failing = elapsed >= Duration::from_secs(30) && elapsed < Duration::from_secs(60);
            if failing { Failure } else { Success }
        });
    sim.run_for(Duration::from_secs(90)).await;
    insta::assert_snapshot!(sim.journal(&["start", "probe", "kill", "status"]));
}

/// A startup probe gates liveness: the liveness probe below would fail before 40 s, but it
/// does not run until the startup probe has succeeded (at 40 s), so nothing restarts.
#[tokio::test(flavor = "current_thread")]
async fn the_startup_probe_holds_back_liveness() {
    let mut sim = Sim::new();
    let mut slow = pod("slow", &[("app", "fake/sleeper")]);
    slow.spec.containers[0].startup_probe = Some(exec_probe(5, 30));
    slow.spec.containers[0].liveness_probe = Some(exec_probe(5, 1));
    sim.write_manifest("slow.json", &slow);
    let before_40s = |elapsed: Duration| {
        if elapsed < Duration::from_secs(40) {
            Failure
        } else {
            Success
        }
    };
    sim.prober
        .script("default/slow", "app", ProbeKind::Startup, before_40s);
    sim.prober
        .script("default/slow", "app", ProbeKind::Liveness, before_40s);
    sim.run_for(Duration::from_secs(60)).await;
    insta::assert_snapshot!(sim.journal(&["start", "probe", "kill", "status"]));
}

/// A startup probe that never succeeds restarts the container after its failure threshold.
#[tokio::test(flavor = "current_thread")]
async fn a_failed_startup_probe_restarts_the_container() {
    let mut sim = Sim::new();
    let mut stuck = pod("stuck", &[("app", "fake/sleeper")]);
    stuck.spec.containers[0].startup_probe = Some(exec_probe(5, 3));
    sim.write_manifest("stuck.json", &stuck);
    sim.prober
        .fail_from("default/stuck", "app", ProbeKind::Startup, Duration::ZERO);
    sim.run_for(Duration::from_secs(30)).await;
    let journal = sim.journal(&["start", "kill"]);
    assert_eq!(
        journal,
        "[    0s] start default/stuck app\n\
         [   10s] kill default/stuck app (c-2, grace 5s): Container app failed startup probe, will be restarted\n\
         [   20s] start default/stuck app (restart 1)\n\
         [   30s] kill default/stuck app (c-3, grace 5s): Container app failed startup probe, will be restarted\n"
    );
}
