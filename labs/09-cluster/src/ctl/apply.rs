//! `skiffctl apply -f` and `create -f`: manifests from files, directories or stdin, one
//! request per document, and kubectl's one-line result per object.

use std::io::Read;
use std::path::Path;

use apiserver::patch::merge_patch;
use apiserver::resources::ResourceInfo;
use serde_json::Value;

use super::args::Invocation;
use super::client::{Ctl, CtlError, CtlResult, collection_path, qualified_name, resolve_kind};

/// One document of the input, checked and ready to send.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// Where it came from: `web.yaml` (document 2 of it), for messages.
    pub source: String,
    /// The resource its apiVersion and kind name.
    pub info: &'static ResourceInfo,
    /// Its namespace (from the document, else `-n`, else `default`); unused for cluster kinds.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
    /// The document as written.
    pub object: Value,
}

/// Reads every `-f`: a file, a directory (its `.yaml`, `.yml` and `.json` files, sorted), or `-`
/// for stdin. Each document is checked with lab 00's strict parser, so a typo names its
/// document and field.
pub fn read_manifests(files: &[String], namespace: &str) -> CtlResult<Vec<Manifest>> {
    if files.is_empty() {
        return Err(CtlError::local(
            "error: must specify one of -f and -k (skiffctl supports -f FILE, -f DIR, -f -)",
        ));
    }
    let mut sources = Vec::new();
    for file in files {
        if file == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| CtlError::local(format!("error: reading stdin: {e}")))?;
            sources.push(("stdin".to_string(), text));
            continue;
        }
        let path = Path::new(file);
        if path.is_dir() {
            let mut entries: Vec<_> = std::fs::read_dir(path)
                .map_err(|e| CtlError::local(format!("error: reading {file}: {e}")))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.extension()
                        .is_some_and(|x| x == "yaml" || x == "yml" || x == "json")
                })
                .collect();
            entries.sort();
            for entry in entries {
                let text = std::fs::read_to_string(&entry).map_err(|e| {
                    CtlError::local(format!("error: reading {}: {e}", entry.display()))
                })?;
                sources.push((entry.display().to_string(), text));
            }
            continue;
        }
        let text = std::fs::read_to_string(path).map_err(|e| {
            CtlError::local(format!("error: the path \"{file}\" cannot be read: {e}"))
        })?;
        sources.push((file.clone(), text));
    }
    let mut manifests = Vec::new();
    for (source, text) in sources {
        manifests.extend(parse_source(&source, &text, namespace)?);
    }
    Ok(manifests)
}

/// The documents of one input, each checked.
pub fn parse_source(source: &str, text: &str, namespace: &str) -> CtlResult<Vec<Manifest>> {
    api::parse_manifests(text).map_err(|e| CtlError::local(format!("error: {source}: {e}")))?;
    let documents: Vec<Value> = if text.trim_start().starts_with('{') {
        vec![
            serde_json::from_str(text)
                .map_err(|e| CtlError::local(format!("error: {source}: {e}")))?,
        ]
    } else {
        let options = serde_saphyr::options! { legacy_octal_numbers: true };
        serde_saphyr::from_multiple_with_options(text, options)
            .map_err(|e| CtlError::local(format!("error: {source}: invalid YAML: {e}")))?
    };
    let mut manifests = Vec::new();
    for (index, object) in documents.into_iter().enumerate() {
        let field = |f: &str| object.pointer(f).and_then(Value::as_str).unwrap_or("");
        let (api_version, kind) = (field("/apiVersion"), field("/kind"));
        let info = resolve_kind(api_version, kind).ok_or_else(|| {
            CtlError::local(format!(
                "error: {source}: document {index}: kind: no kind {kind:?} is served for version {api_version:?}"
            ))
        })?;
        let name = field("/metadata/name").to_string();
        if name.is_empty() {
            return Err(CtlError::local(format!(
                "error: {source}: document {index}: metadata.name: Required value"
            )));
        }
        let namespace = match field("/metadata/namespace") {
            "" => namespace.to_string(),
            ns => ns.to_string(),
        };
        manifests.push(Manifest {
            source: format!("{source} (document {index})"),
            info,
            namespace,
            name,
            object,
        });
    }
    Ok(manifests)
}

