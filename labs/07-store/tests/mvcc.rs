//! The MVCC store: revisions, versions, ranges at past revisions, deletes, errors.

use store::{DeleteRangeRequest, KeyValue, PutRequest, RangeRequest, Store, StoreError};

fn put(store: &mut Store, key: &str, value: &str) -> i64 {
    store
        .put(&PutRequest::new(key, value))
        .expect("put")
        .header_revision
}

fn get(store: &Store, key: &str) -> Option<KeyValue> {
    let response = store.range(&RangeRequest::key(key)).expect("range");
    response.kvs.into_iter().next()
}

fn keys(kvs: &[KeyValue]) -> Vec<String> {
    kvs.iter()
        .map(|kv| String::from_utf8_lossy(&kv.key).into_owned())
        .collect()
}

#[test]
fn a_new_store_is_at_revision_one_and_each_put_adds_one() {
    let mut store = Store::new();
    assert_eq!(store.revision(), 1);
    assert_eq!(put(&mut store, "a", "1"), 2);
    assert_eq!(put(&mut store, "b", "1"), 3);
    assert_eq!(store.revision(), 3);
}

#[test]
fn a_put_sets_create_and_mod_revision_and_counts_versions() {
    let mut store = Store::new();
    put(&mut store, "a", "1");
    put(&mut store, "other", "x");
    put(&mut store, "a", "2");
    let a = get(&store, "a").expect("a exists");
    assert_eq!((a.create_revision, a.mod_revision, a.version), (2, 4, 2));
    assert_eq!(a.value, b"2");
}

#[test]
fn a_key_recreated_after_a_delete_starts_a_new_life() {
    let mut store = Store::new();
    put(&mut store, "a", "1");
    put(&mut store, "a", "2");
    store.delete_range(&DeleteRangeRequest::key("a")).unwrap();
    put(&mut store, "a", "3");
    let a = get(&store, "a").expect("a exists");
    assert_eq!((a.create_revision, a.mod_revision, a.version), (5, 5, 1));
}

#[test]
fn put_returns_the_previous_value_when_asked() {
    let mut store = Store::new();
    put(&mut store, "a", "1");
    let request = PutRequest {
        prev_kv: true,
        ..PutRequest::new("a", "2")
    };
    let response = store.put(&request).unwrap();
    assert_eq!(response.prev_kv.expect("prev_kv").value, b"1");
    let without = store.put(&PutRequest::new("a", "3")).unwrap();
    assert_eq!(without.prev_kv, None);
}

#[test]
fn a_read_at_a_past_revision_sees_the_store_as_it_was() {
    let mut store = Store::new();
    put(&mut store, "a", "1");
    put(&mut store, "a", "2");
    store.delete_range(&DeleteRangeRequest::key("a")).unwrap();
    let at = |revision| store.range(&RangeRequest::key("a").at(revision)).unwrap();
    assert_eq!(at(1).kvs, vec![]);
    assert_eq!(at(2).kvs[0].value, b"1");
    assert_eq!(at(3).kvs[0].value, b"2");
    assert_eq!(at(4).kvs, vec![]);
    assert_eq!(
        at(3).header_revision,
        4,
        "the header has the current revision"
    );
}

#[test]
fn a_range_honours_limit_and_reports_more_and_count() {
    let mut store = Store::new();
    for key in ["/pods/c", "/pods/a", "/pods/b", "/services/a"] {
        put(&mut store, key, "v");
    }
    let all = store.range(&RangeRequest::prefix("/pods/")).unwrap();
    assert_eq!(keys(&all.kvs), ["/pods/a", "/pods/b", "/pods/c"]);
    assert_eq!((all.count, all.more), (3, false));
    let two = store
        .range(&RangeRequest::prefix("/pods/").limit(2))
        .unwrap();
    assert_eq!(keys(&two.kvs), ["/pods/a", "/pods/b"]);
    assert_eq!((two.count, two.more), (3, true));
}

#[test]
fn a_range_over_an_interval_excludes_its_end() {
    let mut store = Store::new();
    for key in ["a", "b", "c", "d"] {
        put(&mut store, key, "v");
    }
    let request = RangeRequest {
        range_end: b"d".to_vec(),
        ..RangeRequest::key("b")
    };
    assert_eq!(keys(&store.range(&request).unwrap().kvs), ["b", "c"]);
    let from_b = RangeRequest {
        range_end: vec![0],
        ..RangeRequest::key("b")
    };
    assert_eq!(keys(&store.range(&from_b).unwrap().kvs), ["b", "c", "d"]);
}

#[test]
fn count_only_and_keys_only_trim_the_answer() {
    let mut store = Store::new();
    put(&mut store, "a", "value");
    let count_only = RangeRequest {
        count_only: true,
        ..RangeRequest::key("a")
    };
    let counted = store.range(&count_only).unwrap();
    assert_eq!((counted.kvs.len(), counted.count), (0, 1));
    let keys_only = RangeRequest {
        keys_only: true,
        ..RangeRequest::key("a")
    };
    assert_eq!(store.range(&keys_only).unwrap().kvs[0].value, b"");
}

#[test]
fn deleting_nothing_does_not_bump_the_revision() {
    let mut store = Store::new();
    put(&mut store, "a", "1");
    let response = store.delete_range(&DeleteRangeRequest::key("zzz")).unwrap();
    assert_eq!((response.deleted, response.header_revision), (0, 2));
    assert_eq!(store.revision(), 2);
}

#[test]
fn a_prefix_delete_removes_every_key_at_one_revision() {
    let mut store = Store::new();
    for key in ["/pods/a", "/pods/b", "/services/a"] {
        put(&mut store, key, "v");
    }
    let request = DeleteRangeRequest {
        prev_kv: true,
        ..DeleteRangeRequest::prefix("/pods/")
    };
    let response = store.delete_range(&request).unwrap();
    assert_eq!((response.deleted, response.header_revision), (2, 5));
    assert_eq!(keys(&response.prev_kvs), ["/pods/a", "/pods/b"]);
    let left = store.range(&RangeRequest::prefix("/")).unwrap();
    assert_eq!(keys(&left.kvs), ["/services/a"]);
}

#[test]
fn a_future_revision_is_refused_with_etcds_message() {
    let mut store = Store::new();
    put(&mut store, "a", "1");
    let error = store.range(&RangeRequest::key("a").at(3)).unwrap_err();
    assert_eq!(
        error,
        StoreError::FutureRevision {
            current_revision: 2
        }
    );
    assert_eq!(
        error.to_string(),
        "mvcc: required revision is a future revision"
    );
}

#[test]
fn an_empty_key_is_refused_with_the_field_named() {
    let mut store = Store::new();
    let error = store.put(&PutRequest::new("", "v")).unwrap_err();
    assert_eq!(
        error.to_string(),
        "put.key: etcdserver: key is not provided"
    );
    let error = store.range(&RangeRequest::key("")).unwrap_err();
    assert_eq!(
        error.to_string(),
        "range.key: etcdserver: key is not provided"
    );
    let error = store
        .delete_range(&DeleteRangeRequest::key(""))
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "delete_range.key: etcdserver: key is not provided"
    );
    assert_eq!(store.revision(), 1, "nothing was written");
}

#[test]
fn a_negative_limit_is_refused() {
    let store = Store::new();
    let error = store.range(&RangeRequest::key("a").limit(-1)).unwrap_err();
    assert_eq!(error.to_string(), "range.limit: must not be negative");
}
