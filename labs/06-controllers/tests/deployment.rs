//! The Deployment controller's pure parts: the template hash, the surge/unavailable
//! arithmetic, history cleanup and rollback.

mod common;

use api::{IntOrString, ObjectMeta, ReplicaSet, ReplicaSetSpec, ReplicaSetStatus};
use common::deployment;
use controllers::deployment::{
    POD_TEMPLATE_HASH, REVISION, RollbackError, fnv1a_32, new_rs_replicas, old_scale_down_budget,
    pod_template_hash, replica_sets_to_clean_up, resolve_fenceposts, rollback,
};
use controllers::pods::controller_ref;

fn int(n: i32) -> IntOrString {
    IntOrString::Int(n)
}

fn pct(s: &str) -> IntOrString {
    IntOrString::String(s.to_string())
}

#[test]
fn fnv1a_matches_the_reference_vectors() {
    assert_eq!(fnv1a_32(b""), 0x811c_9dc5);
    assert_eq!(fnv1a_32(b"a"), 0xe40c_292c);
    assert_eq!(fnv1a_32(b"foobar"), 0xbf9c_f968);
}

#[test]
fn the_template_hash_is_stable_and_changes_with_the_template() {
    let v1 = deployment(3, "fake/app:v1").spec.template;
    let v2 = deployment(3, "fake/app:v2").spec.template;
    let hash = pod_template_hash(&v1, None);
    assert_eq!(hash, pod_template_hash(&v1.clone(), None), "stable");
    assert_eq!(hash, "9d45f45f4", "the same on every machine and run");
    assert_ne!(hash, pod_template_hash(&v2, None));
    assert_ne!(
        hash,
        pod_template_hash(&v1, Some(1)),
        "a collision count changes it"
    );
    // Only characters that are safe in a label value and spell no words.
    assert!(
        hash.chars()
            .all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c)),
        "{hash}"
    );
    // Replica count is not part of the template: scaling keeps the same ReplicaSet.
    assert_eq!(
        hash,
        pod_template_hash(&deployment(7, "fake/app:v1").spec.template, None)
    );
}

#[test]
fn fenceposts_round_surge_up_and_unavailable_down() {
    assert_eq!(
        resolve_fenceposts(Some(&int(1)), Some(&int(1)), 4),
        Ok((1, 1))
    );
    // 25% of 10 = 2.5: surge 3, unavailable 2.
    assert_eq!(
        resolve_fenceposts(Some(&pct("25%")), Some(&pct("25%")), 10),
        Ok((3, 2))
    );
    // Defaults are 25% / 25%.
    assert_eq!(resolve_fenceposts(None, None, 10), Ok((3, 2)));
    assert_eq!(resolve_fenceposts(None, None, 3), Ok((1, 0)));
    assert_eq!(
        resolve_fenceposts(Some(&pct("100%")), Some(&int(0)), 5),
        Ok((5, 0))
    );
}

#[test]
fn fenceposts_that_round_to_zero_allow_one_unavailable() {
    // 10% of 3 = 0.3: surge rounds up to 1, so not both zero.
    assert_eq!(
        resolve_fenceposts(Some(&pct("10%")), Some(&pct("10%")), 3),
        Ok((1, 0))
    );
    // 0 surge and 10% of 3 rounded down to 0: one pod may still be unavailable.
    assert_eq!(
        resolve_fenceposts(Some(&int(0)), Some(&pct("10%")), 3),
        Ok((0, 1))
    );
}

#[test]
fn fenceposts_reject_both_zero_and_garbage_naming_the_field() {
    let err = resolve_fenceposts(Some(&int(0)), Some(&int(0)), 3).unwrap_err();
    assert_eq!(
        err,
        "spec.strategy.rollingUpdate.maxUnavailable: may not be 0 when maxSurge is 0"
    );
    let err = resolve_fenceposts(Some(&pct("0%")), Some(&int(0)), 3).unwrap_err();
    assert!(err.contains("may not be 0"), "{err}");
    let err = resolve_fenceposts(Some(&pct("lots")), None, 3).unwrap_err();
    assert_eq!(
        err,
        "spec.strategy.rollingUpdate.maxSurge: \"lots\" must be an integer or a percentage such as \"25%\""
    );
    let err = resolve_fenceposts(None, Some(&int(-1)), 3).unwrap_err();
    assert_eq!(
        err,
        "spec.strategy.rollingUpdate.maxUnavailable: -1 must be greater than or equal to 0"
    );
}

