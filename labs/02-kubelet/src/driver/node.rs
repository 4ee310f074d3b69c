//! The node side of the driver: registration, node status, heartbeat Lease.

use api::client::{ApiClient, ApiError};
use api::{Lease, Node};
use runtime::ContainerRuntime;

use super::Kubelet;
use crate::node::{NODE_LEASE_NAMESPACE, NodeAction, lease, node_object};
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
                NodeAction::UpdateStatus => self.update_node_status().await,
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
            Err(ApiError::AlreadyExists { .. }) => self.update_node_status().await?,
            Err(error) => return Err(error),
        }
        self.heartbeat.registered();
        self.journal
            .record(now, format!("node {} registered", self.config.node_name));
        Ok(())
    }
    // ANCHOR_END: register

    /// Writes the node's current status (capacity, conditions) through the status subresource.
    async fn update_node_status(&self) -> Result<(), ApiError> {
        let fresh = node_object(&self.config, &(self.machine)(), self.clock.now());
        let mut stored: Node = self.api.get(None, &self.config.node_name).await?;
        stored.status = fresh.status;
        self.api.update_status(stored).await.map(|_| ())
    }

    /// Renews the Lease, creating it the first time.
    async fn renew_lease(&self) -> Result<(), ApiError> {
        let node = &self.config.node_name;
        let renewed = lease(node, self.clock.now(), self.config.lease_duration);
        match self
            .api
            .get::<Lease>(Some(NODE_LEASE_NAMESPACE), node)
            .await
        {
            Ok(mut stored) => {
                stored.spec = renewed.spec;
                self.api.update(stored).await.map(|_| ())
            }
            Err(error) if error.is_not_found() => self.api.create(renewed).await.map(|_| ()),
            Err(error) => Err(error),
        }
    }
}
