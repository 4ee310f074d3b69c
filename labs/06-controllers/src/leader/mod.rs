//! Leader election through a Lease (`coordination.k8s.io/v1`): several copies of a component
//! run for availability, one acts.
//!
//! [`Elector`] is the sans-IO core (observed lease + own clock → [`Decision`]);
//! [`LeaderElector`] carries its decisions out over an [`ApiClient`], relying on optimistic
//! concurrency: every write carries the resourceVersion that was read, so of two candidates
//! writing the same lease, one gets a conflict and knows it lost. [`WhileLeading`] runs any
//! [`Component`] only while its elector leads.

mod elector;

use std::future::Future;
use std::time::Duration;

use api::client::{ApiClient, ApiError, ApiResult};
use api::{Lease, LeaseSpec, MicroTime, ObjectMeta, Time};

pub use elector::{Decision, ElectionConfig, Elector};

use crate::runtime::{Controller, Runner};
use scheduler::driver::SchedulerDriver;

/// Where the control plane's leases live.
pub const LEADER_LEASE_NAMESPACE: &str = "kube-system";

/// What one [`LeaderElector::tick`] did, for logs and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// Nothing changed: still leading, or still standing by.
    None,
    /// We just became the leader.
    Acquired,
    /// We just stopped leading (deadline passed, or someone else took the lease).
    Lost,
}

// ANCHOR: leader_elector
/// An [`Elector`] wired to a Lease in the API.
pub struct LeaderElector<C: ApiClient> {
    api: C,
    namespace: String,
    name: String,
    elector: Elector,
    /// The wall-clock time at virtual time zero, for `acquireTime` and `renewTime`.
    epoch: Time,
}
// ANCHOR_END: leader_elector

impl<C: ApiClient> LeaderElector<C> {
    /// An elector for the lease `namespace/name`; `epoch` is the wall-clock time that our
    /// clock's zero stands for. Fails on an inconsistent timing, naming the field.
    pub fn new(
        api: C,
        namespace: &str,
        name: &str,
        config: ElectionConfig,
        epoch: Time,
    ) -> Result<Self, String> {
        config.validate()?;
        Ok(LeaderElector {
            api,
            namespace: namespace.to_string(),
            name: name.to_string(),
            elector: Elector::new(config),
            epoch,
        })
    }

    /// The sans-IO elector.
    pub fn elector(&self) -> &Elector {
        &self.elector
    }

    /// Whether we may act at `now` (see [`Elector::is_leading`]).
    pub fn is_leading(&self, now: Duration) -> bool {
        self.elector.is_leading(now)
    }

    /// When the next tick has something to do, on our clock.
    pub fn next_tick(&self, now: Duration) -> Duration {
        match self.elector.decide(now) {
            Decision::Lead { renew_at } => renew_at,
            Decision::StandBy { expires_at } => {
                expires_at.min(now + self.elector.config().retry_period)
            }
            Decision::Acquire | Decision::Renew | Decision::StepDown => now,
        }
    }

    // ANCHOR: tick
    /// Reads the lease, decides, and writes if the decision says so. Errors other than a
    /// conflict are returned; while leading, they count against the renew deadline.
    pub async fn tick(&mut self, now: Duration) -> ApiResult<Transition> {
        let was_leading = self.elector.in_term();
        let lease = match self
            .api
            .get::<Lease>(Some(&self.namespace), &self.name)
            .await
        {
            Ok(lease) => Some(lease),
            Err(error) if error.is_not_found() => None,
            Err(error) => return self.failed(error, now, was_leading),
        };
        self.elector.observe(lease.as_ref().map(|l| &l.spec), now);
        let written = match self.elector.decide(now) {
            Decision::Lead { .. } => return Ok(Transition::None),
            Decision::StandBy { .. } => {
                self.elector.step_down();
                return Ok(transition(was_leading, false));
            }
            Decision::StepDown => {
                tracing::warn!(identity = %self.elector.config().identity, "renew deadline passed: stepping down");
                self.elector.step_down();
                return Ok(transition(was_leading, false));
            }
            Decision::Acquire => self.write(lease, now, true).await,
            Decision::Renew => self.write(lease, now, false).await,
        };
        match written {
            Ok(lease) => {
                self.elector.wrote(&lease.spec, now);
                Ok(transition(was_leading, true))
            }
            // Someone else wrote the lease between our read and our write: they won.
            Err(ApiError::Conflict { .. } | ApiError::AlreadyExists { .. }) => {
                self.elector.step_down();
                Ok(transition(was_leading, false))
            }
            Err(error) => self.failed(error, now, was_leading),
        }
    }
    // ANCHOR_END: tick

    /// Gives the lease up (on a clean shutdown), so that another candidate need not wait for
    /// it to expire: client-go's `ReleaseOnCancel`.
    pub async fn release(&mut self, now: Duration) -> ApiResult<()> {
        if !self.elector.is_leading(now) {
            return Ok(());
        }
        self.elector.step_down();
        let mut lease: Lease = self.api.get(Some(&self.namespace), &self.name).await?;
        if lease.spec.holder_identity.as_deref() != Some(&self.elector.config().identity) {
            return Ok(());
        }
        lease.spec.holder_identity = None;
        lease.spec.lease_duration_seconds = Some(1);
        lease.spec.renew_time = Some(self.micro_time(now));
        self.api.update(lease).await.map(|_| ())
    }

