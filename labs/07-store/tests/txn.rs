//! Transactions: compares, branches, one revision, atomicity.

use store::txn::compare_holds;
use store::{
    Compare, CompareResult, CompareTarget, DeleteRangeRequest, KeyValue, PutRequest, RangeRequest,
    RequestOp, ResponseOp, Store, StoreError, TxnRequest,
};

fn kv(value: &str, create_revision: i64, mod_revision: i64, version: i64) -> KeyValue {
    KeyValue {
        key: b"k".to_vec(),
        create_revision,
        mod_revision,
        version,
        value: value.as_bytes().to_vec(),
        lease: 0,
    }
}

fn compare(result: CompareResult, target: CompareTarget) -> Compare {
    Compare {
        key: b"k".to_vec(),
        result,
        target,
    }
}

#[test]
fn compares_order_values_bytewise() {
    use CompareResult::*;
    let current = kv("b", 2, 5, 3);
    let value = |v: &str| CompareTarget::Value(v.as_bytes().to_vec());
    assert!(compare_holds(&compare(Equal, value("b")), Some(&current)));
    assert!(compare_holds(
        &compare(NotEqual, value("a")),
        Some(&current)
    ));
    assert!(compare_holds(&compare(Greater, value("a")), Some(&current)));
    assert!(compare_holds(&compare(Less, value("ba")), Some(&current)));
    assert!(!compare_holds(&compare(Less, value("b")), Some(&current)));
}

#[test]
fn compares_read_version_create_and_mod_revision() {
    use CompareResult::*;
    use CompareTarget::*;
    let current = kv("v", 2, 5, 3);
    assert!(compare_holds(&compare(Equal, Version(3)), Some(&current)));
    assert!(compare_holds(
        &compare(Equal, CreateRevision(2)),
        Some(&current)
    ));
    assert!(compare_holds(
        &compare(Equal, ModRevision(5)),
        Some(&current)
    ));
    assert!(compare_holds(
        &compare(Greater, ModRevision(4)),
        Some(&current)
    ));
    assert!(!compare_holds(
        &compare(Greater, Version(3)),
        Some(&current)
    ));
    assert!(compare_holds(
        &compare(Less, CreateRevision(3)),
        Some(&current)
    ));
    assert!(!compare_holds(
        &compare(NotEqual, ModRevision(5)),
        Some(&current)
    ));
}

#[test]
fn a_missing_key_has_version_zero_and_fails_value_compares() {
    use CompareResult::*;
    use CompareTarget::*;
    assert!(compare_holds(&compare(Equal, Version(0)), None));
    assert!(compare_holds(&compare(Equal, CreateRevision(0)), None));
    assert!(compare_holds(&compare(Equal, ModRevision(0)), None));
    assert!(!compare_holds(&compare(Equal, Value(Vec::new())), None));
    assert!(!compare_holds(
        &compare(NotEqual, Value(b"x".to_vec())),
        None
    ));
}

fn put_op(key: &str, value: &str) -> RequestOp {
    RequestOp::Put(PutRequest::new(key, value))
}

/// "Create the key if it does not exist", the API server's create.
fn create(key: &str, value: &str) -> TxnRequest {
    TxnRequest {
        compare: vec![Compare {
            key: key.as_bytes().to_vec(),
            result: CompareResult::Equal,
            target: CompareTarget::CreateRevision(0),
        }],
        success: vec![put_op(key, value)],
        failure: vec![RequestOp::Range(RangeRequest::key(key))],
    }
}

#[test]
fn a_txn_runs_success_when_every_compare_holds_and_failure_otherwise() {
    let mut store = Store::new();
    let first = store.txn(&create("/pods/web", "v1")).unwrap();
    assert!(first.succeeded);
    assert_eq!(first.header_revision, 2);
    let second = store.txn(&create("/pods/web", "v2")).unwrap();
    assert!(!second.succeeded);
    assert_eq!(
        second.header_revision, 2,
        "a read-only branch writes nothing"
    );
    let ResponseOp::Range(found) = &second.responses[0] else {
        panic!("expected a range response, got {:?}", second.responses[0]);
    };
    assert_eq!(found.kvs[0].value, b"v1");
}

#[test]
fn every_write_of_a_txn_shares_one_revision() {
    let mut store = Store::new();
    store.put(&PutRequest::new("old", "x")).unwrap();
    let request = TxnRequest {
        success: vec![
            put_op("a", "1"),
            put_op("b", "2"),
            RequestOp::DeleteRange(DeleteRangeRequest::key("old")),
        ],
        ..TxnRequest::default()
    };
    let response = store.txn(&request).unwrap();
    assert_eq!(response.header_revision, 3);
    let all = store.range(&RangeRequest::all()).unwrap();
    let mods: Vec<i64> = all.kvs.iter().map(|kv| kv.mod_revision).collect();
    assert_eq!(mods, [3, 3]);
    let events = store.take_events();
    assert_eq!(events.len(), 4, "put old, then put a, put b, delete old");
    assert!(events[1..].iter().all(|event| event.revision() == 3));
}

#[test]
fn a_read_inside_a_txn_sees_the_txn_s_earlier_writes() {
    let mut store = Store::new();
    let request = TxnRequest {
        success: vec![put_op("a", "1"), RequestOp::Range(RangeRequest::key("a"))],
        ..TxnRequest::default()
    };
    let response = store.txn(&request).unwrap();
    let ResponseOp::Range(found) = &response.responses[1] else {
        panic!("expected a range response");
    };
    assert_eq!(found.kvs[0].mod_revision, 2);
}

#[test]
fn a_txn_writing_a_key_twice_is_refused_and_changes_nothing() {
    let mut store = Store::new();
    let request = TxnRequest {
        success: vec![put_op("a", "1"), put_op("b", "1"), put_op("a", "2")],
        ..TxnRequest::default()
    };
    let error = store.txn(&request).unwrap_err();
    assert_eq!(
        error.to_string(),
        "success[2].key: etcdserver: duplicate key given in txn request"
    );
    assert_eq!(store.revision(), 1);
}

#[test]
fn a_txn_with_an_unknown_lease_is_refused_and_changes_nothing() {
    let mut store = Store::new();
    let request = TxnRequest {
        success: vec![
            put_op("a", "1"),
            RequestOp::Put(PutRequest {
                lease: 42,
                ..PutRequest::new("b", "1")
            }),
        ],
        ..TxnRequest::default()
    };
    assert_eq!(store.txn(&request), Err(StoreError::LeaseNotFound(42)));
    assert_eq!(store.range(&RangeRequest::key("a")).unwrap().count, 0);
}

#[test]
fn a_txn_with_an_empty_key_names_the_op() {
    let mut store = Store::new();
    let request = TxnRequest {
        failure: vec![put_op("a", "1"), put_op("", "1")],
        ..TxnRequest::default()
    };
    let error = store.txn(&request).unwrap_err();
    assert_eq!(
        error.to_string(),
        "failure[1].put.key: etcdserver: key is not provided"
    );
}
