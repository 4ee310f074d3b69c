//! The work queue and its rate limiter, on virtual time.

use std::time::Duration;

use controllers::runtime::{Key, RateLimiter, WorkQueue, backoff_delay};

fn key(name: &str) -> Key {
    Key::new("default", name)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn a_key_added_twice_is_processed_once() {
    let mut queue = WorkQueue::new();
    queue.add(key("a"));
    queue.add(key("b"));
    queue.add(key("a"));
    assert_eq!(queue.len(), 2);
    assert_eq!(queue.get(ms(0)), Some(key("a")));
    assert_eq!(queue.get(ms(0)), Some(key("b")));
    assert_eq!(queue.get(ms(0)), None);
}

#[test]
fn a_key_readded_while_processing_waits_for_done() {
    let mut queue = WorkQueue::new();
    queue.add(key("a"));
    let first = queue.get(ms(0)).unwrap();
    assert!(queue.is_processing(&first));
    // A change arrives while a worker reconciles the key: no second worker may get it.
    queue.add(key("a"));
    queue.add(key("a"));
    assert_eq!(queue.get(ms(0)), None);
    queue.done(&first);
    // ... but it is processed again afterwards, once.
    assert_eq!(queue.get(ms(0)), Some(key("a")));
    queue.done(&key("a"));
    assert_eq!(queue.get(ms(0)), None);
}

#[test]
fn done_without_a_readd_does_not_requeue() {
    let mut queue = WorkQueue::new();
    queue.add(key("a"));
    let a = queue.get(ms(0)).unwrap();
    queue.done(&a);
    assert!(queue.is_empty());
    assert!(!queue.is_processing(&a));
}

#[test]
fn add_after_waits_for_its_time() {
    let mut queue = WorkQueue::new();
    queue.add_after(key("a"), ms(100), ms(0));
    assert_eq!(queue.waiting(), 1);
    assert_eq!(queue.next_wake_up(), Some(ms(100)));
    assert_eq!(queue.get(ms(99)), None);
    assert_eq!(queue.get(ms(100)), Some(key("a")));
    assert_eq!(queue.next_wake_up(), None);
}

#[test]
fn a_waiting_key_keeps_its_earliest_time() {
    let mut queue = WorkQueue::new();
    queue.add_after(key("a"), ms(300), ms(0));
    queue.add_after(key("a"), ms(100), ms(0));
    queue.add_after(key("a"), ms(200), ms(0));
    assert_eq!(queue.waiting(), 1);
    assert_eq!(queue.next_wake_up(), Some(ms(100)));
    assert_eq!(queue.get(ms(100)), Some(key("a")));
    assert_eq!(queue.get(ms(1000)), None);
}

#[test]
fn a_due_key_already_queued_is_not_queued_twice() {
    let mut queue = WorkQueue::new();
    queue.add(key("a"));
    queue.add_after(key("a"), ms(10), ms(0));
    assert_eq!(queue.get(ms(10)), Some(key("a")));
    assert_eq!(queue.get(ms(10)), None);
}

#[test]
fn waiting_keys_come_out_in_time_order() {
    let mut queue = WorkQueue::new();
    queue.add_after(key("late"), ms(50), ms(0));
    queue.add_after(key("early"), ms(10), ms(0));
    queue.add_after(key("zero"), Duration::ZERO, ms(0));
    assert_eq!(queue.get(ms(0)), Some(key("zero")));
    assert_eq!(queue.get(ms(60)), Some(key("early")));
    assert_eq!(queue.get(ms(60)), Some(key("late")));
}

#[test]
fn backoff_doubles_from_the_base() {
    let base = ms(5);
    let max = Duration::from_secs(1000);
    assert_eq!(backoff_delay(base, max, 0), ms(5));
    assert_eq!(backoff_delay(base, max, 1), ms(10));
    assert_eq!(backoff_delay(base, max, 2), ms(20));
    assert_eq!(backoff_delay(base, max, 10), ms(5120));
}

#[test]
fn backoff_is_capped_at_the_maximum_even_on_overflow() {
    let base = ms(5);
    let max = Duration::from_secs(1000);
    // 5 ms * 2^17 = 655.36 s, still under; 2^18 is over.
    assert_eq!(backoff_delay(base, max, 17), ms(655_360));
    assert_eq!(backoff_delay(base, max, 18), max);
    assert_eq!(backoff_delay(base, max, 40), max);
    assert_eq!(backoff_delay(base, max, 200), max);
    assert_eq!(backoff_delay(base, max, u32::MAX), max);
}

#[test]
fn rate_limited_adds_back_off_per_key_and_forget_resets() {
    let mut queue = WorkQueue::new();
    assert_eq!(queue.add_rate_limited(key("a"), ms(0)), ms(5));
    assert_eq!(queue.get(ms(5)), Some(key("a")));
    queue.done(&key("a"));
    assert_eq!(queue.add_rate_limited(key("a"), ms(5)), ms(10));
    assert_eq!(queue.add_rate_limited(key("b"), ms(5)), ms(5));
    assert_eq!(queue.num_requeues(&key("a")), 2);
    assert_eq!(queue.get(ms(10)), Some(key("b")));
    assert_eq!(queue.get(ms(14)), None);
    assert_eq!(queue.get(ms(15)), Some(key("a")));
    queue.forget(&key("a"));
    assert_eq!(queue.num_requeues(&key("a")), 0);
    assert_eq!(queue.add_rate_limited(key("a"), ms(20)), ms(5));
}

#[test]
fn a_custom_rate_limiter_is_used() {
    let limiter = RateLimiter::new(Duration::from_secs(1), Duration::from_secs(3));
    let mut queue = WorkQueue::with_rate_limiter(limiter);
    let delays: Vec<_> = (0..4)
        .map(|_| queue.add_rate_limited(key("a"), ms(0)))
        .collect();
    let secs = Duration::from_secs;
    assert_eq!(delays, [secs(1), secs(2), secs(3), secs(3)]);
}

#[test]
fn keys_print_and_parse_like_client_go() {
    assert_eq!(key("web").to_string(), "default/web");
    assert_eq!(Key::cluster("node-1").to_string(), "node-1");
    assert_eq!(
        Key::parse("kube-system/dns"),
        Ok(Key::new("kube-system", "dns"))
    );
    assert_eq!(Key::parse("node-1"), Ok(Key::cluster("node-1")));
    assert_eq!(Key::cluster("node-1").namespace(), None);
    assert_eq!(key("web").namespace(), Some("default"));
    let err = Key::parse("/web").unwrap_err();
    assert!(err.contains("namespace must not be empty"), "{err}");
    let err = Key::parse("a/b/c").unwrap_err();
    assert!(err.contains("name must be one non-empty segment"), "{err}");
    let err = Key::parse("ns/").unwrap_err();
    assert!(err.contains("name must be one non-empty segment"), "{err}");
}
