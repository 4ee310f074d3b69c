//! A kubelet on virtual time: the fake runtime, the in-memory API, scripted probes and a
//! fake clock that only the test moves. Every run gives the same journal, to the line.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use api::client::InMemoryApi;
use api::{Container, ObjectMeta, Pod, Probe};
use kubelet::node::MachineInfo;
use kubelet::{Kubelet, KubeletConfig, ScriptedProber};
use runtime::{Clock, FakeBehavior, FakeClock, FakeImage, FakeRuntime};

/// The simulated node's name.
pub const NODE: &str = "node-1";

/// A kubelet and everything around it, on one virtual clock.
pub struct Sim {
    pub clock: FakeClock,
    pub runtime: Arc<FakeRuntime>,
    pub api: InMemoryApi,
    pub prober: ScriptedProber,
    pub kubelet: Kubelet<FakeRuntime, InMemoryApi, ScriptedProber>,
    pub manifests: tempfile::TempDir,
}

/// A machine with round numbers, so node objects are the same everywhere.
pub fn fixed_machine() -> MachineInfo {
    MachineInfo {
        cpus: 4,
        memory_bytes: 8 << 30,
        memory_available_bytes: 6 << 30,
        processes: 200,
        pid_max: 4_194_304,
        disk_available_bytes: 50 << 30,
        disk_bytes: 100 << 30,
    }
}

impl Sim {
    /// A simulated node with the fake images `fake/sleeper` (runs forever), `fake/crasher`
    /// (exits 1 at once), `fake/done` (exits 0 after 5 s) and `fake/stubborn` (ignores
    /// SIGTERM).
    pub fn new() -> Self {
        let clock = FakeClock::new();
        let runtime = Arc::new(FakeRuntime::new(clock.clone()));
        runtime.add_image("fake/sleeper", FakeImage::new(FakeBehavior::RunForever));
        runtime.add_image(
            "fake/crasher",
            FakeImage::new(FakeBehavior::ExitAfter {
                after: Duration::ZERO,
                code: 1,
            }),
        );
        runtime.add_image(
            "fake/done",
            FakeImage::new(FakeBehavior::ExitAfter {
                after: Duration::from_secs(5),
                code: 0,
            }),
        );
        runtime.add_image(
            "fake/stubborn",
            FakeImage::new(FakeBehavior::RunForever).ignoring_sigterm(),
        );
        let api_clock = clock.clone();
        let api = InMemoryApi::with_clock(Arc::new(move || {
            kubelet::util::to_api_time(api_clock.now())
        }));
        let prober = ScriptedProber::new(clock.clone());
        let manifests = tempfile::tempdir().expect("temp dir");
        let mut config = KubeletConfig::new(NODE);
        config.manifest_dir = Some(manifests.path().to_path_buf());
        let kubelet = Kubelet::new(
            config,
            runtime.clone(),
            api.clone(),
            prober.clone(),
            Arc::new(clock.clone()),
        )
        .with_machine(Arc::new(fixed_machine));
        Sim {
            clock,
            runtime,
            api,
            prober,
            kubelet,
            manifests,
        }
    }

    /// Syncs, then jumps the clock to each moment the kubelet asks to wake up, until `span` of
    /// virtual time has passed.
    pub async fn run_for(&mut self, span: Duration) {
        let end = self.clock.now() + span;
        loop {
            self.kubelet.sync_once().await;
            let next = self.kubelet.next_wakeup().min(end);
            let now = self.clock.now();
            if now >= end {
                break;
            }
            self.clock.advance(
                next.duration_since(now)
                    .unwrap_or_default()
                    .max(Duration::from_millis(1)),
            );
        }
    }

    /// Writes a static pod manifest.
    pub fn write_manifest(&self, file: &str, pod: &Pod) {
        let path = self.manifests.path().join(file);
        std::fs::write(
            path,
            serde_json::to_string_pretty(pod).expect("pod serializes"),
        )
        .expect("manifest written");
    }

    /// Writes a raw manifest file.
    pub fn write_raw(&self, file: &str, text: &str) {
        std::fs::write(self.manifests.path().join(file), text).expect("manifest written");
    }

    /// Removes a manifest file.
    pub fn remove_manifest(&self, file: &str) {
        std::fs::remove_file(self.manifests.path().join(file)).expect("manifest removed");
    }

    /// The journal lines that start (after the time stamp) with one of `prefixes`.
    pub fn journal(&self, prefixes: &[&str]) -> String {
        let lines: Vec<&String> = self
            .kubelet
            .journal()
            .iter()
            .filter(|line| {
                let text = line.split_once("] ").map_or("", |(_, t)| t);
                prefixes.is_empty() || prefixes.iter().any(|p| text.starts_with(p))
            })
            .collect();
        lines.iter().map(|l| format!("{l}\n")).collect()
    }
}

/// A pod in `default` with one container per (name, image).
pub fn pod(name: &str, containers: &[(&str, &str)]) -> Pod {
    let mut pod = Pod {
        metadata: ObjectMeta::namespaced("default", name),
        ..Pod::default()
    };
    pod.spec.termination_grace_period_seconds = Some(5);
    for (container, image) in containers {
        pod.spec.containers.push(Container {
            name: container.to_string(),
            image: image.to_string(),
            ..Container::default()
        });
    }
    pod
}

/// An exec probe with a period and a failure threshold.
pub fn exec_probe(period: i32, failure_threshold: i32) -> Probe {
    Probe {
        exec: Some(api::ExecAction {
            command: vec!["true".into()],
        }),
        period_seconds: Some(period),
        failure_threshold: Some(failure_threshold),
        ..Probe::default()
    }
}
