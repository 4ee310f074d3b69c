//! The pod's hosts file and volumes at their mountPath: the file's text, the kubelet keeping it
//! up to date on virtual time, bad mounts named, and, with real processes, a container that
//! reads its ConfigMap at `mountPath` and reaches a Service by name.

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use api::client::{ApiClient, InMemoryApi};
use api::{ConfigMap, ConfigMapVolumeSource, ObjectMeta, Pod, Service, Volume, VolumeMount};
use common::{NODE, fixed_machine, pod};
use kubelet::config_sources::volume_mounts;
use kubelet::hosts::render_hosts_file;
use kubelet::{HostEntry, Kubelet, KubeletConfig, RealProber, ScriptedProber, ServiceHosts};
use runtime::{
    ContainerFilter, ContainerRuntime, ContainerState, FakeBehavior, FakeClock, FakeImage,
    FakeRuntime, RealRuntime, RuntimeConfig, SandboxFilter, SystemClock,
};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn entry(address: &str, names: &[&str]) -> HostEntry {
    HostEntry {
        address: address.parse().unwrap(),
        names: names.iter().map(|n| n.to_string()).collect(),
    }
}

#[test]
fn the_hosts_file_has_localhost_the_pod_and_each_service() {
    let services = [
        entry("127.10.0.12", &["db.default.svc.cluster.local", "db"]),
        entry(
            "127.10.0.11",
            &["web.default.svc.cluster.local", "web.default.svc", "web"],
        ),
    ];
    let ip = Some(IpAddr::V4(Ipv4Addr::new(127, 1, 0, 7)));
    assert_eq!(
        render_hosts_file("client", ip, &services),
        "# Kubernetes-managed hosts file (written by the skiff kubelet).\n\
         127.0.0.1\tlocalhost\n\
         127.1.0.7\tclient\n\
         127.10.0.12\tdb.default.svc.cluster.local db\n\
         127.10.0.11\tweb.default.svc.cluster.local web.default.svc web\n"
    );
    assert_eq!(
        render_hosts_file("lonely", None, &[]),
        "# Kubernetes-managed hosts file (written by the skiff kubelet).\n127.0.0.1\tlocalhost\n"
    );
}

fn service(name: &str, ip: &str) -> Service {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"selector": {"app": name}, "clusterIP": ip, "ports": [{"port": 80}]}
    }))
    .unwrap()
}

/// What lab 08 provides, cut down: `name.ns.svc.cluster.local` and the bare name.
fn simple_hosts() -> ServiceHosts {
    Arc::new(|_namespace, services: &[Service]| {
        services
            .iter()
            .filter_map(|s| {
                let name = s.metadata.name.clone()?;
                let ns = s.metadata.namespace.clone()?;
                Some(HostEntry {
                    address: s.spec.cluster_ip.as_deref()?.parse().ok()?,
                    names: vec![format!("{name}.{ns}.svc.cluster.local"), name],
                })
            })
            .collect()
    })
}

#[tokio::test(flavor = "current_thread")]
async fn the_kubelet_writes_the_hosts_file_and_follows_new_services() {
    let clock = FakeClock::new();
    let runtime = Arc::new(FakeRuntime::new(clock.clone()));
    runtime.add_image("fake/sleeper", FakeImage::new(FakeBehavior::RunForever));
    let api = InMemoryApi::new();
    api.create(service("web", "127.10.0.11")).await.unwrap();
    let pods_dir = tempfile::tempdir().unwrap();
    let mut config = KubeletConfig::new(NODE);
    config.pods_dir = pods_dir.path().to_path_buf();
    let mut kubelet = Kubelet::new(
        config,
        runtime.clone(),
        api.clone(),
        ScriptedProber::new(clock.clone()),
        Arc::new(clock.clone()),
    )
    .with_machine(Arc::new(fixed_machine))
    .with_service_hosts(simple_hosts());
    let mut client = pod("client", &[("app", "fake/sleeper")]);
    client.spec.node_name = Some(NODE.into());
    let client = api.create(client).await.unwrap();
    for _ in 0..3 {
        kubelet.sync_once().await;
        clock.advance(Duration::from_secs(1));
    }

    let sandboxes = runtime
        .list_pod_sandboxes(&SandboxFilter::default())
        .await
        .unwrap();
    let pod_ip = sandboxes[0].ip;
    let file = pods_dir
        .path()
        .join(client.metadata.uid.unwrap())
        .join("etc-hosts/hosts");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains(&format!("\n{pod_ip}\tclient\n")), "{text}");
    assert!(
        text.ends_with("127.10.0.11\tweb.default.svc.cluster.local web\n"),
        "{text}"
    );

    // A Service created after the pod started: the next sync puts it in the file.
    api.create(service("db", "127.10.0.12")).await.unwrap();
    kubelet.sync_once().await;
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("127.10.0.12\tdb.default.svc.cluster.local db\n"),
        "{text}"
    );
    let journal = kubelet.journal().join("\n");
    assert!(
        journal.contains("hosts default/client updated"),
        "{journal}"
    );
    // Nothing changed: nothing is written.
    kubelet.sync_once().await;
    let updates = kubelet
        .journal()
        .iter()
        .filter(|l| l.contains("hosts default/client updated"))
        .count();
    assert_eq!(updates, 1);
}

