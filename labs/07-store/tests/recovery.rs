//! The durable store: restart, group commit, torn tails, damage, snapshots, leases.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use store::durable::{SNAPSHOT_FILE, WAL_FILE};
use store::wal::scan_log;
use store::{
    DeleteRangeRequest, DurableOptions, DurableStore, PutRequest, RangeRequest, StoreError,
    WatchPoll, WatchRequest,
};

fn open(dir: &Path) -> DurableStore {
    DurableStore::open(dir, DurableOptions::default()).expect("open")
}

fn value(store: &DurableStore, key: &str) -> Option<String> {
    let found = store.range(&RangeRequest::key(key)).unwrap();
    found
        .kvs
        .first()
        .map(|kv| String::from_utf8_lossy(&kv.value).into_owned())
}

fn put(store: &DurableStore, key: &str, value: &str) -> i64 {
    store
        .put(&PutRequest::new(key, value))
        .unwrap()
        .header_revision
}

#[test]
fn writes_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    put(&store, "a", "1");
    put(&store, "b", "2");
    store.delete_range(&DeleteRangeRequest::key("b")).unwrap();
    store.compact(3).unwrap();
    store.close().unwrap();

    let store = open(dir.path());
    assert_eq!(store.status().revision, 4);
    assert_eq!(store.status().compact_revision, 3);
    assert_eq!(store.status().replayed, 4);
    assert_eq!(value(&store, "a").as_deref(), Some("1"));
    assert_eq!(value(&store, "b"), None);
}

#[test]
fn concurrent_writers_get_distinct_consecutive_revisions() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(open(dir.path()));
    let writers: Vec<_> = (0..16)
        .map(|client| {
            let store = store.clone();
            std::thread::spawn(move || {
                (0..20)
                    .map(|n| put(&store, &format!("c{client}/{n}"), "v"))
                    .collect::<Vec<i64>>()
            })
        })
        .collect();
    let mut revisions: Vec<i64> = writers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    revisions.sort_unstable();
    assert_eq!(revisions, (2..=321).collect::<Vec<i64>>());
}

#[test]
fn a_truncated_last_record_is_cut_and_the_rest_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    put(&store, "a", "1");
    put(&store, "b", "2");
    store.close().unwrap();
    let wal = dir.path().join(WAL_FILE);
    let good_len = std::fs::metadata(&wal).unwrap().len();
    let torn = store::wal::encode_frame(b"{\"seq\":3, a record the crash cut short");
    let mut file = OpenOptions::new().append(true).open(&wal).unwrap();
    file.write_all(&torn[..torn.len() / 2]).unwrap();
    drop(file);

    let store = open(dir.path());
    assert_eq!(store.status().revision, 3);
    assert_eq!(value(&store, "b").as_deref(), Some("2"));
    assert_eq!(
        std::fs::metadata(&wal).unwrap().len(),
        good_len,
        "the torn tail is gone"
    );
    put(&store, "c", "3");
    store.close().unwrap();
    assert_eq!(value(&open(dir.path()), "c").as_deref(), Some("3"));
}

#[test]
fn a_corrupt_record_in_the_middle_is_refused_with_its_offset() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    for key in ["a", "b", "c"] {
        put(&store, key, "v");
    }
    store.close().unwrap();
    let wal = dir.path().join(WAL_FILE);
    let mut bytes = std::fs::read(&wal).unwrap();
    let second = scan_log(&bytes).unwrap().records[1].0 as usize;
    bytes[second + 12] ^= 0x20;
    std::fs::write(&wal, &bytes).unwrap();

    let Err(error) = DurableStore::open(dir.path(), DurableOptions::default()) else {
        panic!("a damaged log must not open");
    };
    let StoreError::Corrupt { at, reason } = &error else {
        panic!("expected a corruption error, got {error}");
    };
    assert_eq!(at, &format!("{} at offset {second}", wal.display()));
    assert!(reason.starts_with("checksum mismatch"), "{reason}");
    assert_eq!(
        std::fs::read(&wal).unwrap(),
        bytes,
        "a damaged log is left as it was"
    );
}

