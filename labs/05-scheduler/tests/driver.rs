//! End to end on the in-memory API: nodes and pods go in through the API, the driver runs
//! until quiet on virtual time, and the bindings, conditions and events come out of the API.

mod common;
#[path = "../../00-objects/tests/forward/mod.rs"]
#[macro_use]
mod forward;

use std::sync::Arc;
use std::time::Duration;

use api::client::{ApiClient, ApiResult, InMemoryApi};
use api::{Event, LabelSelector, Pod, Time};
use common::{node, owned_by, pod};
use scheduler::driver::SchedulerDriver;
use scheduler::{Profile, Scheduler};

const EPOCH: i64 = 1_700_000_000;

fn api() -> InMemoryApi {
    InMemoryApi::with_clock(Arc::new(|| Time::from_unix_seconds(EPOCH)))
}

fn driver(api: &InMemoryApi) -> SchedulerDriver<InMemoryApi> {
    let scheduler = Scheduler::new(Profile::default_plugins());
    SchedulerDriver::new(api.clone(), scheduler, Time::from_unix_seconds(EPOCH))
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

async fn pods(api: &InMemoryApi) -> Vec<Pod> {
    api.list::<Pod>(None, &LabelSelector::default())
        .await
        .unwrap()
        .items
}

/// A pod that fits only a node labelled `disk=ssd`.
fn picky() -> Pod {
    let mut picky = pod("picky", "1", "");
    picky
        .spec
        .node_selector
        .insert("disk".to_string(), "ssd".to_string());
    picky
}

/// One line per pod (where it is, or why not) and per event, for a snapshot.
async fn report(api: &InMemoryApi) -> String {
    let mut lines = Vec::new();
    for p in pods(api).await {
        let name = p.metadata.name.clone().unwrap_or_default();
        let condition = p
            .status
            .iter()
            .flat_map(|s| &s.conditions)
            .find(|c| c.condition_type == "PodScheduled");
        let scheduled = condition.map_or("-".to_string(), |c| {
            format!(
                "PodScheduled={} {}",
                c.status,
                c.reason.clone().unwrap_or_default()
            )
        });
        let node = p.spec.node_name.as_deref().unwrap_or("<none>");
        lines.push(format!(
            "pod {name:<10} node={node:<6} {}",
            scheduled.trim_end()
        ));
    }
    let events = api
        .list::<Event>(None, &LabelSelector::default())
        .await
        .unwrap();
    let mut events: Vec<Event> = events.items;
    events.sort_by_key(|e| e.metadata.name.clone());
    for e in events {
        lines.push(format!(
            "event {:<8} {:<17} {:<10} {}",
            e.event_type.unwrap_or_default(),
            e.reason.unwrap_or_default(),
            e.involved_object.name.unwrap_or_default(),
            e.message.unwrap_or_default()
        ));
    }
    lines.join("\n")
}

#[tokio::test(flavor = "current_thread")]
async fn binds_spreads_and_explains_through_the_api() {
    let api = api();
    for name in ["n1", "n2", "n3"] {
        api.create(node(name, "4", "8Gi")).await.unwrap();
    }
    for i in 0..6 {
        api.create(owned_by(pod(&format!("web-{i}"), "500m", "1Gi"), "rs-web"))
            .await
            .unwrap();
    }
    api.create(pod("huge", "16", "1Gi")).await.unwrap();
    let mut driver = driver(&api);
    let decisions = driver.run_until_quiet(secs(0.0)).await.unwrap();
    assert_eq!(decisions.len(), 7);
    insta::assert_snapshot!(report(&api).await);
    // The watch has confirmed every binding: nothing is merely assumed any more.
    for p in pods(&api).await {
        assert!(!driver.cache().is_assumed(&scheduler::PodKey::of(&p)));
    }
}

#[tokio::test(flavor = "current_thread")]
async fn an_unschedulable_pod_is_bound_once_a_node_that_fits_arrives_and_its_back_off_ends() {
    let api = api();
    api.create(node("small", "1", "1Gi")).await.unwrap();
    api.create(pod("big", "4", "1Gi")).await.unwrap();
    let mut driver = driver(&api);
    assert_eq!(driver.run_until_quiet(secs(0.0)).await.unwrap().len(), 1);
    // Nothing changes: no retry, however long we wait (short of five minutes).
    assert!(driver.run_until_quiet(secs(60.0)).await.unwrap().is_empty());

    api.create(node("large", "8", "16Gi")).await.unwrap();
    // The attempt at 0 s set a 1 s back-off, long over at 60.5 s: retried at once.
    let decisions = driver.run_until_quiet(secs(60.5)).await.unwrap();
    assert_eq!(decisions.len(), 1);
    let bound = api.get::<Pod>(Some("default"), "big").await.unwrap();
    assert_eq!(bound.spec.node_name.as_deref(), Some("large"));
}

#[tokio::test(flavor = "current_thread")]
async fn a_new_node_during_back_off_waits_for_the_back_off() {
    let api = api();
    api.create(node("small", "1", "1Gi")).await.unwrap();
    api.create(pod("big", "4", "1Gi")).await.unwrap();
    let mut driver = driver(&api);
    driver.run_until_quiet(secs(0.0)).await.unwrap();
    api.create(node("large", "8", "16Gi")).await.unwrap();
    assert!(driver.run_until_quiet(secs(0.5)).await.unwrap().is_empty());
    assert_eq!(driver.scheduler().queue().next_wake_up(), Some(secs(1.0)));
    assert_eq!(driver.run_until_quiet(secs(1.0)).await.unwrap().len(), 1);
}

#[tokio::test(flavor = "current_thread")]
async fn pods_bound_elsewhere_use_up_room_and_other_schedulers_pods_are_left_alone() {
    let api = api();
    api.create(node("n1", "2", "4Gi")).await.unwrap();
    let mut static_pod = pod("static", "2", "");
    static_pod.spec.node_name = Some("n1".to_string());
    api.create(static_pod).await.unwrap();
    let mut foreign = pod("foreign", "", "");
    foreign.spec.scheduler_name = Some("my-scheduler".to_string());
    api.create(foreign).await.unwrap();
    api.create(pod("mine", "1", "")).await.unwrap();
    let mut driver = driver(&api);
    let decisions = driver.run_until_quiet(secs(0.0)).await.unwrap();
    assert_eq!(decisions.len(), 1, "only `mine` is ours");
    let mine = api.get::<Pod>(Some("default"), "mine").await.unwrap();
    let condition = &mine.status.unwrap().conditions[0];
    assert_eq!(
        condition.message.as_deref(),
        Some("0/1 nodes are available: 1 Insufficient cpu.")
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_deleted_pod_frees_room_for_a_waiting_one() {
    let api = api();
    api.create(node("n1", "1", "4Gi")).await.unwrap();
    api.create(pod("first", "1", "")).await.unwrap();
    let mut driver = driver(&api);
    driver.run_until_quiet(secs(0.0)).await.unwrap();
    api.create(pod("second", "1", "")).await.unwrap();
    driver.run_until_quiet(secs(0.0)).await.unwrap();
    api.delete::<Pod>(Some("default"), "first", api::client::DeleteOptions::now())
        .await
        .unwrap();
    driver.run_until_quiet(secs(5.0)).await.unwrap();
    let second = api.get::<Pod>(Some("default"), "second").await.unwrap();
    assert_eq!(second.spec.node_name.as_deref(), Some("n1"));
}

#[tokio::test(flavor = "current_thread")]
async fn a_malformed_pod_gets_one_event_naming_the_field() {
    let api = api();
    api.create(node("n1", "4", "8Gi")).await.unwrap();
    // The API does not check affinity operators; the scheduler must.
    let mut bad = pod("bad", "", "");
    bad.spec.affinity = Some(api::Affinity {
        node_affinity: Some(api::NodeAffinity {
            required: Some(api::NodeSelector {
                node_selector_terms: vec![api::NodeSelectorTerm {
                    match_expressions: vec![api::NodeSelectorRequirement {
                        key: "zone".to_string(),
                        operator: "Gte".to_string(),
                        values: vec!["1".to_string()],
                    }],
                    match_fields: vec![],
                }],
            }),
            preferred: vec![],
        }),
    });
    api.create(bad).await.unwrap();
    let mut driver = driver(&api);
    driver.run_until_quiet(secs(0.0)).await.unwrap();
    driver.run_until_quiet(secs(1.0)).await.unwrap();
    let events = api
        .list::<Event>(None, &LabelSelector::default())
        .await
        .unwrap()
        .items;
    let messages: Vec<String> = events.into_iter().filter_map(|e| e.message).collect();
    assert_eq!(
        messages,
        [
            "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution\
.nodeSelectorTerms[0].matchExpressions[0].operator: \"Gte\" is not a valid operator \
(In, NotIn, Exists, DoesNotExist, Gt, Lt)"
        ]
    );
    let stored = api.get::<Pod>(Some("default"), "bad").await.unwrap();
    assert_eq!(stored.spec.node_name, None);
}

#[tokio::test(flavor = "current_thread")]
async fn a_heartbeat_does_not_wake_unschedulable_pods_but_a_new_label_does() {
    let api = api();
    api.create(node("n1", "4", "8Gi")).await.unwrap();
    api.create(picky()).await.unwrap();
    let mut driver = driver(&api);
    assert_eq!(driver.run_until_quiet(secs(0.0)).await.unwrap().len(), 1);

    // The kubelet's status heartbeat: nothing a filter reads has changed.
    let mut n1: api::Node = api.get(None, "n1").await.unwrap();
    let status = n1.status.as_mut().unwrap();
    status.conditions[0].last_heartbeat_time = Some(Time::from_unix_seconds(EPOCH + 10));
    let n1 = api.update_status(n1).await.unwrap();
    assert!(driver.run_until_quiet(secs(10.0)).await.unwrap().is_empty());
    assert_eq!(driver.scheduler().queue().unschedulable_len(), 1);

    // An administrator labels the node: now it fits.
    let labelled = common::labelled(n1, "disk", "ssd");
    api.update(labelled).await.unwrap();
    let decisions = driver.run_until_quiet(secs(20.0)).await.unwrap();
    assert_eq!(decisions.len(), 1);
    let bound = api.get::<Pod>(Some("default"), "picky").await.unwrap();
    assert_eq!(bound.spec.node_name.as_deref(), Some("n1"));
}

#[tokio::test(flavor = "current_thread")]
async fn a_change_missed_while_not_watching_wakes_unschedulable_pods_after_the_relist() {
    let api = api();
    api.create(node("n1", "4", "8Gi")).await.unwrap();
    api.create(picky()).await.unwrap();
    let mut driver = driver(&api);
    assert_eq!(driver.run_until_quiet(secs(0.0)).await.unwrap().len(), 1);
    assert_eq!(driver.scheduler().queue().unschedulable_len(), 1);

    // The node is labelled while the scheduler's watch is down (an API server restart): the
    // event is never delivered, and the scheduler lists everything again.
    let n1: api::Node = api.get(None, "n1").await.unwrap();
    api.update(common::labelled(n1, "disk", "ssd"))
        .await
        .unwrap();
    driver.sync(secs(10.0)).await.unwrap();

    // The relisted cluster may hold any change: the waiting pod is tried again at once, not
    // after the 5 minutes an unschedulable pod otherwise waits without news.
    let decisions = driver.run_until_quiet(secs(10.0)).await.unwrap();
    assert_eq!(decisions.len(), 1);
    let bound = api.get::<Pod>(Some("default"), "picky").await.unwrap();
    assert_eq!(bound.spec.node_name.as_deref(), Some("n1"));
}

#[tokio::test(flavor = "current_thread")]
async fn a_restarted_scheduler_names_its_events_apart_from_its_predecessor() {
    let api = api();
    api.create(node("small", "1", "1Gi")).await.unwrap();
    api.create(pod("big", "4", "1Gi")).await.unwrap();
    // The first scheduler reports the pod unschedulable at virtual 0 s, then "crashes".
    driver(&api).run_until_quiet(secs(0.0)).await.unwrap();
    // Its successor starts with the same epoch (the worst case: a restart within the same
    // instant) and reports again.
    driver(&api).run_until_quiet(secs(0.0)).await.unwrap();
    let events = api
        .list::<Event>(None, &LabelSelector::default())
        .await
        .unwrap()
        .items;
    let mut names: Vec<String> = events
        .into_iter()
        .map(|e| e.metadata.name.unwrap_or_default())
        .collect();
    names.sort();
    let first = u128::try_from(EPOCH).unwrap() * 1_000_000_000;
    let skipped = first + api::EventNames::SKIP + 1;
    assert_eq!(
        names,
        [format!("big.{first:x}"), format!("big.{skipped:x}")],
        "both reports are stored, under time-stamped names"
    );
}

/// An API where another scheduler always wins the race: each bind is preceded by a rival's
/// bind of the same pod to node `elsewhere`.
struct RivalWins(InMemoryApi);

impl ApiClient for RivalWins {
    forward_all_but_bind!();
    async fn bind(&self, namespace: &str, pod: &str, node: &str) -> ApiResult<()> {
        self.0.bind(namespace, pod, "elsewhere").await?;
        self.0.bind(namespace, pod, node).await
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_pod_bound_by_a_rival_is_refused_and_the_room_given_back() {
    let api = api();
    api.create(node("n1", "2", "4Gi")).await.unwrap();
    api.create(pod("web", "1", "1Gi")).await.unwrap();
    let scheduler = Scheduler::new(Profile::default_plugins());
    let mut driver = SchedulerDriver::new(
        RivalWins(api.clone()),
        scheduler,
        Time::from_unix_seconds(EPOCH),
    );
    let decisions = driver.run_until_quiet(secs(0.0)).await.unwrap();
    assert_eq!(decisions.len(), 1);
    let events = api
        .list::<Event>(None, &LabelSelector::default())
        .await
        .unwrap()
        .items;
    let messages: Vec<String> = events
        .into_iter()
        .map(|e| e.message.unwrap_or_default())
        .collect();
    assert_eq!(
        messages,
        [
            "Binding rejected: Operation cannot be fulfilled on pods/binding \"web\": pod web \
          is already assigned to node \"elsewhere\""
        ]
    );
    // The assumption was forgotten, and the watch then showed the pod bound elsewhere: n1 has
    // all its room, and nothing is retried.
    let key = scheduler::PodKey::of(&pod("web", "1", "1Gi"));
    assert!(!driver.cache().is_assumed(&key));
    assert!(driver.run_until_quiet(secs(60.0)).await.unwrap().is_empty());
    let stored: Pod = api.get(Some("default"), "web").await.unwrap();
    assert_eq!(stored.spec.node_name.as_deref(), Some("elsewhere"));
}
