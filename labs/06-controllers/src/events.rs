//! Events: how controllers tell users what they did (`kubectl describe` shows them).

use api::client::ApiClient;
use api::{Event, EventSource, MicroTime, ObjectMeta, ObjectReference, Resource, Time};

/// Writes Events for one controller, numbering them so names are unique and repeatable.
#[derive(Debug, Clone)]
pub struct Recorder {
    component: &'static str,
    sent: u64,
}

impl Recorder {
    /// A recorder for `component`, e.g. `replicaset-controller`.
    pub fn new(component: &'static str) -> Self {
        Recorder { component, sent: 0 }
    }

    /// Records a `Normal` event about `object`. Failing to write an Event is logged, never an
    /// error: events are for humans, the reconcile must not fail because of one.
    pub async fn normal<C: ApiClient, K: Resource>(
        &mut self,
        api: &C,
        object: &K,
        reason: &str,
        message: String,
        now: Time,
    ) {
        self.sent += 1;
        let meta = object.metadata();
        let name = meta.name.clone().unwrap_or_default();
        let namespace = meta.namespace.clone().unwrap_or_else(|| "default".into());
        let event = Event {
            metadata: ObjectMeta::namespaced(&namespace, &format!("{name}.{:016x}", self.sent)),
            involved_object: ObjectReference {
                api_version: Some(K::API_VERSION.to_string()),
                kind: Some(K::KIND.to_string()),
                namespace: Some(namespace.clone()),
                name: Some(name),
                uid: meta.uid.clone(),
                resource_version: meta.resource_version.clone(),
                field_path: None,
            },
            reason: Some(reason.to_string()),
            message: Some(message),
            event_type: Some("Normal".to_string()),
            count: Some(1),
            first_timestamp: Some(now),
            last_timestamp: Some(now),
            event_time: Some(MicroTime::from_unix_micros(now.unix_seconds() * 1_000_000)),
            source: Some(EventSource {
                component: Some(self.component.to_string()),
                host: None,
            }),
            reporting_component: Some(self.component.to_string()),
            reporting_instance: Some(self.component.to_string()),
            ..Event::default()
        };
        if let Err(error) = api.create(event).await {
            tracing::warn!(component = self.component, %error, "could not record an event");
        }
    }
}
