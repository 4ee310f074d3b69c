//! The sans-IO elector: given the Lease it last read and the time on its own clock, decide
//! whether to acquire, renew, stand by or step down.

use std::time::Duration;

use api::LeaseSpec;

/// The timing of an election, as in client-go's `LeaderElectionConfig`.
///
/// `renew_deadline < lease_duration` is what makes two leaders impossible: a leader stops
/// acting `renew_deadline` after its last successful renewal, while the others wait
/// `lease_duration` after they *saw* that renewal before they take over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElectionConfig {
    /// Who we are: written to `spec.holderIdentity`. Unique per instance.
    pub identity: String,
    /// How long a holder's claim lasts after others observe a renewal (`leaseDurationSeconds`).
    pub lease_duration: Duration,
    /// How long a leader keeps acting without a successful renewal before it steps down.
    pub renew_deadline: Duration,
    /// How often to try to acquire or renew.
    pub retry_period: Duration,
}

impl ElectionConfig {
    /// client-go's (and kube-scheduler's) defaults: 15 s lease, 10 s deadline, 2 s retry.
    pub fn new(identity: &str) -> Self {
        ElectionConfig {
            identity: identity.to_string(),
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        }
    }

    /// Checks the timing: every duration positive, `retry_period < renew_deadline <
    /// lease_duration`, and the lease a whole number of seconds (the field is in seconds).
    pub fn validate(&self) -> Result<(), String> {
        if self.identity.is_empty() {
            return Err("identity: must not be empty".to_string());
        }
        if self.retry_period.is_zero() {
            return Err("retryPeriod: must be greater than zero".to_string());
        }
        if self.renew_deadline <= self.retry_period {
            return Err("renewDeadline: must be greater than retryPeriod".to_string());
        }
        if self.lease_duration <= self.renew_deadline {
            return Err("leaseDuration: must be greater than renewDeadline".to_string());
        }
        if self.lease_duration.subsec_nanos() != 0 {
            return Err("leaseDuration: must be a whole number of seconds".to_string());
        }
        Ok(())
    }
}

// ANCHOR: decision
/// What the elector wants to do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The lease is free, expired, or already ours: write ourselves as the holder.
    Acquire,
    /// We lead and a retry period has passed since the last renewal: write a new renewTime.
    Renew,
    /// We lead and the renewal is not due yet: keep acting, renew at `renew_at`.
    Lead {
        /// When the next renewal is due, on our clock.
        renew_at: Duration,
    },
    /// Someone else holds a lease that has not expired: do nothing, look again later.
    StandBy {
        /// When the lease expires on our clock, if its holder does not renew it.
        expires_at: Duration,
    },
    /// We led, but have not renewed within the renew deadline: stop acting at once.
    StepDown,
}
// ANCHOR_END: decision

/// The lease as this elector last saw it, and when (on its own clock) it last changed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Observed {
    spec: LeaseSpec,
    changed_at: Duration,
}

// ANCHOR: elector
/// One candidate's view of the election. It never compares its clock with the `renewTime`
/// another process wrote: it measures expiry from when *it* saw the lease change, so clock
/// skew between machines does not matter (only clock *rates* do).
#[derive(Debug, Clone)]
pub struct Elector {
    config: ElectionConfig,
    observed: Option<Observed>,
    /// Our clock's time at our last successful acquire or renew, while we lead.
    renewed_at: Option<Duration>,
}
// ANCHOR_END: elector

impl Elector {
    /// A candidate that does not lead and has seen nothing yet.
    pub fn new(config: ElectionConfig) -> Self {
        Elector {
            config,
            observed: None,
            renewed_at: None,
        }
    }

    /// The election's timing.
    pub fn config(&self) -> &ElectionConfig {
        &self.config
    }

    /// Records the lease as read at `now` (`None`: there is no lease). The expiry clock
    /// restarts only when the lease's content changed since the last look.
    pub fn observe(&mut self, lease: Option<&LeaseSpec>, now: Duration) {
        match lease {
            None => self.observed = None,
            Some(spec) => {
                if self.observed.as_ref().is_none_or(|seen| seen.spec != *spec) {
                    self.observed = Some(Observed {
                        spec: spec.clone(),
                        changed_at: now,
                    });
                }
            }
        }
    }

    /// Records our own successful write of `spec` at `now`: we lead until `now +
    /// renew_deadline` unless we renew again.
    pub fn wrote(&mut self, spec: &LeaseSpec, now: Duration) {
        self.observed = Some(Observed {
            spec: spec.clone(),
            changed_at: now,
        });
        self.renewed_at = Some(now);
    }

    /// Stops leading (a lost race, a failed renewal past the deadline, a shutdown).
    pub fn step_down(&mut self) {
        self.renewed_at = None;
    }

    /// Whether we may act at `now`: we lead and our last renewal is within the deadline.
    /// Components check this before every step, so a leader that was paused past its
    /// deadline does nothing before it has looked at the lease again.
    pub fn is_leading(&self, now: Duration) -> bool {
        self.renewed_at
            .is_some_and(|at| now < at + self.config.renew_deadline)
    }

    /// Whether we consider ourselves in a term, even one whose deadline has passed while we
    /// were not looking (the next decision will be [`Decision::StepDown`]).
    pub fn in_term(&self) -> bool {
        self.renewed_at.is_some()
    }

    /// Who holds the lease, as last observed.
    pub fn holder(&self) -> Option<&str> {
        self.observed
            .as_ref()
            .and_then(|seen| seen.spec.holder_identity.as_deref())
            .filter(|holder| !holder.is_empty())
    }

    // ANCHOR: decide
    /// The decision at `now`, from what was observed and our own last renewal.
    pub fn decide(&self, now: Duration) -> Decision {
        // EXERCISE(controllers-leader-decision): a leader past its renew deadline steps down; a leader renews every retry period; others acquire only a free, expired or own lease
        let config = &self.config;
        if let Some(renewed_at) = self.renewed_at {
            if now >= renewed_at + config.renew_deadline || self.holder() != Some(&config.identity)
            {
                return Decision::StepDown;
            }
            let renew_at = renewed_at + config.retry_period;
            return if now >= renew_at {
                Decision::Renew
            } else {
                Decision::Lead { renew_at }
            };
        }
        let Some(seen) = &self.observed else {
            return Decision::Acquire;
        };
        let holder = seen.spec.holder_identity.as_deref().unwrap_or("");
        if holder.is_empty() || holder == config.identity {
            return Decision::Acquire;
        }
        let duration = seen
            .spec
            .lease_duration_seconds
            .map_or(config.lease_duration, |s| {
                Duration::from_secs(u64::try_from(s).unwrap_or(0))
            });
        let expires_at = seen.changed_at + duration;
        if now >= expires_at {
            Decision::Acquire
        } else {
            Decision::StandBy { expires_at }
        }
        // END EXERCISE
    }
    // ANCHOR_END: decide
}
