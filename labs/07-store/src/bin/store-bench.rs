//! `store-bench`: durable puts per second with 1, 16 and 64 concurrent clients.
//!
//! Each client puts 256-byte values to its own keys, waiting for each acknowledgement (so
//! for the fsync) before the next put, for a fixed time. The table shows the throughput, the
//! mean latency, and how many writes shared each fsync thanks to group commit, beside etcd's
//! published figure. Run with `cargo xtask bench --lab 7` (release mode).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use store::{DurableOptions, DurableStore, PutRequest};

const VALUE_BYTES: usize = 256;
const RUN_FOR: Duration = Duration::from_secs(3);
const CLIENTS: [usize; 3] = [1, 16, 64];
/// etcd's benchmark figure: 1 client, 256-byte values, 3 members on 8 vCPUs.
const ETCD_ONE_CLIENT: &str = "583 writes/s (3 members, 8 vCPU)";

/// What one run measured.
struct Measured {
    writes: u64,
    elapsed: Duration,
    fsyncs: u64,
}

fn main() -> store::Result<()> {
    println!("| clients | writes/s | mean latency | writes per fsync | etcd reference |");
    println!("|---:|---:|---:|---:|---|");
    for clients in CLIENTS {
        let dir = scratch_dir(clients)?;
        let measured = run(&dir, clients);
        let _ = std::fs::remove_dir_all(&dir);
        let measured = measured?;
        let seconds = measured.elapsed.as_secs_f64();
        let per_second = measured.writes as f64 / seconds;
        let latency_ms = 1000.0 * seconds * clients as f64 / measured.writes.max(1) as f64;
        let per_fsync = measured.writes as f64 / measured.fsyncs.max(1) as f64;
        let reference = if clients == 1 { ETCD_ONE_CLIENT } else { "" };
        println!(
            "| {clients} | {per_second:.0} | {latency_ms:.2} ms | {per_fsync:.1} | {reference} |"
        );
    }
    Ok(())
}

/// A fresh directory for one run, next to the system's temporary files.
fn scratch_dir(clients: usize) -> store::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "skiff-store-bench-{}-{clients}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Runs `clients` writers against a fresh store for [`RUN_FOR`].
fn run(dir: &std::path::Path, clients: usize) -> store::Result<Measured> {
    let store = Arc::new(DurableStore::open(dir, DurableOptions::default())?);
    let stop = Arc::new(AtomicBool::new(false));
    let writes = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|client| {
            let (store, stop, writes) = (store.clone(), stop.clone(), writes.clone());
            std::thread::spawn(move || write_until_stopped(&store, client, &stop, &writes))
        })
        .collect();
    std::thread::sleep(RUN_FOR);
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.join().expect("a writer panicked")?;
    }
    let elapsed = started.elapsed();
    Ok(Measured {
        writes: writes.load(Ordering::Relaxed),
        elapsed,
        fsyncs: store.status().fsyncs,
    })
}

fn write_until_stopped(
    store: &DurableStore,
    client: usize,
    stop: &AtomicBool,
    writes: &AtomicU64,
) -> store::Result<()> {
    let value = vec![b'x'; VALUE_BYTES];
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let key = format!("/bench/{client}/{}", n % 1000);
        store.put(&PutRequest::new(key, value.clone()))?;
        writes.fetch_add(1, Ordering::Relaxed);
        n += 1;
    }
    Ok(())
}