#[test]
fn the_new_replica_set_grows_within_the_surge() {
    // 4 wanted, surge 1: old 4 + new 0 = 4, so the new one may have 1.
    assert_eq!(new_rs_replicas(4, 1, 4, 0), 1);
    // Already at 5 in total: wait.
    assert_eq!(new_rs_replicas(4, 1, 5, 1), 1);
    // Old ones shrank to 2: the new one may reach 3.
    assert_eq!(new_rs_replicas(4, 1, 4, 2), 3);
    // Never beyond the desired count.
    assert_eq!(new_rs_replicas(4, 10, 0, 0), 4);
    // The scale-down budget: available pods above desired - maxUnavailable.
    assert_eq!(old_scale_down_budget(4, 1, 5), 2);
    assert_eq!(old_scale_down_budget(4, 1, 3), 0);
    assert_eq!(old_scale_down_budget(4, 0, 2), 0);
}

fn revision(name: &str, revision: i64, replicas: i32, image: &str) -> ReplicaSet {
    let d = deployment(1, image);
    let mut template = d.spec.template.clone();
    template
        .metadata
        .labels
        .insert(POD_TEMPLATE_HASH.into(), pod_template_hash(&template, None));
    let mut meta = ObjectMeta::namespaced("default", name);
    meta.annotations
        .insert(REVISION.into(), revision.to_string());
    ReplicaSet {
        metadata: meta,
        spec: ReplicaSetSpec {
            replicas: Some(replicas),
            template,
            ..ReplicaSetSpec::default()
        },
        status: Some(ReplicaSetStatus {
            replicas,
            ..ReplicaSetStatus::default()
        }),
        ..ReplicaSet::default()
    }
}

#[test]
fn cleanup_deletes_the_oldest_idle_revisions_beyond_the_limit() {
    let old = vec![
        revision("r3", 3, 0, "a"),
        revision("r1", 1, 0, "b"),
        revision("r2", 2, 2, "c"), // still has pods: kept
        revision("r4", 4, 0, "d"),
    ];
    let names = |limit| -> Vec<String> {
        replica_sets_to_clean_up(&old, limit)
            .into_iter()
            .map(|rs| rs.metadata.name.clone().unwrap())
            .collect()
    };
    assert_eq!(names(1), ["r1", "r3", "r4"]);
    assert_eq!(names(2), ["r1", "r3"]);
    assert_eq!(names(10), Vec::<String>::new());
    assert_eq!(
        names(0),
        ["r1", "r3", "r4"],
        "the busy one is never deleted"
    );
}

#[test]
fn rollback_copies_the_old_template_without_the_hash_label() {
    let mut d = deployment(3, "fake/app:v2");
    d.metadata.uid = Some("d-uid".into());
    let owned = |mut rs: ReplicaSet| {
        rs.metadata.owner_references.push(controller_ref(&d));
        rs
    };
    let history = vec![
        owned(revision("web-1", 1, 0, "fake/app:v1")),
        owned(revision("web-2", 2, 3, "fake/app:v2")),
    ];
    let rolled = rollback(&d, &history, 1).unwrap();
    assert_eq!(
        rolled.spec.template,
        deployment(3, "fake/app:v1").spec.template
    );
    assert!(
        !rolled
            .spec
            .template
            .metadata
            .labels
            .contains_key(POD_TEMPLATE_HASH)
    );
    // 0 means "the previous revision".
    assert_eq!(rollback(&d, &history, 0).unwrap(), rolled);
    assert_eq!(
        rollback(&d, &history, 2),
        Err(RollbackError::AlreadyCurrent(2))
    );
    assert_eq!(
        rollback(&d, &history, 5),
        Err(RollbackError::RevisionNotFound(5))
    );
    // ReplicaSets of someone else are not history.
    let foreign = vec![revision("x-1", 1, 0, "fake/app:v1")];
    assert_eq!(rollback(&d, &foreign, 1), Err(RollbackError::NoHistory));
    assert_eq!(
        RollbackError::NoHistory.to_string(),
        "no rollout history found for deployment"
    );
}
