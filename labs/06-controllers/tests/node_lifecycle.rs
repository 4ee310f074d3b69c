//! The node lifecycle controller on virtual time: the pure decisions (Ready condition,
//! taints, eviction time), then the whole story on the in-memory API: heartbeats stop → after
//! the grace period the node is Unknown and tainted → after the toleration its pods are
//! evicted → heartbeats resume → the taints go.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use api::client::{ApiClient, InMemoryApi};
use api::{
    Condition, Container, Event, LabelSelector, Lease, LeaseSpec, MicroTime, Node, NodeStatus,
    ObjectMeta, Pod, Taint, Time, Toleration,
};
use controllers::nodelifecycle::eviction::{eviction_time, tolerates};
use controllers::nodelifecycle::health::{
    NOT_READY_TAINT, UNREACHABLE_TAINT, desired_taints, fully_disrupted, ready_condition,
};
use controllers::nodelifecycle::{
    NODE_LEASE_NAMESPACE, NodeLifecycleConfig, NodeLifecycleController,
};
use controllers::runtime::Runner;

const EPOCH: i64 = 1_700_000_000;
const GRACE: Duration = Duration::from_secs(10);

fn at(seconds: i64) -> MicroTime {
    MicroTime((EPOCH + seconds) * 1_000_000)
}

fn node_with_ready(status: &str, heartbeat: i64) -> Node {
    Node {
        metadata: ObjectMeta {
            creation_timestamp: Some(Time(EPOCH)),
            ..ObjectMeta::named("n1")
        },
        status: Some(NodeStatus {
            conditions: vec![Condition {
                condition_type: "Ready".into(),
                status: status.into(),
                last_heartbeat_time: Some(Time(EPOCH + heartbeat)),
                reason: Some("KubeletReady".into()),
                ..Condition::default()
            }],
            ..NodeStatus::default()
        }),
        ..Node::default()
    }
}

fn lease(node: &str, renewed: i64) -> Lease {
    Lease {
        metadata: ObjectMeta::namespaced(NODE_LEASE_NAMESPACE, node),
        spec: LeaseSpec {
            holder_identity: Some(node.into()),
            lease_duration_seconds: Some(40),
            renew_time: Some(at(renewed)),
            ..LeaseSpec::default()
        },
        ..Lease::default()
    }
}

#[test]
fn a_fresh_lease_keeps_the_kubelets_report() {
    let node = node_with_ready("True", 0);
    assert_eq!(
        ready_condition(&node, Some(&lease("n1", 25)), at(30), GRACE),
        None
    );
}

#[test]
fn a_lease_older_than_the_grace_period_makes_the_node_unknown() {
    let node = node_with_ready("True", 0);
    let condition = ready_condition(&node, Some(&lease("n1", 20)), at(30), GRACE).unwrap();
    assert_eq!(condition.status, "Unknown");
    assert_eq!(condition.reason.as_deref(), Some("NodeStatusUnknown"));
    assert_eq!(
        condition.message.as_deref(),
        Some("Kubelet stopped posting node status.")
    );
    assert_eq!(condition.last_transition_time, Some(Time(EPOCH + 30)));
    // The kubelet's last heartbeat stays on record.
    assert_eq!(condition.last_heartbeat_time, Some(Time(EPOCH)));
    // One second earlier, the grace period had not yet run out.
    assert_eq!(
        ready_condition(&node, Some(&lease("n1", 20)), at(29), GRACE),
        None
    );
}

#[test]
fn an_unknown_node_is_not_marked_twice() {
    let node = node_with_ready("Unknown", 0);
    assert_eq!(
        ready_condition(&node, Some(&lease("n1", 0)), at(100), GRACE),
        None
    );
}

#[test]
fn a_node_that_never_posted_status_is_unknown_after_grace_from_creation() {
    let mut node = node_with_ready("True", 0);
    node.status = None;
    assert_eq!(ready_condition(&node, None, at(9), GRACE), None);
    let condition = ready_condition(&node, None, at(10), GRACE).unwrap();
    assert_eq!(condition.reason.as_deref(), Some("NodeStatusNeverUpdated"));
}

