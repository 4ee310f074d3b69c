//! The connection to the cluster: the kubeconfig, the resource names skiffctl understands, and
//! requests that turn every failure into a message a person can act on.

use std::path::{Path, PathBuf};

use apiserver::client::HttpApi;
use apiserver::resources::{RESOURCES, ResourceInfo};
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::Method;
use serde_json::Value;

/// Why a command failed: the message to print and, for answers from the server, its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CtlError {
    /// The HTTP status of the server's answer, when the server answered.
    pub status: Option<u16>,
    /// The whole message, e.g. `Error from server (NotFound): pods "web" not found`.
    pub message: String,
}

impl CtlError {
    /// An error found on this side (bad flag, unreadable file, ...).
    pub fn local(message: impl Into<String>) -> CtlError {
        CtlError {
            status: None,
            message: message.into(),
        }
    }

    /// True when the server said 404.
    pub fn is_not_found(&self) -> bool {
        self.status == Some(404)
    }
}

impl std::fmt::Display for CtlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The result of a skiffctl step.
pub type CtlResult<T> = Result<T, CtlError>;

// ANCHOR: kubeconfig
/// The kubeconfig to use: `--kubeconfig`, else `KUBECONFIG`, else the admin kubeconfig of the
/// `skiff up` data dir (`SKIFF_DATA_DIR`, default `./skiff-data`).
pub fn kubeconfig_path(flag: Option<&Path>) -> PathBuf {
    if let Some(path) = flag {
        return path.to_path_buf();
    }
    if let Some(path) = std::env::var_os("KUBECONFIG").filter(|p| !p.is_empty()) {
        // kubectl merges a list of files; skiffctl reads the first.
        let first = std::env::split_paths(&path).next().unwrap_or_default();
        return first;
    }
    let data = std::env::var_os("SKIFF_DATA_DIR")
        .map_or_else(|| PathBuf::from("./skiff-data"), PathBuf::from);
    crate::layout::Layout::new(data).admin_kubeconfig()
}
// ANCHOR_END: kubeconfig

/// The resource called `name` on the command line: plural (`pods`), singular (`pod`), short
/// name (`po`), kind (`Pod`, any case) or `plural.group` (`deployments.apps`).
pub fn resolve(name: &str) -> CtlResult<&'static ResourceInfo> {
    let lower = name.to_ascii_lowercase();
    RESOURCES
        .iter()
        .find(|r| {
            r.plural == lower
                || r.singular == lower
                || r.kind.eq_ignore_ascii_case(&lower)
                || r.short_names.contains(&lower.as_str())
                || (!r.group.is_empty() && lower == format!("{}.{}", r.plural, r.group))
        })
        .ok_or_else(|| {
            CtlError::local(format!(
                "error: the server doesn't have a resource type \"{name}\""
            ))
        })
}

/// The resource of `kind` in `apiVersion`, as a manifest names it.
pub fn resolve_kind(api_version: &str, kind: &str) -> Option<&'static ResourceInfo> {
    RESOURCES
        .iter()
        .find(|r| r.kind == kind && r.api_version() == api_version)
}

/// `kind.group/name` as kubectl prints it in results: `pod/web`, `deployment.apps/web`.
pub fn qualified_name(info: &ResourceInfo, name: &str) -> String {
    if info.group.is_empty() {
        format!("{}/{name}", info.singular)
    } else {
        format!("{}.{}/{name}", info.singular, info.group)
    }
}

/// The collection path of `info` in `namespace` (all namespaces, or cluster-scoped, if `None`).
pub fn collection_path(info: &ResourceInfo, namespace: Option<&str>) -> String {
    let base = if info.group.is_empty() {
        format!("/api/{}", info.version)
    } else {
        format!("/apis/{}/{}", info.group, info.version)
    };
    match namespace {
        Some(ns) if info.namespaced => format!("{base}/namespaces/{ns}/{}", info.plural),
        _ => format!("{base}/{}", info.plural),
    }
}

/// The path of one object.
pub fn object_path(info: &ResourceInfo, namespace: &str, name: &str) -> String {
    format!("{}/{name}", collection_path(info, Some(namespace)))
}

/// Percent-encodes a query value.
pub fn query_value(value: &str) -> String {
    apiserver::client::encode_query_value(value)
}

/// A client of one cluster, with the namespace commands default to.
#[derive(Debug, Clone)]
pub struct Ctl {
    api: HttpApi,
    /// `-n`, or `default`.
    pub namespace: String,
}

