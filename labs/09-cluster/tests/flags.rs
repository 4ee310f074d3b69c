//! Bad command lines get an error naming the flag, never a panic.

use skiff::cmd;

fn args(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_string).collect()
}

fn up_error(text: &str) -> String {
    skiff::up::parse(&args(text)).expect_err(text)
}

#[test]
fn skiff_up_names_the_bad_flag() {
    assert_eq!(up_error("--nodes 0"), "--nodes: 0 is not between 1 and 89");
    assert_eq!(
        up_error("--nodes three"),
        "--nodes: \"three\" is not a number of nodes (1 to 89)"
    );
    assert_eq!(
        up_error("--listen localhost"),
        "--listen: \"localhost\" is not an IP:PORT address"
    );
    assert_eq!(
        up_error("--storage disk"),
        "--storage: \"disk\" is not one of embedded, memory, etcd=URL"
    );
    assert_eq!(up_error("--data-dir"), "--data-dir: a value is required");
    assert_eq!(
        up_error("--frobnicate"),
        "--frobnicate: unknown option (see --help)"
    );
}

#[test]
fn skiff_up_reads_its_flags_inline_or_separate() {
    let parsed = skiff::up::parse(&args(
        "--nodes=3 --data-dir /tmp/x --listen 127.0.0.1:0 --demo",
    ))
    .unwrap()
    .unwrap();
    assert_eq!(parsed.spec.nodes, 3);
    assert_eq!(parsed.data_dir, std::path::PathBuf::from("/tmp/x"));
    assert_eq!(parsed.spec.listen.port(), 0);
    assert!(parsed.demo);
    assert!(skiff::up::parse(&args("--help")).unwrap().is_none());
}

#[test]
fn the_storage_flag_checks_the_etcd_url() {
    assert_eq!(
        cmd::apiserver::StorageKind::parse("etcd=localhost:2379").unwrap_err(),
        "--storage: etcd URL \"localhost:2379\" must start with http:// or https://"
    );
    assert_eq!(
        cmd::apiserver::StorageKind::parse("etcd=http://127.0.0.1:2379").unwrap(),
        cmd::apiserver::StorageKind::Etcd("http://127.0.0.1:2379".into())
    );
}

#[test]
fn component_subcommands_name_the_bad_flag() {
    assert_eq!(
        cmd::proxy::parse(&args("--kubeconfig k --node n1 --node-index -1")).unwrap_err(),
        "--node-index: \"-1\" is not a node number (0 to 88)"
    );
    assert_eq!(
        cmd::proxy::parse(&args("--kubeconfig k --node n1 --node-index 89")).unwrap_err(),
        "--node-index: 89 is more than 88"
    );
    assert_eq!(
        cmd::proxy::parse(&args("--kubeconfig k")).unwrap_err(),
        "--node: required (the name of this node)"
    );
    assert_eq!(
        cmd::scheduler::parse(&args("--kubeconfig k --bogus")).unwrap_err(),
        "--bogus: unknown option (see --help)"
    );
    // The kubelet's own flags are checked by lab 02's parser, with its messages.
    let error =
        cmd::kubelet::parse(&args("--kubeconfig k --node n1 --pod-range 10.0.0.0")).unwrap_err();
    assert!(error.starts_with("--pod-range:"), "{error}");
    let error = cmd::kubelet::parse(&args("--kubeconfig k --node Not_A_Name")).unwrap_err();
    assert!(error.starts_with("--node:"), "{error}");
}

#[test]
fn progress_lines_are_plain_without_colour_and_coloured_with_it() {
    use skiff::progress::{Progress, State};
    let plain = Progress::with_colour(false);
    assert_eq!(
        plain.line("kubelet-n1", State::Ready, "node n1 Ready"),
        "  ok ready    kubelet-n1            node n1 Ready"
    );
    assert_eq!(
        plain.line("scheduler", State::Starting, ""),
        "  .. starting scheduler"
    );
    let coloured = Progress::with_colour(true);
    assert_eq!(
        coloured.line("apiserver", State::Crashed, "exit code 1"),
        "  \x1b[31m!! crashed \x1b[0m apiserver             exit code 1"
    );
}