fn mounting(paths: &[(&str, &str)]) -> api::Container {
    api::Container {
        name: "app".into(),
        image: "skiff/cat:1".into(),
        volume_mounts: paths
            .iter()
            .map(|(name, path)| VolumeMount {
                name: name.to_string(),
                mount_path: path.to_string(),
                ..VolumeMount::default()
            })
            .collect(),
        ..api::Container::default()
    }
}

fn config_volume(name: &str) -> Volume {
    Volume {
        name: name.into(),
        config_map: Some(ConfigMapVolumeSource {
            name: "web-config".into(),
            ..ConfigMapVolumeSource::default()
        }),
        ..Volume::default()
    }
}

#[test]
fn volumes_mount_at_their_path_and_bad_mounts_name_the_field() {
    let volumes = [config_volume("config"), config_volume("other")];
    let dir = Path::new("/pods/u1/volumes");
    let mounts = volume_mounts(&mounting(&[("config", "/etc/web")]), &volumes, dir).unwrap();
    assert_eq!(mounts.len(), 1);
    assert_eq!(mounts[0].host_path, dir.join("config"));
    assert_eq!(mounts[0].container_path, Path::new("/etc/web"));

    let error = |paths: &[(&str, &str)]| {
        volume_mounts(&mounting(paths), &volumes, dir)
            .unwrap_err()
            .message
    };
    assert_eq!(
        error(&[("config", "etc/web")]),
        "container app: volumeMounts[0].mountPath: must be absolute, got \"etc/web\""
    );
    assert_eq!(
        error(&[("config", "/etc/../../root")]),
        "container app: volumeMounts[0].mountPath: must not contain '..', got \"/etc/../../root\""
    );
    assert_eq!(
        error(&[("config", "/etc/web"), ("other", "/etc/web/")]),
        "container app: volumeMounts[1].mountPath: \"/etc/web/\" must be unique"
    );
    assert_eq!(
        error(&[("missing", "/data")]),
        "container app: volumeMounts[0].name: volume \"missing\" not found"
    );
}

/// Far longer than any healthy step takes; a hang becomes a clear failure.
const HANG_GUARD: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_pod_reads_its_config_map_at_mount_path_and_finds_a_service_by_name() {
    // A "Service" backend on the host; its ClusterIP is 127.0.0.1 for this test.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut request = Vec::new();
            let mut buf = [0u8; 256];
            while !request.ends_with(b"\r\n\r\n") {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let _ = stream
                .write_all(b"HTTP/1.0 200 OK\r\ncontent-length: 9\r\n\r\nfrom web\n")
                .await;
        }
    });

    let root = tempfile::tempdir().unwrap();
    let mut runtime_config = RuntimeConfig::new(root.path().join("runtime"));
    runtime_config.pod_range = (Ipv4Addr::new(127, 63, 0, 0), 16);
    runtime_config.image_binary = Some(PathBuf::from(env!("CARGO_BIN_EXE_kubelet")));
    let runtime = Arc::new(RealRuntime::new(runtime_config).expect("runtime starts"));
    let api = InMemoryApi::new();
    api.create(service("web", "127.0.0.1")).await.unwrap();
    api.create(ConfigMap {
        metadata: ObjectMeta::namespaced("default", "web-config"),
        data: [("app.conf".to_string(), "color=blue\n".to_string())].into(),
        ..ConfigMap::default()
    })
    .await
    .unwrap();
    let mut config = KubeletConfig::new(NODE);
    config.pods_dir = root.path().join("pods");
    config.sync_period = Duration::from_millis(50);
    let mut kubelet = Kubelet::new(
        config,
        runtime.clone(),
        api.clone(),
        RealProber,
        Arc::new(SystemClock),
    )
    .with_service_hosts(simple_hosts());
    let mut reader = Pod {
        metadata: ObjectMeta::namespaced("default", "reader"),
        ..Pod::default()
    };
    reader.spec.node_name = Some(NODE.into());
    reader.spec.restart_policy = Some("Never".into());
    reader.spec.volumes.push(config_volume("config"));
    let mut cat = mounting(&[("config", "/etc/web")]);
    cat.args = vec!["etc/web/app.conf".into()];
    let mut fetch = mounting(&[]);
    fetch.name = "fetch".into();
    fetch.image = "skiff/fetch:1".into();
    fetch.args = vec![format!("web.default.svc.cluster.local:{port}")];
    reader.spec.containers = vec![cat, fetch];
    api.create(reader).await.unwrap();

    // Run the kubelet until both containers have exited.
    let logs = tokio::time::timeout(HANG_GUARD, async {
        loop {
            kubelet.sync_once().await;
            let containers = runtime
                .list_containers(&ContainerFilter::default())
                .await
                .unwrap();
            let exited: Vec<_> = containers
                .iter()
                .filter(|c| c.state == ContainerState::Exited)
                .collect();
            if exited.len() == 2 {
                let mut logs = Vec::new();
                for c in exited {
                    let log = runtime.container_logs(&c.id).await.unwrap();
                    assert_eq!(c.exit_code, Some(0), "{}: {log}", c.name);
                    let text: Vec<String> = log
                        .lines()
                        .map(|l| l.splitn(4, ' ').nth(3).unwrap_or_default().to_string())
                        .collect();
                    logs.push((c.name.clone(), text.join("\n")));
                }
                logs.sort();
                return logs;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("both containers exit");
    assert_eq!(
        logs,
        [
            ("app".to_string(), "color=blue".to_string()),
            ("fetch".to_string(), "from web".to_string())
        ]
    );
    kubelet.shutdown().await;
}
