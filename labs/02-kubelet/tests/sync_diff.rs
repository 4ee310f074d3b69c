//! Graded tests of `kubelet-sync-diff`: desired pods vs known pods vs the runtime, and the
//! level-triggered sync built on it.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use api::client::ApiClient;
use common::{Sim, pod};
use kubelet::sync::{PodDiff, diff_pods};
use runtime::{ContainerFilter, ContainerRuntime};

fn set(uids: &[&str]) -> BTreeSet<String> {
    uids.iter().map(|u| u.to_string()).collect()
}

#[test]
fn new_pods_are_desired_but_unknown() {
    let diff = diff_pods(&set(&["b", "a", "c"]), &set(&["b"]), &set(&["b"]));
    assert_eq!(diff.new, ["a", "c"]);
    assert!(diff.gone.is_empty() && diff.orphans.is_empty());
}

#[test]
fn gone_pods_are_known_but_no_longer_desired() {
    let diff = diff_pods(&set(&["a"]), &set(&["a", "b", "c"]), &set(&["a", "b"]));
    assert_eq!(
        diff,
        PodDiff {
            new: vec![],
            gone: vec!["b".into(), "c".into()],
            orphans: vec![]
        }
    );
}

#[test]
fn orphans_are_in_the_runtime_but_neither_desired_nor_known() {
    let diff = diff_pods(&set(&["a"]), &set(&["b"]), &set(&["a", "b", "x", "y"]));
    assert_eq!(diff.orphans, ["x", "y"]);
    assert_eq!(diff.new, ["a"]);
    assert_eq!(diff.gone, ["b"]);
}

#[test]
fn nothing_to_do_when_everything_agrees() {
    let all = set(&["a", "b"]);
    assert_eq!(diff_pods(&all, &all, &all), PodDiff::default());
}

/// Level-triggered: a container removed behind the kubelet's back (a missed event) is
/// noticed on the next resync and started again.
#[tokio::test(flavor = "current_thread")]
async fn a_missed_event_is_healed_by_the_next_resync() {
    let mut sim = Sim::new();
    sim.write_manifest("web.json", &pod("web", &[("app", "fake/sleeper")]));
    sim.run_for(Duration::from_secs(2)).await;
    let running = sim
        .runtime
        .list_containers(&ContainerFilter::default())
        .await
        .unwrap();
    assert_eq!(running.len(), 1);
    sim.runtime.remove_container(&running[0].id).await.unwrap();
    sim.run_for(Duration::from_secs(2)).await;
    let healed = sim
        .runtime
        .list_containers(&ContainerFilter::default())
        .await
        .unwrap();
    assert_eq!(healed.len(), 1);
    assert_ne!(healed[0].id, running[0].id);
}

/// A sandbox left by an earlier kubelet (nobody wants it) is stopped and removed.
#[tokio::test(flavor = "current_thread")]
async fn orphaned_sandboxes_are_removed() {
    let mut sim = Sim::new();
    let stray = pod("stray", &[("app", "fake/sleeper")]);
    let mut stray = stray;
    stray.metadata.uid = Some("uid-stray".into());
    let sandbox = sim
        .runtime
        .run_pod_sandbox(kubelet::translate::sandbox_config(&stray))
        .await
        .unwrap();
    let config = kubelet::translate::container_config(&stray, &stray.spec.containers[0]);
    let id = sim
        .runtime
        .create_container(&sandbox, config)
        .await
        .unwrap();
    sim.runtime.start_container(&id).await.unwrap();
    sim.run_for(Duration::from_secs(1)).await;
    assert!(
        sim.runtime
            .list_containers(&ContainerFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        sim.api
            .list::<api::Pod>(None, &api::LabelSelector::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    insta::assert_snapshot!(sim.journal(&["kill", "sandbox", "pod"]));
}
