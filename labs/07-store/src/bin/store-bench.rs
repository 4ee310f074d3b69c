//! `store-bench`: durable puts per second with 1, 16 and 64 concurrent clients.
//!
//! Each client puts 256-byte values to its own keys, waiting for each acknowledgement (so
//! for the fsync) before the next put, for a fixed time. The first table shows the
//! throughput, the mean latency, and how many writes shared each fsync thanks to group
//! commit, beside etcd's published figure. The second puts the same load through etcd's JSON
//! gateway (`POST /v3/kv/put`, one keep-alive connection per client) against skiff-store's
//! gateway and, if an `etcd` binary is on PATH, a one-member real etcd on the same machine
//! and disk. The third, through the same gateway on both, reads (single-key ranges at 1 and
//! 16 clients, a prefix range of 1,000 keys; etcd's are linearizable, its default) and times
//! a put's event reaching 1,000 watch streams. Run with `cargo xtask bench --lab 7` (release
//! mode).

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use std::sync::mpsc;

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
    println!();
    reads_and_watch_table(&skiff, etcd.as_ref())?;
    drop(etcd);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Writes per second of `clients` connections putting for [`RUN_FOR`] through the gateway.
fn over_gateway(address: &str, clients: usize) -> store::Result<f64> {
    let value = b64(&"x".repeat(VALUE_BYTES));
    calls_per_second(address, clients, move |client, n| {
        let key = b64(&format!("/bench/{client}/{}", n % 1000));
        (
            "/v3/kv/put",
            format!(r#"{{"key":"{key}","value":"{value}"}}"#),
        )
    })
}

/// Calls per second of `clients` keep-alive connections each repeating `request(client, n)`
/// (a path and a JSON body) for [`RUN_FOR`], waiting for each answer before the next call.
fn calls_per_second(
    address: &str,
    clients: usize,
    request: impl Fn(usize, u64) -> (&'static str, String) + Send + Sync + 'static,
) -> store::Result<f64> {
    let stop = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicU64::new(0));
    let request = Arc::new(request);
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|client| {
            let (address, stop, calls) = (address.to_string(), stop.clone(), calls.clone());
            let request = request.clone();
            std::thread::spawn(move || -> store::Result<()> {
                let mut connection = Connection::open(&address)?;
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let (path, body) = request(client, n);
                    connection.call(path, &body)?;
                    calls.fetch_add(1, Ordering::Relaxed);
                    n += 1;
                }
                Ok(())
            })
        })
        .collect();
    std::thread::sleep(RUN_FOR);
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.join().expect("a client panicked")?;
    }
    Ok(calls.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
}

/// Base64, as the JSON gateway wants keys and values.
fn b64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// One keep-alive HTTP/1.1 connection to a gateway.
struct Connection {
    address: String,
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Connection {
    fn open(address: &str) -> store::Result<Connection> {
        let writer = TcpStream::connect(address)?;
        writer.set_nodelay(true)?;
        Ok(Connection {
            address: address.to_string(),
            reader: BufReader::new(writer.try_clone()?),
            writer,
        })
    }

    /// Sends `POST path` with a JSON body, without reading the answer.
    fn send(&mut self, path: &str, body: &str) -> std::io::Result<()> {
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.address,
            body.len()
        );
        self.writer.write_all(request.as_bytes())?;
        self.writer.flush()
    }

    /// One call: sends it and reads the whole answer, which must be 200 OK.
    fn call(&mut self, path: &str, body: &str) -> store::Result<()> {
        self.send(path, body)?;
        match read_response(&mut self.reader)? {
            200 => Ok(()),
            status => Err(store::StoreError::Io(format!("{path} answered {status}"))),
        }
    }
}

/// Reads one response (Content-Length or chunked body); returns its status.
fn read_response(reader: &mut impl BufRead) -> std::io::Result<u16> {
    let (status, length, chunked) = read_head(reader)?;
    if !chunked {
        reader.read_exact(&mut vec![0; length])?;
        return Ok(status);
    }
    while !read_chunk(reader)?.is_empty() {}
    Ok(status)
}

