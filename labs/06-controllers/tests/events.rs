//! Event names survive a restart: a controller-manager that starts again (its recorders empty)
//! must not reuse the names its predecessor wrote, or its Events are refused with 409 and lost.
//! Names come from the clock the controller is given, so they repeat from run to run.

use std::sync::Arc;

use api::client::{ApiClient, InMemoryApi};
use api::{Event, LabelSelector, ObjectMeta, ReplicaSet, Time};
use controllers::events::Recorder;

const NOW: Time = Time(1_704_067_200);

fn replicaset() -> ReplicaSet {
    ReplicaSet {
        metadata: ObjectMeta::namespaced("default", "web"),
        ..ReplicaSet::default()
    }
}

async fn event_names(api: &InMemoryApi) -> Vec<String> {
    let events = api
        .list::<Event>(Some("default"), &LabelSelector::default())
        .await
        .unwrap();
    let mut names: Vec<String> = events
        .items
        .into_iter()
        .map(|e| e.metadata.name.unwrap_or_default())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_restarted_recorder_never_reuses_a_name() {
    let api = InMemoryApi::with_clock(Arc::new(|| NOW));
    let rs = replicaset();
    let mut before = Recorder::new("replicaset-controller");
    for i in 0..3 {
        before
            .normal(&api, &rs, "SuccessfulCreate", format!("pod {i}"), NOW)
            .await;
    }
    // The restart: a new recorder, in the same second (the worst case).
    let mut after = Recorder::new("replicaset-controller");
    for i in 3..6 {
        after
            .normal(&api, &rs, "SuccessfulCreate", format!("pod {i}"), NOW)
            .await;
    }
    // And a later restart, when the clock has moved on.
    let later = Time(NOW.0 + 60);
    Recorder::new("replicaset-controller")
        .normal(&api, &rs, "SuccessfulCreate", "pod 6".into(), later)
        .await;

    let names = event_names(&api).await;
    assert_eq!(names.len(), 7, "every event was stored: {names:?}");
    let second = 1_704_067_200u128 * 1_000_000_000;
    let skip = api::EventNames::SKIP;
    let expected: Vec<String> = [
        second,
        second + 1,
        second + 2,
        // The first name after the restart collided once, then skipped ahead.
        second + skip + 1,
        second + skip + 2,
        second + skip + 3,
        second + 60_000_000_000,
    ]
    .iter()
    .map(|stamp| format!("web.{stamp:x}"))
    .collect();
    assert_eq!(names, expected);
}
