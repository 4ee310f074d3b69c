//! The flags behind self-healing: the schedulers' leader election timing, the controller
//! manager's node lifecycle timing, and what `skiff up --standby` adds to each command line.

use std::path::PathBuf;
use std::time::Duration;

use skiff::cmd;
use skiff::component::{ClusterSpec, Component, component_args};
use skiff::layout::Layout;

fn args(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_string).collect()
}

#[test]
fn a_15_second_lease_renews_within_10_and_retries_every_3() {
    let config = cmd::scheduler::election_config("s1", 15).unwrap();
    assert_eq!(config.identity, "s1");
    assert_eq!(config.lease_duration, Duration::from_secs(15));
    assert_eq!(config.renew_deadline, Duration::from_secs(10));
    assert_eq!(config.retry_period, Duration::from_secs(3));
}

#[test]
fn a_3_second_lease_for_tests_keeps_the_deadline_below_the_lease() {
    let config = cmd::scheduler::election_config("s2", 3).unwrap();
    assert_eq!(config.lease_duration, Duration::from_secs(3));
    assert_eq!(config.renew_deadline, Duration::from_secs(2));
    assert_eq!(config.retry_period, Duration::from_millis(600));
    assert!(config.validate().is_ok());
}

#[test]
fn leases_too_short_or_too_long_are_refused_naming_the_flag() {
    for seconds in [0, 1, 3601] {
        let error = cmd::scheduler::election_config("s", seconds).unwrap_err();
        assert!(error.contains("--lease-seconds"), "{seconds}: {error}");
        assert!(error.contains(&seconds.to_string()), "{seconds}: {error}");
    }
}

#[test]
fn the_scheduler_elects_only_when_asked() {
    let parsed = cmd::scheduler::parse(&args(
        "--kubeconfig k --leader-elect --lease-seconds 3 --identity s1",
    ))
    .unwrap()
    .unwrap();
    let election = parsed.election.expect("--leader-elect");
    assert_eq!(election.identity, "s1");
    assert_eq!(election.lease_duration, Duration::from_secs(3));

    let error = cmd::scheduler::parse(&args("--kubeconfig k --leader-elect --lease-seconds 1"))
        .unwrap_err();
    assert!(error.contains("--lease-seconds"), "{error}");
}

#[test]
fn without_leader_elect_the_scheduler_acts_alone() {
    let parsed = cmd::scheduler::parse(&args("--kubeconfig k"))
        .unwrap()
        .unwrap();
    assert_eq!(parsed.election, None);
    let error = cmd::scheduler::parse(&args("--kubeconfig k --identity")).unwrap_err();
    assert!(error.contains("--identity"), "{error}");
    let error = cmd::scheduler::parse(&args("--kubeconfig k --identity=")).unwrap_err();
    assert!(error.contains("--identity: must not be empty"), "{error}");
}

#[test]
fn the_controller_manager_takes_the_node_lifecycle_timing() {
    let parsed = cmd::controller_manager::parse(&args(
        "--kubeconfig k --node-grace-seconds 15 --toleration-seconds 1",
    ))
    .unwrap()
    .unwrap();
    assert_eq!(parsed.node_lifecycle.grace_period, Duration::from_secs(15));
    assert_eq!(parsed.node_lifecycle.default_toleration_seconds, 1);

    let defaults = cmd::controller_manager::parse(&args("--kubeconfig k"))
        .unwrap()
        .unwrap();
    assert_eq!(
        defaults.node_lifecycle,
        controllers::nodelifecycle::NodeLifecycleConfig::default()
    );

    // Fewer than three of the kubelets' one-second renewals would make healthy nodes flap.
    let error =
        cmd::controller_manager::parse(&args("--kubeconfig k --node-grace-seconds 2")).unwrap_err();
    assert!(
        error.contains("--node-grace-seconds: 2 is less than 3"),
        "{error}"
    );
    let parsed = cmd::controller_manager::parse(&args("--kubeconfig k --node-grace-seconds 3"))
        .unwrap()
        .unwrap();
    assert_eq!(parsed.node_lifecycle.grace_period, Duration::from_secs(3));
    let error = cmd::controller_manager::parse(&args("--kubeconfig k --toleration-seconds -1"))
        .unwrap_err();
    assert!(error.contains("--toleration-seconds"), "{error}");
}

