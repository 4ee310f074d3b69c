//! Leader election on virtual time: the elector's decisions, failover between two candidates
//! over the in-memory API, a paused leader, and two real schedulers of which only the leader
//! binds. At every step the tests check that never two candidates may act at once.

#[path = "../../05-scheduler/tests/common/mod.rs"]
mod scheduling;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use api::client::{ApiClient, ApiResult, InMemoryApi};
use api::{LabelSelector, Lease, LeaseSpec, Node, ObjectMeta, Pod, Time};
use controllers::leader::{
    Component, Decision, ElectionConfig, Elector, LEADER_LEASE_NAMESPACE, LeaderElector,
    Transition, WhileLeading,
};
use controllers::replicaset::ReplicaSetController;
use controllers::runtime::Runner;
use scheduler::driver::SchedulerDriver;
use scheduler::{Profile, Scheduler};

const EPOCH: i64 = 1_700_000_000;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn api() -> InMemoryApi {
    InMemoryApi::with_clock(Arc::new(|| Time(EPOCH)))
}

fn held_by(holder: &str) -> LeaseSpec {
    LeaseSpec {
        holder_identity: Some(holder.to_string()),
        lease_duration_seconds: Some(15),
        ..LeaseSpec::default()
    }
}

fn candidate(api: &InMemoryApi, identity: &str) -> LeaderElector<InMemoryApi> {
    LeaderElector::new(
        api.clone(),
        LEADER_LEASE_NAMESPACE,
        "kube-scheduler",
        ElectionConfig::new(identity),
        Time(EPOCH),
    )
    .unwrap()
}

#[test]
fn with_no_lease_a_candidate_acquires() {
    let elector = Elector::new(ElectionConfig::new("a"));
    assert_eq!(elector.decide(secs(0)), Decision::Acquire);
}

#[test]
fn a_lease_held_by_another_is_respected_until_it_expires_on_our_clock() {
    let mut elector = Elector::new(ElectionConfig::new("a"));
    elector.observe(Some(&held_by("b")), secs(100));
    assert_eq!(
        elector.decide(secs(114)),
        Decision::StandBy {
            expires_at: secs(115)
        }
    );
    // The same lease seen again does not restart the clock: nobody renewed it.
    elector.observe(Some(&held_by("b")), secs(110));
    assert_eq!(elector.decide(secs(115)), Decision::Acquire);
}

#[test]
fn a_renewal_seen_restarts_the_expiry_clock() {
    let mut elector = Elector::new(ElectionConfig::new("a"));
    elector.observe(Some(&held_by("b")), secs(0));
    let mut renewed = held_by("b");
    renewed.renew_time = Some(api::MicroTime(5));
    elector.observe(Some(&renewed), secs(10));
    assert_eq!(
        elector.decide(secs(20)),
        Decision::StandBy {
            expires_at: secs(25)
        }
    );
}

#[test]
fn a_lease_without_holder_or_held_by_us_is_acquired_at_once() {
    let mut elector = Elector::new(ElectionConfig::new("a"));
    elector.observe(Some(&LeaseSpec::default()), secs(0));
    assert_eq!(elector.decide(secs(0)), Decision::Acquire);
    elector.observe(Some(&held_by("a")), secs(1));
    assert_eq!(elector.decide(secs(1)), Decision::Acquire);
}

#[test]
fn a_leader_renews_every_retry_period_and_steps_down_after_the_deadline() {
    let mut elector = Elector::new(ElectionConfig::new("a"));
    elector.wrote(&held_by("a"), secs(10));
    assert!(elector.is_leading(secs(10)));
    assert_eq!(
        elector.decide(secs(11)),
        Decision::Lead { renew_at: secs(12) }
    );
    assert_eq!(elector.decide(secs(12)), Decision::Renew);
    // Renewals failed until the deadline: stop acting.
    assert_eq!(elector.decide(secs(20)), Decision::StepDown);
    assert!(!elector.is_leading(secs(20)));
}

