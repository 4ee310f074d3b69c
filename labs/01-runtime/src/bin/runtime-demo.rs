//! `runtime-demo`: narrates, step by step, what the container runtime does on this machine.
//!
//! Run it with `cargo run -p skiff-runtime --bin runtime-demo`. Its output is deterministic
//! (no pids, times or paths), so a test snapshots it.

use std::time::Duration;

use runtime::log_format::LogLine;
use runtime::process::child_pids;
use runtime::{
    ContainerConfig, ContainerFilter, ContainerId, ContainerRuntime, PodSandboxConfig, RealRuntime,
    ResourceLimits, RuntimeConfig,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

type DemoResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

#[tokio::main(flavor = "current_thread")]
async fn main() -> DemoResult {
    let root = std::env::temp_dir().join(format!("skiff-runtime-demo-{}", std::process::id()));
    let mut config = RuntimeConfig::new(&root);
    config.node_name = Some("node-1".into());
    let runtime = RealRuntime::new(config)?;
    let outcome = run(&runtime).await;
    drop(runtime);
    let _ = std::fs::remove_dir_all(&root);
    outcome
}

async fn run(rt: &RealRuntime) -> DemoResult {
    println!("skiff runtime demo\n==================\n");
    show_info(rt);
    let sandbox = rt
        .run_pod_sandbox(PodSandboxConfig::new("web", "default", "uid-1"))
        .await?;
    let ip = rt.pod_sandbox_status(&sandbox).await?.ip;
    println!("2. Create a pod sandbox for default/web");
    println!("   {sandbox} is Ready, pod IP {ip}\n");

    let echo = start(
        rt,
        &sandbox,
        ContainerConfig::new("echo", "skiff/echo:1").with_env("PORT", "8080"),
    )
    .await?;
    println!("3. Start container echo (image skiff/echo:1, PORT=8080): {echo} is Running");
    println!(
        "   GET http://{ip}:8080/ answers:\n     {}",
        http_get(&format!("{ip}:8080")).await?.trim_end()
    );
    println!();

    let crasher = start(
        rt,
        &sandbox,
        ContainerConfig::new("crasher", "skiff/crasher:1").with_args(["1"]),
    )
    .await?;
    let status = rt.wait_for_exit(&crasher).await?;
    println!("4. Start container crasher (exits with code 1): {crasher}");
    println!(
        "   exited: exit code {}, reason {}",
        code(status.exit_code),
        reason(&status)
    );
    print_log(rt, &crasher).await?;

    let limits = ResourceLimits {
        memory_bytes: Some(64 << 20),
        ..Default::default()
    };
    let hog = ContainerConfig::new("hog", "skiff/memory-hog:1")
        .with_args(["8", "1024"])
        .with_limits(limits);
    let hog = start(rt, &sandbox, hog).await?;
    let status = rt.wait_for_exit(&hog).await?;
    println!("5. Start container hog (memory-hog, limit 64 MiB, wants 1024 MiB): {hog}");
    println!(
        "   memory-hog ended: exit code {}, reason {}\n",
        code(status.exit_code),
        reason(&status)
    );

    graceful_stops(rt, &sandbox, &echo).await?;

    rt.remove_pod_sandbox(&sandbox).await?;
    let left = rt.list_containers(&ContainerFilter::default()).await?.len();
    println!(
        "8. Remove the sandbox: {left} containers and {} processes left",
        child_pids().len()
    );
    Ok(())
}

fn show_info(rt: &RealRuntime) {
    let info = rt.info();
    println!("1. What can this machine enforce?");
    println!("   memory limits: {}", info.memory);
    println!("   cpu limits:    {}", info.cpu);
    println!("   pids limits:   {}\n", info.pids);
}

/// Step 6 and 7: a container that handles SIGTERM, and one that ignores it.
async fn graceful_stops(
    rt: &RealRuntime,
    sandbox: &runtime::SandboxId,
    echo: &ContainerId,
) -> DemoResult {
    rt.stop_container(echo, Duration::from_secs(10)).await?;
    let status = rt.wait_for_exit(echo).await?;
    println!("6. Stop echo with a 10 s grace period: SIGTERM, and it exits by itself");
    println!(
        "   exited: exit code {}, reason {}",
        code(status.exit_code),
        reason(&status)
    );
    print_log(rt, echo).await?;

    let stubborn = ContainerConfig::new("stubborn", "skiff/sleeper:1").with_args(["--ignore-term"]);
    let stubborn = start(rt, sandbox, stubborn).await?;
    wait_for_log_line(rt, &stubborn).await?;
    rt.stop_container(&stubborn, Duration::from_secs(1)).await?;
    let status = rt.wait_for_exit(&stubborn).await?;
    println!("7. Stop stubborn (ignores SIGTERM) with a 1 s grace period: SIGTERM, wait, SIGKILL");
    println!(
        "   exited: exit code {}, reason {}\n",
        code(status.exit_code),
        reason(&status)
    );
    Ok(())
}

async fn start(
    rt: &RealRuntime,
    sandbox: &runtime::SandboxId,
    config: ContainerConfig,
) -> DemoResult<ContainerId> {
    let id = rt.create_container(sandbox, config).await?;
    rt.start_container(&id).await?;
    Ok(id)
}

/// Prints a container's log with the timestamps hidden (they change on every run). Lines are
/// shown stdout first, then stderr: the two streams are copied independently, so their order
/// relative to each other is not fixed.
async fn print_log(rt: &RealRuntime, id: &ContainerId) -> DemoResult {
    let log = rt.container_logs(id).await?;
    let mut lines: Vec<LogLine> = log.lines().filter_map(LogLine::parse).collect();
    lines.sort_by_key(|line| line.stream != "stdout");
    println!("   its log (timestamps hidden):");
    for line in lines {
        println!("     <time> {} {} {}", line.stream, line.tag, line.text);
    }
    println!();
    Ok(())
}

/// Waits until a container has written its first log line (it has set up its signal handling).
async fn wait_for_log_line(rt: &RealRuntime, id: &ContainerId) -> DemoResult {
    for _ in 0..500 {
        if !rt.container_logs(id).await?.is_empty() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Err(format!("{id} wrote nothing within 5 s").into())
}

/// A minimal HTTP GET, retried while the server is still starting; returns the body.
async fn http_get(address: &str) -> DemoResult<String> {
    for _ in 0..500 {
        let Ok(mut stream) = tokio::net::TcpStream::connect(address).await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        stream
            .write_all(format!("GET / HTTP/1.1\r\nhost: {address}\r\n\r\n").as_bytes())
            .await?;
        let mut response = String::new();
        stream.read_to_string(&mut response).await?;
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, body)| body)
            .unwrap_or("");
        return Ok(body.to_string());
    }
    Err(format!("nothing listens on {address} after 5 s").into())
}

fn code(exit_code: Option<i32>) -> String {
    exit_code.map_or("-".into(), |c| c.to_string())
}

fn reason(status: &runtime::ContainerStatus) -> String {
    status.reason.map_or("-".into(), |r| r.to_string())
}
