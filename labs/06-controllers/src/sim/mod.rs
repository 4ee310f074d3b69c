//! A deterministic cluster in one process: the in-memory API, the real scheduler (lab 05),
//! N real kubelets (lab 02) on the fake runtime (lab 01), and this lab's controllers, all on
//! one virtual clock, with seeded pod names. Every run of a test is the same run.

mod timeline;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use api::client::{ApiClient, ApiResult, InMemoryApi};
use api::{
    Container, Deployment, DeploymentSpec, LabelSelector, ObjectMeta, Pod, PodSpec,
    PodTemplateSpec, Quantity, ReplicaSet, ResourceRequirements, Time,
};
use kubelet::node::MachineInfo;
use kubelet::{Kubelet, KubeletConfig, ScriptedProber};
use runtime::clock::FAKE_EPOCH_SECS;
use runtime::{Clock, FakeBehavior, FakeClock, FakeImage, FakeRuntime};
use scheduler::driver::SchedulerDriver;
use scheduler::{Profile, Scheduler};

pub use timeline::Timeline;

use crate::deployment::DeploymentController;
use crate::nodelifecycle::{NodeLifecycleConfig, NodeLifecycleController};
use crate::replicaset::ReplicaSetController;
use crate::runtime::Runner;

/// How far virtual time moves between two steps.
pub const TICK: Duration = Duration::from_secs(1);

/// The images every simulated node knows; all run until stopped.
pub const IMAGES: [&str; 3] = ["fake/app:v1", "fake/app:v2", "fake/app:v3"];

/// The Deployment `default/web` the simulations roll: `replicas` pods labelled `app=web`,
/// one container `app` running `image` and requesting `cpu`, stopped within 2 seconds.
///
/// The spelling of `cpu` (`1` or `1000m`) is part of the pod template, so of its
/// pod-template-hash and of the pod names a seeded run produces.
pub fn web_deployment(replicas: i32, image: &str, cpu: Quantity) -> Deployment {
    let labels: BTreeMap<String, String> = [("app".to_string(), "web".to_string())].into();
    let requests = [("cpu".to_string(), cpu)].into();
    Deployment {
        metadata: ObjectMeta::namespaced("default", "web"),
        spec: DeploymentSpec {
            replicas: Some(replicas),
            selector: LabelSelector::from_pairs([("app", "web")]),
            template: PodTemplateSpec {
                metadata: ObjectMeta {
                    labels,
                    ..ObjectMeta::default()
                },
                spec: PodSpec {
                    containers: vec![Container {
                        name: "app".into(),
                        image: image.into(),
                        resources: ResourceRequirements {
                            requests,
                            ..ResourceRequirements::default()
                        },
                        ..Container::default()
                    }],
                    termination_grace_period_seconds: Some(2),
                    ..PodSpec::default()
                },
            },
            ..DeploymentSpec::default()
        },
        ..Deployment::default()
    }
}

/// A kubelet of the simulation.
type SimKubelet = Kubelet<FakeRuntime, InMemoryApi, ScriptedProber>;

/// What the cluster looks like at one moment, read from the API.
#[derive(Debug, Clone)]
pub struct World {
    /// Virtual time since the cluster started.
    pub now: Duration,
    /// Which component just ran (`scheduler`, `node-2`, `replicaset-controller`, ...).
    pub after: String,
    /// Every pod.
    pub pods: Vec<Pod>,
    /// Every ReplicaSet.
    pub replica_sets: Vec<ReplicaSet>,
    /// Every Deployment.
    pub deployments: Vec<Deployment>,
}

/// A check run after every component of every step; an `Err` stops the simulation.
pub type Check<'a> = &'a mut dyn FnMut(&World) -> Result<(), String>;

// ANCHOR: cluster
/// The simulated cluster.
pub struct Cluster {
    clock: FakeClock,
    api: InMemoryApi,
    scheduler: SchedulerDriver<InMemoryApi>,
    kubelets: Vec<(String, SimKubelet)>,
    deployments: Runner<InMemoryApi, DeploymentController>,
    replica_sets: Runner<InMemoryApi, ReplicaSetController>,
    timeline: Timeline,
    /// The node lifecycle controller, when the test asks for it.
    node_lifecycle: Option<Runner<InMemoryApi, NodeLifecycleController>>,
    /// Kubelets that have been stopped (their node went silent).
    stopped: Vec<String>,
}
// ANCHOR_END: cluster

