//! End to end on virtual time: the real scheduler and kubelets, the fake runtime, the
//! ReplicaSet and Deployment controllers, one seeded cluster.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use api::client::{ApiClient, DeleteOptions};
use api::{Deployment, IntOrString, ReplicaSet};
use common::{active, available, deployment, image_of, rolling, settled_on};
use controllers::deployment::{REVISION, revision_of, undo};
use controllers::sim::{Cluster, World};

const MINUTE: Duration = Duration::from_secs(60);

fn no_check() -> impl FnMut(&World) -> Result<(), String> {
    |_| Ok(())
}

async fn set_image(cluster: &Cluster, image: &str) {
    let mut d: Deployment = cluster.api().get(Some("default"), "web").await.unwrap();
    d.spec.template.spec.containers[0].image = image.into();
    cluster.api().update(d).await.unwrap();
}

async fn replica_sets(cluster: &Cluster) -> Vec<ReplicaSet> {
    cluster.world("test").await.unwrap().replica_sets
}

#[tokio::test(flavor = "current_thread")]
async fn a_deployment_of_five_runs_spread_over_three_nodes() {
    let mut cluster = Cluster::new(3, 1);
    cluster
        .api()
        .create(deployment(5, "fake/app:v1"))
        .await
        .unwrap();
    let world = cluster
        .run_until(MINUTE, &mut no_check(), |w| settled_on(w, 5, "fake/app:v1"))
        .await
        .unwrap();
    let mut per_node: BTreeMap<String, usize> = BTreeMap::new();
    for pod in &world.pods {
        let node = pod.spec.node_name.clone().expect("scheduled");
        *per_node.entry(node).or_default() += 1;
        assert_eq!(
            pod.status.as_ref().and_then(|s| s.phase),
            Some(api::PodPhase::Running)
        );
    }
    assert_eq!(per_node.len(), 3, "{per_node:?}");
    assert!(per_node.values().all(|&n| n <= 2), "{per_node:?}");
    let d = &world.deployments[0];
    let status = d.status.as_ref().unwrap();
    assert_eq!(
        (
            status.replicas,
            status.updated_replicas,
            status.ready_replicas,
            status.available_replicas
        ),
        (5, 5, 5, 5)
    );
    assert_eq!(status.unavailable_replicas, 0);
    assert_eq!(status.observed_generation, Some(1));
    let available = status
        .conditions
        .iter()
        .find(|c| c.condition_type == "Available")
        .unwrap();
    assert_eq!(available.status, "True");
    let progressing = status
        .conditions
        .iter()
        .find(|c| c.condition_type == "Progressing")
        .unwrap();
    assert_eq!(
        progressing.reason.as_deref(),
        Some("NewReplicaSetAvailable")
    );
    // One ReplicaSet, named after the template hash, revision 1.
    assert_eq!(world.replica_sets.len(), 1);
    let rs = &world.replica_sets[0];
    let hash = &rs.metadata.labels["pod-template-hash"];
    assert_eq!(
        rs.metadata.name.as_deref(),
        Some(format!("web-{hash}").as_str())
    );
    assert_eq!(rs.spec.selector.match_labels["pod-template-hash"], *hash);
    assert_eq!(rs.metadata.annotations[REVISION], "1");
}

#[tokio::test(flavor = "current_thread")]
async fn a_deleted_pod_is_replaced() {
    let mut cluster = Cluster::new(3, 2);
    cluster
        .api()
        .create(deployment(3, "fake/app:v1"))
        .await
        .unwrap();
    let world = cluster
        .run_until(MINUTE, &mut no_check(), |w| settled_on(w, 3, "fake/app:v1"))
        .await
        .unwrap();
    let victim = world.pods[0].metadata.name.clone().unwrap();
    // A graceful delete: the kubelet stops the container, then removes the pod.
    cluster
        .api()
        .delete::<api::Pod>(Some("default"), &victim, DeleteOptions::default())
        .await
        .unwrap();
    let world = cluster
        .run_until(MINUTE, &mut no_check(), |w| {
            settled_on(w, 3, "fake/app:v1")
                && w.pods
                    .iter()
                    .all(|p| p.metadata.name.as_deref() != Some(victim.as_str()))
        })
        .await
        .unwrap();
    assert_eq!(world.pods.len(), 3);
}