#[test]
fn skiff_up_standby_makes_the_schedulers_and_controller_managers_elect() {
    let parsed = skiff::up::parse(&args("--standby --lease-seconds 3"))
        .unwrap()
        .unwrap();
    assert_eq!(parsed.standby, Some(3));
    for component in [
        Component::Scheduler,
        Component::StandbyScheduler,
        Component::ControllerManager,
        Component::StandbyControllerManager,
    ] {
        let extra = skiff::up::healing_args(&component, &parsed);
        assert_eq!(
            extra,
            args("--leader-elect --lease-seconds=3"),
            "{component:?}"
        );
    }
    assert!(skiff::up::healing_args(&Component::ApiServer, &parsed).is_empty());

    let error = skiff::up::parse(&args("--standby --lease-seconds 1")).unwrap_err();
    assert!(error.contains("--lease-seconds"), "{error}");
}

#[test]
fn skiff_up_passes_the_node_timing_to_the_controller_manager_only() {
    let parsed = skiff::up::parse(&args("--node-grace-seconds 15 --toleration-seconds 2"))
        .unwrap()
        .unwrap();
    assert_eq!(parsed.standby, None);
    assert_eq!(
        skiff::up::healing_args(&Component::ControllerManager, &parsed),
        args("--node-grace-seconds=15 --toleration-seconds=2")
    );
    assert!(skiff::up::healing_args(&Component::Scheduler, &parsed).is_empty());
    let defaults = skiff::up::parse(&[]).unwrap().unwrap();
    assert!(skiff::up::healing_args(&Component::ControllerManager, &defaults).is_empty());

    let error = skiff::up::parse(&args("--node-grace-seconds 1")).unwrap_err();
    assert!(
        error.contains("--node-grace-seconds: 1 is less than 3"),
        "{error}"
    );
    let error = skiff::up::parse(&args("--toleration-seconds soon")).unwrap_err();
    assert!(error.contains("--toleration-seconds"), "{error}");
}

#[test]
fn the_standby_scheduler_is_a_scheduler_with_a_name_of_its_own() {
    let standby = Component::StandbyScheduler;
    assert_eq!(standby.name(), "scheduler-standby");
    assert_eq!(standby.subcommand(), "scheduler");
    assert!(!standby.is_node());
    let spec = ClusterSpec {
        nodes: 1,
        listen: "127.0.0.1:6443".parse().unwrap(),
        storage: "embedded".to_string(),
    };
    let line = component_args(&standby, &spec, &Layout::new("/data"));
    let parsed = cmd::scheduler::parse(&line[1..]).unwrap().unwrap();
    assert_eq!(
        parsed.kubeconfig,
        PathBuf::from("/data/kubeconfigs/scheduler.kubeconfig")
    );
    assert_eq!(
        parsed.ready_file,
        Some(PathBuf::from("/data/run/scheduler-standby.ready"))
    );
}

#[test]
fn the_controller_manager_elects_only_when_asked() {
    let parsed = cmd::controller_manager::parse(&args(
        "--kubeconfig k --leader-elect --lease-seconds 6 --identity cm1",
    ))
    .unwrap()
    .unwrap();
    let election = parsed.election.expect("--leader-elect");
    assert_eq!(election.identity, "cm1");
    assert_eq!(election.lease_duration, Duration::from_secs(6));
    assert_eq!(election.renew_deadline, Duration::from_secs(4));

    let error =
        cmd::controller_manager::parse(&args("--kubeconfig k --leader-elect --lease-seconds 9999"))
            .unwrap_err();
    assert!(error.contains("--lease-seconds"), "{error}");
    let alone = cmd::controller_manager::parse(&args("--kubeconfig k"))
        .unwrap()
        .unwrap();
    assert_eq!(alone.election, None);
}

#[test]
fn the_standby_controller_manager_is_a_controller_manager_with_a_name_of_its_own() {
    let standby = Component::StandbyControllerManager;
    assert_eq!(standby.name(), "controller-manager-standby");
    assert_eq!(standby.subcommand(), "controller-manager");
    assert!(!standby.is_node());
    let spec = ClusterSpec {
        nodes: 1,
        listen: "127.0.0.1:6443".parse().unwrap(),
        storage: "embedded".to_string(),
    };
    let line = component_args(&standby, &spec, &Layout::new("/data"));
    let parsed = cmd::controller_manager::parse(&line[1..]).unwrap().unwrap();
    assert_eq!(
        parsed.kubeconfig,
        PathBuf::from("/data/kubeconfigs/controller-manager.kubeconfig")
    );
    assert_eq!(
        parsed.ready_file,
        Some(PathBuf::from("/data/run/controller-manager-standby.ready"))
    );
}