/// Every simulated node has the same machine: 4 CPUs, 8 GiB (the whole-cluster simulation of
/// lab 09 uses it too).
pub fn machine() -> MachineInfo {
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

impl Cluster {
    /// A cluster of `nodes` nodes (`node-1`...), pod names seeded with `seed`.
    pub fn new(nodes: usize, seed: u64) -> Self {
        let clock = FakeClock::new();
        let api_clock = clock.clone();
        let api = InMemoryApi::with_clock(Arc::new(move || {
            kubelet::util::to_api_time(api_clock.now())
        }));
        let epoch = Time(FAKE_EPOCH_SECS as i64);
        let kubelets = (1..=nodes)
            .map(|i| {
                let name = format!("node-{i}");
                let runtime = Arc::new(FakeRuntime::new(clock.clone()));
                for image in IMAGES {
                    runtime.add_image(image, FakeImage::new(FakeBehavior::RunForever));
                }
                let kubelet = Kubelet::new(
                    KubeletConfig::new(&name),
                    runtime,
                    api.clone(),
                    ScriptedProber::new(clock.clone()),
                    Arc::new(clock.clone()),
                )
                .with_machine(Arc::new(machine));
                (name, kubelet)
            })
            .collect();
        let scheduler = Scheduler::new(Profile::default_plugins());
        Cluster {
            scheduler: SchedulerDriver::new(api.clone(), scheduler, epoch),
            deployments: Runner::new(api.clone(), DeploymentController::new(epoch)),
            replica_sets: Runner::new(api.clone(), ReplicaSetController::new(seed, epoch)),
            timeline: Timeline::new(),
            node_lifecycle: None,
            stopped: Vec::new(),
            kubelets,
            clock,
            api,
        }
    }

    /// Adds the node lifecycle controller, with `config`.
    pub fn with_node_lifecycle(mut self, config: NodeLifecycleConfig) -> Self {
        let epoch = Time(FAKE_EPOCH_SECS as i64);
        let controller = NodeLifecycleController::new(config, epoch);
        self.node_lifecycle = Some(Runner::new(self.api.clone(), controller));
        self
    }

    /// Stops the kubelet of `node` for good, as if its machine had lost power: it no longer
    /// heartbeats, reports or runs anything.
    pub fn stop_kubelet(&mut self, node: &str) {
        self.stopped.push(node.to_string());
    }

    /// The API, to create and change objects as a user would.
    pub fn api(&self) -> &InMemoryApi {
        &self.api
    }

    /// Virtual time since the cluster started.
    pub fn now(&self) -> Duration {
        self.clock.elapsed()
    }

    /// Every change so far, one line each.
    pub fn timeline(&self) -> &[String] {
        self.timeline.lines()
    }

    /// Reads the world from the API.
    pub async fn world(&self, after: &str) -> ApiResult<World> {
        let all = LabelSelector::default();
        Ok(World {
            now: self.now(),
            after: after.to_string(),
            pods: self.api.list::<Pod>(None, &all).await?.items,
            replica_sets: self.api.list::<ReplicaSet>(None, &all).await?.items,
            deployments: self.api.list::<Deployment>(None, &all).await?.items,
        })
    }

    // ANCHOR: step
    /// One step at the current virtual time: the controllers, the scheduler, then every
    /// kubelet, each until it has nothing more to do; after each of them the timeline
    /// records what changed and `check` runs; then the clock moves on by [`TICK`].
    pub async fn step(&mut self, check: Check<'_>) -> Result<(), String> {
        let now = self.now();
        let fail = |e: api::client::ApiError| e.to_string();
        if let Some(node_lifecycle) = &mut self.node_lifecycle {
            node_lifecycle.run_until_quiet(now).await.map_err(fail)?;
            self.check("node-lifecycle-controller", check).await?;
        }
        self.deployments.run_until_quiet(now).await.map_err(fail)?;
        self.check("deployment-controller", check).await?;
        self.replica_sets.run_until_quiet(now).await.map_err(fail)?;
        self.check("replicaset-controller", check).await?;
        self.scheduler.run_until_quiet(now).await.map_err(fail)?;
        self.check("scheduler", check).await?;
        for i in 0..self.kubelets.len() {
            let name = self.kubelets[i].0.clone();
            if self.stopped.contains(&name) {
                continue;
            }
            self.kubelets[i].1.sync_once().await;
            self.check(&name, check).await?;
        }
        self.clock.advance(TICK);
        Ok(())
    }
    // ANCHOR_END: step

    /// Steps until `done` holds for the world after a whole step, checking every component
    /// of every step; fails if `limit` of virtual time passes first.
    pub async fn run_until(
        &mut self,
        limit: Duration,
        check: Check<'_>,
        mut done: impl FnMut(&World) -> bool,
    ) -> Result<World, String> {
        let deadline = self.now() + limit;
        loop {
            self.step(check).await?;
            let world = self.world("step").await.map_err(|e| e.to_string())?;
            if done(&world) {
                return Ok(world);
            }
            if self.now() >= deadline {
                return Err(format!("not done after {}s", limit.as_secs()));
            }
        }
    }

    /// Steps for `span` of virtual time without checks.
    pub async fn run_for(&mut self, span: Duration) -> Result<(), String> {
        let end = self.now() + span;
        while self.now() < end {
            self.step(&mut |_| Ok(())).await?;
        }
        Ok(())
    }

    /// Records what `after` changed in the timeline, then runs `check` on the world.
    async fn check(&mut self, after: &str, check: Check<'_>) -> Result<(), String> {
        let now = self.now();
        let fail = |e: api::client::ApiError| e.to_string();
        self.timeline.observe(&self.api, now).await.map_err(fail)?;
        let world = self.world(after).await.map_err(|e| e.to_string())?;
        check(&world).map_err(|e| format!("at {}s after {after}: {e}", world.now.as_secs()))
    }
}
