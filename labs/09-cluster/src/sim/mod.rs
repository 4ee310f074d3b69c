//! The whole cluster as a deterministic simulation with seeded chaos.
//!
//! The real scheduler (lab 05), the real kubelets (lab 02) on the fake runtime (lab 01), and
//! the real Deployment, ReplicaSet and node lifecycle controllers (lab 06) run on one virtual
//! clock, each talking to the in-memory API through its own handle on a simulated network
//! ([`net`]). A seed decides the pod names and the chaos ([`chaos`]): containers killed, pods
//! deleted, nodes crashed, nodes partitioned from the API, API server restarts, slow
//! watchers. After every component of every step the invariants are checked; a failure names
//! its seed, and running that seed again replays the same run, line for line.

pub mod chaos;
pub mod net;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use api::client::{ApiClient, ApiResource, DeleteOptions, InMemoryApi};
use api::{Deployment, LabelSelector, Node, Pod, Quantity, ReplicaSet, Time};
use controllers::deployment::DeploymentController;
use controllers::nodelifecycle::{NodeLifecycleConfig, NodeLifecycleController};
use controllers::pods;
use controllers::replicaset::ReplicaSetController;
use controllers::runtime::Runner;
use controllers::sim::{Timeline, World, machine, web_deployment};
use kubelet::backoff::BackoffPolicy;
use kubelet::{Kubelet, KubeletConfig, ScriptedProber};
use runtime::clock::FAKE_EPOCH_SECS;
use runtime::{
    Clock, ContainerFilter, ContainerRuntime, ContainerState, FakeBehavior, FakeClock, FakeImage,
    FakeRuntime,
};
use scheduler::driver::SchedulerDriver;
use scheduler::{Profile, Scheduler};

pub use chaos::{Fault, schedule};
pub use net::{Net, SimApi};

/// How far virtual time moves between two steps.
pub const TICK: Duration = Duration::from_secs(1);

/// The image every simulated pod runs (it runs until stopped).
pub const IMAGE: &str = "fake/app:v1";

/// The environment variable that replays one seed in `cargo test -p skiff --test chaos`.
pub const SEED_VAR: &str = "SKIFF_SEED";

type SimKubelet = Kubelet<FakeRuntime, SimApi, ScriptedProber>;

// ANCHOR: scenario
/// What one simulated run does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    /// How many nodes (`node-1`...).
    pub nodes: usize,
    /// The Deployment's replicas.
    pub replicas: i32,
    /// How long faults strike, once the Deployment is up.
    pub chaos: Duration,
    /// The chance, in percent, that a fault strikes in a given second of the chaos.
    pub percent: u64,
    /// How long after the last fault the cluster has to be whole again.
    pub settle: Duration,
}

impl Default for Scenario {
    /// Three nodes, six replicas, a minute of chaos at 15% a second, two minutes to heal.
    fn default() -> Self {
        Scenario {
            nodes: 3,
            replicas: 6,
            chaos: Duration::from_secs(60),
            percent: 15,
            settle: Duration::from_secs(120),
        }
    }
}
// ANCHOR_END: scenario

/// A run that broke an invariant: everything needed to replay it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The seed of the run.
    pub seed: u64,
    /// Virtual time of the failure.
    pub at: Duration,
    /// The component that had just run.
    pub after: String,
    /// What went wrong.
    pub message: String,
    /// The timeline up to the failure, to read what led to it.
    pub timeline: Vec<String>,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "simulation seed {} failed at {}s after {}: {}\n  replay: {}={} cargo test -p skiff --test chaos replay -- --nocapture\n      or: cargo xtask chaos --seed {}",
            self.seed,
            self.at.as_secs(),
            self.after,
            self.message,
            SEED_VAR,
            self.seed,
            self.seed
        )
    }
}

/// What a successful run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The seed.
    pub seed: u64,
    /// Every change and every fault, one line each, stamped with virtual time.
    pub timeline: Vec<String>,
    /// How many faults struck.
    pub faults: usize,
    /// How many writes the API acknowledged to components.
    pub acknowledged: usize,
    /// Virtual time at the end.
    pub end: Duration,
}

/// The usage of `skiff-chaos` (what `cargo xtask chaos` runs).
pub const USAGE: &str = "\
skiff-chaos: the whole cluster under seeded chaos, on virtual time

