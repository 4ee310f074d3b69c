//! Dialing with a bounded retry over the next endpoints.

mod support;

use proxy::dial::{MAX_DIAL_ATTEMPTS, dial_first};
use support::{Pod, dead_address};

#[tokio::test]
async fn a_refused_dial_moves_on_to_the_next_endpoint() {
    let dead = dead_address("127.3.2.1").await;
    let pod = Pod::start("pod-alive", "127.3.2.2").await;
    let (_stream, reached) = dial_first(&[dead, pod.addr], MAX_DIAL_ATTEMPTS)
        .await
        .unwrap();
    assert_eq!(reached, pod.addr);
}

#[tokio::test]
async fn the_first_endpoint_that_answers_is_used_and_the_rest_untouched() {
    let first = Pod::start("pod-first", "127.3.2.3").await;
    let dead = dead_address("127.3.2.4").await;
    let (_stream, reached) = dial_first(&[first.addr, dead], MAX_DIAL_ATTEMPTS)
        .await
        .unwrap();
    assert_eq!(reached, first.addr);
}

#[tokio::test]
async fn retries_are_bounded_and_every_failure_is_reported() {
    let dead = dead_address("127.3.2.5").await;
    let pod = Pod::start("pod-too-far", "127.3.2.6").await;
    // Three dead addresses before the live one: with a bound of 3 the live one is never tried.
    let order = [dead, dead, dead, pod.addr];
    let error = dial_first(&order, 3).await.unwrap_err();
    assert_eq!(error.failures.len(), 3);
    assert!(error.failures.iter().all(|(addr, _)| *addr == dead));
    assert!(
        error.to_string().starts_with("all 3 dial attempts failed:"),
        "{error}"
    );
}

#[tokio::test]
async fn an_empty_order_fails_with_no_ready_endpoint() {
    let error = dial_first(&[], MAX_DIAL_ATTEMPTS).await.unwrap_err();
    assert!(error.failures.is_empty());
    assert_eq!(error.to_string(), "no ready endpoint to dial");
}
