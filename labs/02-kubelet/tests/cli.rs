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
    let cases: [(&[&str], &str); 7] = [
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
        (
            &[
                "--node",
                "n1",
                "--logs-token-file",
                "t",
                "--logs-listen",
                "here",
            ],
            "kubelet: --logs-listen: \"here\" is not an IP:PORT address such as 127.0.0.1:0",
        ),
        (
            &["--node", "n1", "--logs-listen", "127.0.0.1:0"],
            "kubelet: --logs-listen: needs --logs-token-file (the endpoint only answers the token's holder)",
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

#[test]
fn an_empty_or_missing_logs_token_file_stops_the_start_and_names_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.token");
    std::fs::write(&empty, "\n").unwrap();
    let missing = dir.path().join("missing.token");
    for (file, reason) in [
        (&empty, "the file holds no token"),
        (&missing, "No such file"),
    ] {
        let output = kubelet()
            .args(["--node", "n1", "--pod-range", "127.47.0.0/16", "--root"])
            .arg(dir.path().join("root"))
            .arg("--logs-token-file")
            .arg(file)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{file:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(&format!("--logs-token-file {}: ", file.display()))
                && stderr.contains(reason),
            "{stderr}"
        );
    }
}

/// One GET of `path` at `address` with an optional bearer token; the whole answer.
fn get(address: &str, path: &str, token: Option<&str>) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    write!(stream, "GET {path} HTTP/1.1\r\nHost: kubelet\r\n{auth}\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

/// Runs the binary on a manifest directory, waits until it has started the container, stops
/// it with SIGTERM and checks that it shut down cleanly.
#[test]
fn the_binary_runs_a_static_pod_and_shuts_down_on_sigterm() {
    let manifests = tempfile::tempdir().unwrap();
    let token_file = manifests.path().join("logs.token");
    std::fs::write(&token_file, "s3cret\n").unwrap();
    std::fs::write(
        {
            std::fs::create_dir(manifests.path().join("pods")).unwrap();
            manifests.path().join("pods/web.yaml")
        },
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n    - name: app\n      image: skiff/sleeper:1\n",
    )
    .unwrap();
    let mut child = kubelet()
        .args([
            "--node",
            "cli-node",
            "--pod-range",
            "127.46.0.0/16",
            "--logs-token-file",
        ])
        .arg(&token_file)
        .arg("--manifests")
        .arg(manifests.path().join("pods"))
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
            return line;
        }
    };
    // The log endpoint is up with the token of --logs-token-file.
    let line = wait_for("serving container logs");
    let address = line
        .split("address=")
        .nth(1)
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .trim()
        .to_string();
    wait_for("start default/web app");
    let path = "/containerLogs/default/web/app";
    assert!(get(&address, path, None).starts_with("HTTP/1.1 401"));
    assert!(get(&address, path, Some("wrong")).starts_with("HTTP/1.1 401"));
    // The container's first line may take a moment to be written: poll, with a safety net.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let answer = get(&address, path, Some("s3cret"));
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        if answer.ends_with("sleeper: sleeping\n") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{answer}");
        std::thread::sleep(Duration::from_millis(100));
    }
    // SAFETY: kill(2) on the pid of the child this test spawned.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    wait_for("kill default/web app");
    wait_for("shut down");
    assert!(child.wait().unwrap().success());
}