/// Reads a response's status line and headers: its status, Content-Length and whether the
/// body is chunked.
fn read_head(reader: &mut impl BufRead) -> std::io::Result<(u16, usize, bool)> {
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
        if reader.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let header = line.trim().to_ascii_lowercase();
        if header.is_empty() {
            return Ok((status, length, chunked));
        }
        if let Some(value) = header.strip_prefix("content-length:") {
            length = value.trim().parse().unwrap_or(0);
        }
        chunked |= header == "transfer-encoding: chunked";
    }
}

/// Reads one chunk of a chunked body; empty at its end.
fn read_chunk(reader: &mut impl BufRead) -> std::io::Result<Vec<u8>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    let size = usize::from_str_radix(line.trim(), 16).unwrap_or(0);
    let mut chunk = vec![0; size + 2];
    reader.read_exact(&mut chunk)?;
    chunk.truncate(size);
    Ok(chunk)
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

/// Keys stored for the read benchmarks, and watchers opened for the fan-out.
const STORED_KEYS: usize = 1000;
const WATCHERS: usize = 1000;
/// Puts whose delivery to every watcher is timed.
const WATCHED_PUTS: usize = 5;

/// Range reads and watch fan-out through the gateway, skiff-store beside etcd.
fn reads_and_watch_table(skiff: &str, etcd: Option<&Etcd>) -> store::Result<()> {
    let skiff_cells = reads_and_watch(skiff)?;
    let etcd_cells = match etcd {
        Some(etcd) => reads_and_watch(&etcd.address)?,
        None => vec!["not installed".to_string(); skiff_cells.len()],
    };
    println!(
        "Reads (`POST /v3/kv/range` over {STORED_KEYS} stored keys of {VALUE_BYTES} bytes) and \
         watch fan-out (`POST /v3/watch` on a prefix, {WATCHERS} streams, {WATCHED_PUTS} puts):"
    );
    println!();
    println!("| measure | skiff-store | etcd 3.4 (1 member) |");
    println!("|---|---:|---:|");
    let rows = [
        "single-key range, 1 client",
        "single-key range, 16 clients",
        "prefix range of 1,000 keys",
        "put to one watcher notified, p50",
        "put to one watcher notified, p99",
        "put to all 1,000 watchers notified, worst put",
    ];
    for ((row, skiff), etcd) in rows.iter().zip(&skiff_cells).zip(&etcd_cells) {
        println!("| {row} | {skiff} | {etcd} |");
    }
    Ok(())
}