#[test]
fn the_taints_follow_the_ready_condition_and_other_taints_stay() {
    let mut node = node_with_ready("Unknown", 0);
    let dedicated = Taint {
        key: "dedicated".into(),
        value: Some("gpu".into()),
        effect: "NoSchedule".into(),
        time_added: None,
    };
    node.spec.taints.push(dedicated.clone());
    let taints = desired_taints(&node, at(30));
    let summary: Vec<String> = taints
        .iter()
        .map(|t| {
            format!(
                "{}:{} {:?}",
                t.key,
                t.effect,
                t.time_added.map(|a| a.0 - EPOCH)
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            "dedicated:NoSchedule None",
            "node.kubernetes.io/unreachable:NoSchedule None",
            "node.kubernetes.io/unreachable:NoExecute Some(30)",
        ]
    );
    // Later reconciles keep the original timeAdded.
    node.spec.taints = taints.clone();
    assert_eq!(desired_taints(&node, at(45)), taints);
    // NotReady swaps unreachable for not-ready; Ready removes both.
    node.status.as_mut().unwrap().conditions[0].status = "False".into();
    let keys: Vec<String> = desired_taints(&node, at(50))
        .iter()
        .map(|t| format!("{}:{}", t.key, t.effect))
        .collect();
    assert_eq!(
        keys,
        vec![
            "dedicated:NoSchedule".to_string(),
            format!("{NOT_READY_TAINT}:NoSchedule"),
            format!("{NOT_READY_TAINT}:NoExecute"),
        ]
    );
    node.status.as_mut().unwrap().conditions[0].status = "True".into();
    assert_eq!(desired_taints(&node, at(60)), vec![dedicated]);
}

fn unreachable_since(seconds: i64) -> Taint {
    Taint {
        key: UNREACHABLE_TAINT.into(),
        value: None,
        effect: "NoExecute".into(),
        time_added: Some(Time(EPOCH + seconds)),
    }
}

fn toleration(key: &str, seconds: Option<i64>) -> Toleration {
    Toleration {
        key: Some(key.into()),
        operator: Some("Exists".into()),
        effect: Some("NoExecute".into()),
        toleration_seconds: seconds,
        ..Toleration::default()
    }
}

#[test]
fn a_pod_without_toleration_gets_the_default() {
    let pod = Pod::default();
    let when = eviction_time(&pod, &[unreachable_since(15)], 20, Time(EPOCH + 15));
    assert_eq!(when, Some(Time(EPOCH + 35)));
}

#[test]
fn toleration_seconds_override_the_default_and_none_means_forever() {
    let mut pod = Pod::default();
    pod.spec.tolerations = vec![toleration(UNREACHABLE_TAINT, Some(5))];
    let taints = [unreachable_since(15)];
    assert_eq!(
        eviction_time(&pod, &taints, 20, Time(EPOCH)),
        Some(Time(EPOCH + 20))
    );
    pod.spec.tolerations = vec![toleration(UNREACHABLE_TAINT, None)];
    assert_eq!(eviction_time(&pod, &taints, 20, Time(EPOCH)), None);
}

#[test]
fn an_untolerated_custom_no_execute_taint_evicts_at_once() {
    let taint = Taint {
        key: "maintenance".into(),
        value: None,
        effect: "NoExecute".into(),
        time_added: Some(Time(EPOCH + 7)),
    };
    assert_eq!(
        eviction_time(
            &Pod::default(),
            std::slice::from_ref(&taint),
            20,
            Time(EPOCH)
        ),
        Some(Time(EPOCH + 7))
    );
    // NoSchedule taints never evict.
    let soft = Taint {
        effect: "NoSchedule".into(),
        ..taint
    };
    assert_eq!(
        eviction_time(&Pod::default(), &[soft], 20, Time(EPOCH)),
        None
    );
}

#[test]
fn tolerations_match_by_key_operator_value_and_effect() {
    let taint = Taint {
        key: "dedicated".into(),
        value: Some("gpu".into()),
        effect: "NoExecute".into(),
        time_added: None,
    };
    let equal = |value: &str| Toleration {
        key: Some("dedicated".into()),
        value: Some(value.into()),
        ..Toleration::default()
    };
    assert!(tolerates(&equal("gpu"), &taint));
    assert!(!tolerates(&equal("cpu"), &taint));
    let everything = Toleration {
        operator: Some("Exists".into()),
        ..Toleration::default()
    };
    assert!(tolerates(&everything, &taint));
    let other_effect = Toleration {
        effect: Some("NoSchedule".into()),
        ..equal("gpu")
    };
    assert!(!tolerates(&other_effect, &taint));
}

/// A cluster on the in-memory API whose clock the test moves, and a stand-in kubelet per
/// node that renews its Lease and posts Ready=True.
struct Cluster {
    api: InMemoryApi,
    clock: Arc<AtomicI64>,
}

impl Cluster {
    fn new() -> Self {
        let clock = Arc::new(AtomicI64::new(EPOCH));
        let reading = clock.clone();
        let api = InMemoryApi::with_clock(Arc::new(move || Time(reading.load(Ordering::SeqCst))));
        Cluster { api, clock }
    }

    fn set_time(&self, t: u64) {
        self.clock.store(EPOCH + t as i64, Ordering::SeqCst);
    }

    /// What a kubelet does every second: renew the Lease; post Ready=True if it is not.
    async fn heartbeat(&self, node: &str, t: u64) {
        let now = at(t as i64);
        match self
            .api
            .get::<Lease>(Some(NODE_LEASE_NAMESPACE), node)
            .await
        {
            Ok(mut lease) => {
                lease.spec.renew_time = Some(now);
                self.api.update(lease).await.unwrap();
            }
            Err(_) => {
                self.api.create(lease(node, t as i64)).await.unwrap();
            }
        }
        let mut object: Node = match self.api.get(None, node).await {
            Ok(object) => object,
            Err(_) => self
                .api
                .create(Node {
                    metadata: ObjectMeta::named(node),
                    ..Node::default()
                })
                .await
                .unwrap(),
        };
        let ready = object
            .status
            .iter()
            .flat_map(|s| &s.conditions)
            .any(|c| c.condition_type == "Ready" && c.status == "True");
        if !ready {
            object.status = Some(NodeStatus {
                conditions: vec![Condition {
                    condition_type: "Ready".into(),
                    status: "True".into(),
                    last_heartbeat_time: Some(Time(EPOCH + t as i64)),
                    reason: Some("KubeletReady".into()),
                    ..Condition::default()
                }],
                ..NodeStatus::default()
            });
            self.api.update_status(object).await.unwrap();
        }
    }

    async fn bound_pod(&self, name: &str, node: &str, tolerations: Vec<Toleration>) {
        let pod = Pod {
            metadata: ObjectMeta::namespaced("default", name),
            spec: api::PodSpec {
                node_name: Some(node.into()),
                tolerations,
                containers: vec![Container {
                    name: "app".into(),
                    image: "skiff/sleep".into(),
                    ..Container::default()
                }],
                ..api::PodSpec::default()
            },
            ..Pod::default()
        };
        self.api.create(pod).await.unwrap();
    }

    async fn node(&self, name: &str) -> Node {
        self.api.get(None, name).await.unwrap()
    }

    /// Pods that are not being deleted, as `name@node`.
    async fn live_pods(&self) -> Vec<String> {
        let pods = self
            .api
            .list::<Pod>(None, &LabelSelector::default())
            .await
            .unwrap();
        pods.items
            .iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .map(|p| {
                format!(
                    "{}@{}",
                    p.metadata.name.as_deref().unwrap_or(""),
                    p.spec.node_name.as_deref().unwrap_or("")
                )
            })
            .collect()
    }
}

fn ready_status(node: &Node) -> String {
    node.status
        .iter()
        .flat_map(|s| &s.conditions)
        .find(|c| c.condition_type == "Ready")
        .map_or("-".into(), |c| c.status.clone())
}

fn taint_keys(node: &Node) -> Vec<String> {
    node.spec
        .taints
        .iter()
        .map(|t| format!("{}:{}", t.key, t.effect))
        .collect()
}

// ANCHOR: timeline_test
#[tokio::test(flavor = "current_thread")]
async fn heartbeats_stop_then_unknown_after_grace_then_eviction_after_toleration() {
    let cluster = Cluster::new();
    cluster.heartbeat("n1", 0).await;
    cluster.heartbeat("n2", 0).await;
    cluster.bound_pod("web-1", "n1", vec![]).await;
    cluster
        .bound_pod("patient", "n1", vec![toleration(UNREACHABLE_TAINT, None)])
        .await;
    cluster.bound_pod("web-2", "n2", vec![]).await;
    let controller = NodeLifecycleController::new(NodeLifecycleConfig::default(), Time(EPOCH));
    let mut runner = Runner::new(cluster.api.clone(), controller);

    // n1's kubelet dies at t=5 (its last heartbeat was at t=4); n2 lives on.
    let mut timeline = Vec::new();
    let mut last = String::new();
    for t in 0..=30u64 {
        cluster.set_time(t);
        if t < 5 {
            cluster.heartbeat("n1", t).await;
        }
        cluster.heartbeat("n2", t).await;
        runner
            .run_until_quiet(Duration::from_secs(t))
            .await
            .unwrap();
        let n1 = cluster.node("n1").await;
        let state = format!(
            "n1 Ready={} taints={:?} pods={:?}",
            ready_status(&n1),
            taint_keys(&n1),
            cluster.live_pods().await
        );
        if state != last {
            timeline.push(format!("t={t:>2} {state}"));
            last = state;
        }
    }
    assert_eq!(
        timeline,
        vec![
            "t= 0 n1 Ready=True taints=[] pods=[\"patient@n1\", \"web-1@n1\", \"web-2@n2\"]",
            // 4 s (last heartbeat) + 5 s grace
            "t= 9 n1 Ready=Unknown taints=[\"node.kubernetes.io/unreachable:NoSchedule\", \
             \"node.kubernetes.io/unreachable:NoExecute\"] pods=[\"patient@n1\", \"web-1@n1\", \
             \"web-2@n2\"]",
            // 9 s (taint added) + 3 s default toleration; `patient` tolerates it forever
            "t=12 n1 Ready=Unknown taints=[\"node.kubernetes.io/unreachable:NoSchedule\", \
             \"node.kubernetes.io/unreachable:NoExecute\"] pods=[\"patient@n1\", \"web-2@n2\"]",
        ]
    );
    assert_eq!(runner.controller().evicted(), ["default/web-1"]);
    // What `kubectl describe` would show: one event for the node, one per evicted pod.
    let events = cluster
        .api
        .list::<Event>(None, &LabelSelector::default())
        .await
        .unwrap();
    let mut events: Vec<String> = events
        .items
        .iter()
        .map(|e| {
            format!(
                "{} {}: {}",
                e.reason.as_deref().unwrap_or(""),
                e.involved_object.name.as_deref().unwrap_or(""),
                e.message.as_deref().unwrap_or("")
            )
        })
        .collect();
    events.sort();
    assert_eq!(
        events,
        [
            "NodeNotReady n1: Node n1 status is now: NodeNotReady",
            "TaintManagerEviction web-1: Marking for deletion Pod default/web-1",
        ]
    );
    let n2 = cluster.node("n2").await;
    assert_eq!(ready_status(&n2), "True");
    assert!(n2.spec.taints.is_empty());

    // The kubelet comes back: it renews its Lease and posts Ready=True; the taints go.
    cluster.set_time(31);
    cluster.heartbeat("n1", 31).await;
    runner
        .run_until_quiet(Duration::from_secs(31))
        .await
        .unwrap();
    let n1 = cluster.node("n1").await;
    assert_eq!(ready_status(&n1), "True");
    assert!(n1.spec.taints.is_empty(), "{:?}", n1.spec.taints);
}
// ANCHOR_END: timeline_test

#[tokio::test(flavor = "current_thread")]
async fn kubernetes_timing_takes_grace_plus_toleration_too() {
    let cluster = Cluster::new();
    cluster.heartbeat("n1", 0).await;
    cluster.heartbeat("n2", 0).await;
    cluster.bound_pod("web-1", "n1", vec![]).await;
    let controller = NodeLifecycleController::new(NodeLifecycleConfig::kubernetes(), Time(EPOCH));
    let mut runner = Runner::new(cluster.api.clone(), controller);
    let mut evicted_at = None;
    // Step in 5 s jumps: the controller wakes itself at its deadlines (RequeueAfter). n2 stays
    // healthy (with no Ready node at all, nothing is evicted: see the full disruption test).
    for t in (0..=400u64).step_by(5) {
        cluster.set_time(t);
        cluster.heartbeat("n2", t).await;
        runner
            .run_until_quiet(Duration::from_secs(t))
            .await
            .unwrap();
        if evicted_at.is_none() && cluster.live_pods().await.is_empty() {
            evicted_at = Some(t);
        }
    }
    // The last heartbeat was at 0: Unknown at 50, evicted at 50 + 300.
    assert_eq!(evicted_at, Some(350));
}

#[tokio::test(flavor = "current_thread")]
async fn a_node_reporting_not_ready_is_tainted_at_once_and_emptied_after_toleration() {
    let cluster = Cluster::new();
    cluster.heartbeat("n1", 0).await;
    cluster.heartbeat("n2", 0).await;
    cluster.bound_pod("web-1", "n1", vec![]).await;
    // The kubelet is alive (it keeps renewing) but reports the node NotReady at t=3.
    let mut node = cluster.node("n1").await;
    node.status.as_mut().unwrap().conditions[0].status = "False".into();
    node.status.as_mut().unwrap().conditions[0].reason = Some("KubeletNotReady".into());
    cluster.api.update_status(node).await.unwrap();
    let controller = NodeLifecycleController::new(NodeLifecycleConfig::default(), Time(EPOCH));
    let mut runner = Runner::new(cluster.api.clone(), controller);
    let mut tainted_at = None;
    let mut evicted_at = None;
    for t in 3..=15u64 {
        cluster.set_time(t);
        cluster.heartbeat("n2", t).await;
        let mut lease: Lease = cluster
            .api
            .get(Some(NODE_LEASE_NAMESPACE), "n1")
            .await
            .unwrap();
        lease.spec.renew_time = Some(at(t as i64));
        cluster.api.update(lease).await.unwrap();
        runner
            .run_until_quiet(Duration::from_secs(t))
            .await
            .unwrap();
        let n1 = cluster.node("n1").await;
        if tainted_at.is_none() && !n1.spec.taints.is_empty() {
            tainted_at = Some(t);
            assert_eq!(
                taint_keys(&n1),
                [
                    format!("{NOT_READY_TAINT}:NoSchedule"),
                    format!("{NOT_READY_TAINT}:NoExecute")
                ]
            );
            // The kubelet's own report stands: the controller does not overwrite it.
            assert_eq!(ready_status(&n1), "False");
        }
        if evicted_at.is_none() && cluster.live_pods().await.is_empty() {
            evicted_at = Some(t);
        }
    }
    assert_eq!(
        tainted_at,
        Some(3),
        "no grace period for a node that says it is not ready"
    );
    assert_eq!(evicted_at, Some(6), "3 s of default toleration");
}

#[tokio::test(flavor = "current_thread")]
async fn when_no_node_is_ready_nothing_is_evicted_until_one_comes_back() {
    let cluster = Cluster::new();
    cluster.heartbeat("n1", 0).await;
    cluster.heartbeat("n2", 0).await;
    cluster.bound_pod("web-1", "n1", vec![]).await;
    cluster.bound_pod("web-2", "n2", vec![]).await;
    let controller = NodeLifecycleController::new(NodeLifecycleConfig::default(), Time(EPOCH));
    let mut runner = Runner::new(cluster.api.clone(), controller);
    // Both kubelets go silent at t=1 (an API server outage looks the same from here): both
    // nodes are Unknown after the grace period, kept off by NoSchedule, and nothing is evicted.
    for t in 0..=30u64 {
        cluster.set_time(t);
        runner
            .run_until_quiet(Duration::from_secs(t))
            .await
            .unwrap();
    }
    for name in ["n1", "n2"] {
        let node = cluster.node(name).await;
        assert_eq!(ready_status(&node), "Unknown");
        assert_eq!(
            taint_keys(&node),
            [format!("{UNREACHABLE_TAINT}:NoSchedule")],
            "no NoExecute taint on {name} while no node is Ready"
        );
    }
    assert_eq!(cluster.live_pods().await, ["web-1@n1", "web-2@n2"]);
    assert!(runner.controller().evicted().is_empty());

    // n2 comes back at t=31. The disruption is over: n1 gets its NoExecute taint now, and its
    // pod the full toleration from now, not from t=6.
    let mut evicted_at = None;
    for t in 31..=40u64 {
        cluster.set_time(t);
        cluster.heartbeat("n2", t).await;
        runner
            .run_until_quiet(Duration::from_secs(t))
            .await
            .unwrap();
        if evicted_at.is_none() && cluster.live_pods().await == ["web-2@n2"] {
            evicted_at = Some(t);
        }
    }
    let toleration = NodeLifecycleConfig::default().default_toleration_seconds as u64;
    assert_eq!(evicted_at, Some(31 + toleration));
    assert_eq!(ready_status(&cluster.node("n2").await), "True");
}

#[test]
fn full_disruption_means_no_node_is_ready() {
    let ready = node_with_ready("True", 0);
    let unknown = node_with_ready("Unknown", 0);
    let not_ready = node_with_ready("False", 0);
    assert!(fully_disrupted([&unknown, &not_ready]));
    assert!(!fully_disrupted([&unknown, &ready]));
    assert!(
        !fully_disrupted(std::iter::empty::<&Node>()),
        "no node, no disruption"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_controller_that_starts_late_gives_every_node_a_whole_grace_period() {
    let cluster = Cluster::new();
    cluster.heartbeat("n1", 0).await;
    cluster.heartbeat("n2", 0).await;
    cluster.bound_pod("web-1", "n1", vec![]).await;
    // The controller manager starts at t=100 (a resumed cluster, a restarted controller):
    // both Leases are 100 s old, but it was not there to see them stop.
    let controller = NodeLifecycleController::new(NodeLifecycleConfig::default(), Time(EPOCH));
    let mut runner = Runner::new(cluster.api.clone(), controller);
    let grace = NodeLifecycleConfig::default().grace_period.as_secs();
    let mut unknown_at = None;
    for t in 100..=120u64 {
        cluster.set_time(t);
        // n2's kubelet is back at t=102; n1's never comes back.
        if t >= 102 {
            cluster.heartbeat("n2", t).await;
        }
        runner
            .run_until_quiet(Duration::from_secs(t))
            .await
            .unwrap();
        if unknown_at.is_none() && ready_status(&cluster.node("n1").await) == "Unknown" {
            unknown_at = Some(t);
        }
        assert_eq!(ready_status(&cluster.node("n2").await), "True", "t={t}");
    }
    assert_eq!(
        unknown_at,
        Some(100 + grace),
        "a grace period from when it started watching"
    );
}
