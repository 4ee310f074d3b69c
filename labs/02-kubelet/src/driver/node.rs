//! The node side of the driver: registration, node status, heartbeat Lease.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use api::client::{ApiClient, ApiError};
use api::{Lease, Node};
use runtime::{Clock, ContainerRuntime};

use super::Kubelet;
use crate::node::{NODE_LEASE_NAMESPACE, NodeAction, lease, node_object, status_changed};
use crate::probe::ProbeRunner;

impl<R, C, P> Kubelet<R, C, P>
where
    R: ContainerRuntime + 'static,
    C: ApiClient,
    P: ProbeRunner,
{
    /// Does whatever the heartbeat schedule says is due; failures are retried next period.
    pub(super) async fn node_heartbeat(&mut self) {
        let now = self.clock.now();
        let mut due = self.heartbeat.due(now);
        if due == [NodeAction::Register] {
            // Once registered, the first status and lease follow in the same heartbeat.
            due.extend(self.register_then_due(now).await);
        }
        for action in due.into_iter().filter(|a| *a != NodeAction::Register) {
            let result = match action {
                NodeAction::Register => self.register().await,
                NodeAction::UpdateStatus => self.update_node_status(false).await,
                NodeAction::RenewLease => self.renew_lease().await,
            };
            if let Err(error) = result {
                tracing::warn!("node {:?}: {error}", action);
            }
        }
    }

    /// Registers; on success returns what is due next (the first status and lease).
    async fn register_then_due(&mut self, now: std::time::SystemTime) -> Vec<NodeAction> {
        match self.register().await {
            Ok(()) => self.heartbeat.due(now),
            Err(error) => {
                tracing::warn!("registering node {}: {error}", self.config.node_name);
                Vec::new()
            }
        }
    }

    // ANCHOR: register
    /// Creates the Node; if it already exists (a restarted kubelet), takes it over.
    async fn register(&mut self) -> Result<(), ApiError> {
        let now = self.clock.now();
        let node = node_object(&self.config, &(self.machine)(), now);
        match self.api.create(node).await {
            Ok(_) => {}
            // A restart reports at once, even if nothing changed: "Ready since now".
            Err(ApiError::AlreadyExists { .. }) => self.update_node_status(true).await?,
            Err(error) => return Err(error),
        }
        self.heartbeat.registered();
        self.journal
            .record(now, format!("node {} registered", self.config.node_name));
        Ok(())
    }
    // ANCHOR_END: register

    // ANCHOR: update_node_status
    /// Writes the node's current status (capacity, conditions) through the status subresource
    /// when it differs from the stored one, when the report period is up, or when `force`d.
    /// The comparison is what brings a node back quickly after the node controller marked it
    /// `Unknown` during a pause: the stored `Ready` is no longer what the kubelet reports.
    async fn update_node_status(&mut self, force: bool) -> Result<(), ApiError> {
        let now = self.clock.now();
        let fresh = node_object(&self.config, &(self.machine)(), now);
        let mut stored: Node = self.api.get(None, &self.config.node_name).await?;
        let report = force || self.heartbeat.report_due(now);
        if !report && !status_changed(stored.status.as_ref(), fresh.status.as_ref()) {
            return Ok(());
        }
        stored.status = fresh.status;
        self.api.update_status(stored).await?;
        self.heartbeat.reported(now);
        Ok(())
    }
    // ANCHOR_END: update_node_status

    /// Renews the Lease, creating it the first time.
    async fn renew_lease(&self) -> Result<(), ApiError> {
        let now = self.clock.now();
        renew_lease(
            &self.api,
            &self.config.node_name,
            now,
            self.config.lease_duration,
        )
        .await
    }
}

/// Renews `node`'s Lease at `now`, creating it the first time.
pub(super) async fn renew_lease<C: ApiClient>(
    api: &C,
    node: &str,
    now: SystemTime,
    duration: Duration,
) -> Result<(), ApiError> {
    let renewed = lease(node, now, duration);
    match api.get::<Lease>(Some(NODE_LEASE_NAMESPACE), node).await {
        Ok(mut stored) => {
            stored.spec = renewed.spec;
            api.update(stored).await.map(|_| ())
        }
        Err(error) if error.is_not_found() => api.create(renewed).await.map(|_| ()),
        Err(error) => Err(error),
    }
}

// ANCHOR: lease_loop
/// The Lease's own loop, for a kubelet that runs for real: it renews every quarter of the
/// Lease's duration whatever the sync loop is doing, so that a slow probe or a long sync never
/// delays the one heartbeat the node controller judges the node by (Kubernetes runs it in a
/// goroutine of its own for the same reason). It never returns; drop it to stop.
pub(super) async fn renew_lease_forever<C: ApiClient>(
    api: C,
    clock: Arc<dyn Clock>,
    node: String,
    duration: Duration,
) -> std::convert::Infallible {
    loop {
        if let Err(error) = renew_lease(&api, &node, clock.now(), duration).await {
            tracing::warn!("renewing the Lease of node {node}: {error}");
        }
        tokio::time::sleep(duration / 4).await;
    }
}
// ANCHOR_END: lease_loop
