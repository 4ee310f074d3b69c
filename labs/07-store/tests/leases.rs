//! Leases on a virtual clock: grant, keep alive, revoke, expire.

use std::time::Duration;

use store::{DeleteRangeRequest, PutRequest, RangeRequest, Store, StoreError};

fn seconds(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn put_with_lease(store: &mut Store, key: &str, lease: i64) {
    let request = PutRequest {
        lease,
        ..PutRequest::new(key, "alive")
    };
    store.put(&request).expect("put with lease");
}

/// Revokes whatever is due at `now`, as the durable layer's expiry loop does.
fn expire(store: &mut Store, now: Duration) -> Vec<i64> {
    let due = store.expired_leases(now);
    for id in &due {
        store.lease_revoke(*id).expect("revoke an expired lease");
    }
    due
}

#[test]
fn a_lease_expires_after_its_ttl_unless_kept_alive() {
    let mut store = Store::new();
    let lease = store.lease_grant(0, 10, seconds(0)).unwrap();
    assert_eq!(store.expired_leases(seconds(9)), Vec::<i64>::new());
    store.lease_keep_alive(lease, seconds(9)).unwrap();
    assert_eq!(store.expired_leases(seconds(18)), Vec::<i64>::new());
    assert_eq!(store.expired_leases(seconds(19)), vec![lease]);
}

#[test]
fn expired_leases_come_soonest_first() {
    let mut store = Store::new();
    let long = store.lease_grant(0, 30, seconds(0)).unwrap();
    let short = store.lease_grant(0, 5, seconds(0)).unwrap();
    let middle = store.lease_grant(0, 10, seconds(0)).unwrap();
    assert_eq!(store.expired_leases(seconds(60)), vec![short, middle, long]);
}

#[test]
fn expiry_deletes_every_attached_key_in_one_revision() {
    let mut store = Store::new();
    let lease = store.lease_grant(0, 10, seconds(0)).unwrap();
    put_with_lease(&mut store, "/nodes/a", lease);
    put_with_lease(&mut store, "/leases/a", lease);
    store.put(&PutRequest::new("/pods/x", "kept")).unwrap();
    assert_eq!(expire(&mut store, seconds(10)), vec![lease]);
    assert_eq!(store.revision(), 5, "one revision for both deletions");
    let left = store.range(&RangeRequest::all()).unwrap();
    assert_eq!(left.count, 1);
    assert_eq!(
        store.lease_revoke(lease),
        Err(StoreError::LeaseNotFound(lease))
    );
}

#[test]
fn time_to_live_reports_the_seconds_left_and_the_keys() {
    let mut store = Store::new();
    let lease = store.lease_grant(7, 60, seconds(100)).unwrap();
    assert_eq!(lease, 7);
    put_with_lease(&mut store, "b", lease);
    put_with_lease(&mut store, "a", lease);
    let status = store.lease_time_to_live(lease, seconds(130)).unwrap();
    assert_eq!((status.ttl, status.granted_ttl), (30, 60));
    assert_eq!(status.keys, vec![b"a".to_vec(), b"b".to_vec()]);
}

#[test]
fn a_key_put_again_without_the_lease_leaves_it() {
    let mut store = Store::new();
    let lease = store.lease_grant(0, 10, seconds(0)).unwrap();
    put_with_lease(&mut store, "a", lease);
    store.put(&PutRequest::new("a", "free")).unwrap();
    store.lease_revoke(lease).unwrap();
    let a = store.range(&RangeRequest::key("a")).unwrap();
    assert_eq!(a.kvs[0].value, b"free");
}

#[test]
fn a_deleted_key_no_longer_belongs_to_its_lease() {
    let mut store = Store::new();
    let lease = store.lease_grant(0, 10, seconds(0)).unwrap();
    put_with_lease(&mut store, "a", lease);
    store.delete_range(&DeleteRangeRequest::key("a")).unwrap();
    let status = store.lease_time_to_live(lease, seconds(1)).unwrap();
    assert!(status.keys.is_empty());
    let revision = store.revision();
    assert_eq!(
        store.lease_revoke(lease),
        Ok(revision),
        "nothing left to delete"
    );
}

#[test]
fn bad_lease_requests_are_refused_with_a_reason() {
    let mut store = Store::new();
    let error = store.lease_grant(0, 0, seconds(0)).unwrap_err();
    assert_eq!(
        error.to_string(),
        "lease_grant.ttl: must be between 1 and 9000000000 seconds, got 0"
    );
    let error = store.lease_grant(-3, 10, seconds(0)).unwrap_err();
    assert_eq!(error.to_string(), "lease_grant.id: must not be negative");
    store.lease_grant(5, 10, seconds(0)).unwrap();
    assert_eq!(
        store.lease_grant(5, 10, seconds(0)),
        Err(StoreError::LeaseExists(5))
    );
    assert_eq!(
        store.lease_keep_alive(6, seconds(0)),
        Err(StoreError::LeaseNotFound(6))
    );
    let error = store
        .put(&PutRequest {
            lease: 6,
            ..PutRequest::new("a", "v")
        })
        .unwrap_err();
    assert_eq!(error.to_string(), "etcdserver: requested lease not found");
}

#[test]
fn granted_ids_are_never_reused() {
    let mut store = Store::new();
    let first = store.lease_grant(0, 10, seconds(0)).unwrap();
    store.lease_revoke(first).unwrap();
    let second = store.lease_grant(0, 10, seconds(0)).unwrap();
    assert_ne!(first, second);
}
