//! Graded tests of `kubelet-pod-phase`: the phase from container states and restart policy.

use api::PodPhase;
use kubelet::ContainerSummary::{Exited, NotStarted, Running};
use kubelet::{RestartPolicy, pod_phase};

const ALL: [RestartPolicy; 3] = [
    RestartPolicy::Always,
    RestartPolicy::OnFailure,
    RestartPolicy::Never,
];

#[test]
fn a_pod_with_a_container_not_yet_started_is_pending() {
    for policy in ALL {
        assert_eq!(pod_phase(policy, &[NotStarted]), PodPhase::Pending);
        assert_eq!(pod_phase(policy, &[Running, NotStarted]), PodPhase::Pending);
        assert_eq!(pod_phase(policy, &[]), PodPhase::Pending);
    }
}

#[test]
fn a_pod_with_a_running_container_is_running() {
    for policy in ALL {
        assert_eq!(pod_phase(policy, &[Running]), PodPhase::Running);
        assert_eq!(pod_phase(policy, &[Exited(1), Running]), PodPhase::Running);
        assert_eq!(pod_phase(policy, &[Exited(0), Running]), PodPhase::Running);
    }
}

#[test]
fn under_always_a_pod_whose_containers_all_exited_is_still_running() {
    assert_eq!(
        pod_phase(RestartPolicy::Always, &[Exited(0)]),
        PodPhase::Running
    );
    assert_eq!(
        pod_phase(RestartPolicy::Always, &[Exited(1), Exited(0)]),
        PodPhase::Running
    );
}

#[test]
fn all_exited_with_zero_is_succeeded_unless_always() {
    assert_eq!(
        pod_phase(RestartPolicy::OnFailure, &[Exited(0), Exited(0)]),
        PodPhase::Succeeded
    );
    assert_eq!(
        pod_phase(RestartPolicy::Never, &[Exited(0)]),
        PodPhase::Succeeded
    );
}

#[test]
fn a_failure_is_failed_under_never_and_running_under_on_failure() {
    assert_eq!(
        pod_phase(RestartPolicy::Never, &[Exited(0), Exited(137)]),
        PodPhase::Failed
    );
    assert_eq!(
        pod_phase(RestartPolicy::OnFailure, &[Exited(0), Exited(2)]),
        PodPhase::Running
    );
}