/// The cells of one server's column, in the rows' order.
fn reads_and_watch(address: &str) -> store::Result<Vec<String>> {
    store_keys(address)?;
    let mut cells = Vec::new();
    for clients in [1, 16] {
        // Each call reads one key, spread over the stored keys.
        let rate = calls_per_second(address, clients, |client, n| {
            let key = b64(&format!(
                "/range/{:04}",
                (client * 61 + n as usize) % STORED_KEYS
            ));
            ("/v3/kv/range", format!(r#"{{"key":"{key}"}}"#))
        })?;
        cells.push(format!("{rate:.0} reads/s"));
    }
    cells.push(format!("{:.2} ms per range", prefix_range_ms(address)?));
    let mut latencies = watch_fan_out(address)?;
    latencies.sort();
    for at in [
        latencies.len() / 2,
        latencies.len() * 99 / 100,
        latencies.len() - 1,
    ] {
        cells.push(format!("{:.2} ms", latencies[at].as_secs_f64() * 1000.0));
    }
    Ok(cells)
}

/// Stores [`STORED_KEYS`] keys `/range/NNNN`, 16 connections at a time (each put is durable).
fn store_keys(address: &str) -> store::Result<()> {
    let value = b64(&"x".repeat(VALUE_BYTES));
    let writers: Vec<_> = (0..16)
        .map(|writer| {
            let (address, value) = (address.to_string(), value.clone());
            std::thread::spawn(move || -> store::Result<()> {
                let mut connection = Connection::open(&address)?;
                for n in (writer..STORED_KEYS).step_by(16) {
                    let key = b64(&format!("/range/{n:04}"));
                    let body = format!(r#"{{"key":"{key}","value":"{value}"}}"#);
                    connection.call("/v3/kv/put", &body)?;
                }
                Ok(())
            })
        })
        .collect();
    for writer in writers {
        writer.join().expect("a writer panicked")?;
    }
    Ok(())
}

/// Mean milliseconds to read the whole `/range/` prefix (all stored keys) on one connection.
fn prefix_range_ms(address: &str) -> store::Result<f64> {
    const RANGES: u32 = 50;
    let mut connection = Connection::open(address)?;
    let body = format!(
        r#"{{"key":"{}","range_end":"{}"}}"#,
        b64("/range/"),
        b64("/range0")
    );
    let started = Instant::now();
    for _ in 0..RANGES {
        connection.call("/v3/kv/range", &body)?;
    }
    Ok(started.elapsed().as_secs_f64() * 1000.0 / f64::from(RANGES))
}

/// Opens [`WATCHERS`] watch streams on `/watched/`, then puts [`WATCHED_PUTS`] keys one at a
/// time; returns, for every put and watcher, the time from sending the put to that watcher
/// reading the event. The latest of each put's is what "all watchers notified" means.
fn watch_fan_out(address: &str) -> store::Result<Vec<Duration>> {
    let (ready_tx, ready) = mpsc::channel();
    let (delivered_tx, delivered) = mpsc::channel();
    let mut streams = Vec::new();
    let mut watchers = Vec::new();
    for _ in 0..WATCHERS {
        let connection = Connection::open(address)?;
        streams.push(connection.writer.try_clone()?);
        let (ready_tx, delivered_tx) = (ready_tx.clone(), delivered_tx.clone());
        // A thousand blocking readers: a small stack each is plenty.
        let watcher = std::thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(move || watch(connection, &ready_tx, &delivered_tx))?;
        watchers.push(watcher);
    }
    drop((ready_tx, delivered_tx));
    for _ in 0..WATCHERS {
        // Every stream must be created before the first put, or its event would be missed.
        ready
            .recv()
            .map_err(|_| store::StoreError::Io("a watch stream was not created".into()))?;
    }
    let mut writer = Connection::open(address)?;
    let mut latencies = Vec::new();
    for n in 0..WATCHED_PUTS {
        let sent = Instant::now();
        let body = format!(
            r#"{{"key":"{}","value":"{}"}}"#,
            b64(&format!("/watched/{n}")),
            b64("v")
        );
        writer.call("/v3/kv/put", &body)?;
        for _ in 0..WATCHERS {
            // A safety net only: a lost event must fail the run, not hang it.
            let at = delivered
                .recv_timeout(Duration::from_secs(60))
                .map_err(|_| store::StoreError::Io("a watcher missed an event".into()))?;
            latencies.push(at - sent);
        }
    }
    for stream in streams {
        let _ = stream.shutdown(std::net::Shutdown::Both);
    }
    for watcher in watchers {
        let _ = watcher.join();
    }
    Ok(latencies)
}

/// One watcher: creates its watch, says it is ready, then reports the instant each message
/// with events arrives, until its connection is shut down.
fn watch(
    mut connection: Connection,
    ready: &mpsc::Sender<()>,
    delivered: &mpsc::Sender<Instant>,
) -> std::io::Result<()> {
    let body = format!(
        r#"{{"create_request":{{"key":"{}","range_end":"{}"}}}}"#,
        b64("/watched/"),
        b64("/watched0")
    );
    connection.send("/v3/watch", &body)?;
    read_head(&mut connection.reader)?;
    // The first message confirms the watch is created.
    read_chunk(&mut connection.reader)?;
    let _ = ready.send(());
    loop {
        let chunk = read_chunk(&mut connection.reader)?;
        if chunk.is_empty() {
            return Ok(());
        }
        if String::from_utf8_lossy(&chunk).contains("\"events\"") {
            let _ = delivered.send(Instant::now());
        }
    }
}
