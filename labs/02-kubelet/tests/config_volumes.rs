//! ConfigMaps and Secrets as files: what a volume holds, the atomic `..data` swap, and, end to
//! end on virtual time, the kubelet projecting volumes, passing env, refreshing a file when
//! its ConfigMap changes, and refusing to start a container whose key is missing.

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use api::client::{ApiClient, InMemoryApi};
use api::{
    Bytes, ConfigMap, ConfigMapVolumeSource, EnvVar, EnvVarSource, Event, KeySelector, KeyToPath,
    ObjectMeta, Pod, Secret, SecretVolumeSource, Volume, VolumeMount,
};
use common::{NODE, fixed_machine, pod};
use kubelet::config_sources::{
    ConfigSources, DATA_LINK, ProjectedFile, volume_files, write_atomically,
};
use kubelet::{Kubelet, KubeletConfig, ScriptedProber};
use runtime::{
    Clock, ContainerConfig, ContainerFilter, ContainerId, ContainerRuntime, ContainerStatus,
    FakeBehavior, FakeClock, FakeImage, FakeRuntime, PodSandboxConfig, RuntimeInfo, SandboxFilter,
    SandboxId, SandboxStatus,
};

fn config_map(name: &str, data: &[(&str, &str)]) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta::namespaced("default", name),
        data: data
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..ConfigMap::default()
    }
}

fn secret(name: &str, data: &[(&str, &str)]) -> Secret {
    Secret {
        metadata: ObjectMeta::namespaced("default", name),
        data: data
            .iter()
            .map(|(k, v)| (k.to_string(), Bytes(v.as_bytes().to_vec())))
            .collect(),
        ..Secret::default()
    }
}

fn sources() -> ConfigSources {
    ConfigSources {
        namespace: "default".into(),
        config_maps: BTreeMap::from([(
            "web-config".into(),
            config_map("web-config", &[("app.conf", "port=80"), ("motd", "hi")]),
        )]),
        secrets: BTreeMap::from([("tls".into(), secret("tls", &[("tls.key", "KEY")]))]),
    }
}

fn cm_volume(name: &str, items: Vec<KeyToPath>, optional: Option<bool>) -> Volume {
    Volume {
        name: "config".into(),
        config_map: Some(ConfigMapVolumeSource {
            name: name.into(),
            items,
            default_mode: None,
            optional,
        }),
        ..Volume::default()
    }
}

fn item(key: &str, path: &str, mode: Option<i32>) -> KeyToPath {
    KeyToPath {
        key: key.into(),
        path: path.into(),
        mode,
    }
}

fn summary(files: &[ProjectedFile]) -> Vec<(String, String, u32)> {
    files
        .iter()
        .map(|f| {
            (
                f.path.clone(),
                String::from_utf8_lossy(&f.data).into_owned(),
                f.mode,
            )
        })
        .collect()
}

#[test]
fn a_volume_holds_every_key_or_just_the_listed_items() {
    let all = volume_files(&cm_volume("web-config", vec![], None), &sources())
        .unwrap()
        .unwrap();
    assert_eq!(
        summary(&all),
        [
            ("app.conf".into(), "port=80".into(), 0o644),
            ("motd".into(), "hi".into(), 0o644)
        ]
    );
    let some = volume_files(
        &cm_volume(
            "web-config",
            vec![item("app.conf", "etc/app.conf", Some(0o600))],
            None,
        ),
        &sources(),
    )
    .unwrap()
    .unwrap();
    assert_eq!(
        summary(&some),
        [("etc/app.conf".into(), "port=80".into(), 0o600)]
    );
    let tls = Volume {
        name: "tls".into(),
        secret: Some(SecretVolumeSource {
            secret_name: "tls".into(),
            default_mode: Some(0o400),
            ..SecretVolumeSource::default()
        }),
        ..Volume::default()
    };
    assert_eq!(
        summary(&volume_files(&tls, &sources()).unwrap().unwrap()),
        [("tls.key".into(), "KEY".into(), 0o400)]
    );
    let scratch = Volume {
        name: "scratch".into(),
        ..Volume::default()
    };
    assert_eq!(volume_files(&scratch, &sources()).unwrap(), None);
}

