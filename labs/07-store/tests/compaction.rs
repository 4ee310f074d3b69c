//! Compaction: old versions go, reads below the compaction revision are refused.

use store::compact::compact_history;
use store::store::Entry;
use store::{DeleteRangeRequest, KeyValue, PutRequest, RangeRequest, Store, StoreError};

fn entry(revision: i64, value: Option<&str>) -> Entry {
    Entry {
        revision,
        sub: 0,
        kv: value.map(|value| KeyValue {
            key: b"k".to_vec(),
            create_revision: 2,
            mod_revision: revision,
            version: 1,
            value: value.as_bytes().to_vec(),
            lease: 0,
        }),
    }
}

fn revisions(versions: &[Entry]) -> Vec<i64> {
    versions.iter().map(|entry| entry.revision).collect()
}

#[test]
fn compaction_keeps_the_version_visible_at_the_compaction_revision() {
    let mut versions = vec![
        entry(2, Some("a")),
        entry(4, Some("b")),
        entry(7, Some("c")),
    ];
    compact_history(&mut versions, 5);
    assert_eq!(revisions(&versions), [4, 7]);
}

#[test]
fn compaction_drops_a_deletion_older_than_the_compaction_revision() {
    let mut versions = vec![entry(2, Some("a")), entry(3, None)];
    compact_history(&mut versions, 5);
    assert_eq!(revisions(&versions), Vec::<i64>::new());
}

#[test]
fn compaction_keeps_a_deletion_at_the_compaction_revision_for_watchers() {
    let mut versions = vec![entry(2, Some("a")), entry(5, None)];
    compact_history(&mut versions, 5);
    assert_eq!(revisions(&versions), [5]);
}

#[test]
fn compaction_leaves_younger_versions_alone() {
    let mut versions = vec![entry(6, Some("a")), entry(8, None)];
    compact_history(&mut versions, 5);
    assert_eq!(revisions(&versions), [6, 8]);
}

fn store_with_history() -> Store {
    let mut store = Store::new();
    for value in ["1", "2", "3"] {
        store.put(&PutRequest::new("a", value)).unwrap(); // revisions 2, 3, 4
    }
    store.put(&PutRequest::new("gone", "x")).unwrap(); // 5
    store
        .delete_range(&DeleteRangeRequest::key("gone"))
        .unwrap(); // 6
    store
}

#[test]
fn reads_below_the_compaction_revision_are_refused_with_etcds_message() {
    let mut store = store_with_history();
    store.compact(4).unwrap();
    let error = store.range(&RangeRequest::key("a").at(3)).unwrap_err();
    assert_eq!(
        error,
        StoreError::Compacted {
            compact_revision: 4
        }
    );
    assert_eq!(
        error.to_string(),
        "mvcc: required revision has been compacted"
    );
    let at_compaction = store.range(&RangeRequest::key("a").at(4)).unwrap();
    assert_eq!(at_compaction.kvs[0].value, b"3");
}

#[test]
fn compacting_does_not_change_current_reads_or_the_revision() {
    let mut store = store_with_history();
    let before = store.range(&RangeRequest::all()).unwrap();
    store.compact(6).unwrap();
    assert_eq!(store.range(&RangeRequest::all()).unwrap(), before);
    assert_eq!(store.revision(), 6);
}

#[test]
fn compacting_twice_at_the_same_revision_or_in_the_future_is_refused() {
    let mut store = store_with_history();
    store.compact(4).unwrap();
    assert_eq!(
        store.compact(4),
        Err(StoreError::Compacted {
            compact_revision: 4
        })
    );
    assert_eq!(
        store.compact(3),
        Err(StoreError::Compacted {
            compact_revision: 4
        })
    );
    assert_eq!(
        store.compact(7),
        Err(StoreError::FutureRevision {
            current_revision: 6
        })
    );
}