Usage: skiff-chaos [--seeds N] [--from S]    run seeds S, S+1, ... (N of them; default 16 from 1)
       skiff-chaos --seed S                  replay one seed and print its timeline
";

/// Which seeds `skiff-chaos` runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Run `count` seeds from `from`, one line each.
    Many {
        /// The first seed.
        from: u64,
        /// How many seeds.
        count: u64,
    },
    /// Replay one seed, printing its timeline.
    One(u64),
}

impl Plan {
    /// Reads `--seeds N`, `--from S` and `--seed S`; anything else is an error naming it.
    pub fn parse(args: &[String]) -> Result<Plan, String> {
        let number = |i: usize, flag: &str| -> Result<u64, String> {
            let value = args
                .get(i + 1)
                .ok_or_else(|| format!("{flag} needs a value"))?;
            value
                .parse()
                .map_err(|_| format!("{flag}: `{value}` is not a whole number"))
        };
        let (mut from, mut count, mut one) = (1, 16, None);
        let mut i = 0;
        while i < args.len() {
            match args[i].as_str() {
                "--seeds" => count = number(i, "--seeds")?,
                "--from" => from = number(i, "--from")?,
                "--seed" => one = Some(number(i, "--seed")?),
                other => return Err(format!("unknown option `{other}`\n\n{USAGE}")),
            }
            i += 2;
        }
        Ok(match one {
            Some(seed) => Plan::One(seed),
            None => Plan::Many { from, count },
        })
    }
}

/// What the simulation must undo later.
#[derive(Debug, Clone)]
enum Heal {
    NodeUp(String),
    Reconnect(String),
    OnTime(String),
}

// ANCHOR: sim
/// The simulated cluster.
pub struct Sim {
    seed: u64,
    clock: FakeClock,
    net: Net,
    scheduler: SchedulerDriver<SimApi>,
    deployments: Runner<SimApi, DeploymentController>,
    replica_sets: Runner<SimApi, ReplicaSetController>,
    node_lifecycle: Runner<SimApi, NodeLifecycleController>,
    /// Every node: its runtime and kubelet; `None` while the node is down.
    nodes: BTreeMap<String, Option<(Arc<FakeRuntime>, SimKubelet)>>,
    /// Faults still to strike, in time order.
    faults: Vec<(Duration, Fault)>,
    /// Faults to undo, with when.
    heals: Vec<(Duration, Heal)>,
    observer: Timeline,
    seen: usize,
    timeline: Vec<String>,
    struck: usize,
}
// ANCHOR_END: sim

impl Sim {
    /// A cluster of `nodes` nodes; `seed` names its pods.
    pub async fn new(seed: u64, nodes: usize) -> Result<Sim, Failure> {
        let clock = FakeClock::new();
        let api_clock = clock.clone();
        let api = InMemoryApi::with_clock(Arc::new(move || {
            kubelet::util::to_api_time(api_clock.now())
        }));
        let net = Net::new(api).await.map_err(|e| Failure {
            seed,
            at: Duration::ZERO,
            after: "start".into(),
            message: e.to_string(),
            timeline: Vec::new(),
        })?;
        let epoch = Time(FAKE_EPOCH_SECS as i64);
        let mut sim = Sim {
            seed,
            scheduler: SchedulerDriver::new(
                net.client("scheduler"),
                Scheduler::new(Profile::default_plugins()),
                epoch,
            ),
            deployments: Runner::new(
                net.client("deployment-controller"),
                DeploymentController::new(epoch),
            ),
            replica_sets: Runner::new(
                net.client("replicaset-controller"),
                ReplicaSetController::new(seed, epoch),
            ),
            node_lifecycle: Runner::new(
                net.client("node-controller"),
                NodeLifecycleController::new(NodeLifecycleConfig::default(), epoch),
            ),
            nodes: BTreeMap::new(),
            faults: Vec::new(),
            heals: Vec::new(),
            observer: Timeline::new(),
            seen: 0,
            timeline: Vec::new(),
            struck: 0,
            clock,
            net,
        };
        for i in 1..=nodes {
            let name = format!("node-{i}");
            let node = sim.boot(&name);
            sim.nodes.insert(name, Some(node));
        }
        Ok(sim)
    }