#[test]
fn missing_objects_and_keys_fail_unless_optional_and_bad_paths_are_refused() {
    let cases = [
        (
            cm_volume("nope", vec![], None),
            "configmap \"nope\" not found",
        ),
        (
            cm_volume("web-config", vec![item("DB_URL", "db", None)], None),
            "couldn't find key DB_URL in ConfigMap default/web-config",
        ),
        (
            cm_volume("web-config", vec![item("motd", "../escape", None)], None),
            "invalid path \"../escape\": must be relative, without '..' components",
        ),
        (
            cm_volume("web-config", vec![item("motd", "/etc/motd", None)], None),
            "invalid path \"/etc/motd\": must be relative, without '..' components",
        ),
        (
            cm_volume("web-config", vec![item("motd", "m", Some(0o1777))], None),
            "volume config: items motd: mode: 1023 is not a file mode (0 to 0777, i.e. 511)",
        ),
    ];
    for (volume, expected) in cases {
        assert_eq!(
            volume_files(&volume, &sources()).unwrap_err().to_string(),
            expected
        );
    }
    let optional = volume_files(&cm_volume("nope", vec![], Some(true)), &sources());
    assert_eq!(optional.unwrap(), Some(vec![]));
    let optional_key = cm_volume("web-config", vec![item("DB_URL", "db", None)], Some(true));
    assert_eq!(
        volume_files(&optional_key, &sources()).unwrap(),
        Some(vec![])
    );
}

fn file(path: &str, data: &str, mode: u32) -> ProjectedFile {
    ProjectedFile {
        path: path.into(),
        data: data.as_bytes().to_vec(),
        mode,
    }
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            match std::fs::read_link(e.path()) {
                Ok(target) => format!("{name} -> {}", target.display()),
                Err(_) => name,
            }
        })
        .collect();
    names.sort();
    names
}

