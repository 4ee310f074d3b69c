//! The memory storage keeps etcd's promises: one revision, compare-and-swap, lists at a past
//! revision, watches from a revision, bounded history, and slow watchers that never block.

use apiserver::storage::memory::{MemoryStorage, WATCH_BUFFER};
use apiserver::storage::{ListRequest, Storage, StorageError, StorageEvent};

fn list_all(prefix: &str, revision: Option<i64>) -> ListRequest {
    ListRequest {
        prefix: prefix.to_string(),
        revision,
        ..ListRequest::default()
    }
}

fn keys(page: &apiserver::storage::Page) -> Vec<&str> {
    page.items.iter().map(|s| s.key.as_str()).collect()
}

#[tokio::test]
async fn every_write_increases_the_one_revision() {
    let s = MemoryStorage::new();
    let a = s.create("/r/a", b"1".to_vec()).await.unwrap();
    let b = s.create("/r/b", b"2".to_vec()).await.unwrap();
    let a2 = s
        .update("/r/a", b"3".to_vec(), a.mod_revision)
        .await
        .unwrap();
    assert_eq!((a.mod_revision, b.mod_revision, a2.mod_revision), (1, 2, 3));
    assert_eq!(a2.create_revision, 1);
    let (_, deleted_at) = s.delete("/r/b", None).await.unwrap();
    assert_eq!(deleted_at, 4);
    assert_eq!(s.revision().await.unwrap(), 4);
    assert_eq!(s.get("/r/a").await.unwrap().unwrap().value, b"3");
    assert_eq!(s.get("/r/b").await.unwrap(), None);
}

#[tokio::test]
async fn compare_and_swap_refuses_a_stale_revision() {
    let s = MemoryStorage::new();
    let a = s.create("/r/a", b"1".to_vec()).await.unwrap();
    s.update("/r/a", b"2".to_vec(), a.mod_revision)
        .await
        .unwrap();
    let err = s
        .update("/r/a", b"3".to_vec(), a.mod_revision)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        StorageError::Conflict {
            key: "/r/a".into(),
            current: 2
        }
    );
    let err = s.delete("/r/a", Some(1)).await.unwrap_err();
    assert!(matches!(err, StorageError::Conflict { current: 2, .. }));
    assert_eq!(s.get("/r/a").await.unwrap().unwrap().value, b"2");
    let err = s.create("/r/a", b"x".to_vec()).await.unwrap_err();
    assert_eq!(err, StorageError::AlreadyExists { key: "/r/a".into() });
    let err = s.update("/r/none", b"x".to_vec(), 1).await.unwrap_err();
    assert_eq!(
        err,
        StorageError::NotFound {
            key: "/r/none".into()
        }
    );
}

#[tokio::test]
async fn a_list_at_a_past_revision_sees_that_snapshot() {
    let s = MemoryStorage::new();
    s.create("/r/a", b"a1".to_vec()).await.unwrap();
    s.create("/r/b", b"b1".to_vec()).await.unwrap();
    s.create("/other/x", b"x".to_vec()).await.unwrap();
    s.update("/r/a", b"a2".to_vec(), 1).await.unwrap();
    s.delete("/r/b", None).await.unwrap();
    s.create("/r/c", b"c1".to_vec()).await.unwrap();

    let then = s.list(&list_all("/r/", Some(3))).await.unwrap();
    assert_eq!(keys(&then), ["/r/a", "/r/b"]);
    assert_eq!(then.items[0].value, b"a1");
    assert_eq!(then.revision, 3);
    let now = s.list(&list_all("/r/", None)).await.unwrap();
    assert_eq!(keys(&now), ["/r/a", "/r/c"]);
    assert_eq!(now.items[0].value, b"a2");
    assert_eq!(now.revision, 6);
    let err = s.list(&list_all("/r/", Some(7))).await.unwrap_err();
    assert!(matches!(
        err,
        StorageError::FutureRevision {
            requested: 7,
            current: 6
        }
    ));
}

