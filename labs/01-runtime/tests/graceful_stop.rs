//! Graded tests of `runtime-graceful-stop`: SIGTERM, the grace period, then SIGKILL; and
//! nothing left behind.

mod common;

use std::net::Ipv4Addr;
use std::time::Duration;

use common::TermDisposition;
use runtime::process::{ProcessGroup, StopOutcome, kill_and_reap, stop_gracefully};
use runtime::{ContainerConfig, ContainerRuntime, ContainerState, ExitReason};

#[tokio::test]
async fn a_container_that_handles_sigterm_exits_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let rt = common::real_runtime(dir.path(), (Ipv4Addr::new(127, 23, 0, 0), 24));
    let sandbox = common::sandbox(&rt, "polite").await;
    let id = common::start(
        &rt,
        &sandbox,
        ContainerConfig::new("polite", "skiff/sleeper:1"),
    )
    .await;
    let pid = rt
        .container_status(&id)
        .await
        .unwrap()
        .pid
        .expect("running");
    common::wait_for_term_disposition(pid, TermDisposition::Caught).await;

    // A long grace period: the test only finishes quickly if SIGTERM alone ended it.
    rt.stop_container(&id, Duration::from_secs(600))
        .await
        .unwrap();
    let status = rt.container_status(&id).await.unwrap();
    assert_eq!(
        status.state,
        ContainerState::Exited,
        "stop returns once the container is gone"
    );
    assert_eq!(
        (status.exit_code, status.reason),
        (Some(0), Some(ExitReason::Completed))
    );
    rt.remove_pod_sandbox(&sandbox).await.unwrap();
}

#[tokio::test]
async fn a_container_that_ignores_sigterm_is_killed_after_the_grace_period() {
    let dir = tempfile::tempdir().unwrap();
    let rt = common::real_runtime(dir.path(), (Ipv4Addr::new(127, 24, 0, 0), 24));
    let sandbox = common::sandbox(&rt, "stubborn").await;
    let config = ContainerConfig::new("stubborn", "skiff/sleeper:1").with_args(["--ignore-term"]);
    let id = common::start(&rt, &sandbox, config).await;
    let pid = rt
        .container_status(&id)
        .await
        .unwrap()
        .pid
        .expect("running");
    common::wait_for_term_disposition(pid, TermDisposition::Ignored).await;

    rt.stop_container(&id, Duration::from_millis(200))
        .await
        .unwrap();
    let status = rt.container_status(&id).await.unwrap();
    assert_eq!(status.state, ContainerState::Exited);
    assert_eq!(
        (status.exit_code, status.reason),
        (Some(137), Some(ExitReason::Error)),
        "SIGKILL = 128 + 9"
    );
    rt.remove_pod_sandbox(&sandbox).await.unwrap();
}

#[tokio::test]
async fn stop_gracefully_reports_which_way_it_ended() {
    // Drives the function directly on a process group of our own, without a runtime. As the
    // runtime does, become the subreaper, so the shell's orphaned `sleep` is ours to reap.
    runtime::process::become_child_subreaper().unwrap();
    // The polite case gets a long grace period, so that a slow machine cannot turn it into a
    // kill; it still ends as soon as the shell has run its trap.
    for (ignore, grace, outcome) in [
        (
            false,
            Duration::from_secs(60),
            StopOutcome::ExitedAfterSigterm,
        ),
        (true, Duration::from_millis(300), StopOutcome::Killed),
    ] {
        let trap = if ignore {
            "trap '' TERM"
        } else {
            "trap 'exit 0' TERM"
        };
        let mut child = tokio::process::Command::new("sh")
            .args([
                "-c",
                &format!("{trap}; echo ready; while :; do sleep 0.05; done"),
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .process_group(0)
            // If the function under test panics (a starter's todo!()), the shell must not
            // outlive the test: it would loop forever and hold cargo's output pipe open.
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let mut ready = [0u8; 6];
        tokio::io::AsyncReadExt::read_exact(&mut stdout, &mut ready)
            .await
            .unwrap();
        let pid = child.id().unwrap() as i32;
        let (exited_tx, mut exited_rx) = tokio::sync::watch::channel(false);
        let waiter = tokio::spawn(async move {
            let status = child.wait().await;
            let _ = exited_tx.send(true);
            status
        });
        let got = stop_gracefully(ProcessGroup(pid), &mut exited_rx, grace).await;
        assert_eq!(got, outcome, "ignore SIGTERM: {ignore}");
        let status = waiter.await.unwrap().unwrap();
        assert_eq!(status.success(), !ignore);
        // The loop's last `sleep` may outlive the shell: kill and reap it like the runtime does.
        kill_and_reap(ProcessGroup(pid), None);
        assert!(!ProcessGroup(pid).is_alive());
    }
}

#[tokio::test]
async fn grandchildren_do_not_survive_a_stop() {
    let dir = tempfile::tempdir().unwrap();
    let rt = common::real_runtime(dir.path(), (Ipv4Addr::new(127, 25, 0, 0), 24));
    let sandbox = common::sandbox(&rt, "forks").await;
    // Two grandchildren in the background, their pids printed, and the parent waiting.
    let script = "sleep 1000 & echo $!; sleep 1000 & echo $!; trap 'exit 0' TERM; wait";
    let id = common::start(
        &rt,
        &sandbox,
        ContainerConfig::new("forks", "sh").with_args(["-c", script]),
    )
    .await;
    let grandchildren = read_pids(&rt, &id, 2).await;
    assert!(grandchildren.iter().all(|pid| common::process_exists(*pid)));

    rt.stop_container(&id, Duration::from_secs(5))
        .await
        .unwrap();
    for pid in grandchildren {
        assert!(
            !common::process_exists(pid),
            "grandchild {pid} left behind (alive or zombie)"
        );
    }
    rt.remove_pod_sandbox(&sandbox).await.unwrap();
}

#[tokio::test]
async fn a_grandchild_that_left_the_process_group_is_caught_by_the_cgroup() {
    let dir = tempfile::tempdir().unwrap();
    let rt = common::real_runtime(dir.path(), (Ipv4Addr::new(127, 26, 0, 0), 24));
    if !matches!(rt.info().pids, runtime::LimitSupport::Cgroup(_)) {
        eprintln!("SKIPPED: no pids cgroup on this machine; only the process group is cleaned");
        return;
    }
    let sandbox = common::sandbox(&rt, "escape").await;
    // `setsid` puts the grandchild into a new session and process group: killpg misses it.
    let script = "setsid sleep 1000 & echo $!; wait";
    let id = common::start(
        &rt,
        &sandbox,
        ContainerConfig::new("escape", "sh").with_args(["-c", script]),
    )
    .await;
    let escaped = read_pids(&rt, &id, 1).await;
    rt.stop_container(&id, Duration::ZERO).await.unwrap();
    assert!(
        !common::process_exists(escaped[0]),
        "the escaped grandchild is gone"
    );
    rt.remove_pod_sandbox(&sandbox).await.unwrap();
}

/// Reads `count` pids printed by the container, one per log line.
async fn read_pids(rt: &runtime::RealRuntime, id: &runtime::ContainerId, count: usize) -> Vec<i32> {
    for _ in 0..6000 {
        let log = rt.container_logs(id).await.unwrap();
        let pids: Vec<i32> = log
            .lines()
            .filter_map(|line| line.rsplit(' ').next()?.parse().ok())
            .collect();
        if pids.len() >= count {
            return pids;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the container did not print {count} pids");
}