#[test]
fn an_update_swaps_the_data_link_and_leaves_no_old_version() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("config");
    let v1 = [
        file("app.conf", "port=80", 0o644),
        file("motd", "hi", 0o644),
    ];
    assert!(write_atomically(&dir, &v1).unwrap());
    assert_eq!(
        listing(&dir),
        [
            "..1",
            "..data -> ..1",
            "app.conf -> ..data/app.conf",
            "motd -> ..data/motd"
        ]
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("app.conf")).unwrap(),
        "port=80"
    );
    // The same content again: nothing is written.
    assert!(!write_atomically(&dir, &v1).unwrap());
    assert_eq!(listing(&dir)[1], "..data -> ..1");
    // New content, one key gone: a new version, the link switched, the old version removed.
    let v2 = [file("app.conf", "port=81", 0o600)];
    assert!(write_atomically(&dir, &v2).unwrap());
    assert_eq!(
        listing(&dir),
        ["..2", "..data -> ..2", "app.conf -> ..data/app.conf"]
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("app.conf")).unwrap(),
        "port=81"
    );
    let mode = std::fs::metadata(dir.join("app.conf"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // Nested paths live under ..data too.
    assert!(write_atomically(&dir, &[file("etc/app.conf", "x", 0o644)]).unwrap());
    assert_eq!(
        std::fs::read_to_string(dir.join("etc/app.conf")).unwrap(),
        "x"
    );
    assert_eq!(listing(&dir), ["..1", "..data -> ..1", "etc -> ..data/etc"]);
}

/// Each created container's name and environment.
type Created = Arc<Mutex<Vec<(String, Vec<(String, String)>)>>>;

/// The fake runtime, remembering the environment of every container created.
#[derive(Clone)]
struct Recording {
    inner: Arc<FakeRuntime>,
    envs: Created,
    mounts: Arc<Mutex<Vec<Vec<runtime::Mount>>>>,
}

impl ContainerRuntime for Recording {
    fn info(&self) -> RuntimeInfo {
        self.inner.info()
    }
    async fn run_pod_sandbox(&self, config: PodSandboxConfig) -> runtime::Result<SandboxId> {
        self.inner.run_pod_sandbox(config).await
    }
    async fn stop_pod_sandbox(&self, id: &SandboxId) -> runtime::Result<()> {
        self.inner.stop_pod_sandbox(id).await
    }
    async fn remove_pod_sandbox(&self, id: &SandboxId) -> runtime::Result<()> {
        self.inner.remove_pod_sandbox(id).await
    }
    async fn pod_sandbox_status(&self, id: &SandboxId) -> runtime::Result<SandboxStatus> {
        self.inner.pod_sandbox_status(id).await
    }
    async fn list_pod_sandboxes(
        &self,
        filter: &SandboxFilter,
    ) -> runtime::Result<Vec<SandboxStatus>> {
        self.inner.list_pod_sandboxes(filter).await
    }
    async fn create_container(
        &self,
        sandbox: &SandboxId,
        config: ContainerConfig,
    ) -> runtime::Result<ContainerId> {
        let record = (config.name.clone(), config.env.clone());
        self.envs.lock().unwrap().push(record);
        self.mounts.lock().unwrap().push(config.mounts.clone());
        self.inner.create_container(sandbox, config).await
    }
    async fn start_container(&self, id: &ContainerId) -> runtime::Result<()> {
        self.inner.start_container(id).await
    }
    async fn stop_container(&self, id: &ContainerId, grace: Duration) -> runtime::Result<()> {
        self.inner.stop_container(id, grace).await
    }
    async fn remove_container(&self, id: &ContainerId) -> runtime::Result<()> {
        self.inner.remove_container(id).await
    }
    async fn list_containers(
        &self,
        filter: &ContainerFilter,
    ) -> runtime::Result<Vec<ContainerStatus>> {
        self.inner.list_containers(filter).await
    }
    async fn container_status(&self, id: &ContainerId) -> runtime::Result<ContainerStatus> {
        self.inner.container_status(id).await
    }
    async fn container_logs(&self, id: &ContainerId) -> runtime::Result<String> {
        self.inner.container_logs(id).await
    }
}

struct Node {
    clock: FakeClock,
    runtime: Recording,
    api: InMemoryApi,
    kubelet: Kubelet<Recording, InMemoryApi, ScriptedProber>,
    pods_dir: tempfile::TempDir,
}

impl Node {
    fn new() -> Node {
        let clock = FakeClock::new();
        let fake = Arc::new(FakeRuntime::new(clock.clone()));
        fake.add_image("fake/sleeper", FakeImage::new(FakeBehavior::RunForever));
        let runtime = Recording {
            inner: fake,
            envs: Arc::default(),
            mounts: Arc::default(),
        };
        let api_clock = clock.clone();
        let api = InMemoryApi::with_clock(Arc::new(move || {
            kubelet::util::to_api_time(api_clock.now())
        }));
        let pods_dir = tempfile::tempdir().unwrap();
        let mut config = KubeletConfig::new(NODE);
        config.pods_dir = pods_dir.path().to_path_buf();
        let kubelet = Kubelet::new(
            config,
            Arc::new(runtime.clone()),
            api.clone(),
            ScriptedProber::new(clock.clone()),
            Arc::new(clock.clone()),
        )
        .with_machine(Arc::new(fixed_machine));
        Node {
            clock,
            runtime,
            api,
            kubelet,
            pods_dir,
        }
    }

    async fn run_for(&mut self, span: Duration) {
        let end = self.clock.now() + span;
        while self.clock.now() < end {
            self.kubelet.sync_once().await;
            let next = self.kubelet.next_wakeup().min(end);
            let step = next.duration_since(self.clock.now()).unwrap_or_default();
            self.clock.advance(step.max(Duration::from_millis(1)));
        }
    }
}

fn web_pod(key: &str) -> Pod {
    let mut web = pod("web", &[("app", "fake/sleeper")]);
    web.spec.node_name = Some(NODE.into());
    web.spec.volumes.push(cm_volume("web-config", vec![], None));
    let app = &mut web.spec.containers[0];
    app.volume_mounts.push(VolumeMount {
        name: "config".into(),
        mount_path: "/etc/web".into(),
        ..VolumeMount::default()
    });
    app.env.push(EnvVar {
        name: "DB_PASSWORD".into(),
        value: None,
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(KeySelector {
                name: "db".into(),
                key: key.into(),
                optional: None,
            }),
            ..EnvVarSource::default()
        }),
    });
    web
}

