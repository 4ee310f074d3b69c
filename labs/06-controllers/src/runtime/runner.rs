//! The runner: feeds a controller's keys through the work queue and calls its reconcile.
//!
//! The same runner serves tests, stepped by hand on virtual time ([`Runner::run_until_quiet`]),
//! and real mode ([`Runner::run`]), which steps it on tokio's clock.

use std::time::Duration;

use api::client::{ApiClient, ApiResult};

use super::controller::{Action, Controller, ReconcileError};
use super::key::Key;
use super::queue::WorkQueue;

/// The longest the real loop waits without looking at the informers.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// The most observe/process rounds one [`Runner::run_until_quiet`] makes: a safety net
/// against a controller whose every reconcile causes another change.
const MAX_ROUNDS: usize = 1000;

/// What happened to one key in one reconcile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The key that was reconciled.
    pub key: Key,
    /// What the reconcile returned.
    pub result: Result<Action, ReconcileError>,
    /// For a failure: how long the key waits before its retry.
    pub retry_in: Option<Duration>,
}

// ANCHOR: runner
/// A controller, its work queue, and the periodic resync.
pub struct Runner<C: ApiClient, R: Controller<C>> {
    api: C,
    controller: R,
    queue: WorkQueue,
    resync_period: Option<Duration>,
    next_resync: Option<Duration>,
}
// ANCHOR_END: runner

impl<C: ApiClient, R: Controller<C>> Runner<C, R> {
    /// A runner of `controller` on `api`, with the default back-off and no resync.
    pub fn new(api: C, controller: R) -> Self {
        Runner {
            api,
            controller,
            queue: WorkQueue::new(),
            resync_period: None,
            next_resync: None,
        }
    }

    /// Re-queues every key of [`Controller::resync_keys`] every `period`.
    pub fn with_resync(mut self, period: Duration) -> Self {
        self.resync_period = Some(period);
        self.next_resync = Some(period);
        self
    }

    /// Uses `queue` (e.g. one with a custom rate limiter) instead of the default.
    pub fn with_queue(mut self, queue: WorkQueue) -> Self {
        self.queue = queue;
        self
    }

    /// The controller.
    pub fn controller(&self) -> &R {
        &self.controller
    }

    /// The controller, mutably (tests use it to inspect or adjust its state).
    pub fn controller_mut(&mut self) -> &mut R {
        &mut self.controller
    }

    /// The work queue.
    pub fn queue(&mut self) -> &mut WorkQueue {
        &mut self.queue
    }

    /// The API the controller writes to.
    pub fn api(&self) -> &C {
        &self.api
    }

    /// When the runner next has something to do without any change arriving: a waiting key
    /// becomes ready, or a resync is due.
    pub fn next_wake_up(&self) -> Option<Duration> {
        match (self.queue.next_wake_up(), self.next_resync) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    // ANCHOR: observe
    /// Applies what the informers received and queues the keys it maps to; on a resync tick,
    /// queues every key. Returns how many keys were added.
    pub async fn observe(&mut self, now: Duration) -> ApiResult<usize> {
        let mut keys = self.controller.observe(&self.api, now).await?;
        if let (Some(period), Some(at)) = (self.resync_period, self.next_resync)
            && now >= at
        {
            keys.extend(self.controller.resync_keys());
            // The next resync is a whole period after this one, however late this one was.
            self.next_resync = Some(now + period);
        }
        let added = keys.len();
        for key in keys {
            self.queue.add(key);
        }
        Ok(added)
    }
    // ANCHOR_END: observe

    // ANCHOR: process_one
    /// Reconciles the next ready key, if any: success forgets its back-off (and requeues it
    /// later if asked), failure retries it after the next back-off delay.
    pub async fn process_one(&mut self, now: Duration) -> Option<Outcome> {
        let key = self.queue.get(now)?;
        let result = self.controller.reconcile(&self.api, &key, now).await;
        let mut retry_in = None;
        match &result {
            Ok(Action::Done) => self.queue.forget(&key),
            Ok(Action::RequeueAfter(delay)) => {
                self.queue.forget(&key);
                self.queue.add_after(key.clone(), *delay, now);
            }
            Err(error) => {
                tracing::debug!(controller = self.controller.name(), %key, %error, "retrying");
                retry_in = Some(self.queue.add_rate_limited(key.clone(), now));
            }
        }
        self.queue.done(&key);
        Some(Outcome {
            key,
            result,
            retry_in,
        })
    }
    // ANCHOR_END: process_one

    /// Observes, then reconciles every key ready at `now`, and again while the controller's
    /// own writes (or anything else) bring new changes. Virtual time stands still meanwhile.
    pub async fn run_until_quiet(&mut self, now: Duration) -> ApiResult<Vec<Outcome>> {
        let mut outcomes = Vec::new();
        for _ in 0..MAX_ROUNDS {
            self.observe(now).await?;
            if self.queue.is_empty() && !self.has_due(now) {
                break;
            }
            while let Some(outcome) = self.process_one(now).await {
                outcomes.push(outcome);
            }
        }
        Ok(outcomes)
    }

    /// Real mode: runs forever on tokio's clock, observing the informers every 100 ms at most
    /// (or sooner when a waiting key or a resync is due).
    pub async fn run(mut self) -> ApiResult<()> {
        let start = tokio::time::Instant::now();
        loop {
            let now = start.elapsed();
            self.run_until_quiet(now).await?;
            let idle = self.next_wake_up().map_or(POLL_INTERVAL, |at| {
                at.saturating_sub(now).min(POLL_INTERVAL)
            });
            tokio::time::sleep(idle).await;
        }
    }

    /// True when a waiting key is due at `now`.
    fn has_due(&self, now: Duration) -> bool {
        self.queue.next_wake_up().is_some_and(|at| at <= now)
    }
}
