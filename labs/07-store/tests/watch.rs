//! Watch: catch-up from history, filters, prev_kv, resuming, slow watchers.

use store::range::KeyRange;
use store::watch::WatchFilter;
use store::{
    DeleteRangeRequest, Event, EventType, KeyValue, PutRequest, RequestOp, Store, StoreError,
    TxnRequest, WatchHub, WatchPoll, WatchRequest, WatchResponse, Watcher,
};

/// A store and its hub, wired the way the durable layer wires them.
struct Fixture {
    store: Store,
    hub: WatchHub,
}

impl Fixture {
    fn new(buffer: usize) -> Fixture {
        Fixture {
            store: Store::new(),
            hub: WatchHub::new(buffer),
        }
    }

    fn put(&mut self, key: &str, value: &str) {
        self.store.put(&PutRequest::new(key, value)).unwrap();
        self.hub.notify(&self.store.take_events());
    }

    fn delete(&mut self, key: &str) {
        self.store
            .delete_range(&DeleteRangeRequest::key(key))
            .unwrap();
        self.hub.notify(&self.store.take_events());
    }

    fn watch(&mut self, request: WatchRequest) -> Watcher {
        let revision = self.store.revision();
        self.hub.watch(&self.store, &request, revision).unwrap()
    }
}

/// Everything buffered, then whether the watcher was cancelled.
fn drain(watcher: &Watcher) -> (Vec<WatchResponse>, Option<String>) {
    let mut responses = Vec::new();
    loop {
        match watcher.try_next() {
            WatchPoll::Response(response) => responses.push(response),
            WatchPoll::Empty => return (responses, None),
            WatchPoll::Canceled(canceled) => return (responses, Some(canceled.reason)),
        }
    }
}

fn summary(responses: &[WatchResponse]) -> Vec<String> {
    responses
        .iter()
        .flat_map(|response| &response.events)
        .map(|event| {
            let key = String::from_utf8_lossy(&event.kv.key);
            format!("{}:{:?}:{key}", event.revision(), event.kind)
        })
        .collect()
}

fn event(kind: EventType, key: &str) -> Event {
    Event {
        kind,
        kv: KeyValue {
            key: key.as_bytes().to_vec(),
            create_revision: 2,
            mod_revision: 2,
            version: 1,
            value: Vec::new(),
            lease: 0,
        },
        prev_kv: None,
    }
}

#[test]
fn a_filter_wants_keys_in_its_range() {
    let filter = WatchFilter {
        keys: KeyRange::prefix(b"/pods/"),
        no_put: false,
        no_delete: false,
    };
    assert!(filter.wants(&event(EventType::Put, "/pods/a")));
    assert!(filter.wants(&event(EventType::Delete, "/pods/a")));
    assert!(!filter.wants(&event(EventType::Put, "/services/a")));
}

#[test]
fn a_filter_can_leave_out_puts_or_deletes() {
    let keys = KeyRange::single(b"k");
    let no_put = WatchFilter {
        keys: keys.clone(),
        no_put: true,
        no_delete: false,
    };
    assert!(!no_put.wants(&event(EventType::Put, "k")));
    assert!(no_put.wants(&event(EventType::Delete, "k")));
    let no_delete = WatchFilter {
        keys,
        no_put: false,
        no_delete: true,
    };
    assert!(no_delete.wants(&event(EventType::Put, "k")));
    assert!(!no_delete.wants(&event(EventType::Delete, "k")));
}

#[test]
fn a_watcher_sees_new_changes_in_its_range_in_revision_order() {
    let mut fixture = Fixture::new(16);
    let watcher = fixture.watch(WatchRequest::prefix("/pods/"));
    fixture.put("/pods/a", "1");
    fixture.put("/services/a", "1");
    fixture.put("/pods/b", "1");
    fixture.delete("/pods/a");
    let (responses, canceled) = drain(&watcher);
    assert_eq!(
        summary(&responses),
        ["2:Put:/pods/a", "4:Put:/pods/b", "5:Delete:/pods/a"]
    );
    assert_eq!(canceled, None);
}

