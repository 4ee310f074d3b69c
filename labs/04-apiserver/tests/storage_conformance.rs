//! One table of storage cases, run against every backend: memory, the embedded store, a remote
//! skiff-store over etcd's JSON gateway, and a real etcd when its binary is installed. Every
//! backend must give the same answers: that is what lets the API server not care which one it
//! has.
//!
//! Revisions are global and each backend starts at its own, so every case reads the current
//! revision `r` first and shows revisions relative to it (`r+1` is the case's first write).
//! Needs the `etcd` binary for the etcd row (Debian: `apt-get install etcd-server`); without it
//! that test says so and passes, unless `SKIFF_REQUIRE_ETCD=1`, as in CI.

mod common;
#[path = "../../07-store/tests/common/etcd.rs"]
mod etcd;

use std::future::Future;
use std::net::TcpListener;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use apiserver::storage::embedded::EmbeddedStorage;
use apiserver::storage::etcd::{EtcdStorage, update_txn};
use apiserver::storage::memory::MemoryStorage;
use apiserver::storage::{ListRequest, Storage, StorageError, StorageEvent, StorageWatch, Stored};
use etcd::Etcd;
use store::{
    Compare, CompareResult, CompareTarget, PutRequest, RangeRequest, RequestOp, TxnRequest,
};

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A backend under test, and how to compact it (compaction is not a [`Storage`] call: the
/// API server leaves it to the store's own schedule).
struct Backend {
    storage: Arc<dyn Storage>,
    compact: Box<dyn Fn(i64) -> BoxFuture<'static, Result<(), StorageError>> + Send + Sync>,
}

/// One case: a name, what it does (returning what it saw), and what it must see.
struct Case {
    name: &'static str,
    run: for<'a> fn(&'a Backend, &'a str) -> BoxFuture<'a, Vec<String>>,
    expected: &'static [&'static str],
}

/// What one case saw, with revisions relative to `base`.
struct Seen {
    base: i64,
    lines: Vec<String>,
}

impl Seen {
    async fn start(backend: &Backend) -> Seen {
        Seen {
            base: backend.storage.revision().await.unwrap(),
            lines: Vec::new(),
        }
    }

    fn rev(&self, revision: i64) -> String {
        match revision - self.base {
            0 => "r".into(),
            offset if offset > 0 => format!("r+{offset}"),
            offset => format!("r{offset}"),
        }
    }

    fn stored(&self, stored: &Stored) -> String {
        format!(
            "{}={} (created {}, modified {})",
            stored.key.rsplit('/').next().unwrap_or(""),
            String::from_utf8_lossy(&stored.value),
            self.rev(stored.create_revision),
            self.rev(stored.mod_revision)
        )
    }

    fn error(&self, error: &StorageError) -> String {
        match error {
            StorageError::AlreadyExists { key } => format!("AlreadyExists {key}"),
            StorageError::NotFound { key } => format!("NotFound {key}"),
            StorageError::Conflict { key, current } => {
                format!("Conflict {key} now at {}", self.rev(*current))
            }
            StorageError::Compacted {
                requested,
                compacted,
            } => format!(
                "Compacted: asked {}, oldest {}",
                self.rev(*requested),
                self.rev(*compacted)
            ),
            StorageError::FutureRevision { requested, current } => format!(
                "FutureRevision: asked {}, current {}",
                self.rev(*requested),
                self.rev(*current)
            ),
            StorageError::Unavailable { message } => format!("Unavailable: {message}"),
        }
    }

    fn event(&self, event: &StorageEvent) -> String {
        match event {
            StorageEvent::Put { current, prev } => format!(
                "PUT {}{}",
                self.stored(current),
                prev.as_ref()
                    .map(|p| format!(" after {}", self.stored(p)))
                    .unwrap_or_default()
            ),
            StorageEvent::Delete { prev, revision } => {
                format!(
                    "DELETE at {}: was {}",
                    self.rev(*revision),
                    self.stored(prev)
                )
            }
        }
    }

