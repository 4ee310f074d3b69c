//! The `kubelet` binary: its help, its argument errors, and a real run stopped by SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use assert_cmd::cargo::CommandCargoExt;

fn kubelet() -> Command {
    Command::cargo_bin("kubelet").expect("kubelet binary")
}

#[test]
fn help_explains_every_option() {
    let output = kubelet().arg("--help").output().unwrap();
    assert!(output.status.success());
    insta::assert_snapshot!(String::from_utf8(output.stdout).unwrap());
}

#[test]
fn argument_errors_name_the_flag_and_exit_with_2() {
    let cases: [(&[&str], &str); 5] = [
        (&[], "kubelet: --node: required (the name of this node)"),
        (&["--node"], "kubelet: --node: missing value"),
        (
            &["--node", "Bad_Name"],
            "kubelet: --node: \"Bad_Name\" is not a valid node name (a DNS-1123 subdomain)",
        ),
        (
            &["--node", "n1", "--sync-period-ms", "soon"],
            "kubelet: --sync-period-ms: \"soon\" is not a positive number of milliseconds",
        ),
        (
            &["--node", "n1", "--verbose"],
            "kubelet: --verbose: unknown option (see --help)",
        ),
    ];
    for (args, message) in cases {
        let output = kubelet().args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert_eq!(
            String::from_utf8_lossy(&output.stderr).trim(),
            message,
            "{args:?}"
        );
    }
}

/// Runs the binary on a manifest directory, waits until it has started the container, stops
/// it with SIGTERM and checks that it shut down cleanly.
#[test]
fn the_binary_runs_a_static_pod_and_shuts_down_on_sigterm() {
    let manifests = tempfile::tempdir().unwrap();
    std::fs::write(
        manifests.path().join("web.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n    - name: app\n      image: skiff/sleeper:1\n",
    )
    .unwrap();
    let mut child = kubelet()
        .args([
            "--node",
            "cli-node",
            "--pod-range",
            "127.46.0.0/16",
            "--manifests",
        ])
        .arg(manifests.path())
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines_tx, lines) = mpsc::channel();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let wait_for = |needle: &str| loop {
        let line = lines
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("no {needle:?} in the log"));
        if line.contains(needle) {
            return;
        }
    };
    wait_for("start default/web app");
    // SAFETY: kill(2) on the pid of the child this test spawned.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    wait_for("kill default/web app");
    wait_for("shut down");
    assert!(child.wait().unwrap().success());
}
