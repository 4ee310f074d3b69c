//! When to register, write the node's status and renew its Lease: a schedule on virtual time.

use std::time::{Duration, SystemTime};

/// Something the node side of the kubelet must do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeAction {
    /// Create the Node object (until that has succeeded once).
    Register,
    /// Write the Node's status: capacity, conditions, heartbeat times.
    UpdateStatus,
    /// Renew the node's Lease in `kube-node-lease`: the cheap "I am alive".
    RenewLease,
}

// ANCHOR: heartbeat
/// The node's schedule. Two heartbeats, as in Kubernetes since 1.17: the Lease is small and
/// renewed often (it is what the node controller watches for liveness); the full status is
/// checked often but written only when it changed, or when the report period says it is time
/// to write it anyway.
#[derive(Debug, Clone)]
pub struct Heartbeat {
    registered: bool,
    /// False once the Lease has a loop of its own (see [`Heartbeat::renew_lease_elsewhere`]).
    renews_lease: bool,
    status_period: Duration,
    report_period: Duration,
    lease_period: Duration,
    next_status: SystemTime,
    next_report: SystemTime,
    next_lease: SystemTime,
}
// ANCHOR_END: heartbeat

impl Heartbeat {
    /// A schedule starting at `now`: everything is due at once, the first status write
    /// included. The status is checked every `status_period` and written at least every
    /// `report_period`; the Lease is renewed every `lease_period`.
    pub fn new(
        now: SystemTime,
        status_period: Duration,
        report_period: Duration,
        lease_period: Duration,
    ) -> Self {
        Heartbeat {
            registered: false,
            renews_lease: true,
            status_period,
            report_period,
            lease_period,
            next_status: now,
            next_report: now,
            next_lease: now,
        }
    }

    /// What is due at `now`; each returned action is scheduled again a period later.
    pub fn due(&mut self, now: SystemTime) -> Vec<NodeAction> {
        if !self.registered {
            return vec![NodeAction::Register];
        }
        let mut actions = Vec::new();
        if now >= self.next_status {
            self.next_status = now + self.status_period;
            actions.push(NodeAction::UpdateStatus);
        }
        if self.renews_lease && now >= self.next_lease {
            self.next_lease = now + self.lease_period;
            actions.push(NodeAction::RenewLease);
        }
        actions
    }

    /// Leaves the Lease to another loop: `due` no longer returns `RenewLease`.
    pub fn renew_lease_elsewhere(&mut self) {
        self.renews_lease = false;
    }

    /// Whether an `UpdateStatus` at `now` must write the status even if nothing changed.
    pub fn report_due(&self, now: SystemTime) -> bool {
        now >= self.next_report
    }

    /// Records that the status was written at `now`.
    pub fn reported(&mut self, now: SystemTime) {
        self.next_report = now + self.report_period;
    }

    /// Records a successful registration: status and lease follow at once.
    pub fn registered(&mut self) {
        self.registered = true;
    }

    /// The next moment something is due.
    pub fn next_due(&self) -> SystemTime {
        if self.renews_lease {
            self.next_status.min(self.next_lease)
        } else {
            self.next_status
        }
    }
}
