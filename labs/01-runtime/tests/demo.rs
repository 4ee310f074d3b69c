//! The demo's narrated output, snapshotted, and proof that it leaves no process behind.

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use assert_cmd::assert::OutputAssertExt;

/// Runs the demo as the leader of a new session, so that every process it ever starts (its
/// containers and their children, which never call `setsid` themselves) can be found afterwards
/// by session id, even if it was orphaned and re-parented.
fn run_demo_in_own_session() -> (u32, std::process::Output) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_runtime-demo"));
    command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("RUST_LOG");
    // SAFETY: setsid is async-signal-safe.
    unsafe {
        command.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let child = command.spawn().expect("the demo starts");
    let session = child.id();
    (session, child.wait_with_output().expect("the demo runs"))
}

/// Pids of processes whose session id is `session` (field 6 of `/proc/<pid>/stat`).
fn processes_in_session(session: u32) -> Vec<u32> {
    let entries = std::fs::read_dir("/proc").expect("/proc is readable");
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let after_comm = stat.rfind(')').map(|i| &stat[i + 1..]).unwrap_or("");
            after_comm
                .split_whitespace()
                .nth(3)
                .and_then(|s| s.parse::<u32>().ok())
                == Some(session)
        })
        .collect()
}

/// The cgroup version depends on the machine; everything else in the output does not.
fn normalise(output: &str) -> String {
    output
        .replace("cgroup v1", "cgroup v<N>")
        .replace("cgroup v2", "cgroup v<N>")
}

#[test]
fn the_demo_narrates_deterministically_and_leaves_no_process_behind() {
    let (session, output) = run_demo_in_own_session();
    let stdout = String::from_utf8(output.stdout.clone()).expect("utf-8 output");
    output.assert().success();

    assert_eq!(
        processes_in_session(session),
        Vec::<u32>::new(),
        "processes left behind by the demo"
    );
    assert!(
        stdout.ends_with("0 containers and 0 processes left\n"),
        "{stdout}"
    );

    if !stdout.contains("memory limits: cgroup") {
        eprintln!("SKIPPED the snapshot: no memory cgroup here, so the memory-hog step differs");
        return;
    }
    insta::assert_snapshot!("demo_output", normalise(&stdout));
}
