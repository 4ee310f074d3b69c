//! The whole cluster under seeded chaos, on virtual time. A fixed set of seeds runs in CI;
//! `SKIFF_SEED=<seed> cargo test -p skiff --test chaos replay` replays one of them (or any
//! other), and `cargo xtask chaos --seeds N` runs more.

use std::time::Duration;

use api::Pod;
use api::client::{ApiClient, DeleteOptions};
use skiff::sim::{self, Fault, Plan, Scenario, Sim, run, settled, web};

/// The seeds CI runs on every `cargo test`.
const SEEDS: std::ops::Range<u64> = 1..17;

// ANCHOR: fixed_seeds
#[tokio::test(flavor = "current_thread")]
async fn sixteen_seeds_heal_and_keep_every_invariant() {
    let scenario = Scenario::default();
    let mut faults = 0;
    for seed in SEEDS {
        match run(seed, &scenario).await {
            Ok(report) => faults += report.faults,
            Err(failure) => panic!("{failure}"),
        }
    }
    // The chaos is real: about one fault every seven seconds of a minute, per seed.
    assert!(faults >= 16 * 4, "only {faults} faults struck in 16 runs");
}
// ANCHOR_END: fixed_seeds

// ANCHOR: replay
/// Replays `SKIFF_SEED` (default: the first CI seed) and prints its timeline.
#[tokio::test(flavor = "current_thread")]
async fn replay() {
    let seed = std::env::var(sim::SEED_VAR)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(SEEDS.start);
    match run(seed, &Scenario::default()).await {
        Ok(report) => {
            for line in &report.timeline {
                println!("{line}");
            }
            println!(
                "seed {seed}: {} faults, {} acknowledged writes, healed by {}s",
                report.faults,
                report.acknowledged,
                report.end.as_secs()
            );
        }
        Err(failure) => {
            for line in &failure.timeline {
                println!("{line}");
            }
            panic!("{failure}")
        }
    }
}
// ANCHOR_END: replay

#[tokio::test(flavor = "current_thread")]
async fn the_same_seed_replays_the_same_run_line_for_line() {
    let scenario = Scenario::default();
    let first = run(7, &scenario).await.unwrap();
    let second = run(7, &scenario).await.unwrap();
    assert!(first.faults > 0);
    assert_eq!(first, second);
    let other = run(8, &scenario).await.unwrap();
    assert_ne!(first.timeline, other.timeline, "another seed, another run");
}

// ANCHOR: scenario_test
#[tokio::test(flavor = "current_thread")]
async fn every_fault_kind_in_one_timeline() {
    // A small hand-written scenario with one fault of each kind, in a row.
    let mut sim = Sim::new(42, 2).await.unwrap();
    sim.net().raw().create(web(2)).await.unwrap();
    sim.run_until(Duration::from_secs(60), "up", |w| settled(w, 2))
        .await
        .unwrap();
    let at = |s: u64| sim.now() + Duration::from_secs(s);
    let plan = vec![
        (
            at(1),
            Fault::KillContainer {
                node: "node-1".into(),
                pick: 0,
            },
        ),
        (
            at(5),
            Fault::SlowWatcher {
                component: "replicaset-controller".into(),
                delay: Duration::from_secs(3),
                during: Duration::from_secs(10),
            },
        ),
        (at(6), Fault::DeletePod { pick: 0 }),
        (
            at(20),
            Fault::RestartApi {
                down: Duration::from_secs(3),
            },
        ),
        // Longer than the grace period (5 s), healed before the toleration (3 s) runs out.
        (
            at(30),
            Fault::Partition {
                node: "node-2".into(),
                down: Duration::from_secs(6),
            },
        ),
        // Down for longer than both: its pod moves.
        (
            at(50),
            Fault::CrashNode {
                node: "node-2".into(),
                down: Duration::from_secs(20),
            },
        ),
    ];
    sim.plan(plan);
    sim.run_chaos().await.unwrap();
    sim.run_until(Duration::from_secs(120), "healed", |w| settled(w, 2))
        .await
        .unwrap();
    sim.check_nothing_lost().await.unwrap();
    insta::assert_snapshot!(sim.timeline().join("\n"));
}
// ANCHOR_END: scenario_test

// ANCHOR: caught
#[tokio::test(flavor = "current_thread")]
async fn a_pod_bound_twice_is_caught_and_reported_with_its_seed() {
    let mut sim = Sim::new(99, 2).await.unwrap();
    sim.net().raw().create(web(2)).await.unwrap();
    sim.run_until(Duration::from_secs(60), "up", |w| settled(w, 2))
        .await
        .unwrap();
    // A buggy component moves a bound pod to the other node behind everyone's back.
    let world = sim.world("test").await.unwrap();
    let mut pod: Pod = world.pods[0].clone();
    let other = match pod.spec.node_name.as_deref() {
        Some("node-1") => "node-2",
        _ => "node-1",
    };
    pod.spec.node_name = Some(other.to_string());
    sim.net().raw().update(pod).await.unwrap();

    let failure = sim.step().await.unwrap_err();
    assert_eq!(failure.seed, 99);
    assert!(
        failure.message.contains("is bound to two nodes"),
        "{failure}"
    );
    let report = failure.to_string();
    println!("{report}");
    assert!(report.contains("seed 99"), "{report}");
    assert!(
        report.contains("SKIFF_SEED=99 cargo test -p skiff --test chaos"),
        "{report}"
    );
    assert!(report.contains("cargo xtask chaos --seed 99"), "{report}");
}
// ANCHOR_END: caught