    /// An API call failed: a leader keeps leading until its deadline, then steps down.
    fn failed(
        &mut self,
        error: ApiError,
        now: Duration,
        was_leading: bool,
    ) -> ApiResult<Transition> {
        if was_leading && !self.elector.is_leading(now) {
            // Past the deadline without a successful renewal: the term is over.
            self.elector.step_down();
        }
        tracing::warn!(identity = %self.elector.config().identity, %error, "leader election: API call failed");
        Err(error)
    }

    /// Writes ourselves into the lease: a new holder (acquire) or a new renewTime (renew).
    async fn write(&self, lease: Option<Lease>, now: Duration, acquire: bool) -> ApiResult<Lease> {
        let config = self.elector.config();
        let stamp = self.micro_time(now);
        let seconds = i32::try_from(config.lease_duration.as_secs()).unwrap_or(i32::MAX);
        let Some(mut lease) = lease else {
            let lease = Lease {
                metadata: ObjectMeta::namespaced(&self.namespace, &self.name),
                spec: LeaseSpec {
                    holder_identity: Some(config.identity.clone()),
                    lease_duration_seconds: Some(seconds),
                    acquire_time: Some(stamp),
                    renew_time: Some(stamp),
                    lease_transitions: Some(0),
                },
                ..Lease::default()
            };
            return self.api.create(lease).await;
        };
        let spec = &mut lease.spec;
        let ours = spec.holder_identity.as_deref() == Some(config.identity.as_str());
        if acquire && !ours {
            let had_holder = spec
                .holder_identity
                .as_deref()
                .is_some_and(|h| !h.is_empty());
            let transitions = spec.lease_transitions.unwrap_or(0);
            spec.lease_transitions = Some(transitions + i32::from(had_holder));
            spec.acquire_time = Some(stamp);
            spec.holder_identity = Some(config.identity.clone());
        }
        spec.lease_duration_seconds = Some(seconds);
        spec.renew_time = Some(stamp);
        // The update carries the resourceVersion we read: a conflict means we lost.
        self.api.update(lease).await
    }

    fn micro_time(&self, now: Duration) -> MicroTime {
        let micros = i64::try_from(now.as_micros()).unwrap_or(i64::MAX);
        MicroTime(
            self.epoch
                .0
                .saturating_mul(1_000_000)
                .saturating_add(micros),
        )
    }
}

fn transition(was_leading: bool, leading: bool) -> Transition {
    match (was_leading, leading) {
        (false, true) => Transition::Acquired,
        (true, false) => Transition::Lost,
        _ => Transition::None,
    }
}

// ANCHOR: component
/// Anything that does its work in steps on virtual time: a controller runner, a scheduler
/// driver. [`WhileLeading`] calls it only while leading.
pub trait Component {
    /// Does the work that is due at `now`.
    fn step(&mut self, now: Duration) -> impl Future<Output = ApiResult<()>>;

    /// Called when leadership is lost: drop what must not survive into a later term (caches
    /// are rebuilt on the next step). Nothing by default.
    fn stopped_leading(&mut self) {}
}
// ANCHOR_END: component

/// A controller's runner is a component: one step reconciles until quiet.
impl<C: ApiClient, R: Controller<C>> Component for Runner<C, R> {
    async fn step(&mut self, now: Duration) -> ApiResult<()> {
        self.run_until_quiet(now).await.map(|_| ())
    }
}

/// The scheduler's driver (lab 05) is a component: one step schedules until quiet.
impl<C: ApiClient> Component for SchedulerDriver<C> {
    async fn step(&mut self, now: Duration) -> ApiResult<()> {
        self.run_until_quiet(now).await.map(|_| ())
    }
}

// ANCHOR: while_leading
/// Runs a [`Component`] only while its [`LeaderElector`] leads.
pub struct WhileLeading<C: ApiClient, T: Component> {
    elector: LeaderElector<C>,
    component: T,
}

impl<C: ApiClient, T: Component> WhileLeading<C, T> {
    /// `component`, guarded by `elector`.
    pub fn new(elector: LeaderElector<C>, component: T) -> Self {
        WhileLeading { elector, component }
    }

    /// Ticks the elector, then steps the component if (and only if) we lead at `now`.
    /// Returns whether the component acted.
    pub async fn step(&mut self, now: Duration) -> ApiResult<bool> {
        let in_term = self.elector.elector().in_term();
        // A failed read or write is retried at the next tick; the deadline decides.
        let _ = self.elector.tick(now).await;
        if in_term && !self.elector.elector().in_term() {
            self.component.stopped_leading();
        }
        if !self.elector.is_leading(now) {
            return Ok(false);
        }
        self.component.step(now).await?;
        Ok(true)
    }
}
// ANCHOR_END: while_leading

impl<C: ApiClient, T: Component> WhileLeading<C, T> {
    /// The elector.
    pub fn elector(&self) -> &LeaderElector<C> {
        &self.elector
    }

    /// The component.
    pub fn component(&mut self) -> &mut T {
        &mut self.component
    }

    /// Real mode: steps on tokio's clock every retry period (sooner when a renewal is due).
    pub async fn run(mut self) -> ApiResult<()> {
        let start = tokio::time::Instant::now();
        loop {
            let now = start.elapsed();
            self.step(now).await?;
            let next = self
                .elector
                .next_tick(now)
                .max(now + Duration::from_millis(10));
            let retry = now + self.elector.elector().config().retry_period;
            tokio::time::sleep_until(start + next.min(retry)).await;
        }
    }
}