    /// What a `get` found: the stored value, or `None`.
    fn got(&self, got: &Option<Stored>) -> String {
        got.as_ref().map_or("None".into(), |g| self.stored(g))
    }

    /// What a `delete` removed, and at which revision.
    fn deleted(&self, (last, at): &(Stored, i64)) -> String {
        format!("{} at {}", self.stored(last), self.rev(*at))
    }

    /// A page of a list: its items, its revision, and whether there is more.
    fn page(&self, page: &apiserver::storage::Page) -> String {
        let keys: Vec<String> = page.items.iter().map(|item| self.stored(item)).collect();
        format!(
            "[{}] at {}{}",
            keys.join(", "),
            self.rev(page.revision),
            if page.more { ", more" } else { "" }
        )
    }

    fn push<T>(
        &mut self,
        what: &str,
        result: Result<T, StorageError>,
        show: impl Fn(&Seen, &T) -> String,
    ) {
        let line = match &result {
            Ok(value) => show(self, value),
            Err(error) => self.error(error),
        };
        self.lines.push(format!("{what}: {line}"));
    }
}

fn v(text: &str) -> Vec<u8> {
    text.as_bytes().to_vec()
}

/// The next event of a watch; a missing one fails the test after a generous safety net.
async fn next_event(watch: &mut StorageWatch) -> Result<StorageEvent, StorageError> {
    tokio::time::timeout(Duration::from_secs(30), watch.recv())
        .await
        .expect("no watch event within 30 s")
        .expect("the watch ended")
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "create, then get",
            run: |b, p| {
                Box::pin(async move {
                    let mut s = Seen::start(b).await;
                    let key = format!("{p}/web");
                    s.push("create", b.storage.create(&key, v("1")).await, Seen::stored);
                    s.push("get", b.storage.get(&key).await, Seen::got);
                    s.lines
                })
            },
            expected: &[
                "create: web=1 (created r+1, modified r+1)",
                "get: web=1 (created r+1, modified r+1)",
            ],
        },
        Case {
            name: "create an existing key",
            run: |b, p| {
                Box::pin(async move {
                    let mut s = Seen::start(b).await;
                    let key = format!("{p}/web");
                    b.storage.create(&key, v("1")).await.unwrap();
                    s.push(
                        "create again",
                        b.storage.create(&key, v("2")).await,
                        Seen::stored,
                    );
                    s.push("get", b.storage.get(&key).await, Seen::got);
                    s.lines
                })
            },
            expected: &[
                "create again: AlreadyExists /registry/create-an-existing-key/web",
                "get: web=1 (created r+1, modified r+1)",
            ],
        },
        Case {
            name: "get a missing key",
            run: |b, p| {
                Box::pin(async move {
                    let mut s = Seen::start(b).await;
                    s.push(
                        "get",
                        b.storage.get(&format!("{p}/nothing")).await,
                        Seen::got,
                    );
                    s.lines
                })
            },
            expected: &["get: None"],
        },
        Case {
            name: "update with the right and a stale revision",
            run: |b, p| {
                Box::pin(async move {
                    let mut s = Seen::start(b).await;
                    let key = format!("{p}/web");
                    let first = b.storage.create(&key, v("1")).await.unwrap();
                    s.push(
                        "update at r+1",
                        b.storage.update(&key, v("2"), first.mod_revision).await,
                        Seen::stored,
                    );
                    s.push(
                        "update at r+1 again",
                        b.storage.update(&key, v("3"), first.mod_revision).await,
                        Seen::stored,
                    );
                    s.push("get", b.storage.get(&key).await, Seen::got);
                    s.lines
                })
            },
            expected: &[
                "update at r+1: web=2 (created r+1, modified r+2)",
                "update at r+1 again: Conflict /registry/update-with-the-right-and-a-stale-revision/web now at r+2",
                "get: web=2 (created r+1, modified r+2)",
            ],
        },
        Case {
            name: "update a missing key",
            run: |b, p| {
                Box::pin(async move {
                    let mut s = Seen::start(b).await;
                    let key = format!("{p}/gone");
                    s.push(
                        "update",
                        b.storage.update(&key, v("1"), 5).await,
                        Seen::stored,
                    );
                    s.lines
                })
            },
            expected: &["update: NotFound /registry/update-a-missing-key/gone"],
        },
        Case {
            name: "delete without an expected revision",
            run: |b, p| {
                Box::pin(async move {
                    let mut s = Seen::start(b).await;
                    let key = format!("{p}/web");
                    b.storage.create(&key, v("1")).await.unwrap();
                    s.push("delete", b.storage.delete(&key, None).await, Seen::deleted);
                    s.push(
                        "delete again",
                        b.storage.delete(&key, None).await,
                        Seen::deleted,
                    );
                    s.push("get", b.storage.get(&key).await, Seen::got);
                    s.lines
                })
            },
            expected: &[
                "delete: web=1 (created r+1, modified r+1) at r+2",
                "delete again: NotFound /registry/delete-without-an-expected-revision/web",
                "get: None",
            ],
        },
        Case {
            name: "delete with an expected revision",
            run: |b, p| {
                Box::pin(async move {
                    let mut s = Seen::start(b).await;
                    let key = format!("{p}/web");
                    let first = b.storage.create(&key, v("1")).await.unwrap();
                    b.storage
                        .update(&key, v("2"), first.mod_revision)
                        .await
                        .unwrap();
                    s.push(
                        "delete at r+1",
                        b.storage.delete(&key, Some(first.mod_revision)).await,
                        Seen::deleted,
                    );
                    s.push(
                        "delete at r+2",
                        b.storage.delete(&key, Some(first.mod_revision + 1)).await,
                        Seen::deleted,
                    );
                    s.lines
                })
            },
            expected: &[
                "delete at r+1: Conflict /registry/delete-with-an-expected-revision/web now at r+2",
                "delete at r+2: web=2 (created r+1, modified r+2) at r+3",
            ],
        },
        Case {
            name: "list a prefix",
            run: |b, p| {
                Box::pin(async move {
                    let mut s = Seen::start(b).await;
                    for name in ["b", "a", "c"] {
                        b.storage
                            .create(&format!("{p}/ns/{name}"), v(name))
                            .await
                            .unwrap();
                    }
                    // A sibling whose key starts with the prefix text but is not under it.
                    b.storage.create(&format!("{p}/nsx"), v("x")).await.unwrap();
                    let request = ListRequest {
                        prefix: format!("{p}/ns/"),
                        ..ListRequest::default()
                    };
                    s.push("list", b.storage.list(&request).await, Seen::page);
                    s.lines
                })
            },
            expected: &[
                "list: [a=a (created r+2, modified r+2), b=b (created r+1, modified r+1), c=c (created r+3, modified r+3)] at r+4",
            ],
        },
        Case {
            name: "list in pages at one revision",
            run: |b, p| {
                Box::pin(async move {
                    let mut s = Seen::start(b).await;
                    for name in ["a", "b", "c"] {
                        b.storage
                            .create(&format!("{p}/{name}"), v(name))
                            .await
                            .unwrap();
                    }
                    let first = ListRequest {
                        prefix: format!("{p}/"),
                        limit: Some(2),
                        ..ListRequest::default()
                    };
                    let page = b.storage.list(&first).await;
                    s.push("page 1", page.clone(), Seen::page);
                    let page = page.unwrap();
                    // A write between the pages must not show in the second one.
                    b.storage.create(&format!("{p}/d"), v("d")).await.unwrap();
                    let next = ListRequest {
                        start_after: Some(page.items.last().unwrap().key.clone()),
                        revision: Some(page.revision),
                        ..first
                    };
                    s.push("page 2", b.storage.list(&next).await, Seen::page);
                    s.lines
                })
            },
            expected: &[
                "page 1: [a=a (created r+1, modified r+1), b=b (created r+2, modified r+2)] at r+3, more",
                "page 2: [c=c (created r+3, modified r+3)] at r+3",
            ],
        },
        Case {
            name: "list at a past revision",
            run: |b, p| {
                Box::pin(async move {
                    let mut s = Seen::start(b).await;
                    let a = b.storage.create(&format!("{p}/a"), v("1")).await.unwrap();
                    let bee = b.storage.create(&format!("{p}/b"), v("1")).await.unwrap();
                    b.storage
                        .update(&a.key, v("2"), a.mod_revision)
                        .await
                        .unwrap();
                    b.storage.delete(&bee.key, None).await.unwrap();
                    let past = ListRequest {
                        prefix: format!("{p}/"),
                        revision: Some(bee.mod_revision),
                        ..ListRequest::default()
                    };
                    s.push("at r+2", b.storage.list(&past).await, Seen::page);
                    let now = ListRequest {
                        revision: None,
                        ..past.clone()
                    };
                    s.push("now", b.storage.list(&now).await, Seen::page);
                    let future = ListRequest {
                        revision: Some(s.base + 100),
                        ..past
                    };
                    s.push("at r+100", b.storage.list(&future).await, Seen::page);
                    s.lines
                })
            },
            expected: &[
                "at r+2: [a=1 (created r+1, modified r+1), b=1 (created r+2, modified r+2)] at r+2",
                "now: [a=2 (created r+1, modified r+3)] at r+4",
                "at r+100: FutureRevision: asked r+100, current r+4",
            ],
        },
        Case {
            name: "watch from a revision",
            run: |b, p| {
                Box::pin(async move {
                    let mut s = Seen::start(b).await;
                    let key = format!("{p}/web");
                    let first = b.storage.create(&key, v("1")).await.unwrap();
                    b.storage
                        .update(&key, v("2"), first.mod_revision)
                        .await
                        .unwrap();
                    b.storage.delete(&key, None).await.unwrap();
                    let mut watch = b.storage.watch(&format!("{p}/"), s.base).await.unwrap();
                    for _ in 0..3 {
                        let event = next_event(&mut watch).await;
                        s.push("history", event, Seen::event);
                    }
                    b.storage.create(&key, v("3")).await.unwrap();
                    let event = next_event(&mut watch).await;
                    s.push("new", event, Seen::event);
                    s.lines
                })
            },
            expected: &[
                "history: PUT web=1 (created r+1, modified r+1)",
                "history: PUT web=2 (created r+1, modified r+2) after web=1 (created r+1, modified r+1)",
                "history: DELETE at r+3: was web=2 (created r+1, modified r+2)",
                "new: PUT web=3 (created r+4, modified r+4)",
            ],
        },
        Case {
            name: "watch misses nothing",
            run: |b, p| {
                Box::pin(async move {
                    let s = Seen::start(b).await;
                    for n in 0..30 {
                        b.storage
                            .create(&format!("{p}/k{n:02}"), v("x"))
                            .await
                            .unwrap();
                    }
                    let mut watch = b
                        .storage
                        .watch(&format!("{p}/"), s.base + 10)
                        .await
                        .unwrap();
                    let writer = {
                        let storage = b.storage.clone();
                        let p = p.to_string();
                        tokio::spawn(async move {
                            for n in 30..60 {
                                storage
                                    .create(&format!("{p}/k{n:02}"), v("x"))
                                    .await
                                    .unwrap();
                            }
                        })
                    };
                    let mut revisions = Vec::new();
                    while revisions.len() < 50 {
                        revisions.push(next_event(&mut watch).await.unwrap().revision() - s.base);
                    }
                    writer.await.unwrap();
                    let in_order = revisions == (11..=60).collect::<Vec<_>>();
                    vec![format!("50 events r+11..r+60 in order: {in_order}")]
                })
            },
            expected: &["50 events r+11..r+60 in order: true"],
        },
        Case {
            name: "watch a prefix only",
            run: |b, p| {
                Box::pin(async move {
                    let mut s = Seen::start(b).await;
                    let mut watch = b.storage.watch(&format!("{p}/a/"), s.base).await.unwrap();
                    b.storage
                        .create(&format!("{p}/ab"), v("sibling"))
                        .await
                        .unwrap();
                    b.storage
                        .create(&format!("{p}/b/x"), v("other"))
                        .await
                        .unwrap();
                    b.storage
                        .create(&format!("{p}/a/x"), v("mine"))
                        .await
                        .unwrap();
                    let event = next_event(&mut watch).await;
                    s.push("first event", event, Seen::event);
                    s.lines
                })
            },
            expected: &["first event: PUT x=mine (created r+3, modified r+3)"],
        },
        Case {
            name: "list and watch below the compaction",
            run: |b, p| {
                Box::pin(async move {
                    let mut s = Seen::start(b).await;
                    for name in ["a", "b", "c"] {
                        b.storage
                            .create(&format!("{p}/{name}"), v(name))
                            .await
                            .unwrap();
                    }
                    (b.compact)(s.base + 2).await.unwrap();
                    let old = ListRequest {
                        prefix: format!("{p}/"),
                        revision: Some(s.base + 1),
                        ..ListRequest::default()
                    };
                    s.push("list at r+1", b.storage.list(&old).await, Seen::page);
                    let at = ListRequest {
                        revision: Some(s.base + 2),
                        ..old
                    };
                    s.push("list at r+2", b.storage.list(&at).await, Seen::page);
                    let watch = b.storage.watch(&format!("{p}/"), s.base).await;
                    s.push("watch after r", watch, |_, _| "started".into());
                    let watch = b.storage.watch(&format!("{p}/"), s.base + 1).await;
                    s.push("watch after r+1", watch, |_, _| "started".into());
                    let mut watch = b.storage.watch(&format!("{p}/"), s.base + 2).await.unwrap();
                    let event = next_event(&mut watch).await;
                    s.push("watch after r+2", event, Seen::event);
                    s.lines
                })
            },
            expected: &[
                "list at r+1: Compacted: asked r+1, oldest r+2",
                "list at r+2: [a=a (created r+1, modified r+1), b=b (created r+2, modified r+2)] at r+2",
                "watch after r: Compacted: asked r, oldest r+2",
                "watch after r+1: Compacted: asked r+1, oldest r+2",
                "watch after r+2: PUT c=c (created r+3, modified r+3)",
            ],
        },
    ]
}