/// What `apply` does for one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyAction {
    /// The object does not exist: POST the document.
    Create,
    /// It exists and the document changes it: PATCH with this merge patch.
    Patch(Value),
    /// It exists and already says everything the document says: send nothing.
    Unchanged,
}

// ANCHOR: decide
/// Decides between create, patch and nothing. `live` is the object on the server (`None` after
/// a 404). The document is sent as a JSON merge patch; it changes nothing when merging it into
/// the live object gives the live object back.
pub fn decide(live: Option<&Value>, desired: &Value) -> ApplyAction {
    // EXERCISE(cluster-ctl-apply): no live object means Create; else merge `desired` into `live` with merge_patch and compare with `live`
    let Some(live) = live else {
        return ApplyAction::Create;
    };
    if merge_patch(live, desired) == *live {
        ApplyAction::Unchanged
    } else {
        ApplyAction::Patch(desired.clone())
    }
    // END EXERCISE
}
// ANCHOR_END: decide

/// Runs `apply -f`: create or merge-patch each document, printing `kind/name created`,
/// `configured` or `unchanged`.
pub async fn apply(ctl: &Ctl, inv: &Invocation) -> CtlResult<()> {
    let manifests = read_manifests(&inv.files, &ctl.namespace)?;
    for manifest in manifests {
        let collection = collection_path(manifest.info, Some(&manifest.namespace));
        let path = format!("{collection}/{}", manifest.name);
        let live = match ctl.get(&path).await {
            Ok(live) => Some(live),
            Err(e) if e.is_not_found() => None,
            Err(e) => return Err(e),
        };
        let shown = qualified_name(manifest.info, &manifest.name);
        match decide(live.as_ref(), &manifest.object) {
            ApplyAction::Create => {
                ctl.post(&collection, &manifest.object).await?;
                println!("{shown} created");
            }
            ApplyAction::Patch(patch) => {
                ctl.merge_patch(&path, &patch).await?;
                println!("{shown} configured");
            }
            ApplyAction::Unchanged => println!("{shown} unchanged"),
        }
    }
    Ok(())
}

/// Runs `create -f` (POST every document; an existing object is an error), or
/// `create namespace NAME` / `create deployment NAME --image IMG [--replicas N]`.
pub async fn create(ctl: &Ctl, inv: &Invocation) -> CtlResult<()> {
    let manifests = match inv.words.get(1).map(String::as_str) {
        None => read_manifests(&inv.files, &ctl.namespace)?,
        Some(kind) => vec![generated(ctl, inv, kind)?],
    };
    for manifest in manifests {
        let collection = collection_path(manifest.info, Some(&manifest.namespace));
        ctl.post(&collection, &manifest.object).await?;
        println!("{} created", qualified_name(manifest.info, &manifest.name));
    }
    Ok(())
}

/// The object `create <kind> NAME` makes.
fn generated(ctl: &Ctl, inv: &Invocation, kind: &str) -> CtlResult<Manifest> {
    let name = inv
        .words
        .get(2)
        .cloned()
        .ok_or_else(|| CtlError::local(format!("error: create {kind}: NAME is required")))?;
    let object = match kind {
        "namespace" | "ns" => serde_json::json!({
            "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name},
        }),
        "deployment" | "deploy" => {
            let image = inv
                .image
                .clone()
                .ok_or_else(|| CtlError::local("error: create deployment: --image is required"))?;
            serde_json::json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": name, "labels": {"app": name}},
                "spec": {
                    "replicas": inv.replicas.unwrap_or(1),
                    "selector": {"matchLabels": {"app": name}},
                    "template": {
                        "metadata": {"labels": {"app": name}},
                        "spec": {"containers": [{"name": name, "image": image}]},
                    },
                },
            })
        }
        other => {
            return Err(CtlError::local(format!(
                "error: create {other}: skiffctl creates `namespace` and `deployment` from flags; use `create -f` for anything else"
            )));
        }
    };
    let text = object.to_string();
    let mut manifests = parse_source("the command line", &text, &ctl.namespace)?;
    Ok(manifests.remove(0))
}
