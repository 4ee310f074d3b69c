//! Pods bound to this node through the API, kept current by list + watch (a "reflector").

use std::collections::BTreeMap;

use api::client::{ApiClient, ApiError, WatchEvent, WatchEventType, WatchStream};
use api::{LabelSelector, Pod};

use super::{DesiredPod, PodSource};

/// The annotation marking a mirror pod: the API's copy of a static pod, for status only.
pub const MIRROR_ANNOTATION: &str = "kubernetes.io/config.mirror";

// ANCHOR: cache
/// The pods of one node as the API last said, by uid. A list gives the starting point and its
/// resourceVersion; a watch from that version brings every change after it. When the watch
/// ends (or is Gone), the next refresh lists again: nothing is missed.
#[derive(Debug)]
pub struct ApiPodCache {
    node: String,
    pods: BTreeMap<String, Pod>,
    watch: Option<WatchStream<Pod>>,
}
// ANCHOR_END: cache

impl ApiPodCache {
    /// An empty cache for the pods bound to `node`.
    pub fn new(node: &str) -> Self {
        ApiPodCache {
            node: node.to_string(),
            pods: BTreeMap::new(),
            watch: None,
        }
    }

    /// Lists (when there is no live watch) and applies every event already received.
    pub async fn refresh<C: ApiClient>(&mut self, api: &C) -> Result<(), ApiError> {
        if self.watch.as_ref().is_none_or(WatchStream::is_closed) {
            self.relist(api).await?;
        }
        while let Some(event) = self.watch.as_mut().and_then(WatchStream::try_next) {
            self.apply(event)?;
        }
        Ok(())
    }

    /// Waits for the next event and applies it (never returns while there is no watch).
    pub async fn changed(&mut self) -> Result<(), ApiError> {
        let Some(watch) = self.watch.as_mut() else {
            return std::future::pending().await;
        };
        match watch.next().await {
            Some(event) => self.apply(event),
            None => {
                self.watch = None;
                Ok(())
            }
        }
    }

    /// The pods to run, in uid order.
    pub fn desired(&self) -> Vec<DesiredPod> {
        self.pods
            .values()
            .map(|pod| DesiredPod {
                pod: pod.clone(),
                source: PodSource::Api,
            })
            .collect()
    }

    async fn relist<C: ApiClient>(&mut self, api: &C) -> Result<(), ApiError> {
        let list = api.list::<Pod>(None, &LabelSelector::default()).await?;
        self.pods = list
            .items
            .into_iter()
            .filter(|pod| self.is_ours(pod))
            .map(|pod| (pod.metadata.uid.clone().unwrap_or_default(), pod))
            .collect();
        self.watch = Some(api.watch(None, &list.resource_version).await?);
        Ok(())
    }

    fn apply(&mut self, event: Result<WatchEvent<Pod>, ApiError>) -> Result<(), ApiError> {
        let event = event.inspect_err(|_| self.watch = None)?;
        let uid = event.object.metadata.uid.clone().unwrap_or_default();
        if event.event_type == WatchEventType::Deleted || !self.is_ours(&event.object) {
            self.pods.remove(&uid);
        } else {
            self.pods.insert(uid, event.object);
        }
        Ok(())
    }

    /// Bound to this node, and not a mirror of one of our own static pods.
    fn is_ours(&self, pod: &Pod) -> bool {
        pod.spec.node_name.as_deref() == Some(self.node.as_str())
            && !pod.metadata.annotations.contains_key(MIRROR_ANNOTATION)
    }
}