#[tokio::test]
async fn pages_continue_after_a_key_at_the_same_revision() {
    let s = MemoryStorage::new();
    for name in ["a", "b", "c", "d", "e"] {
        s.create(&format!("/r/{name}"), name.as_bytes().to_vec())
            .await
            .unwrap();
    }
    let first = s
        .list(&ListRequest {
            prefix: "/r/".into(),
            limit: Some(2),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(keys(&first), ["/r/a", "/r/b"]);
    assert!(first.more);
    // A write between pages does not show in the next page, read at the first one's revision.
    s.delete("/r/c", None).await.unwrap();
    let second = s
        .list(&ListRequest {
            prefix: "/r/".into(),
            start_after: Some("/r/b".into()),
            limit: Some(2),
            revision: Some(first.revision),
        })
        .await
        .unwrap();
    assert_eq!(keys(&second), ["/r/c", "/r/d"]);
    assert!(second.more);
    let last = s
        .list(&ListRequest {
            prefix: "/r/".into(),
            start_after: Some("/r/d".into()),
            limit: Some(2),
            revision: Some(first.revision),
        })
        .await
        .unwrap();
    assert_eq!(keys(&last), ["/r/e"]);
    assert!(!last.more);
}

#[tokio::test]
async fn a_watch_replays_every_change_after_a_revision_in_order() {
    let s = MemoryStorage::new();
    s.create("/r/a", b"1".to_vec()).await.unwrap();
    s.create("/other/x", b"x".to_vec()).await.unwrap();
    s.update("/r/a", b"2".to_vec(), 1).await.unwrap();
    let mut watch = s.watch("/r/", 1).await.unwrap();
    s.delete("/r/a", None).await.unwrap();
    let first = watch.recv().await.unwrap().unwrap();
    match first {
        StorageEvent::Put { current, prev } => {
            assert_eq!(current.mod_revision, 3);
            assert_eq!(prev.unwrap().value, b"1");
        }
        other => panic!("expected a put, got {other:?}"),
    }
    let second = watch.recv().await.unwrap().unwrap();
    assert!(matches!(second, StorageEvent::Delete { revision: 4, .. }));
    assert!(watch.try_recv().is_err());
}

#[tokio::test]
async fn old_history_is_compacted_for_lists_and_watches() {
    let s = MemoryStorage::with_history(3);
    let a = s.create("/r/a", b"0".to_vec()).await.unwrap();
    let mut rev = a.mod_revision;
    for i in 1..=5 {
        rev = s
            .update("/r/a", vec![b'0' + i], rev)
            .await
            .unwrap()
            .mod_revision;
    }
    assert_eq!(s.compacted_revision(), 3);
    let err = s.watch("/r/", 2).await.unwrap_err();
    assert_eq!(
        err,
        StorageError::Compacted {
            requested: 2,
            compacted: 3
        }
    );
    let err = s.list(&list_all("/r/", Some(1))).await.unwrap_err();
    assert!(matches!(err, StorageError::Compacted { .. }));
    let at_3 = s.list(&list_all("/r/", Some(3))).await.unwrap();
    assert_eq!(at_3.items[0].value, b"2");
    let mut watch = s.watch("/r/", 3).await.unwrap();
    assert_eq!(watch.recv().await.unwrap().unwrap().revision(), 4);
    s.compact(6);
    assert_eq!(
        s.watch("/r/", 5).await.unwrap_err(),
        StorageError::Compacted {
            requested: 5,
            compacted: 6
        }
    );
}

#[tokio::test]
async fn a_deleted_key_is_forgotten_once_compacted() {
    let s = MemoryStorage::new();
    s.create("/r/a", b"1".to_vec()).await.unwrap();
    s.delete("/r/a", None).await.unwrap();
    s.compact(2);
    assert!(
        s.list(&list_all("/r/", None))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    // The name can be used again.
    let again = s.create("/r/a", b"2".to_vec()).await.unwrap();
    assert_eq!(again.create_revision, 3);
}

#[tokio::test]
async fn a_slow_watcher_is_dropped_and_never_blocks_writers() {
    let s = MemoryStorage::new();
    let mut slow = s.watch("/r/", 0).await.unwrap();
    let mut rev = s.create("/r/a", Vec::new()).await.unwrap().mod_revision;
    for _ in 0..WATCH_BUFFER + 10 {
        rev = s
            .update("/r/a", Vec::new(), rev)
            .await
            .unwrap()
            .mod_revision;
    }
    assert_eq!(s.watcher_count(), 0);
    let mut received = 0;
    while let Some(event) = slow.recv().await {
        event.unwrap();
        received += 1;
    }
    assert_eq!(
        received, WATCH_BUFFER,
        "the buffered events, then the end of the stream"
    );
}
