//! `ApiClient::bind`, the `pods/binding` subresource, against the in-memory API: one write
//! that sets the node and `PodScheduled=True`, a 409 for a pod already bound or being
//! deleted, a 404 for a missing pod, a 422 for an empty node; and the trait's default body
//! (for clients without the subresource) giving the same answers.

mod common;
#[macro_use]
mod forward;

use std::sync::Arc;

use api::client::{ApiClient, ApiError, ApiResult, DeleteOptions, InMemoryApi, WatchEventType};
use api::{EventNames, Pod, Time};

fn api() -> InMemoryApi {
    InMemoryApi::with_clock(Arc::new(|| Time(1_704_067_200)))
}

/// A one-container pod in `default`.
fn pod(name: &str) -> Pod {
    common::pod("default", name)
}

/// An `ApiClient` that forwards every verb but `bind`, so `bind` runs the trait's default.
struct WithoutBinding(InMemoryApi);

impl ApiClient for WithoutBinding {
    forward_all_but_bind!();
}

/// Every case of a binding, as `code reason: message` lines (`ok` for a success), plus the
/// bound pod's node and `PodScheduled` status.
async fn answers<C: ApiClient>(api: &C) -> Vec<String> {
    let outcome = |result: ApiResult<()>| match result {
        Ok(()) => "ok".to_string(),
        Err(error) => format!("{} {}: {error}", error.code(), error.reason()),
    };
    api.create(pod("web")).await.unwrap();
    let mut held = pod("going");
    held.metadata.finalizers.push("example.com/hold".into());
    api.create(held).await.unwrap();
    let _: Pod = api
        .delete(Some("default"), "going", DeleteOptions::default())
        .await
        .unwrap();

    let mut seen = vec![
        outcome(api.bind("default", "web", "n1").await),
        outcome(api.bind("default", "web", "n2").await),
        outcome(api.bind("default", "missing", "n1").await),
        outcome(api.bind("default", "web", "").await),
        outcome(api.bind("default", "going", "n1").await),
    ];
    let bound: Pod = api.get(Some("default"), "web").await.unwrap();
    let scheduled = bound.status.unwrap_or_default().conditions;
    seen.push(format!(
        "web on {:?}, conditions {:?}",
        bound.spec.node_name,
        scheduled
            .iter()
            .map(|c| format!("{}={}", c.condition_type, c.status))
            .collect::<Vec<_>>()
    ));
    seen
}

const EXPECTED: [&str; 6] = [
    "ok",
    "409 Conflict: Operation cannot be fulfilled on pods/binding \"web\": pod web is already assigned to node \"n1\"",
    "404 NotFound: pods \"missing\" not found",
    "422 Invalid: Binding \"web\" is invalid: target.name: Required value",
    "409 Conflict: Operation cannot be fulfilled on pods/binding \"going\": pod going is being deleted, cannot be assigned to a host",
    "web on Some(\"n1\"), conditions [\"PodScheduled=True\"]",
];

#[tokio::test]
async fn binding_sets_the_node_once_and_refuses_the_rest() {
    assert_eq!(answers(&api()).await, EXPECTED);
}

#[tokio::test]
async fn the_default_body_gives_the_same_answers() {
    assert_eq!(answers(&WithoutBinding(api())).await, EXPECTED);
}

#[tokio::test]
async fn a_binding_is_one_change_stamped_with_the_api_clock() {
    let api = api();
    api.create(pod("web")).await.unwrap();
    let mut watch = api.watch::<Pod>(None, "").await.unwrap();
    api.bind("default", "web", "n1").await.unwrap();
    let event = watch.try_next().expect("one event").unwrap();
    assert_eq!(event.event_type, WatchEventType::Modified);
    assert_eq!(event.object.spec.node_name.as_deref(), Some("n1"));
    let condition = &event.object.status.unwrap().conditions[0];
    assert_eq!(condition.last_transition_time, Some(Time(1_704_067_200)));
    assert!(watch.try_next().is_none(), "the binding is a single write");
}

#[tokio::test]
async fn of_two_binders_of_one_pod_exactly_one_wins() {
    let api = api();
    api.create(pod("web")).await.unwrap();
    let (a, b) = tokio::join!(
        api.bind("default", "web", "n1"),
        api.bind("default", "web", "n2")
    );
    let refused: Vec<ApiError> = [a, b].into_iter().filter_map(Result::err).collect();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(matches!(
        &refused[0],
        ApiError::Unfulfillable {
            resource: "pods/binding",
            ..
        }
    ));
    assert!(
        !refused[0].is_conflict(),
        "a retry cannot cure an already-bound pod"
    );
}

#[test]
fn event_names_are_time_stamps_that_never_repeat() {
    let mut names = EventNames::new();
    let second = 1_704_067_200u128 * 1_000_000_000;
    assert_eq!(names.next("web", second), "web.17a6101701650000");
    // The same instant again: the next nanosecond.
    assert_eq!(names.next("web", second), "web.17a6101701650001");
    // A restarted component at the same coarse instant collides once, then skips ahead.
    let mut restarted = EventNames::new();
    assert_eq!(restarted.next("web", second), "web.17a6101701650000");
    restarted.skip();
    let after_skip = restarted.next("web", second);
    assert_eq!(
        after_skip,
        format!("web.{:x}", second + EventNames::SKIP + 1)
    );
    // A later clock reading wins over the counter.
    assert_eq!(
        names.next("web", second + 5_000_000_000),
        format!("web.{:x}", second + 5_000_000_000)
    );
}
