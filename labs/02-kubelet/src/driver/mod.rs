//! The IO shell: runs the sans-IO [`SyncLoop`] against a runtime, an API and a prober.
//!
//! The same driver runs in both modes. In tests it gets the fake runtime, the in-memory API,
//! scripted probes and a virtual clock, and the test calls [`Kubelet::sync_once`] between
//! clock advances. For real it gets the real runtime and probes and [`Kubelet::run`] loops.

mod config;
mod execute;
mod hosts;
mod journal;
mod node;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use api::client::ApiClient;
use runtime::{Clock, ContainerFilter, ContainerId, ContainerRuntime, RuntimeError, SandboxFilter};
use tokio::task::JoinSet;

pub use journal::Journal;

use crate::config::KubeletConfig;
use crate::node::{Heartbeat, MachineInfo, read_machine};
use crate::probe::ProbeRunner;
use crate::source::{ApiPodCache, DesiredPod, ManifestError, read_manifest_dir};
use crate::sync::{Action, Observed, SyncLoop};

/// How many sync passes one [`Kubelet::sync_once`] may make while actions keep coming (a new
/// pod needs two: one for the sandbox, one for its containers).
const MAX_PASSES: usize = 8;

/// Where machine readings come from: the real machine, or a fixed value in tests.
pub type MachineReader = Arc<dyn Fn() -> MachineInfo + Send + Sync>;

// ANCHOR: kubelet
/// A kubelet: the sync loop plus everything it talks to.
pub struct Kubelet<R, C, P> {
    config: KubeletConfig,
    runtime: Arc<R>,
    api: C,
    prober: P,
    clock: Arc<dyn Clock>,
    machine: MachineReader,
    core: SyncLoop,
    heartbeat: Heartbeat,
    api_pods: ApiPodCache,
    desired: Vec<DesiredPod>,
    manifest_errors: Vec<ManifestError>,
    kills: JoinSet<(ContainerId, Result<(), RuntimeError>)>,
    journal: Journal,
    service_env: Option<ServiceEnv>,
    service_hosts: Option<crate::hosts::ServiceHosts>,
    /// The pods whose hosts file is kept, by uid.
    hosts_pods: std::collections::BTreeMap<String, hosts::HostsPod>,
}
// ANCHOR_END: kubelet

/// Turns the Services of a pod's namespace into the environment variables its containers get
/// (`WEB_SERVICE_HOST`, ...); lab 08 provides it, so the kubelet needs no Service logic.
pub type ServiceEnv = Arc<dyn Fn(&[api::Service]) -> Vec<(String, String)> + Send + Sync>;