    /// A fresh kubelet on a fresh (empty) fake runtime for `name`.
    fn boot(&self, name: &str) -> (Arc<FakeRuntime>, SimKubelet) {
        let runtime = Arc::new(FakeRuntime::new(self.clock.clone()));
        runtime.add_image(IMAGE, FakeImage::new(FakeBehavior::RunForever));
        let mut config = KubeletConfig::new(name);
        config.backoff = BackoffPolicy {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(10),
            reset_after: Duration::from_secs(60),
        };
        let kubelet = Kubelet::new(
            config,
            runtime.clone(),
            self.net.client(name),
            ScriptedProber::new(self.clock.clone()),
            Arc::new(self.clock.clone()),
        )
        .with_machine(Arc::new(machine));
        (runtime, kubelet)
    }

    /// The seed of this run.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The network, and through [`Net::raw`] the API without faults (as a user sees it).
    pub fn net(&self) -> &Net {
        &self.net
    }

    /// Virtual time since the cluster started.
    pub fn now(&self) -> Duration {
        self.clock.elapsed()
    }

    /// Every change and fault so far, one line each.
    pub fn timeline(&self) -> &[String] {
        &self.timeline
    }

    /// Adds faults to strike (kept in time order).
    pub fn plan(&mut self, faults: Vec<(Duration, Fault)>) {
        self.faults.extend(faults);
        self.faults.sort_by_key(|(at, _)| *at);
    }

    /// True while no fault is pending and none is still in force.
    pub fn calm(&self) -> bool {
        self.faults.is_empty() && self.heals.is_empty()
    }

    fn fail(&self, after: &str, message: String) -> Failure {
        Failure {
            seed: self.seed,
            at: self.now(),
            after: after.to_string(),
            message,
            timeline: self.timeline.clone(),
        }
    }

    fn note(&mut self, line: String) {
        self.timeline
            .push(format!("[{:>4}s] {line}", self.now().as_secs()));
    }

    // ANCHOR: step
    /// One step at the current virtual time: faults due strike and faults over heal, then the
    /// controllers, the scheduler and every live kubelet run until quiet. After each
    /// component the invariants are checked; then the clock moves on by [`TICK`].
    pub async fn step(&mut self) -> Result<(), Failure> {
        let now = self.now();
        self.net.set_now(now);
        self.heal(now);
        self.strike(now).await;
        self.check("chaos").await?;
        // A component whose call fails tries again at the next step, as a real one would.
        let _ = self.node_lifecycle.run_until_quiet(now).await;
        self.check("node-controller").await?;
        let _ = self.deployments.run_until_quiet(now).await;
        self.check("deployment-controller").await?;
        let _ = self.replica_sets.run_until_quiet(now).await;
        self.check("replicaset-controller").await?;
        let _ = self.scheduler.run_until_quiet(now).await;
        self.check("scheduler").await?;
        let names: Vec<String> = self.nodes.keys().cloned().collect();
        for name in names {
            if let Some(Some((_, kubelet))) = self.nodes.get_mut(&name) {
                kubelet.sync_once().await;
                self.check(&name).await?;
            }
        }
        self.clock.advance(TICK);
        Ok(())
    }
    // ANCHOR_END: step

    /// Records what changed in the timeline and fails on any broken invariant.
    async fn check(&mut self, after: &str) -> Result<(), Failure> {
        let now = self.now();
        if let Err(e) = self.observer.observe(self.net.raw(), now).await {
            return Err(self.fail(after, format!("observing the API: {e}")));
        }
        let lines = self.observer.lines()[self.seen..].to_vec();
        self.seen += lines.len();
        self.timeline.extend(lines);
        match self.net.take_violations().into_iter().next() {
            Some(violation) => Err(self.fail(after, violation)),
            None => Ok(()),
        }
    }

