//! Static pods: manifests in a directory, run by the kubelet without any API server.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use api::{Object, Pod, Validate, parse_manifests};

use super::{DesiredPod, PodSource};

/// A manifest file that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong with it, naming the field where there is one.
    pub message: String,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

// ANCHOR: read_manifest_dir
/// Reads every `.yaml`, `.yml` and `.json` file of `dir` (in name order) as static pods for
/// `node`. A bad file is reported and skipped; the good ones still run.
pub fn read_manifest_dir(dir: &Path, node: &str) -> (Vec<DesiredPod>, Vec<ManifestError>) {
    let mut pods = Vec::new();
    let mut errors = Vec::new();
    let files = match manifest_files(dir) {
        Ok(files) => files,
        Err(message) => {
            return (
                pods,
                vec![ManifestError {
                    path: dir.to_path_buf(),
                    message,
                }],
            );
        }
    };
    let mut seen = BTreeSet::new();
    for path in files {
        match read_manifest(&path, node) {
            Ok(found) => {
                for pod in found {
                    let key = (pod.metadata.namespace.clone(), pod.metadata.name.clone());
                    if seen.insert(key) {
                        pods.push(DesiredPod {
                            pod,
                            source: PodSource::File(path.clone()),
                        });
                    } else {
                        let message = format!(
                            "metadata.name: Duplicate value: {:?}: another manifest already defines this pod",
                            pod.metadata.name.unwrap_or_default()
                        );
                        errors.push(ManifestError {
                            path: path.clone(),
                            message,
                        });
                    }
                }
            }
            Err(message) => errors.push(ManifestError { path, message }),
        }
    }
    (pods, errors)
}
// ANCHOR_END: read_manifest_dir

/// The manifest files of a directory, sorted; hidden files are skipped (editors leave them).
fn manifest_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|error| format!("cannot read manifest directory: {error}"))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or(".");
            let extension = path.extension().and_then(|e| e.to_str());
            !name.starts_with('.')
                && matches!(extension, Some("yaml" | "yml" | "json"))
                && path.is_file()
        })
        .collect();
    files.sort();
    Ok(files)
}

/// The valid pods of one file, ready to run on `node`; any problem rejects the whole file.
fn read_manifest(path: &Path, node: &str) -> Result<Vec<Pod>, String> {
    let text = std::fs::read_to_string(path).map_err(|error| format!("cannot read: {error}"))?;
    let objects = parse_manifests(&text).map_err(|error| error.to_string())?;
    let mut pods = Vec::new();
    for object in objects {
        let Object::Pod(mut pod) = object else {
            return Err(format!(
                "kind: Unsupported value: {:?}: a static pod manifest holds Pods only",
                object.kind()
            ));
        };
        pod.validate()
            .map_err(|errors| errors.to_string().replace('\n', "; "))?;
        if pod.metadata.namespace.is_none() {
            pod.metadata.namespace = Some("default".into());
        }
        pod.spec.node_name = Some(node.to_string());
        pod.metadata.uid = Some(static_pod_uid(&pod, node));
        pods.push(pod);
    }
    Ok(pods)
}

// ANCHOR: static_uid
/// A static pod has no API server to give it a uid, so the kubelet derives one from the node
/// and the manifest's content (as Kubernetes does with a hash): edit the file and it is a new
/// pod, so the old one is stopped and the new one started.
pub fn static_pod_uid(pod: &Pod, node: &str) -> String {
    let content = serde_json::to_string(pod).unwrap_or_default();
    // FNV-1a: tiny, and stable across Rust versions (std's hasher is not promised to be).
    let hash = format!("{node}\n{content}")
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    format!("static-{hash:016x}")
}
// ANCHOR_END: static_uid