impl Ctl {
    /// Connects (lazily) to the cluster named by the kubeconfig at `path`.
    pub fn new(path: &Path, namespace: Option<&str>) -> CtlResult<Ctl> {
        if !path.exists() {
            return Err(CtlError::local(format!(
                "error: kubeconfig {}: no such file (use --kubeconfig, KUBECONFIG, or start a cluster with `skiff up`)",
                path.display()
            )));
        }
        let api = HttpApi::from_kubeconfig(path)
            .map_err(|e| CtlError::local(format!("error: kubeconfig {}: {e}", path.display())))?;
        Ok(Ctl {
            api,
            namespace: namespace.unwrap_or("default").to_string(),
        })
    }

    /// Sends a request with an optional JSON body; a 2xx answer's JSON, else the server's
    /// reason and message.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: Option<&Value>,
    ) -> CtlResult<Value> {
        let bytes = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
        let content_type = body.map(|_| content_type);
        let (status, answer) = self
            .api
            .raw(method, path, content_type, bytes)
            .await
            .map_err(|e| CtlError::local(format!("error: {e}")))?;
        if (200..300).contains(&status) {
            return Ok(serde_json::from_slice(&answer).unwrap_or(Value::Null));
        }
        Err(server_error(status, &answer))
    }

    /// GETs `path`.
    pub async fn get(&self, path: &str) -> CtlResult<Value> {
        self.request(Method::GET, path, "", None).await
    }

    /// POSTs `object` to `path`.
    pub async fn post(&self, path: &str, object: &Value) -> CtlResult<Value> {
        self.request(Method::POST, path, "application/json", Some(object))
            .await
    }

    /// PUTs `object` to `path`.
    pub async fn put(&self, path: &str, object: &Value) -> CtlResult<Value> {
        self.request(Method::PUT, path, "application/json", Some(object))
            .await
    }

    /// Sends a JSON merge patch (RFC 7386) to `path`.
    pub async fn merge_patch(&self, path: &str, patch: &Value) -> CtlResult<Value> {
        self.request(
            Method::PATCH,
            path,
            "application/merge-patch+json",
            Some(patch),
        )
        .await
    }

    /// DELETEs `path`.
    pub async fn delete(&self, path: &str) -> CtlResult<Value> {
        self.request(Method::DELETE, path, "", None).await
    }

    /// GETs `path` and hands each chunk of the body to `each` as it arrives (watches, logs
    /// with `-f`), until the server ends the body or `each` says stop (`false`).
    pub async fn stream(&self, path: &str, mut each: impl FnMut(&[u8]) -> bool) -> CtlResult<()> {
        let (response, _connection) = self
            .api
            .connector()
            .send(Method::GET, path, None, Bytes::new())
            .await
            .map_err(|e| CtlError::local(format!("error: {e}")))?;
        let status = response.status().as_u16();
        let mut body = response.into_body();
        if !(200..300).contains(&status) {
            let answer = body
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            return Err(server_error(status, &answer));
        }
        while let Some(frame) = body.frame().await {
            let frame =
                frame.map_err(|e| CtlError::local(format!("error: reading {path}: {e}")))?;
            if let Some(data) = frame.data_ref()
                && !each(data)
            {
                break;
            }
        }
        Ok(())
    }
}

/// kubectl's wording for a failed answer: `Error from server (NotFound): pods "x" not found`.
pub fn server_error(status: u16, body: &[u8]) -> CtlError {
    let parsed: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let message = parsed["message"]
        .as_str()
        .map(String::from)
        .unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_string());
    let reason = match parsed["reason"].as_str() {
        Some(reason) if !reason.is_empty() => reason.to_string(),
        _ => status.to_string(),
    };
    CtlError {
        status: Some(status),
        message: format!("Error from server ({reason}): {message}"),
    }
}

/// Splits a byte stream into lines, keeping a partial line for the next chunk.
#[derive(Debug, Default)]
pub struct LineBuffer {
    pending: Vec<u8>,
}

impl LineBuffer {
    /// Adds `chunk` and returns the complete lines it finished.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<String> {
        self.pending.extend_from_slice(chunk);
        let mut lines = Vec::new();
        while let Some(end) = self.pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            let text = String::from_utf8_lossy(&line[..end]).trim_end().to_string();
            if !text.is_empty() {
                lines.push(text);
            }
        }
        lines
    }
}