impl<R, C, P> Kubelet<R, C, P>
where
    R: ContainerRuntime + 'static,
    C: ApiClient,
    P: ProbeRunner,
{
    /// A kubelet for `config.node_name`, reading the real machine for its node status.
    pub fn new(
        config: KubeletConfig,
        runtime: Arc<R>,
        api: C,
        prober: P,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let now = clock.now();
        let lease_period = config.lease_duration / 4;
        let data_dir = config
            .manifest_dir
            .clone()
            .unwrap_or_else(std::env::temp_dir);
        Kubelet {
            core: SyncLoop::new(config.backoff),
            heartbeat: Heartbeat::new(
                now,
                config.node_status_period,
                config.node_status_report_period,
                lease_period,
            ),
            api_pods: ApiPodCache::new(&config.node_name),
            machine: Arc::new(move || read_machine(&data_dir)),
            desired: Vec::new(),
            manifest_errors: Vec::new(),
            kills: JoinSet::new(),
            journal: Journal::new(now),
            service_env: None,
            service_hosts: None,
            hosts_pods: std::collections::BTreeMap::new(),
            config,
            runtime,
            api,
            prober,
            clock,
        }
    }

    /// Gives every container started from now on the variables `env` makes from the Services
    /// of its pod's namespace, listed through the API when the container starts (Kubernetes'
    /// service links). The container's own variables win over them.
    pub fn with_service_env(mut self, env: ServiceEnv) -> Self {
        self.service_env = Some(env);
        self
    }

    /// Gives every pod started from now on a hosts file at `/etc/hosts` with its own name and
    /// the names `hosts` makes for the cluster's Services, kept up to date on every sync (see
    /// [`crate::hosts`]).
    pub fn with_service_hosts(mut self, hosts: crate::hosts::ServiceHosts) -> Self {
        self.service_hosts = Some(hosts);
        self
    }

    /// Replaces the machine readings (tests use a fixed machine for deterministic output).
    pub fn with_machine(mut self, machine: MachineReader) -> Self {
        self.machine = machine;
        self
    }

    /// What the kubelet did so far, one line per step, stamped with time since it started.
    pub fn journal(&self) -> &[String] {
        self.journal.lines()
    }

    /// The manifest files that could not be used at the last sync.
    pub fn manifest_errors(&self) -> &[ManifestError] {
        &self.manifest_errors
    }

    // ANCHOR: sync_once
    /// One full sync: heartbeats, desired pods from every source, then reconcile passes
    /// until the sync loop has nothing more to do right now.
    pub async fn sync_once(&mut self) {
        self.reap_kills().await;
        self.node_heartbeat().await;
        self.refresh_desired().await;
        self.refresh_volumes().await;
        self.refresh_hosts().await;
        for _ in 0..MAX_PASSES {
            let observed = match self.observe().await {
                Ok(observed) => observed,
                Err(error) => {
                    tracing::warn!("listing the runtime failed: {error}");
                    return;
                }
            };
            let actions = self.core.sync(self.clock.now(), &self.desired, &observed);
            // Reporting a status changes nothing in the runtime: no need for another pass
            // (and a status that could not be written waits for the next sync).
            let changes_runtime = actions
                .iter()
                .any(|a| !matches!(a, Action::UpdateStatus { .. }));
            for action in actions {
                self.execute(action).await;
            }
            self.reap_kills().await;
            if !changes_runtime {
                break;
            }
        }
    }
    // ANCHOR_END: sync_once

    /// When the next sync is needed: a restart, a probe, a heartbeat, or the sync period.
    pub fn next_wakeup(&self) -> SystemTime {
        let now = self.clock.now();
        let periodic = now + self.config.sync_period;
        [
            self.core.next_wakeup(now),
            Some(self.heartbeat.next_due()),
            Some(periodic),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(periodic)
        .max(now)
    }

    // ANCHOR: run
    /// Runs until `stop` completes, then shuts down cleanly: every pod is stopped gracefully
    /// and removed, so no process is left behind. The Lease is renewed by a loop of its own
    /// the whole time, shutdown included.
    pub async fn run(&mut self, stop: impl std::future::Future<Output = ()>)
    where
        C: Clone,
    {
        self.heartbeat.renew_lease_elsewhere();
        let lease = node::renew_lease_forever(
            self.api.clone(),
            self.clock.clone(),
            self.config.node_name.clone(),
            self.config.lease_duration,
        );
        tokio::select! {
            () = self.sync_until(stop) => {}
            never = lease => match never {},
        }
    }

    /// The sync loop of [`Kubelet::run`]: syncs whenever something is due or changes, until
    /// `stop` completes, then shuts down.
    async fn sync_until(&mut self, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            self.sync_once().await;
            let wait = self
                .next_wakeup()
                .duration_since(self.clock.now())
                .unwrap_or_default();
            tokio::select! {
                _ = &mut stop => break,
                _ = tokio::time::sleep(wait) => {}
                changed = self.api_pods.changed() => {
                    if let Err(error) = changed {
                        tracing::warn!("watching pods: {error}");
                    }
                }
                Some(done) = self.kills.join_next(), if !self.kills.is_empty() => {
                    self.finish_kill(done);
                }
            }
        }
        self.shutdown().await;
    }
    // ANCHOR_END: run

    /// Stops every pod (gracefully), waits until all are gone, and returns.
    pub async fn shutdown(&mut self) {
        self.journal
            .record(self.clock.now(), "shutting down: stopping every pod".into());
        self.core.shut_down();
        loop {
            self.sync_once().await;
            if self.core.is_idle() && self.kills.is_empty() {
                break;
            }
            match self.kills.join_next().await {
                Some(done) => self.finish_kill(done),
                None => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
        self.journal.record(self.clock.now(), "shut down".into());
    }

    /// Reads the pods of every source into `self.desired`.
    async fn refresh_desired(&mut self) {
        let mut desired = Vec::new();
        if let Some(dir) = &self.config.manifest_dir {
            let (pods, errors) = read_manifest_dir(dir, &self.config.node_name);
            for error in errors.iter().filter(|e| !self.manifest_errors.contains(e)) {
                tracing::warn!("{error}");
                self.journal
                    .record(self.clock.now(), format!("bad manifest {error}"));
            }
            self.manifest_errors = errors;
            desired.extend(pods);
        }
        match self.api_pods.refresh(&self.api).await {
            Ok(()) => desired.extend(self.api_pods.desired()),
            Err(error) => {
                tracing::warn!("reading pods from the API: {error}");
                // Keep running what was desired: an API outage must not stop workloads.
                desired.extend(
                    self.desired
                        .iter()
                        .filter(|d| d.source == crate::source::PodSource::Api)
                        .cloned(),
                );
            }
        }
        self.desired = desired;
    }

    /// One listing of the runtime.
    async fn observe(&self) -> Result<Observed, RuntimeError> {
        Ok(Observed {
            sandboxes: self
                .runtime
                .list_pod_sandboxes(&SandboxFilter::default())
                .await?,
            containers: self
                .runtime
                .list_containers(&ContainerFilter::default())
                .await?,
        })
    }

    /// Collects the kills that have finished, without waiting.
    async fn reap_kills(&mut self) {
        // Let kill tasks spawned in the last pass make progress (on a single-threaded test
        // runtime they only run when this task yields).
        tokio::task::yield_now().await;
        while let Some(done) = self.kills.try_join_next() {
            self.finish_kill(done);
        }
    }

    fn finish_kill(
        &mut self,
        done: Result<(ContainerId, Result<(), RuntimeError>), tokio::task::JoinError>,
    ) {
        match done {
            Ok((_, Ok(()))) => {}
            Ok((id, Err(error))) => {
                tracing::warn!("stopping {id} failed: {error}");
                self.core.kill_failed(&id);
            }
            Err(error) => tracing::warn!("a kill task failed: {error}"),
        }
    }
}