#[test]
fn a_watcher_from_a_past_revision_catches_up_from_history() {
    let mut fixture = Fixture::new(16);
    fixture.put("a", "1");
    fixture.put("a", "2");
    fixture.delete("a");
    let watcher = fixture.watch(WatchRequest::key("a").from_revision(3));
    fixture.put("a", "3");
    let (responses, _) = drain(&watcher);
    assert_eq!(summary(&responses), ["3:Put:a", "4:Delete:a", "5:Put:a"]);
}

#[test]
fn prev_kv_is_sent_only_when_asked_for() {
    let mut fixture = Fixture::new(16);
    fixture.put("a", "1");
    let with = fixture.watch(WatchRequest {
        prev_kv: true,
        ..WatchRequest::key("a")
    });
    let without = fixture.watch(WatchRequest::key("a"));
    fixture.put("a", "2");
    let (with, _) = drain(&with);
    let previous = with[0].events[0].prev_kv.as_ref().expect("prev_kv");
    assert_eq!(previous.value, b"1");
    let (without, _) = drain(&without);
    assert_eq!(without[0].events[0].prev_kv, None);
}

#[test]
fn one_txn_is_one_response_with_all_its_events() {
    let mut fixture = Fixture::new(16);
    let watcher = fixture.watch(WatchRequest::prefix("k"));
    let txn = TxnRequest {
        success: vec![
            RequestOp::Put(PutRequest::new("k1", "a")),
            RequestOp::Put(PutRequest::new("k2", "b")),
        ],
        ..TxnRequest::default()
    };
    fixture.store.txn(&txn).unwrap();
    fixture.hub.notify(&fixture.store.take_events());
    let (responses, _) = drain(&watcher);
    assert_eq!(responses.len(), 1);
    assert_eq!(summary(&responses), ["2:Put:k1", "2:Put:k2"]);
}

#[test]
fn a_slow_watcher_is_cancelled_and_resumes_without_gaps_or_repeats() {
    let mut fixture = Fixture::new(3);
    let slow = fixture.watch(WatchRequest::prefix("k"));
    for i in 0..10 {
        fixture.put(&format!("k{i}"), "v"); // revisions 2..=11, never blocked
    }
    let (first, canceled) = drain(&slow);
    assert_eq!(first.len(), 3, "the buffer held three revisions");
    assert!(canceled.expect("cancelled").starts_with("watcher too slow"));
    assert_eq!(fixture.hub.len(), 0);

    let mut seen: Vec<i64> = first.iter().map(|r| r.revision).collect();
    while seen.last() != Some(&11) {
        let resume = WatchRequest::prefix("k").from_revision(seen.last().unwrap() + 1);
        let again = fixture.watch(resume);
        let (more, _) = drain(&again);
        seen.extend(more.iter().map(|r| r.revision));
    }
    assert_eq!(seen, (2..=11).collect::<Vec<i64>>());
}

#[test]
fn a_watch_from_a_compacted_revision_is_refused() {
    let mut fixture = Fixture::new(16);
    fixture.put("a", "1");
    fixture.put("a", "2");
    fixture.put("a", "3");
    fixture.store.compact(3).unwrap();
    let request = WatchRequest::key("a").from_revision(2);
    let error = fixture.hub.watch(&fixture.store, &request, 4).unwrap_err();
    assert_eq!(
        error,
        StoreError::Compacted {
            compact_revision: 3
        }
    );
    let from_compaction = fixture.watch(WatchRequest::key("a").from_revision(3));
    assert_eq!(summary(&drain(&from_compaction).0), ["3:Put:a", "4:Put:a"]);
}

#[test]
fn a_dropped_watcher_is_forgotten() {
    let mut fixture = Fixture::new(16);
    let watcher = fixture.watch(WatchRequest::key("a"));
    drop(watcher);
    fixture.put("a", "1");
    assert!(fixture.hub.is_empty());
}

#[test]
fn a_cancelled_watcher_reports_the_reason_after_its_buffered_events() {
    let mut fixture = Fixture::new(16);
    let watcher = fixture.watch(WatchRequest::key("a"));
    fixture.put("a", "1");
    fixture.hub.cancel(watcher.id, "closed by the client");
    let (responses, canceled) = drain(&watcher);
    assert_eq!(responses.len(), 1);
    assert_eq!(canceled.as_deref(), Some("closed by the client"));
}
