//! Mounts: host files and directories at paths inside a container, in `process` mode (a
//! mount root of symlinks, `SKIFF_ROOT`) and, where the machine allows it, in `rootless` mode
//! (bind mounts in the container's own mount namespace). The same commands work in both.

mod common;

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use common::{exited, sandbox, start};
use runtime::programs::lookup_host;
use runtime::{
    ContainerConfig, ContainerRuntime, IsolationMode, Mount, RealRuntime, RuntimeConfig,
    RuntimeError,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn mount(host: impl Into<PathBuf>, inside: &str) -> Mount {
    Mount {
        host_path: host.into(),
        container_path: inside.into(),
    }
}

fn invalid_field(config: ContainerConfig) -> String {
    match config.validate() {
        Err(RuntimeError::InvalidConfig { field, .. }) => field,
        other => panic!("expected an invalid config, got {other:?}"),
    }
}

#[test]
fn bad_mounts_name_the_field() {
    let base = ContainerConfig::new("web", "skiff/echo:1");
    let with = |mounts: Vec<Mount>| ContainerConfig {
        mounts,
        ..base.clone()
    };
    base.validate().expect("no mounts is fine");
    assert_eq!(
        invalid_field(with(vec![mount("/srv/a", "etc/web")])),
        "mounts[0].container_path"
    );
    assert_eq!(
        invalid_field(with(vec![mount("/srv/a", "/data/../etc")])),
        "mounts[0].container_path"
    );
    assert_eq!(
        invalid_field(with(vec![mount("/srv/a", "/")])),
        "mounts[0].container_path"
    );
    assert_eq!(
        invalid_field(with(vec![
            mount("/srv/a", "/etc/web"),
            mount("/srv/b", "/etc/web/")
        ])),
        "mounts[1].container_path"
    );
    assert_eq!(
        invalid_field(with(vec![mount("srv/a", "/etc/web")])),
        "mounts[0].host_path"
    );
}

#[test]
fn a_hosts_file_answers_every_name_on_a_line() {
    let hosts = "# managed\n127.0.0.1\tlocalhost\n127.11.0.11\tweb.default.svc.cluster.local web.default.svc web\n";
    let web = Some("127.11.0.11".parse().unwrap());
    assert_eq!(lookup_host(hosts, "web"), web);
    assert_eq!(lookup_host(hosts, "WEB.default.svc"), web);
    assert_eq!(
        lookup_host(hosts, "localhost"),
        Some("127.0.0.1".parse().unwrap())
    );
    assert_eq!(
        lookup_host(hosts, "managed"),
        None,
        "comments are not names"
    );
    assert_eq!(lookup_host(hosts, "db"), None);
}

#[tokio::test]
async fn a_missing_host_path_is_refused_at_create() {
    let dir = tempfile::tempdir().unwrap();
    let rt = common::real_runtime(dir.path(), (Ipv4Addr::new(127, 62, 0, 0), 24));
    let pod = sandbox(&rt, "missing").await;
    let config = ContainerConfig {
        mounts: vec![mount(dir.path().join("nope"), "/etc/web")],
        ..ContainerConfig::new("cat", "skiff/cat:1")
    };
    let error = rt.create_container(&pod, config).await.unwrap_err();
    assert!(
        matches!(&error, RuntimeError::InvalidConfig { field, .. } if field == "mounts[0].host_path"),
        "{error}"
    );
    rt.shutdown().await.unwrap();
}

/// A runtime in `mode`, or `None` (with the reason printed) when this machine cannot run one.
async fn runtime(dir: &Path, mode: IsolationMode, subnet: u8) -> Option<RealRuntime> {
    let mut config = RuntimeConfig::new(dir);
    config.isolation = mode;
    config.pod_range = (Ipv4Addr::new(127, 62, subnet, 0), 24);
    config.image_binary = Some(PathBuf::from(env!("CARGO_BIN_EXE_skiff-image")));
    let rt = match RealRuntime::new(config) {
        Ok(rt) => rt,
        Err(error) => {
            eprintln!("skipping {mode} isolation: {error}");
            return None;
        }
    };
    let probe = runtime::PodSandboxConfig::new("probe", "test", "uid-probe");
    match rt.run_pod_sandbox(probe).await {
        Ok(id) => {
            rt.remove_pod_sandbox(&id).await.unwrap();
            Some(rt)
        }
        Err(error) => {
            eprintln!("skipping {mode} isolation, not allowed here: {error}");
            None
        }
    }
}

/// Runs a tool image to completion; its output lines (log prefixes removed).
async fn run(rt: &RealRuntime, pod: &runtime::SandboxId, config: ContainerConfig) -> Vec<String> {
    let id = start(rt, pod, config).await;
    let status = exited(rt, &id).await;
    let log = rt.container_logs(&id).await.unwrap();
    assert_eq!(status.exit_code, Some(0), "log:\n{log}");
    log.lines()
        .map(|line| line.splitn(4, ' ').nth(3).unwrap_or_default().to_string())
        .collect()
}

/// A ConfigMap-like directory at `/etc/web` and a hosts file at `/etc/hosts` naming a server
/// of the test `web`: the container reads the file at its mount path and reaches `web` by name.
async fn mounted_files_and_names(mode: IsolationMode, subnet: u8) {
    let dir = tempfile::tempdir().unwrap();
    let Some(rt) = runtime(&dir.path().join("rt"), mode, subnet).await else {
        return;
    };
    let volume = dir.path().join("volume");
    std::fs::create_dir_all(&volume).unwrap();
    std::fs::write(volume.join("app.conf"), "color=blue\n").unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            // Read the request first: closing with unread data would reset the connection.
            let mut request = Vec::new();
            let mut buf = [0u8; 256];
            while !request.ends_with(b"\r\n\r\n") {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let reply = b"HTTP/1.0 200 OK\r\ncontent-length: 6\r\n\r\nhello\n";
            let _ = stream.write_all(reply).await;
        }
    });
    let hosts = dir.path().join("hosts");
    std::fs::write(
        &hosts,
        "127.0.0.1\tlocalhost\n127.0.0.1\tweb.default.svc web\n",
    )
    .unwrap();
    let mounts = vec![mount(&volume, "/etc/web"), mount(&hosts, "/etc/hosts")];
    let pod = sandbox(&rt, "reader").await;

    // A relative path: the working directory is the container's `/` in both modes.
    let cat = ContainerConfig {
        mounts: mounts.clone(),
        ..ContainerConfig::new("cat", "skiff/cat:1").with_args(["etc/web/app.conf"])
    };
    assert_eq!(run(&rt, &pod, cat).await, ["color=blue"]);
    let fetch = ContainerConfig {
        mounts,
        ..ContainerConfig::new("fetch", "skiff/fetch:1").with_args([format!("web:{port}")])
    };
    assert_eq!(run(&rt, &pod, fetch).await, ["hello"]);
    rt.shutdown().await.unwrap();
}

#[tokio::test]
async fn process_mode_containers_find_mounts_under_their_mount_root() {
    mounted_files_and_names(IsolationMode::Process, 1).await;
}

#[tokio::test]
async fn rootless_containers_get_bind_mounts() {
    mounted_files_and_names(IsolationMode::Rootless, 2).await;
}
