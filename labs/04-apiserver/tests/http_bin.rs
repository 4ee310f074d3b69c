//! The `skiff-apiserver` binary: help, flag errors, start on port 0, SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use assert_cmd::cargo::CommandCargoExt;

fn bin() -> Command {
    Command::cargo_bin("skiff-apiserver").expect("the binary is built")
}

#[test]
fn help_lists_every_flag() {
    let out = bin().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--data-dir",
        "--listen",
        "--storage",
        "--token-file",
        "--audit-log",
        "--tls-san",
    ] {
        assert!(text.contains(flag), "{flag} missing from:\n{text}");
    }
}

#[test]
fn bad_flags_are_refused_naming_the_flag() {
    let cases: [(&[&str], &str); 4] = [
        (&["--frobnicate"], "unknown argument \"--frobnicate\""),
        (
            &["--listen", "nowhere"],
            "--listen \"nowhere\": expected IP:PORT",
        ),
        (&["--data-dir"], "--data-dir: a value is required"),
        (
            &["--storage", "floppy"],
            "--storage \"floppy\": expected memory, embedded or etcd=URL",
        ),
    ];
    for (args, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        let out = bin()
            .args([
                "--data-dir",
                dir.path().to_str().unwrap(),
                "--listen",
                "127.0.0.1:0",
            ])
            .args(args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expected), "{args:?}: {err}");
    }
}

#[test]
fn an_unreachable_etcd_is_refused_at_start_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args([
            "--data-dir",
            dir.path().to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .args(["--storage", "etcd=https://127.0.0.1:1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--storage etcd=https://127.0.0.1:1: "),
        "{err}"
    );
}

#[test]
fn starts_on_port_zero_prints_how_to_connect_and_exits_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = bin()
        .args([
            "--data-dir",
            dir.path().to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first
        .strip_prefix("skiff-apiserver listening on ")
        .unwrap_or_else(|| panic!("{first}"));
    assert!(
        url.starts_with("https://127.0.0.1:") && !url.ends_with(":0"),
        "{url}"
    );
    let kubeconfig = dir.path().join("admin.kubeconfig");
    assert_eq!(
        lines.next().unwrap().unwrap(),
        format!("admin kubeconfig: {}", kubeconfig.display())
    );
    assert_eq!(
        lines.next().unwrap().unwrap(),
        format!(
            "try: kubectl --kubeconfig {} get nodes",
            kubeconfig.display()
        )
    );
    let config = apiserver::kubeconfig::load_kubeconfig(&kubeconfig).unwrap();
    assert_eq!(config.server, url);
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "a clean exit on SIGTERM, got {exit:?}");
}