#[test]
fn snapshots_bound_the_log_and_recovery_replays_only_what_follows() {
    let dir = tempfile::tempdir().unwrap();
    let options = DurableOptions {
        snapshot_every: 10,
        ..DurableOptions::default()
    };
    let store = DurableStore::open(dir.path(), options.clone()).unwrap();
    for n in 0..25 {
        put(&store, &format!("k{n:02}"), &n.to_string());
    }
    store.close().unwrap();
    assert!(dir.path().join(SNAPSHOT_FILE).exists());

    let store = DurableStore::open(dir.path(), options).unwrap();
    assert_eq!(store.status().revision, 26);
    assert!(
        store.status().replayed < 10,
        "replayed {}",
        store.status().replayed
    );
    let all = store.range(&RangeRequest::all()).unwrap();
    assert_eq!(all.count, 25);
    assert_eq!(value(&store, "k24").as_deref(), Some("24"));
}

#[test]
fn leases_and_their_keys_survive_a_restart_and_revoke_in_one_revision() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let lease = store.lease_grant(0, 3600).unwrap();
    store
        .put(&PutRequest {
            lease,
            ..PutRequest::new("/nodes/a", "alive")
        })
        .unwrap();
    store
        .put(&PutRequest {
            lease,
            ..PutRequest::new("/nodes/b", "alive")
        })
        .unwrap();
    store.close().unwrap();

    let store = open(dir.path());
    let status = store.lease_time_to_live(lease).unwrap();
    assert_eq!(status.granted_ttl, 3600);
    assert_eq!(status.keys.len(), 2);
    assert_eq!(store.lease_revoke(lease).unwrap(), 4);
    assert_eq!(
        store.range(&RangeRequest::prefix("/nodes/")).unwrap().count,
        0
    );
    assert_eq!(
        store.lease_keep_alive(lease),
        Err(StoreError::LeaseNotFound(lease))
    );
}

#[test]
fn a_failed_write_is_not_logged() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let bad = PutRequest {
        lease: 99,
        ..PutRequest::new("a", "v")
    };
    assert_eq!(store.put(&bad), Err(StoreError::LeaseNotFound(99)));
    store
        .delete_range(&DeleteRangeRequest::key("missing"))
        .unwrap();
    store.close().unwrap();
    assert_eq!(
        std::fs::metadata(dir.path().join(WAL_FILE)).unwrap().len(),
        0
    );
}

#[test]
fn watchers_of_the_durable_store_see_durable_revisions_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    put(&store, "a", "1");
    let watcher = store
        .watch(&WatchRequest::key("a").from_revision(2))
        .unwrap();
    put(&store, "a", "2");
    let mut revisions = Vec::new();
    while revisions.len() < 2 {
        match watcher.next_timeout(std::time::Duration::from_secs(10)) {
            WatchPoll::Response(response) => revisions.push(response.revision),
            other => panic!("expected an event, got {other:?}"),
        }
    }
    assert_eq!(revisions, [2, 3]);
}

#[test]
fn the_committer_expires_leases_and_watchers_see_the_deletion() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let lease = store.lease_grant(0, 1).unwrap();
    let request = PutRequest {
        lease,
        ..PutRequest::new("/nodes/short-lived", "alive")
    };
    store.put(&request).unwrap();
    let watcher = store
        .watch(&WatchRequest::key("/nodes/short-lived"))
        .unwrap();
    // Real time passes here (the TTL is one second); the timeout only stops a broken build
    // from hanging, nothing is asserted about how long expiry took.
    let WatchPoll::Response(response) = watcher.next_timeout(std::time::Duration::from_secs(30))
    else {
        panic!("the lease never expired");
    };
    assert_eq!(response.events[0].kind, store::EventType::Delete);
    assert_eq!(
        store.lease_time_to_live(lease),
        Err(StoreError::LeaseNotFound(lease))
    );
    store.close().unwrap();
    let reopened = open(dir.path());
    assert_eq!(
        value(&reopened, "/nodes/short-lived"),
        None,
        "the revoke was logged"
    );
}
