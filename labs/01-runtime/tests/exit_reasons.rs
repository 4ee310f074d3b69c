//! Graded tests of `runtime-exit-reason`: exit codes and reasons as Kubernetes reports them.

mod common;

use std::net::Ipv4Addr;
use std::time::Duration;

use runtime::exit::{ExitInfo, Termination, exit_info};
use runtime::{ContainerConfig, ContainerRuntime, ContainerState, ExitReason};

#[test]
fn exit_zero_is_completed_and_non_zero_is_error() {
    assert_eq!(
        exit_info(Termination::Exited(0), false),
        ExitInfo {
            code: 0,
            reason: ExitReason::Completed
        }
    );
    assert_eq!(
        exit_info(Termination::Exited(3), false),
        ExitInfo {
            code: 3,
            reason: ExitReason::Error
        }
    );
}

#[test]
fn a_signal_n_becomes_128_plus_n() {
    assert_eq!(
        exit_info(Termination::Signaled(9), false),
        ExitInfo {
            code: 137,
            reason: ExitReason::Error
        }
    );
    assert_eq!(
        exit_info(Termination::Signaled(15), false),
        ExitInfo {
            code: 143,
            reason: ExitReason::Error
        }
    );
}

#[test]
fn an_oom_kill_wins() {
    assert_eq!(
        exit_info(Termination::Signaled(9), true),
        ExitInfo {
            code: 137,
            reason: ExitReason::OOMKilled
        }
    );
    assert_eq!(
        exit_info(Termination::Exited(0), true).reason,
        ExitReason::OOMKilled
    );
}

#[tokio::test]
async fn real_processes_report_their_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let rt = common::real_runtime(dir.path(), (Ipv4Addr::new(127, 21, 0, 0), 24));
    let sandbox = common::sandbox(&rt, "exits").await;

    let ok = common::start(
        &rt,
        &sandbox,
        ContainerConfig::new("ok", "skiff/crasher:1").with_args(["0"]),
    )
    .await;
    let three = common::start(
        &rt,
        &sandbox,
        ContainerConfig::new("three", "skiff/crasher:1").with_args(["3"]),
    )
    .await;
    let sh = ContainerConfig::new("sh", "sh").with_args(["-c", "exit 42"]);
    let sh = common::start(&rt, &sandbox, sh).await;

    let ok = common::exited(&rt, &ok).await;
    assert_eq!(
        (ok.state, ok.exit_code, ok.reason),
        (ContainerState::Exited, Some(0), Some(ExitReason::Completed))
    );
    let three = common::exited(&rt, &three).await;
    assert_eq!(
        (three.exit_code, three.reason),
        (Some(3), Some(ExitReason::Error))
    );
    let sh = common::exited(&rt, &sh).await;
    assert_eq!(
        (sh.exit_code, sh.reason),
        (Some(42), Some(ExitReason::Error))
    );
    assert!(ok.finished_at >= ok.started_at && ok.started_at.is_some());
    rt.remove_pod_sandbox(&sandbox).await.unwrap();
}

#[tokio::test]
async fn a_process_killed_by_a_signal_reports_128_plus_the_signal() {
    let dir = tempfile::tempdir().unwrap();
    let rt = common::real_runtime(dir.path(), (Ipv4Addr::new(127, 22, 0, 0), 24));
    let sandbox = common::sandbox(&rt, "signals").await;
    // The shell kills itself with SIGSEGV (11): no runtime involvement in the signal at all.
    let config = ContainerConfig::new("segv", "sh").with_args(["-c", "kill -SEGV $$"]);
    let id = common::start(&rt, &sandbox, config).await;
    let status = common::exited(&rt, &id).await;
    assert_eq!(
        (status.exit_code, status.reason),
        (Some(139), Some(ExitReason::Error))
    );

    let stubborn = ContainerConfig::new("stubborn", "skiff/sleeper:1").with_args(["--ignore-term"]);
    let id = common::start(&rt, &sandbox, stubborn).await;
    let pid = rt
        .container_status(&id)
        .await
        .unwrap()
        .pid
        .expect("running");
    common::wait_for_term_disposition(pid, common::TermDisposition::Ignored).await;
    rt.stop_container(&id, Duration::ZERO).await.unwrap();
    let status = common::exited(&rt, &id).await;
    assert_eq!(
        (status.exit_code, status.reason),
        (Some(137), Some(ExitReason::Error))
    );
    rt.remove_pod_sandbox(&sandbox).await.unwrap();
}
