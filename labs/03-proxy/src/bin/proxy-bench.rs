//! Benchmark: what the proxy costs, compared with talking to the pod directly.
//!
//! Measures bulk throughput (one connection streaming for a few seconds) and the latency of
//! small request/response round trips, each direct and through the proxy, on loopback, and
//! prints a Markdown table with the goals beside the numbers. Run it in release mode:
//! `cargo run --release -p skiff-proxy --bin proxy-bench`.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use proxy::{Endpoint, Proxy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Direct and proxied runs alternate this many times, so that load from other processes on
/// the machine hits both sides alike instead of whichever ran while it lasted.
const ROUNDS: usize = 4;
/// How long each throughput run streams.
const STREAM_FOR: Duration = Duration::from_secs(1);
/// The size of each write in the throughput runs.
const CHUNK: usize = 64 * 1024;
/// Round trips per latency run, after a warm-up of a tenth as many.
const ROUND_TRIPS: usize = 5_000;
/// The size of a request and of its reply in the latency runs.
const MESSAGE: usize = 64;

/// The goals: throughput through the proxy at least this share of direct...
const THROUGHPUT_GOAL: f64 = 0.70;
/// ...and no more than this much added to the 99th-percentile round trip.
const ADDED_P99_GOAL: Duration = Duration::from_micros(200);

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();

    let sink = start_pod("127.3.9.1:0", count_and_reply).await?;
    let echo = start_pod("127.3.9.2:0", echo_fixed).await?;
    let mut node = Proxy::new("node-bench")?;
    let sink_via_proxy = node.add_service("sink", "127.3.9.10:0".parse()?).await?;
    let echo_via_proxy = node.add_service("echo", "127.3.9.11:0".parse()?).await?;
    node.update(
        "sink",
        vec![Endpoint {
            addr: sink,
            node: "node-bench".into(),
            ready: true,
        }],
    )?;
    node.update(
        "echo",
        vec![Endpoint {
            addr: echo,
            node: "node-bench".into(),
            ready: true,
        }],
    )?;

    let (mut direct_mb, mut proxied_mb) = (0.0, 0.0);
    let (mut direct, mut proxied) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        direct_mb += throughput(sink).await?;
        proxied_mb += throughput(sink_via_proxy).await?;
        direct.extend(round_trips(echo).await?);
        proxied.extend(round_trips(echo_via_proxy).await?);
    }
    direct.sort();
    proxied.sort();
    let rounds = ROUNDS as f64;
    print_table(direct_mb / rounds, proxied_mb / rounds, &direct, &proxied);
    Ok(())
}

/// Starts a server on `addr` that handles each connection with `handle`; returns its address.
async fn start_pod<F, Fut>(addr: &str, handle: F) -> std::io::Result<SocketAddr>
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = std::io::Result<()>> + Send + 'static,
{
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(handle(stream));
        }
    });
    Ok(bound)
}

/// Reads until EOF, then replies with the number of bytes read (8 bytes, big-endian).
async fn count_and_reply(mut stream: TcpStream) -> std::io::Result<()> {
    let mut buffer = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        match stream.read(&mut buffer).await? {
            0 => break,
            n => total += n as u64,
        }
    }
    stream.write_all(&total.to_be_bytes()).await
}

/// Answers every `MESSAGE`-byte request with the same bytes.
async fn echo_fixed(mut stream: TcpStream) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut message = [0u8; MESSAGE];
    while stream.read_exact(&mut message).await.is_ok() {
        stream.write_all(&message).await?;
    }
    Ok(())
}

/// Streams to `addr` for [`STREAM_FOR`] and returns the rate the far end received, in MB/s.
/// The clock stops when the far end confirms the byte count, so data still sitting in socket
/// buffers is not counted as delivered.
async fn throughput(addr: SocketAddr) -> std::io::Result<f64> {
    let mut stream = TcpStream::connect(addr).await?;
    let chunk = vec![0x5a_u8; CHUNK];
    let start = Instant::now();
    while start.elapsed() < STREAM_FOR {
        stream.write_all(&chunk).await?;
    }
    stream.shutdown().await?;
    let mut count = [0u8; 8];
    stream.read_exact(&mut count).await?;
    let seconds = start.elapsed().as_secs_f64();
    Ok(u64::from_be_bytes(count) as f64 / seconds / 1e6)
}

/// Round-trip times of [`ROUND_TRIPS`] small request/replies on one connection.
async fn round_trips(addr: SocketAddr) -> std::io::Result<Vec<Duration>> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let mut message = [7u8; MESSAGE];
    let mut times = Vec::with_capacity(ROUND_TRIPS);
    for i in 0..ROUND_TRIPS + ROUND_TRIPS / 10 {
        let start = Instant::now();
        stream.write_all(&message).await?;
        stream.read_exact(&mut message).await?;
        if i >= ROUND_TRIPS / 10 {
            times.push(start.elapsed());
        }
    }
    Ok(times)
}

/// The `p`-th percentile (0..=100) of sorted `times`.
fn percentile(times: &[Duration], p: usize) -> Duration {
    times[(times.len() - 1) * p / 100]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

fn print_table(direct_mbps: f64, proxied_mbps: f64, direct: &[Duration], proxied: &[Duration]) {
    let share = proxied_mbps / direct_mbps;
    let (d50, p50) = (percentile(direct, 50), percentile(proxied, 50));
    let (d99, p99) = (percentile(direct, 99), percentile(proxied, 99));
    let added_p50 = p50.saturating_sub(d50);
    let added_p99 = p99.saturating_sub(d99);
    println!("| measurement | direct | via proxy | proxy cost | goal | |");
    println!("|---|---:|---:|---:|---|---|");
    println!(
        "| bulk throughput, 1 connection | {direct_mbps:.0} MB/s | {proxied_mbps:.0} MB/s | {:.0}% of direct | ≥ {:.0}% of direct | {} |",
        share * 100.0,
        THROUGHPUT_GOAL * 100.0,
        verdict(share >= THROUGHPUT_GOAL)
    );
    println!(
        "| round trip p50, {MESSAGE} B | {:.1} µs | {:.1} µs | +{:.1} µs | | |",
        micros(d50),
        micros(p50),
        micros(added_p50)
    );
    println!(
        "| round trip p99, {MESSAGE} B | {:.1} µs | {:.1} µs | +{:.1} µs | added p99 < {} µs | {} |",
        micros(d99),
        micros(p99),
        micros(added_p99),
        ADDED_P99_GOAL.as_micros(),
        verdict(added_p99 < ADDED_P99_GOAL)
    );
}