#[tokio::test(flavor = "current_thread")]
async fn the_kubelet_projects_volumes_passes_env_and_follows_config_map_updates() {
    let mut node = Node::new();
    node.api
        .create(config_map("web-config", &[("app.conf", "port=80")]))
        .await
        .unwrap();
    node.api
        .create(secret("db", &[("password", "hunter2")]))
        .await
        .unwrap();
    let web = node.api.create(web_pod("password")).await.unwrap();
    node.run_for(Duration::from_secs(2)).await;

    let uid = web.metadata.uid.unwrap();
    let pod_dir = node.pods_dir.path().join(&uid);
    let mode = std::fs::metadata(&pod_dir).unwrap().permissions().mode();
    assert_eq!(
        mode & 0o777,
        0o700,
        "only the kubelet's user may enter the pod's directory"
    );
    let dir = pod_dir.join("volumes/config");
    assert_eq!(
        std::fs::read_to_string(dir.join("app.conf")).unwrap(),
        "port=80"
    );
    let envs = node.runtime.envs.lock().unwrap().clone();
    let (name, env) = &envs[0];
    assert_eq!(name, "app");
    let get = |n: &str| env.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    assert_eq!(get("DB_PASSWORD").as_deref(), Some("hunter2"));
    let mounts = node.runtime.mounts.lock().unwrap().clone();
    assert_eq!(
        mounts[0],
        [runtime::Mount {
            host_path: dir.clone(),
            container_path: "/etc/web".into(),
        }],
        "the volume appears at its mountPath"
    );

    // The ConfigMap changes: the next sync rewrites the file, through a new ..data.
    let mut map: ConfigMap = node.api.get(Some("default"), "web-config").await.unwrap();
    map.data.insert("app.conf".into(), "port=81".into());
    node.api.update(map).await.unwrap();
    node.run_for(Duration::from_secs(2)).await;
    assert_eq!(
        std::fs::read_to_string(dir.join("app.conf")).unwrap(),
        "port=81"
    );
    assert_eq!(
        std::fs::read_link(dir.join(DATA_LINK)).unwrap(),
        Path::new("..2")
    );
    assert_eq!(envs.len(), 1, "the container was not restarted for it");
    let journal = node.kubelet.journal().join("\n");
    assert!(
        journal.contains("volume default/web config updated"),
        "{journal}"
    );

    // The pod goes: its directory goes with it.
    node.api
        .delete::<Pod>(Some("default"), "web", api::client::DeleteOptions::now())
        .await
        .unwrap();
    node.run_for(Duration::from_secs(2)).await;
    assert!(!node.pods_dir.path().join(&uid).exists());
}

#[tokio::test(flavor = "current_thread")]
async fn a_missing_key_keeps_the_container_waiting_with_an_event_naming_it() {
    let mut node = Node::new();
    node.api
        .create(config_map("web-config", &[("app.conf", "port=80")]))
        .await
        .unwrap();
    node.api
        .create(secret("db", &[("password", "hunter2")]))
        .await
        .unwrap();
    node.api.create(web_pod("passwd")).await.unwrap();
    node.run_for(Duration::from_secs(3)).await;

    assert!(
        node.runtime.envs.lock().unwrap().is_empty(),
        "never created"
    );
    let stored: Pod = node.api.get(Some("default"), "web").await.unwrap();
    let waiting = stored.status.unwrap().container_statuses[0]
        .state
        .clone()
        .unwrap()
        .waiting
        .unwrap();
    assert_eq!(
        waiting.reason.as_deref(),
        Some("CreateContainerConfigError")
    );
    assert_eq!(
        waiting.message.as_deref(),
        Some("couldn't find key passwd in Secret default/db")
    );
    let events = node
        .api
        .list::<Event>(Some("default"), &Default::default())
        .await
        .unwrap();
    let event = &events.items[0];
    assert_eq!(event.reason.as_deref(), Some("Failed"));
    assert_eq!(event.event_type.as_deref(), Some("Warning"));
    assert_eq!(
        event.message.as_deref(),
        Some("Error: couldn't find key passwd in Secret default/db")
    );
    assert_eq!(event.involved_object.name.as_deref(), Some("web"));
    let text = serde_json::to_string(&events.items).unwrap();
    assert!(!text.contains("hunter2"));

    // The key is added: the next retry starts the container.
    let mut db: Secret = node.api.get(Some("default"), "db").await.unwrap();
    db.data.insert("passwd".into(), Bytes(b"s3cret".to_vec()));
    node.api.update(db).await.unwrap();
    node.run_for(Duration::from_secs(30)).await;
    assert_eq!(node.runtime.envs.lock().unwrap().len(), 1);
}

#[test]
fn the_pods_directory_is_under_root_or_per_node_in_the_temp_dir() {
    use kubelet::cli::{Command, parse};
    let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let Ok(Command::Run(run)) = parse(&args(&["--node", "n1", "--root", "/srv/skiff"])) else {
        panic!("parses");
    };
    assert_eq!(run.config.pods_dir, Path::new("/srv/skiff/pods"));
    let Ok(Command::Run(run)) = parse(&args(&["--node", "n1"])) else {
        panic!("parses");
    };
    assert_eq!(
        run.config.pods_dir,
        std::env::temp_dir().join("skiff-kubelet/n1/pods")
    );
}