    fn heal(&mut self, now: Duration) {
        let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.heals)
            .into_iter()
            .partition(|(at, _)| *at <= now);
        self.heals = later;
        for (_, heal) in due {
            match heal {
                Heal::NodeUp(node) => {
                    if matches!(self.nodes.get(&node), Some(None)) {
                        let fresh = self.boot(&node);
                        self.nodes.insert(node.clone(), Some(fresh));
                        self.note(format!("heal: {node} is back (no containers)"));
                    }
                }
                Heal::Reconnect(node) => {
                    self.net.partition(&node, false);
                    self.note(format!("heal: {node} reaches the API again"));
                }
                Heal::OnTime(component) => {
                    self.net.slow(&component, None);
                    self.note(format!("heal: {component} watches on time"));
                }
            }
        }
    }

    // ANCHOR: strike
    /// Injects every fault due at `now`.
    async fn strike(&mut self, now: Duration) {
        while self.faults.first().is_some_and(|(at, _)| *at <= now) {
            let (_, fault) = self.faults.remove(0);
            self.struck += 1;
            self.note(format!("chaos: {fault}"));
            match fault {
                Fault::KillContainer { node, pick } => {
                    if let Some(Some((runtime, _))) = self.nodes.get(&node) {
                        let running = ContainerFilter {
                            state: Some(ContainerState::Running),
                            ..ContainerFilter::default()
                        };
                        let mut ids: Vec<_> = runtime
                            .list_containers(&running)
                            .await
                            .unwrap_or_default()
                            .into_iter()
                            .map(|c| c.id)
                            .collect();
                        ids.sort();
                        if !ids.is_empty() {
                            let id = &ids[(pick % ids.len() as u64) as usize];
                            let _ = runtime.stop_container(id, Duration::ZERO).await;
                        }
                    }
                }
                Fault::DeletePod { pick } => {
                    let all = LabelSelector::default();
                    let pods = self.net.raw().list::<Pod>(None, &all).await;
                    let live: Vec<Pod> = pods
                        .map(|l| l.items)
                        .unwrap_or_default()
                        .into_iter()
                        .filter(pods::is_active)
                        .collect();
                    if !live.is_empty() {
                        let pod = &live[(pick % live.len() as u64) as usize];
                        let name = pod.metadata.name.clone().unwrap_or_default();
                        let ns = pod.metadata.namespace.clone();
                        let _ = self
                            .net
                            .raw()
                            .delete::<Pod>(ns.as_deref(), &name, DeleteOptions::default())
                            .await;
                    }
                }
                Fault::CrashNode { node, down } => {
                    if let Some(slot) = self.nodes.get_mut(&node) {
                        *slot = None;
                    }
                    self.net.disconnect(&node);
                    self.heals.push((now + down, Heal::NodeUp(node)));
                }
                Fault::Partition { node, down } => {
                    self.net.partition(&node, true);
                    self.heals.push((now + down, Heal::Reconnect(node)));
                }
                Fault::RestartApi { down } => self.net.restart_api(now + down),
                Fault::SlowWatcher {
                    component,
                    delay,
                    during,
                } => {
                    self.net.slow(&component, Some(delay));
                    self.heals.push((now + during, Heal::OnTime(component)));
                }
            }
        }
    }
    // ANCHOR_END: strike

    /// Reads the world from the API.
    pub async fn world(&self, after: &str) -> Result<World, Failure> {
        let all = LabelSelector::default();
        let api = self.net.raw();
        let fail = |e: api::client::ApiError| self.fail(after, e.to_string());
        Ok(World {
            now: self.now(),
            after: after.to_string(),
            pods: api.list::<Pod>(None, &all).await.map_err(fail)?.items,
            replica_sets: api
                .list::<ReplicaSet>(None, &all)
                .await
                .map_err(fail)?
                .items,
            deployments: api
                .list::<Deployment>(None, &all)
                .await
                .map_err(fail)?
                .items,
        })
    }

    /// Steps until `done` holds after a whole step; fails once `limit` of virtual time has
    /// passed.
    pub async fn run_until(
        &mut self,
        limit: Duration,
        what: &str,
        mut done: impl FnMut(&World) -> bool,
    ) -> Result<World, Failure> {
        let deadline = self.now() + limit;
        loop {
            self.step().await?;
            let world = self.world("step").await?;
            if done(&world) {
                return Ok(world);
            }
            if self.now() >= deadline {
                return Err(self.fail(
                    "step",
                    format!("{what} not reached after {}s", limit.as_secs()),
                ));
            }
        }
    }

    /// Steps until every planned fault has struck and healed.
    pub async fn run_chaos(&mut self) -> Result<(), Failure> {
        while !self.calm() {
            self.step().await?;
        }
        Ok(())
    }

    // ANCHOR: nothing_lost
    /// No acknowledged object is lost: the API's objects are exactly what replaying the
    /// auditor's history gives, each at its last revision.
    pub async fn check_nothing_lost(&self) -> Result<(), Failure> {
        let history = self.net.history();
        let api = self.net.raw();
        let mut problems = Vec::new();
        problems.extend(compare::<Pod>(api, &history).await);
        problems.extend(compare::<Node>(api, &history).await);
        problems.extend(compare::<ReplicaSet>(api, &history).await);
        problems.extend(compare::<Deployment>(api, &history).await);
        match problems.into_iter().next() {
            Some(problem) => Err(self.fail("end", problem)),
            None => Ok(()),
        }
    }
    // ANCHOR_END: nothing_lost

    /// How many faults struck so far.
    pub fn struck(&self) -> usize {
        self.struck
    }
}