/// Runs every case; fails with a table of what differed.
async fn run_table(backend: &str, under_test: Backend) {
    let mut report = format!("| case | {backend} | as expected |\n|---|---|:---:|\n");
    let mut failed = Vec::new();
    for case in cases() {
        let prefix = format!(
            "/registry/{}",
            case.name.replace([' ', ','], "-").replace("--", "-")
        );
        let seen = (case.run)(&under_test, &prefix).await;
        let ok = seen == case.expected;
        report += &format!(
            "| {} | {} | {} |\n",
            case.name,
            seen.join("<br>"),
            if ok { "yes" } else { "**no**" }
        );
        if !ok {
            failed.push(format!(
                "{}:\n  expected {:#?}\n  saw {:#?}",
                case.name, case.expected, seen
            ));
        }
    }
    println!("{report}");
    assert!(
        failed.is_empty(),
        "{backend} differs:\n{}",
        failed.join("\n")
    );
}

fn embedded(dir: &std::path::Path) -> Backend {
    let storage = EmbeddedStorage::open(dir).unwrap();
    let compactor = storage.clone();
    Backend {
        storage: Arc::new(storage),
        compact: Box::new(move |revision| {
            let compactor = compactor.clone();
            Box::pin(async move { compactor.compact(revision).await })
        }),
    }
}

