//! The timeline: every change to Deployments, ReplicaSets and Pods, and the controllers'
//! Events, as one line each stamped with virtual time: what a reader of the rolling update
//! chapter follows, and what the simulation snapshots.

use std::time::Duration;

use api::client::{ApiClient, ApiResult};
use api::{Deployment, Event, Pod, ReplicaSet};

use crate::deployment::revision_of;
use crate::pods;
use crate::runtime::{Delta, Informer};

/// Watches the cluster and writes one line per change that matters to a reader.
#[derive(Debug, Default)]
pub struct Timeline {
    deployments: Informer<Deployment>,
    replica_sets: Informer<ReplicaSet>,
    pods: Informer<Pod>,
    events: Informer<Event>,
    lines: Vec<String>,
}

impl Timeline {
    /// An empty timeline (it lists everything at its first [`Timeline::observe`]).
    pub fn new() -> Self {
        Timeline::default()
    }

    /// The lines so far.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    /// Records every change delivered since the last call, stamped `now`.
    pub async fn observe<C: ApiClient>(&mut self, api: &C, now: Duration) -> ApiResult<()> {
        let mut lines = Vec::new();
        for delta in self.deployments.sync(api).await? {
            lines.extend(deployment_line(&delta));
        }
        for delta in self.replica_sets.sync(api).await? {
            lines.extend(replica_set_line(&delta));
        }
        for delta in self.pods.sync(api).await? {
            lines.extend(pod_line(&delta));
        }
        for delta in self.events.sync(api).await? {
            if let Delta::Added(event) = &delta {
                lines.extend(event_line(event));
            }
        }
        let stamp = format!("[{:>4}s]", now.as_secs());
        self.lines
            .extend(lines.into_iter().map(|line| format!("{stamp} {line}")));
        Ok(())
    }
}

fn name<K: api::Resource>(object: &K) -> &str {
    object.metadata().name.as_deref().unwrap_or("")
}

fn image(template: &api::PodSpec) -> &str {
    template.containers.first().map_or("", |c| c.image.as_str())
}

fn deployment_line(delta: &Delta<Deployment>) -> Vec<String> {
    let d = delta.object();
    let spec = |d: &Deployment| {
        format!(
            "replicas={} image={}{}",
            d.spec.replicas.unwrap_or(1),
            image(&d.spec.template.spec),
            if d.spec.paused == Some(true) {
                " paused"
            } else {
                ""
            }
        )
    };
    let status = |d: &Deployment| {
        d.status.as_ref().map(|s| {
            format!(
                "status replicas={} updated={} ready={} available={}",
                s.replicas, s.updated_replicas, s.ready_replicas, s.available_replicas
            )
        })
    };
    match delta {
        Delta::Added(_) => vec![format!("deploy/{} created: {}", name(d), spec(d))],
        Delta::Updated { old, new } => {
            let mut lines = Vec::new();
            if spec(old) != spec(new) {
                lines.push(format!("deploy/{} spec: {}", name(d), spec(new)));
            }
            if let Some(status) = status(new).filter(|s| Some(s) != status(old).as_ref()) {
                lines.push(format!("deploy/{} {status}", name(d)));
            }
            lines
        }
        Delta::Deleted(_) => vec![format!("deploy/{} deleted", name(d))],
    }
}

fn replica_set_line(delta: &Delta<ReplicaSet>) -> Vec<String> {
    let rs = delta.object();
    let replicas = |rs: &ReplicaSet| rs.spec.replicas.unwrap_or(1);
    match delta {
        Delta::Added(_) => vec![format!(
            "rs/{} created: revision {} image={} replicas={}",
            name(rs),
            revision_of(rs),
            image(&rs.spec.template.spec),
            replicas(rs)
        )],
        Delta::Updated { old, new } => {
            let mut lines = Vec::new();
            if replicas(old) != replicas(new) {
                lines.push(format!(
                    "rs/{} replicas {} -> {}",
                    name(rs),
                    replicas(old),
                    replicas(new)
                ));
            }
            if revision_of(old) != revision_of(new) {
                lines.push(format!("rs/{} revision {}", name(rs), revision_of(new)));
            }
            lines
        }
        Delta::Deleted(_) => vec![format!("rs/{} deleted", name(rs))],
    }
}

fn pod_line(delta: &Delta<Pod>) -> Vec<String> {
    let pod = delta.object();
    let node = |p: &Pod| p.spec.node_name.clone();
    let phase = |p: &Pod| p.status.as_ref().and_then(|s| s.phase);
    match delta {
        Delta::Added(_) => vec![format!("pod/{} created ({})", name(pod), image(&pod.spec))],
        Delta::Updated { old, new } => {
            let mut lines = Vec::new();
            if node(old) != node(new)
                && let Some(node) = node(new)
            {
                lines.push(format!("pod/{} scheduled to {node}", name(pod)));
            }
            if phase(old) != phase(new)
                && let Some(phase) = phase(new)
            {
                lines.push(format!("pod/{} {phase:?}", name(pod)));
            }
            if pods::is_ready(old) != pods::is_ready(new) {
                let ready = if pods::is_ready(new) {
                    "ready"
                } else {
                    "not ready"
                };
                lines.push(format!("pod/{} {ready}", name(pod)));
            }
            if old.metadata.deletion_timestamp.is_none()
                && new.metadata.deletion_timestamp.is_some()
            {
                lines.push(format!("pod/{} terminating", name(pod)));
            }
            lines
        }
        Delta::Deleted(_) => vec![format!("pod/{} deleted", name(pod))],
    }
}

fn event_line(event: &Event) -> Option<String> {
    let component = event.reporting_component.as_deref()?;
    let shown = [
        crate::deployment::NAME,
        crate::replicaset::NAME,
        crate::nodelifecycle::NAME,
    ];
    if !shown.contains(&component) {
        return None;
    }
    Some(format!(
        "event {} {}/{}: {}",
        event.reason.as_deref().unwrap_or(""),
        event.involved_object.kind.as_deref().unwrap_or(""),
        event.involved_object.name.as_deref().unwrap_or(""),
        event.message.as_deref().unwrap_or("")
    ))
}
