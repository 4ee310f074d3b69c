//! `HttpApi::bind` POSTs a Binding to `pods/{name}/binding` on the real server; every answer
//! (success, already bound, being deleted, missing pod, empty node) comes back as the same
//! `ApiError`, with the same message, as the in-memory API gives.

#[path = "../../00-objects/tests/common/mod.rs"]
mod objects;
mod wire;

use api::Pod;
use api::client::{ApiClient, ApiError, ApiResult, DeleteOptions, InMemoryApi};
use wire::cluster::Cluster;

/// A one-container pod in `default` (lab 00's, as its in-memory binding tests use).
fn pod(name: &str) -> Pod {
    objects::pod("default", name)
}

/// Every case of a binding as `code reason: message` (or `ok`), the error values themselves,
/// and the bound pod's node and conditions.
async fn answers<C: ApiClient>(api: &C) -> (Vec<String>, Vec<ApiError>) {
    api.create(pod("web")).await.unwrap();
    let mut held = pod("going");
    held.metadata.finalizers.push("example.com/hold".into());
    api.create(held).await.unwrap();
    let _: Pod = api
        .delete(Some("default"), "going", DeleteOptions::default())
        .await
        .unwrap();
    let results: Vec<ApiResult<()>> = vec![
        api.bind("default", "web", "n1").await,
        api.bind("default", "web", "n2").await,
        api.bind("default", "missing", "n1").await,
        api.bind("default", "web", "").await,
        api.bind("default", "going", "n1").await,
    ];
    let mut lines: Vec<String> = results
        .iter()
        .map(|result| match result {
            Ok(()) => "ok".to_string(),
            Err(error) => format!("{} {}: {error}", error.code(), error.reason()),
        })
        .collect();
    let bound: Pod = api.get(Some("default"), "web").await.unwrap();
    let conditions: Vec<String> = bound
        .status
        .unwrap_or_default()
        .conditions
        .iter()
        .map(|c| format!("{}={}", c.condition_type, c.status))
        .collect();
    lines.push(format!("web on {:?}, {conditions:?}", bound.spec.node_name));
    let errors = results.into_iter().filter_map(Result::err).collect();
    (lines, errors)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http_binding_answers_as_the_in_memory_one() {
    let cluster = Cluster::start().await;
    let (http_lines, http_errors) = answers(&cluster.api).await;
    let (memory_lines, memory_errors) = answers(&InMemoryApi::new()).await;
    assert_eq!(
        http_lines,
        [
            "ok",
            "409 Conflict: Operation cannot be fulfilled on pods/binding \"web\": pod web is already assigned to node \"n1\"",
            "404 NotFound: pods \"missing\" not found",
            "422 Invalid: Binding \"web\" is invalid: target.name: Required value",
            "409 Conflict: Operation cannot be fulfilled on pods/binding \"going\": pod going is being deleted, cannot be assigned to a host",
            "web on Some(\"n1\"), [\"PodScheduled=True\"]",
        ]
    );
    assert_eq!(http_lines, memory_lines);
    assert_eq!(http_errors, memory_errors);
}