/// Compares the stored objects of kind `K` with the last state the history gives each key.
async fn compare<K: ApiResource>(api: &InMemoryApi, history: &net::History) -> Vec<String> {
    let mut last: BTreeMap<&str, (u64, bool)> = BTreeMap::new();
    for seen in history.get(K::PLURAL).into_iter().flatten() {
        last.insert(&seen.key, (seen.revision, seen.deleted));
    }
    let stored = match api.list::<K>(None, &LabelSelector::default()).await {
        Ok(list) => list.items,
        Err(e) => return vec![format!("listing {}: {e}", K::PLURAL)],
    };
    let mut problems = Vec::new();
    let mut present = BTreeSet::new();
    for object in &stored {
        let meta = object.metadata();
        let key = format!(
            "{}/{}",
            meta.namespace.as_deref().unwrap_or(""),
            meta.name.as_deref().unwrap_or("")
        );
        let revision: u64 = meta
            .resource_version
            .as_deref()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        match last.get(key.as_str()) {
            Some((r, false)) if *r == revision => {}
            other => problems.push(format!(
                "{} {key} is stored at revision {revision}, history says {other:?}",
                K::PLURAL
            )),
        }
        present.insert(key);
    }
    for (key, (revision, deleted)) in last {
        if !deleted && !present.contains(key) {
            problems.push(format!(
                "{} {key} (revision {revision}) was acknowledged and is gone without a deletion",
                K::PLURAL
            ));
        }
    }
    problems
}

/// The Deployment `web` of `replicas` pods running [`IMAGE`], one CPU each.
pub fn web(replicas: i32) -> Deployment {
    web_deployment(replicas, IMAGE, Quantity::from_millis(1000))
}

// ANCHOR: settled
/// Desired replicas reached: `replicas` pods active and ready, and the Deployment's status
/// says so.
pub fn settled(world: &World, replicas: i32) -> bool {
    let ready = world
        .pods
        .iter()
        .filter(|p| pods::is_active(p) && pods::is_ready(p))
        .count();
    let status = world.deployments.first().and_then(|d| d.status.as_ref());
    ready == replicas as usize && status.is_some_and(|s| s.available_replicas == replicas)
}
// ANCHOR_END: settled

// ANCHOR: run
/// One whole run: the Deployment comes up, the seed's chaos strikes, the faults stop, the
/// cluster must heal within `scenario.settle`, and nothing acknowledged may be lost.
pub async fn run(seed: u64, scenario: &Scenario) -> Result<Report, Failure> {
    let mut sim = Sim::new(seed, scenario.nodes).await?;
    let replicas = scenario.replicas;
    if let Err(e) = sim.net().raw().create(web(replicas)).await {
        return Err(sim.fail("start", format!("creating the Deployment: {e}")));
    }
    let minute = Duration::from_secs(60);
    sim.run_until(minute, "desired replicas before the chaos", |w| {
        settled(w, replicas)
    })
    .await?;
    let faults = schedule(
        seed,
        scenario.nodes,
        sim.now(),
        scenario.chaos,
        scenario.percent,
    );
    sim.plan(faults);
    sim.run_chaos().await?;
    sim.run_until(scenario.settle, "desired replicas after the chaos", |w| {
        settled(w, replicas)
    })
    .await?;
    sim.check_nothing_lost().await?;
    Ok(Report {
        seed,
        timeline: sim.timeline().to_vec(),
        faults: sim.struck(),
        acknowledged: sim.net().acknowledged(),
        end: sim.now(),
    })
}
// ANCHOR_END: run