/// Fails as soon as a step breaks a rolling update's bounds.
fn rolling_bounds(
    replicas: usize,
    max_surge: usize,
    max_unavailable: usize,
) -> impl FnMut(&World) -> Result<(), String> {
    move |world| {
        let active = active(world).len();
        let available = available(world).len();
        if active > replicas + max_surge {
            return Err(format!("{active} pods exceed {replicas} + {max_surge}"));
        }
        if available < replicas - max_unavailable {
            return Err(format!(
                "{available} available pods are fewer than {replicas} - {max_unavailable}"
            ));
        }
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_rolling_update_stays_within_its_bounds_at_every_step() {
    let mut cluster = Cluster::new(3, 3);
    let mut d = deployment(4, "fake/app:v1");
    d.spec.strategy = Some(rolling(IntOrString::Int(1), IntOrString::Int(1)));
    cluster.api().create(d).await.unwrap();
    cluster
        .run_until(MINUTE, &mut no_check(), |w| settled_on(w, 4, "fake/app:v1"))
        .await
        .unwrap();

    set_image(&cluster, "fake/app:v2").await;
    let mut bounds = rolling_bounds(4, 1, 1);
    let mut steps = 0;
    let mut most_active = 0;
    let mut check = |world: &World| {
        steps += 1;
        most_active = most_active.max(active(world).len());
        bounds(world)
    };
    let world = cluster
        .run_until(5 * MINUTE, &mut check, |w| settled_on(w, 4, "fake/app:v2"))
        .await
        .unwrap();
    assert!(
        steps > 20,
        "checked at every component of every step ({steps})"
    );
    assert_eq!(most_active, 5, "the surge was used");
    assert!(world.pods.iter().all(|p| image_of(p) == "fake/app:v2"));
    // The old ReplicaSet is kept for rollback, scaled to zero.
    let mut sets = world.replica_sets.clone();
    sets.sort_by_key(revision_of);
    assert_eq!(sets.len(), 2);
    assert_eq!(sets[0].spec.replicas, Some(0));
    assert_eq!(sets[1].spec.replicas, Some(4));
    assert_eq!(revision_of(&sets[1]), 2);
    let status = world.deployments[0].status.clone().unwrap();
    assert_eq!((status.updated_replicas, status.available_replicas), (4, 4));
}

#[tokio::test(flavor = "current_thread")]
async fn percentages_round_surge_up_and_unavailable_down() {
    // 25% of 3: surge rounds up to 1, unavailable down to 0: never below 3 available.
    let mut cluster = Cluster::new(3, 4);
    let mut d = deployment(3, "fake/app:v1");
    d.spec.strategy = Some(rolling(
        IntOrString::String("25%".into()),
        IntOrString::String("25%".into()),
    ));
    cluster.api().create(d).await.unwrap();
    cluster
        .run_until(MINUTE, &mut no_check(), |w| settled_on(w, 3, "fake/app:v1"))
        .await
        .unwrap();
    set_image(&cluster, "fake/app:v2").await;
    cluster
        .run_until(5 * MINUTE, &mut rolling_bounds(3, 1, 0), |w| {
            settled_on(w, 3, "fake/app:v2")
        })
        .await
        .unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn rollback_to_revision_one_reuses_its_replica_set() {
    let mut cluster = Cluster::new(3, 5);
    cluster
        .api()
        .create(deployment(3, "fake/app:v1"))
        .await
        .unwrap();
    cluster
        .run_until(MINUTE, &mut no_check(), |w| settled_on(w, 3, "fake/app:v1"))
        .await
        .unwrap();
    let first = replica_sets(&cluster).await[0].metadata.name.clone();
    set_image(&cluster, "fake/app:v2").await;
    cluster
        .run_until(5 * MINUTE, &mut no_check(), |w| {
            settled_on(w, 3, "fake/app:v2")
        })
        .await
        .unwrap();

    let rolled = undo(cluster.api(), "default", "web", 1).await.unwrap();
    assert_eq!(rolled.spec.template.spec.containers[0].image, "fake/app:v1");
    let world = cluster
        .run_until(5 * MINUTE, &mut rolling_bounds(3, 1, 0), |w| {
            settled_on(w, 3, "fake/app:v1")
        })
        .await
        .unwrap();
    // No third ReplicaSet: revision 1's came back, as revision 3.
    assert_eq!(world.replica_sets.len(), 2);
    let back = world
        .replica_sets
        .iter()
        .find(|rs| rs.metadata.name == first)
        .unwrap();
    assert_eq!(back.spec.replicas, Some(3));
    assert_eq!(revision_of(back), 3);
    // Rolling back to what is already current is refused, with kubectl's words.
    let error = undo(cluster.api(), "default", "web", 3).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "skipped rollback (current template already matches revision 3)"
    );
    let error = undo(cluster.api(), "default", "web", 9).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "toRevision: unable to find specified revision 9 in history"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn recreate_never_runs_old_and_new_pods_together() {
    let mut cluster = Cluster::new(3, 6);
    let mut d = deployment(3, "fake/app:v1");
    d.spec.strategy = Some(api::DeploymentStrategy {
        strategy_type: Some("Recreate".into()),
        rolling_update: None,
    });
    cluster.api().create(d).await.unwrap();
    cluster
        .run_until(MINUTE, &mut no_check(), |w| settled_on(w, 3, "fake/app:v1"))
        .await
        .unwrap();
    set_image(&cluster, "fake/app:v2").await;
    let mut never_mixed = |world: &World| {
        let images: std::collections::BTreeSet<&str> = world.pods.iter().map(image_of).collect();
        if images.len() > 1 {
            return Err(format!("old and new pods together: {images:?}"));
        }
        Ok(())
    };
    cluster
        .run_until(5 * MINUTE, &mut never_mixed, |w| {
            settled_on(w, 3, "fake/app:v2")
        })
        .await
        .unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn a_paused_deployment_scales_but_does_not_roll_out() {
    let mut cluster = Cluster::new(2, 7);
    cluster
        .api()
        .create(deployment(2, "fake/app:v1"))
        .await
        .unwrap();
    cluster
        .run_until(MINUTE, &mut no_check(), |w| settled_on(w, 2, "fake/app:v1"))
        .await
        .unwrap();
    let mut d: Deployment = cluster.api().get(Some("default"), "web").await.unwrap();
    d.spec.paused = Some(true);
    d.spec.replicas = Some(3);
    d.spec.template.spec.containers[0].image = "fake/app:v2".into();
    cluster.api().update(d).await.unwrap();
    // Scaled to 3 on the old template; no pod runs the new one (updated stays 0).
    let world = cluster
        .run_until(MINUTE, &mut no_check(), |w| {
            let status = w.deployments[0].status.clone().unwrap_or_default();
            w.pods.len() == 3
                && available(w).len() == 3
                && w.pods.iter().all(|p| image_of(p) == "fake/app:v1")
                && (
                    status.replicas,
                    status.updated_replicas,
                    status.available_replicas,
                ) == (3, 0, 3)
        })
        .await
        .unwrap();
    assert_eq!(
        world.replica_sets.len(),
        1,
        "no new ReplicaSet while paused"
    );
    let progressing = world.deployments[0]
        .status
        .as_ref()
        .unwrap()
        .conditions
        .iter()
        .find(|c| c.condition_type == "Progressing")
        .cloned()
        .unwrap();
    assert_eq!(progressing.reason.as_deref(), Some("DeploymentPaused"));

    let mut d: Deployment = cluster.api().get(Some("default"), "web").await.unwrap();
    d.spec.paused = None;
    cluster.api().update(d).await.unwrap();
    cluster
        .run_until(5 * MINUTE, &mut no_check(), |w| {
            settled_on(w, 3, "fake/app:v2")
        })
        .await
        .unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn old_replica_sets_beyond_the_history_limit_are_deleted() {
    let mut cluster = Cluster::new(2, 8);
    let mut d = deployment(2, "fake/app:v1");
    d.spec.revision_history_limit = Some(1);
    cluster.api().create(d).await.unwrap();
    for image in ["fake/app:v1", "fake/app:v2", "fake/app:v3"] {
        if image != "fake/app:v1" {
            set_image(&cluster, image).await;
        }
        cluster
            .run_until(5 * MINUTE, &mut no_check(), |w| settled_on(w, 2, image))
            .await
            .unwrap();
    }
    cluster.run_for(Duration::from_secs(5)).await.unwrap();
    let mut revisions: Vec<i64> = replica_sets(&cluster)
        .await
        .iter()
        .map(revision_of)
        .collect();
    revisions.sort();
    assert_eq!(
        revisions,
        [2, 3],
        "revision 1 was cleaned up, one old revision kept"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn the_rolling_update_timeline() {
    let mut cluster = Cluster::new(2, 42);
    let mut d = deployment(3, "fake/app:v1");
    d.spec.strategy = Some(rolling(IntOrString::Int(1), IntOrString::Int(0)));
    cluster.api().create(d).await.unwrap();
    cluster
        .run_until(MINUTE, &mut no_check(), |w| settled_on(w, 3, "fake/app:v1"))
        .await
        .unwrap();
    set_image(&cluster, "fake/app:v2").await;
    cluster
        .run_until(5 * MINUTE, &mut rolling_bounds(3, 1, 0), |w| {
            settled_on(w, 3, "fake/app:v2")
        })
        .await
        .unwrap();
    insta::assert_snapshot!(cluster.timeline().join("\n"));
}

#[tokio::test(flavor = "current_thread")]
async fn min_ready_seconds_holds_each_step_until_new_pods_have_proven_themselves() {
    let mut cluster = Cluster::new(2, 9);
    let mut d = deployment(3, "fake/app:v1");
    d.spec.strategy = Some(rolling(IntOrString::Int(1), IntOrString::Int(0)));
    d.spec.min_ready_seconds = Some(10);
    cluster.api().create(d).await.unwrap();
    cluster
        .run_until(MINUTE, &mut no_check(), |w| settled_on(w, 3, "fake/app:v1"))
        .await
        .unwrap();
    set_image(&cluster, "fake/app:v2").await;
    let start = cluster.now();
    cluster
        .run_until(5 * MINUTE, &mut rolling_bounds(3, 1, 0), |w| {
            settled_on(w, 3, "fake/app:v2")
        })
        .await
        .unwrap();
    // Three moves, each waiting for a new pod to be ready for 10 s of virtual time.
    let took = cluster.now() - start;
    assert!(took >= Duration::from_secs(30), "took {took:?}");
}