fn remote(storage: EtcdStorage) -> Backend {
    let compactor = storage.clone();
    Backend {
        storage: Arc::new(storage),
        compact: Box::new(move |revision| {
            let compactor = compactor.clone();
            Box::pin(async move { compactor.compact(revision).await })
        }),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_memory_backend_passes_the_table() {
    let storage = Arc::new(MemoryStorage::new());
    let compactor = storage.clone();
    let backend = Backend {
        storage,
        compact: Box::new(move |revision| {
            compactor.compact(revision);
            Box::pin(async { Ok(()) })
        }),
    };
    run_table("memory", backend).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_store_passes_the_table() {
    let dir = tempfile::tempdir().unwrap();
    run_table("embedded", embedded(dir.path())).await;
}

/// A skiff-store gateway on a free port, as `skiff-store serve` runs it.
fn serve_skiff_store(dir: &std::path::Path) -> String {
    let store = Arc::new(store::DurableStore::open(dir, Default::default()).unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || store::gateway::http::serve(listener, store));
    format!("http://{address}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_skiff_store_passes_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let url = serve_skiff_store(dir.path());
    let storage = EtcdStorage::connect(&url).await.unwrap();
    run_table("remote skiff-store", remote(storage)).await;
}

/// A real etcd in `dir` and a client of it, once it answers; `None` (after saying the test is
/// skipped) without an etcd binary.
async fn etcd_or_skip(dir: &std::path::Path) -> Option<(Etcd, EtcdStorage)> {
    let etcd = etcd::spawn_or_skip(dir, "storage")?;
    let client_url = format!("http://127.0.0.1:{}", etcd.client_port);
    // Wait until it serves: a slow start only makes the test slower, up to a safety net.
    for _ in 0..300 {
        if let Ok(storage) = EtcdStorage::connect(&client_url).await {
            return Some((etcd, storage));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("etcd did not start serving on {client_url} within 30 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_etcd_passes_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let Some((_etcd, storage)) = etcd_or_skip(dir.path()).await else {
        return;
    };
    run_table("etcd", remote(storage)).await;
}

#[test]
fn an_update_is_one_compare_and_swap_transaction() {
    let key = "/registry/pods/default/web";
    assert_eq!(
        update_txn(key, v("{}"), 42),
        TxnRequest {
            compare: vec![Compare {
                key: v(key),
                result: CompareResult::Equal,
                target: CompareTarget::ModRevision(42),
            }],
            success: vec![RequestOp::Put(PutRequest {
                key: v(key),
                value: v("{}"),
                lease: 0,
                prev_kv: true,
            })],
            failure: vec![RequestOp::Range(RangeRequest::key(key))],
        }
    );
}

/// A TCP proxy whose connections the test can cut, to break a watch stream.
struct Proxy {
    address: std::net::SocketAddr,
    connections: Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Proxy {
    async fn to(target: std::net::SocketAddr) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let connections = Arc::new(std::sync::Mutex::new(Vec::new()));
        let tracked = connections.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let task = tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                tracked.lock().unwrap().push(task);
            }
        });
        Proxy {
            address,
            connections,
        }
    }

    /// Closes every connection through the proxy.
    fn cut(&self) {
        for task in self.connections.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_watch_resumes_after_its_stream_breaks() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(store::DurableStore::open(dir.path(), Default::default()).unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let target = listener.local_addr().unwrap();
    let served = store.clone();
    std::thread::spawn(move || store::gateway::http::serve(listener, served));
    let proxy = Proxy::to(target).await;
    let storage = EtcdStorage::connect(&format!("http://{}", proxy.address))
        .await
        .unwrap();
    let mut watch = storage.watch("/registry/r/", 1).await.unwrap();
    let put = |key: &str| {
        store
            .put(&PutRequest::new(key, "x"))
            .unwrap()
            .header_revision
    };
    assert_eq!(put("/registry/r/a"), 2);
    assert_eq!(next_event(&mut watch).await.unwrap().revision(), 2);
    proxy.cut();
    // Written while the stream is broken: the reopened watch must deliver them once each.
    assert_eq!(put("/registry/r/b"), 3);
    assert_eq!(put("/registry/other"), 4);
    assert_eq!(put("/registry/r/c"), 5);
    let mut revisions = Vec::new();
    for _ in 0..2 {
        revisions.push(next_event(&mut watch).await.unwrap().revision());
    }
    assert_eq!(revisions, [3, 5]);
    // The pooled connections were cut too: a call still gets through, on a new one.
    let got = storage.get("/registry/r/c").await.unwrap().unwrap();
    assert_eq!(got.mod_revision, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_etcd_urls_are_refused_with_the_reason() {
    for (url, reason) in [
        ("https://etcd:2379", "https is not supported"),
        ("etcd:2379", "must start with http://"),
        ("http://etcd:2379/v3", "expected http://host:port"),
    ] {
        let Err(error) = EtcdStorage::connect(url).await else {
            panic!("{url} was accepted");
        };
        assert!(error.to_string().contains(reason), "{url}: {error}");
    }
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let Err(error) = EtcdStorage::connect(&format!("http://{closed}")).await else {
        panic!("a closed port was accepted");
    };
    assert!(matches!(error, StorageError::Unavailable { .. }), "{error}");
}

/// Drives a whole `ApiServer` on `storage`: create, read, a stale update refused, watch from a
/// version, delete. The backend must be invisible to the API's clients.
async fn the_api_server_works_on(storage: Arc<dyn Storage>) {
    use apiserver::ApiServer;
    use apiserver::request::{ApiResponse, Handler};
    use common::{next_event, pod, request, summary};

    let server = ApiServer::new(storage);
    let call = async |method: &str, target: &str, body: Option<&serde_json::Value>| match server
        .handle(request(method, target, body))
        .await
    {
        ApiResponse::Full { status, body, .. } => (
            status,
            serde_json::from_slice::<serde_json::Value>(&body).unwrap(),
        ),
        ApiResponse::Stream { status, .. } => panic!("{method} {target}: a stream ({status})"),
    };
    let pods = "/api/v1/namespaces/default/pods";

    let (code, created) = call("POST", pods, Some(&pod("web-1"))).await;
    assert_eq!(code, 201, "{created}");
    let version = created["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    let (code, read) = call("GET", &format!("{pods}/web-1"), None).await;
    assert_eq!(
        (code, &read["metadata"]["resourceVersion"]),
        (200, &created["metadata"]["resourceVersion"])
    );

    let mut changed = read.clone();
    changed["metadata"]["labels"] = serde_json::json!({"tier": "front"});
    let (code, updated) = call("PUT", &format!("{pods}/web-1"), Some(&changed)).await;
    assert_eq!(code, 200, "{updated}");
    let (code, stale) = call("PUT", &format!("{pods}/web-1"), Some(&changed)).await;
    assert_eq!((code, stale["reason"].as_str()), (409, Some("Conflict")));

    let ApiResponse::Stream { mut chunks, .. } = server
        .handle(request(
            "GET",
            &format!("{pods}?watch=true&resourceVersion={version}"),
            None,
        ))
        .await
    else {
        panic!("a watch answers with a stream");
    };
    let (code, _) = call("POST", pods, Some(&pod("web-2"))).await;
    assert_eq!(code, 201);
    assert_eq!(
        summary(&next_event(&mut chunks).await),
        ("MODIFIED".into(), "web-1".into())
    );
    assert_eq!(
        summary(&next_event(&mut chunks).await),
        ("ADDED".into(), "web-2".into())
    );

    let (code, _) = call(
        "DELETE",
        &format!("{pods}/web-2?gracePeriodSeconds=0"),
        None,
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(
        summary(&next_event(&mut chunks).await),
        ("DELETED".into(), "web-2".into())
    );
    let (code, gone) = call("GET", &format!("{pods}/web-2"), None).await;
    assert_eq!((code, gone["reason"].as_str()), (404, Some("NotFound")));
    let (code, list) = call("GET", pods, None).await;
    assert_eq!(code, 200);
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_server_runs_on_the_embedded_store() {
    let dir = tempfile::tempdir().unwrap();
    let storage = EmbeddedStorage::open(dir.path()).unwrap();
    the_api_server_works_on(Arc::new(storage)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_server_runs_on_a_real_etcd() {
    let dir = tempfile::tempdir().unwrap();
    let Some((_etcd, storage)) = etcd_or_skip(dir.path()).await else {
        return;
    };
    the_api_server_works_on(Arc::new(storage)).await;
}