#[test]
fn every_command_has_help() {
    for command in [
        vec!["--help"],
        vec!["up", "--help"],
        vec!["apiserver", "--help"],
        vec!["scheduler", "--help"],
        vec!["controller-manager", "--help"],
        vec!["kubelet", "--help"],
        vec!["proxy", "--help"],
    ] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_skiff"))
            .args(&command)
            .output()
            .unwrap();
        assert!(output.status.success(), "{command:?}");
        let text = String::from_utf8(output.stdout).unwrap();
        assert!(text.contains("Usage: skiff"), "{command:?}: {text}");
    }
}

#[test]
fn an_unknown_command_or_flag_exits_2_with_the_reason() {
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_skiff"))
            .args(args)
            .output()
            .unwrap()
    };
    let output = run(&["launch"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("\"launch\" is not a command"));
    let output = run(&["up", "--nodes", "0"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--nodes: 0 is not between 1 and 89"));
}

#[test]
fn a_bad_encryption_config_stops_the_api_server_naming_the_flag_and_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("encryption.yaml");
    // A 16-byte key: AES-256 needs 32.
    std::fs::write(
        &config,
        "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n  - resources: [secrets]\n    providers:\n      - aesgcm:\n          keys:\n            - name: key1\n              secret: MDEyMzQ1Njc4OWFiY2RlZg==\n",
    )
    .unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_skiff"))
        .args([
            "apiserver",
            "--storage",
            "memory",
            "--listen",
            "127.0.0.1:0",
        ])
        .arg("--data-dir")
        .arg(dir.path().join("apiserver"))
        .arg("--encryption-config")
        .arg(&config)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--encryption-config"), "{stderr}");
    assert!(
        stderr.contains("keys[0].secret: must decode to 32 bytes for AES-256, got 16"),
        "{stderr}"
    );
}

#[test]
fn the_api_server_reads_its_encryption_config_flag() {
    let parsed = skiff::cmd::apiserver::parse(&args("--encryption-config /etc/skiff/enc.yaml"))
        .unwrap()
        .unwrap();
    assert_eq!(
        parsed.encryption_config,
        Some(std::path::PathBuf::from("/etc/skiff/enc.yaml"))
    );
    let defaults = skiff::cmd::apiserver::parse(&[]).unwrap().unwrap();
    assert_eq!(defaults.encryption_config, None);
}

#[test]
fn the_kubelets_node_index_is_checked_like_the_proxys() {
    let parsed = cmd::kubelet::parse(&args("--kubeconfig k --node n1 --node-index 3"))
        .unwrap()
        .unwrap();
    assert_eq!(parsed.node_index, Some(3));
    assert_eq!(
        cmd::kubelet::parse(&args("--kubeconfig k --node n1 --node-index 89")).unwrap_err(),
        "--node-index: 89 is more than 88"
    );
    let default = cmd::kubelet::parse(&args("--kubeconfig k --node n1"))
        .unwrap()
        .unwrap();
    assert_eq!(default.node_index, None);
}

#[test]
fn the_kubelet_token_is_made_once_then_read_and_an_empty_file_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("apiserver/kubelet-proxy.token");
    let made = skiff::cmd::apiserver::kubelet_token(&path).unwrap();
    assert_eq!(made.len(), 64, "{made}");
    assert!(made.chars().all(|c| c.is_ascii_hexdigit()), "{made}");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "only the owner reads the token");
    // A second start (or the kubelets) finds the same token.
    assert_eq!(skiff::cmd::apiserver::kubelet_token(&path).unwrap(), made);
    std::fs::write(&path, "\n").unwrap();
    let error = skiff::cmd::apiserver::kubelet_token(&path).unwrap_err();
    assert_eq!(
        error,
        format!(
            "--kubelet-token-file {}: the file holds no token",
            path.display()
        )
    );
    let parsed = skiff::cmd::apiserver::parse(&args("--kubelet-token-file /data/t"))
        .unwrap()
        .unwrap();
    assert_eq!(
        parsed.kubelet_token_file,
        Some(std::path::PathBuf::from("/data/t"))
    );
}
