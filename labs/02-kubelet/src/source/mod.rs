//! Where desired pods come from: a directory of static pod manifests, and the API.

mod api_pods;
mod manifests;

use std::path::PathBuf;

use api::Pod;

pub use api_pods::{ApiPodCache, MIRROR_ANNOTATION};
pub use manifests::{ManifestError, read_manifest_dir, static_pod_uid};

/// Where a pod came from, which decides how its status is reported and its end finished.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum PodSource {
    /// A static pod, from this manifest file; its status goes to a mirror pod in the API.
    File(PathBuf),
    /// A pod bound to this node through the API.
    Api,
    /// Found only in the runtime (left by an earlier kubelet); it is stopped and removed.
    Runtime,
}

/// A pod the kubelet should run, with its uid and namespace set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredPod {
    /// The pod.
    pub pod: Pod,
    /// Where it came from.
    pub source: PodSource,
}

impl DesiredPod {
    /// The pod's uid (every source sets one).
    pub fn uid(&self) -> &str {
        self.pod.metadata.uid.as_deref().unwrap_or("")
    }
}
