//! `store-bench`: durable puts per second with 1, 16 and 64 concurrent clients.
//!
//! Each client puts 256-byte values to its own keys, waiting for each acknowledgement (so
//! for the fsync) before the next put, for a fixed time. The first table shows the
//! throughput, the mean latency, and how many writes shared each fsync thanks to group
//! commit, beside etcd's published figure. The second puts the same load through etcd's JSON
//! gateway (`POST /v3/kv/put`, one keep-alive connection per client) against skiff-store's
//! gateway and, if an `etcd` binary is on PATH, a one-member real etcd on the same machine
//! and disk. Run with `cargo xtask bench --lab 7` (release mode).

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
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
    println!();
    gateway_table()
}

/// The same load through etcd's JSON gateway: skiff-store's, and a real etcd's if installed.
fn gateway_table() -> store::Result<()> {
    let dir = scratch_dir(0)?;
    let skiff_store = Arc::new(DurableStore::open(
        &dir.join("skiff"),
        DurableOptions::default(),
    )?);
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let skiff = listener.local_addr()?.to_string();
    std::thread::spawn(move || store::gateway::http::serve(listener, skiff_store));
    let etcd = Etcd::start(&dir.join("etcd"));
    println!("Through etcd's JSON gateway (`POST /v3/kv/put`, 256-byte values, same machine):");
    println!();
    println!("| clients | skiff-store writes/s | etcd 3.4 (1 member) writes/s | etcd reference |");
    println!("|---:|---:|---:|---|");
    for clients in CLIENTS {
        let skiff_rate = over_gateway(&skiff, clients)?;
        let etcd_rate = match &etcd {
            Some(etcd) => format!("{:.0}", over_gateway(&etcd.address, clients)?),
            None => "not installed".to_string(),
        };
        let reference = if clients == 1 { ETCD_ONE_CLIENT } else { "" };
        println!("| {clients} | {skiff_rate:.0} | {etcd_rate} | {reference} |");
    }
    drop(etcd);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Writes per second of `clients` connections putting for [`RUN_FOR`] through the gateway.
fn over_gateway(address: &str, clients: usize) -> store::Result<f64> {
    let stop = Arc::new(AtomicBool::new(false));
    let writes = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|client| {
            let (address, stop, writes) = (address.to_string(), stop.clone(), writes.clone());
            std::thread::spawn(move || put_over_http(&address, client, &stop, &writes))
        })
        .collect();
    std::thread::sleep(RUN_FOR);
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.join().expect("a client panicked")?;
    }
    Ok(writes.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
}

/// One client: puts on one keep-alive connection until stopped.
fn put_over_http(
    address: &str,
    client: usize,
    stop: &AtomicBool,
    writes: &AtomicU64,
) -> store::Result<()> {
    use base64::Engine;
    let stream = TcpStream::connect(address)?;
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    let value = base64::engine::general_purpose::STANDARD.encode(vec![b'x'; VALUE_BYTES]);
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let key = base64::engine::general_purpose::STANDARD
            .encode(format!("/bench/{client}/{}", n % 1000));
        let body = format!(r#"{{"key":"{key}","value":"{value}"}}"#);
        let request = format!(
            "POST /v3/kv/put HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        writer.write_all(request.as_bytes())?;
        writer.flush()?;
        let status = read_response(&mut reader)?;
        if status != 200 {
            return Err(store::StoreError::Io(format!("put answered {status}")));
        }
        writes.fetch_add(1, Ordering::Relaxed);
        n += 1;
    }
    Ok(())
}

/// Reads one response (Content-Length or chunked body); returns its status.
fn read_response(reader: &mut impl BufRead) -> std::io::Result<u16> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let (mut length, mut chunked) = (0usize, false);
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let header = line.trim().to_ascii_lowercase();
        if header.is_empty() {
            break;
        }
        if let Some(value) = header.strip_prefix("content-length:") {
            length = value.trim().parse().unwrap_or(0);
        }
        chunked |= header == "transfer-encoding: chunked";
    }
    if !chunked {
        reader.read_exact(&mut vec![0; length])?;
        return Ok(status);
    }
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let size = usize::from_str_radix(line.trim(), 16).unwrap_or(0);
        reader.read_exact(&mut vec![0; size + 2])?;
        if size == 0 {
            return Ok(status);
        }
    }
}

/// A one-member etcd on free ports, killed when dropped.
struct Etcd {
    child: Child,
    address: String,
}

impl Etcd {
    /// Starts etcd in `dir`; `None` if there is no etcd binary or it does not come up.
    fn start(dir: &std::path::Path) -> Option<Etcd> {
        let ports: Vec<u16> = (0..2)
            .map(|_| TcpListener::bind("127.0.0.1:0").ok())
            .collect::<Option<Vec<_>>>()?
            .iter()
            .map(|listener| listener.local_addr().map(|a| a.port()).unwrap_or(0))
            .collect();
        let client = format!("http://127.0.0.1:{}", ports[0]);
        let peer = format!("http://127.0.0.1:{}", ports[1]);
        let child = Command::new("etcd")
            .args(["--name", "bench", "--data-dir"])
            .arg(dir)
            .args([
                "--listen-client-urls",
                &client,
                "--advertise-client-urls",
                &client,
            ])
            .args([
                "--listen-peer-urls",
                &peer,
                "--initial-advertise-peer-urls",
                &peer,
            ])
            .args(["--initial-cluster", &format!("bench={peer}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let etcd = Etcd {
            child,
            address: format!("127.0.0.1:{}", ports[0]),
        };
        for _ in 0..300 {
            if etcd.answers() {
                return Some(etcd);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        eprintln!("etcd did not come up within 30 s; skipping it");
        None
    }

    fn answers(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(&self.address) else {
            return false;
        };
        let request = format!(
            "POST /v3/maintenance/status HTTP/1.1\r\nHost: {}\r\nContent-Length: 2\r\n\r\n{{}}",
            self.address
        );
        stream.write_all(request.as_bytes()).is_ok()
            && read_response(&mut BufReader::new(stream)).ok() == Some(200)
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