#[test]
fn a_leader_that_sees_another_holder_steps_down() {
    let mut elector = Elector::new(ElectionConfig::new("a"));
    elector.wrote(&held_by("a"), secs(10));
    elector.observe(Some(&held_by("b")), secs(11));
    assert_eq!(elector.decide(secs(11)), Decision::StepDown);
}

#[test]
fn inconsistent_timings_are_rejected_naming_the_field() {
    let mut config = ElectionConfig::new("a");
    config.renew_deadline = secs(20);
    let error = LeaderElector::new(api(), "kube-system", "x", config, Time(EPOCH))
        .err()
        .unwrap();
    assert_eq!(error, "leaseDuration: must be greater than renewDeadline");
    let mut config = ElectionConfig::new("");
    config.retry_period = secs(1);
    assert_eq!(
        config.validate().unwrap_err(),
        "identity: must not be empty"
    );
    let mut config = ElectionConfig::new("a");
    config.retry_period = Duration::ZERO;
    assert_eq!(
        config.validate().unwrap_err(),
        "retryPeriod: must be greater than zero"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn two_candidates_racing_for_a_new_lease_get_one_leader() {
    let api = api();
    let mut a = candidate(&api, "a");
    let mut b = candidate(&api, "b");
    assert_eq!(a.tick(secs(0)).await.unwrap(), Transition::Acquired);
    assert_eq!(b.tick(secs(0)).await.unwrap(), Transition::None);
    assert!(a.is_leading(secs(0)));
    assert!(!b.is_leading(secs(0)));
    let lease: Lease = api
        .get(Some(LEADER_LEASE_NAMESPACE), "kube-scheduler")
        .await
        .unwrap();
    assert_eq!(lease.spec.holder_identity.as_deref(), Some("a"));
    assert_eq!(lease.spec.lease_transitions, Some(0));
}

#[tokio::test(flavor = "current_thread")]
async fn a_write_from_a_stale_read_is_a_conflict_and_loses() {
    let api = api();
    let mut a = candidate(&api, "a");
    a.tick(secs(0)).await.unwrap();
    // b read the lease long ago; meanwhile a renewed it: b's update carries an old version.
    let mut stale: Lease = api
        .get(Some(LEADER_LEASE_NAMESPACE), "kube-scheduler")
        .await
        .unwrap();
    a.tick(secs(2)).await.unwrap();
    stale.spec.holder_identity = Some("b".into());
    let error = api.update(stale).await.unwrap_err();
    assert!(matches!(error, api::client::ApiError::Conflict { .. }));
}

// ANCHOR: failover_test
/// Steps both candidates every second from 0 to `until`; `a` stops (crashes) at `a_stops`.
/// Returns, per second, who may act; panics if two may act at once.
async fn run_pair(api: &InMemoryApi, until: u64, a_stops: u64) -> Vec<(u64, &'static str)> {
    let mut a = candidate(api, "a");
    let mut b = candidate(api, "b");
    let mut leaders = Vec::new();
    for t in 0..=until {
        let now = secs(t);
        if t < a_stops {
            a.tick(now).await.unwrap();
        }
        b.tick(now).await.unwrap();
        let acting = (a.is_leading(now), b.is_leading(now));
        assert!(!(acting.0 && acting.1), "two leaders at t={t}");
        let who = match acting {
            (true, _) => "a",
            (_, true) => "b",
            _ => "-",
        };
        if leaders.last().is_none_or(|(_, last)| *last != who) {
            leaders.push((t, who));
        }
    }
    leaders
}

#[tokio::test(flavor = "current_thread")]
async fn when_the_leader_stops_the_other_takes_over_within_the_lease_duration() {
    let api = api();
    let leaders = run_pair(&api, 60, 30).await;
    // a renewed last at t=28; b saw that at t=28 and takes over 15 s later. a stopped acting
    // at 28 + 10 (its renew deadline), so there is a gap with no leader, never an overlap.
    assert_eq!(leaders, vec![(0, "a"), (38, "-"), (43, "b")]);
    let lease: Lease = api
        .get(Some(LEADER_LEASE_NAMESPACE), "kube-scheduler")
        .await
        .unwrap();
    assert_eq!(lease.spec.holder_identity.as_deref(), Some("b"));
    assert_eq!(lease.spec.lease_transitions, Some(1));
}
// ANCHOR_END: failover_test

#[tokio::test(flavor = "current_thread")]
async fn a_paused_leader_steps_down_on_waking_and_never_acts_beside_the_new_one() {
    let api = api();
    let mut a = candidate(&api, "a");
    let mut b = candidate(&api, "b");
    a.tick(secs(0)).await.unwrap();
    b.tick(secs(0)).await.unwrap();
    // a is paused (a long GC, a stopped VM) from t=1 to t=40; b keeps looking.
    for t in 1..40 {
        b.tick(secs(t)).await.unwrap();
        assert!(!(a.is_leading(secs(t)) && b.is_leading(secs(t))), "t={t}");
    }
    assert!(b.is_leading(secs(39)));
    // On waking, a's own clock already says its deadline has passed: it must not act, and
    // its next tick reports the loss without writing anything.
    assert!(!a.is_leading(secs(40)));
    assert_eq!(a.tick(secs(40)).await.unwrap(), Transition::Lost);
    assert_eq!(b.tick(secs(40)).await.unwrap(), Transition::None);
    assert!(b.is_leading(secs(40)));
}

#[tokio::test(flavor = "current_thread")]
async fn a_released_lease_is_taken_over_without_waiting_for_expiry() {
    let api = api();
    let mut a = candidate(&api, "a");
    let mut b = candidate(&api, "b");
    a.tick(secs(0)).await.unwrap();
    b.tick(secs(0)).await.unwrap();
    a.release(secs(1)).await.unwrap();
    assert!(!a.is_leading(secs(1)));
    assert_eq!(b.tick(secs(2)).await.unwrap(), Transition::Acquired);
}

/// A Ready node with 4 CPUs and 8Gi (lab 05's test builder).
fn node(name: &str) -> Node {
    scheduling::node(name, "4", "8Gi")
}

/// A one-container pod in `default` that requests nothing (lab 05's test builder).
fn pod(name: &str) -> Pod {
    scheduling::pod(name, "", "")
}

/// A scheduler driver that records how many pods it bound: the "acting" we watch.
struct CountingScheduler {
    driver: SchedulerDriver<InMemoryApi>,
    bound: usize,
}

impl Component for CountingScheduler {
    async fn step(&mut self, now: Duration) -> ApiResult<()> {
        let decisions = self.driver.run_until_quiet(now).await?;
        self.bound += decisions.len();
        Ok(())
    }
}

fn guarded_scheduler(
    api: &InMemoryApi,
    identity: &str,
) -> WhileLeading<InMemoryApi, CountingScheduler> {
    let scheduler = Scheduler::new(Profile::default_plugins());
    let driver = SchedulerDriver::new(api.clone(), scheduler, Time(EPOCH));
    WhileLeading::new(
        candidate(api, identity),
        CountingScheduler { driver, bound: 0 },
    )
}

#[tokio::test(flavor = "current_thread")]
async fn of_two_schedulers_only_the_leader_binds_and_the_other_takes_over() {
    let api = api();
    api.create(node("n1")).await.unwrap();
    let mut a = guarded_scheduler(&api, "scheduler-a");
    let mut b = guarded_scheduler(&api, "scheduler-b");
    for i in 0..3 {
        api.create(pod(&format!("early-{i}"))).await.unwrap();
    }
    for t in 0..5 {
        let a_acted = a.step(secs(t)).await.unwrap();
        let b_acted = b.step(secs(t)).await.unwrap();
        assert!(a_acted && !b_acted, "t={t}: only a acts");
    }
    assert_eq!(a.component().bound, 3);
    assert_eq!(b.component().bound, 0);

    // a dies; new pods arrive and wait until b takes over.
    for i in 0..2 {
        api.create(pod(&format!("late-{i}"))).await.unwrap();
    }
    let mut took_over = None;
    for t in 5..40 {
        if b.step(secs(t)).await.unwrap() && took_over.is_none() {
            took_over = Some(t);
        }
        assert!(!a.elector().is_leading(secs(t)) || !b.elector().is_leading(secs(t)));
    }
    // a last renewed at t=4: b takes over 15 s after it saw that renewal.
    assert_eq!(took_over, Some(19));
    assert_eq!(b.component().bound, 2);
    let pods = api
        .list::<Pod>(None, &LabelSelector::default())
        .await
        .unwrap();
    assert!(
        pods.items
            .iter()
            .all(|p| p.spec.node_name.as_deref() == Some("n1"))
    );
}

fn replica_set(replicas: i32) -> api::ReplicaSet {
    let labels = BTreeMap::from([("app".to_string(), "web".to_string())]);
    api::ReplicaSet {
        metadata: ObjectMeta::namespaced("default", "web"),
        spec: api::ReplicaSetSpec {
            replicas: Some(replicas),
            selector: LabelSelector::from_pairs([("app", "web")]),
            template: api::PodTemplateSpec {
                metadata: ObjectMeta {
                    labels,
                    ..ObjectMeta::default()
                },
                spec: pod("template").spec,
            },
            ..api::ReplicaSetSpec::default()
        },
        ..api::ReplicaSet::default()
    }
}

type GuardedRunner = WhileLeading<InMemoryApi, Runner<InMemoryApi, ReplicaSetController>>;

fn controller_manager(api: &InMemoryApi, identity: &str, seed: u64) -> GuardedRunner {
    // The controller manager has its own lease, apart from the scheduler's.
    let elector = LeaderElector::new(
        api.clone(),
        LEADER_LEASE_NAMESPACE,
        "kube-controller-manager",
        ElectionConfig::new(identity),
        Time(EPOCH),
    )
    .unwrap();
    let runner = Runner::new(api.clone(), ReplicaSetController::new(seed, Time(EPOCH)));
    WhileLeading::new(elector, runner)
}

async fn pod_names(api: &InMemoryApi) -> Vec<String> {
    let pods = api
        .list::<Pod>(None, &LabelSelector::default())
        .await
        .unwrap();
    pods.items
        .iter()
        .map(|p| p.metadata.name.clone().unwrap_or_default())
        .collect()
}

#[tokio::test(flavor = "current_thread")]
async fn of_two_controller_managers_only_the_leader_reconciles() {
    let api = api();
    api.create(replica_set(3)).await.unwrap();
    let mut a = controller_manager(&api, "cm-a", 1);
    let mut b = controller_manager(&api, "cm-b", 2);
    for t in 0..5 {
        assert!(a.step(secs(t)).await.unwrap(), "t={t}: a leads");
        assert!(!b.step(secs(t)).await.unwrap(), "t={t}: b stands by");
    }
    // Three pods, not six: b, standing by, created none.
    let before = pod_names(&api).await;
    assert_eq!(before.len(), 3);

    // a stops; a pod dies; b takes over and replaces it, and only it.
    let _: Pod = api
        .delete(
            Some("default"),
            &before[0],
            api::client::DeleteOptions::default(),
        )
        .await
        .unwrap();
    let mut took_over = None;
    for t in 5..30 {
        if b.step(secs(t)).await.unwrap() && took_over.is_none() {
            took_over = Some(t);
        }
    }
    assert_eq!(took_over, Some(19));
    let after = pod_names(&api).await;
    assert_eq!(after.len(), 3);
    assert!(!after.contains(&before[0]));
}
