//! Events: how controllers tell users what they did (`kubectl describe` shows them).

use api::client::{ApiClient, ApiError};
use api::{Event, EventNames, EventSource, MicroTime, ObjectMeta, ObjectReference, Resource, Time};

/// How many names one event tries before it is given up (logged) as colliding.
const NAME_ATTEMPTS: usize = 4;

/// Writes Events for one controller, named `<object>.<hex nanoseconds of the event's time>`:
/// repeatable under a virtual clock, and unique across a restart of the controller-manager.
#[derive(Debug, Clone)]
pub struct Recorder {
    component: &'static str,
    names: EventNames,
}

impl Recorder {
    /// A recorder for `component`, e.g. `replicaset-controller`.
    pub fn new(component: &'static str) -> Self {
        Recorder {
            component,
            names: EventNames::new(),
        }
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
        let meta = object.metadata();
        let name = meta.name.clone().unwrap_or_default();
        let namespace = meta.namespace.clone().unwrap_or_else(|| "default".into());
        let nanos = u128::try_from(now.unix_seconds()).unwrap_or(0) * 1_000_000_000;
        let mut event = Event {
            metadata: ObjectMeta::namespaced(&namespace, &self.names.next(&name, nanos)),
            involved_object: ObjectReference {
                api_version: Some(K::API_VERSION.to_string()),
                kind: Some(K::KIND.to_string()),
                namespace: Some(namespace.clone()),
                name: Some(name.clone()),
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
        for attempt in 1..=NAME_ATTEMPTS {
            match api.create(event.clone()).await {
                Ok(_) => return,
                Err(ApiError::AlreadyExists { .. }) if attempt < NAME_ATTEMPTS => {
                    // A predecessor (before a restart) named an event at this instant.
                    self.names.skip();
                    event.metadata.name = Some(self.names.next(&name, nanos));
                }
                Err(error) => {
                    tracing::warn!(component = self.component, %error, "could not record an event");
                    return;
                }
            }
        }
    }
}