#[tokio::test(flavor = "current_thread")]
async fn a_watch_that_misses_a_revision_is_caught() {
    let mut sim = Sim::new(5, 2).await.unwrap();
    sim.net().raw().create(web(2)).await.unwrap();
    let world = sim
        .run_until(Duration::from_secs(60), "up", |w| settled(w, 2))
        .await
        .unwrap();
    // A broken server drops one event on its way to the scheduler; a pod deletion makes
    // sure more follow.
    sim.net().lose_next_event("scheduler");
    let victim = world.pods[0].metadata.name.clone().unwrap();
    sim.net()
        .raw()
        .delete::<Pod>(Some("default"), &victim, DeleteOptions::default())
        .await
        .unwrap();
    let failure = sim
        .run_until(Duration::from_secs(60), "healed", |w| settled(w, 2))
        .await
        .unwrap_err();
    assert!(
        failure.message.starts_with("watcher scheduler of "),
        "{failure}"
    );
    assert!(failure.message.contains(", expected "), "{failure}");
    assert_eq!(failure.seed, 5);
}

#[tokio::test(flavor = "current_thread")]
async fn the_auditors_history_is_the_stores_order() {
    let mut sim = Sim::new(6, 1).await.unwrap();
    sim.net().raw().create(web(1)).await.unwrap();
    sim.run_until(Duration::from_secs(60), "up", |w| settled(w, 1))
        .await
        .unwrap();
    let history = sim.net().history();
    for (plural, seen) in &history {
        assert!(
            seen.windows(2).all(|w| w[0].revision < w[1].revision),
            "{plural}: {seen:?}"
        );
    }
    assert!(history["pods"].len() >= 3, "{history:?}");
    // Nothing is lost after a quiet run either.
    sim.check_nothing_lost().await.unwrap();
}

#[test]
fn the_schedule_is_a_function_of_the_seed() {
    let start = Duration::from_secs(10);
    let window = Duration::from_secs(60);
    let a = sim::schedule(3, 3, start, window, 15);
    let b = sim::schedule(3, 3, start, window, 15);
    let c = sim::schedule(4, 3, start, window, 15);
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert!(!a.is_empty());
    // Every fault is inside the window and over by its end.
    for (at, fault) in &a {
        assert!(*at >= start && *at < start + window, "{at:?}");
        let lasts = match fault {
            Fault::CrashNode { down, .. }
            | Fault::Partition { down, .. }
            | Fault::RestartApi { down } => *down,
            Fault::SlowWatcher { during, .. } => *during,
            Fault::KillContainer { .. } | Fault::DeletePod { .. } => Duration::ZERO,
        };
        assert!(*at + lasts <= start + window, "{fault:?} at {at:?}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_cluster_that_cannot_reach_its_replicas_fails_with_its_seed() {
    // One node of 4 cpus cannot run 6 pods of one cpu each.
    let scenario = Scenario {
        nodes: 1,
        ..Scenario::default()
    };
    let failure = run(12, &scenario).await.unwrap_err();
    assert_eq!(failure.seed, 12);
    assert_eq!(
        failure.message,
        "desired replicas before the chaos not reached after 60s"
    );
    assert!(failure.to_string().contains("SKIFF_SEED=12 "), "{failure}");
    // Replaying the seed fails the same way, at the same virtual second.
    assert_eq!(run(12, &scenario).await.unwrap_err(), failure);
}

#[test]
fn the_chaos_command_line_is_checked() {
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        Plan::parse(&args(&[])),
        Ok(Plan::Many { from: 1, count: 16 })
    );
    assert_eq!(
        Plan::parse(&args(&["--seeds", "500", "--from", "17"])),
        Ok(Plan::Many {
            from: 17,
            count: 500
        })
    );
    assert_eq!(Plan::parse(&args(&["--seed", "42"])), Ok(Plan::One(42)));
    assert_eq!(
        Plan::parse(&args(&["--seeds", "many"])),
        Err("--seeds: `many` is not a whole number".to_string())
    );
    assert_eq!(
        Plan::parse(&args(&["--seed"])),
        Err("--seed needs a value".to_string())
    );
    let unknown = Plan::parse(&args(&["--fast"])).unwrap_err();
    assert!(unknown.starts_with("unknown option `--fast`"), "{unknown}");
}
