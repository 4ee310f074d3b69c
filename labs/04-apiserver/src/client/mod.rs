//! `HttpApi`: the [`ApiClient`] trait over HTTPS, so every component written against the trait
//! (kubelet, proxy, scheduler, controllers) runs against a real API server unchanged.
//!
//! Each call is one HTTP/1.1 request with `Authorization: Bearer <token>` over TLS, trusting
//! only the cluster's CA. Connections are kept alive and reused (a small idle pool); a watch
//! takes a connection of its own and reads the chunked stream of JSON lines as it comes.

mod conn;
mod status;
mod watch;

use std::path::Path;

use api::client::{
    ApiClient, ApiError, ApiResource, ApiResult, BINDING_RESOURCE, DeleteOptions, ObjectList,
    PropagationPolicy, WatchStream,
};
use api::{LabelSelector, Pod, SelectorOperator};
use bytes::Bytes;
use hyper::Method;

use crate::kubeconfig::load_kubeconfig;
use crate::rest::subresources::Binding;
pub use conn::Connector;
pub use status::error_from_status;

/// An API client over HTTPS with a bearer token.
#[derive(Clone)]
pub struct HttpApi {
    connector: Connector,
}

impl std::fmt::Debug for HttpApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpApi")
            .field("server", &self.connector.server())
            .finish_non_exhaustive()
    }
}

/// Percent-encodes a query value (everything but RFC 3986's unreserved characters).
pub fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A label selector in the query syntax: `app=web,tier in (a,b),!legacy`.
pub fn selector_query(selector: &LabelSelector) -> String {
    let mut parts: Vec<String> = selector
        .match_labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    for r in &selector.match_expressions {
        parts.push(match r.operator {
            SelectorOperator::In => format!("{} in ({})", r.key, r.values.join(",")),
            SelectorOperator::NotIn => format!("{} notin ({})", r.key, r.values.join(",")),
            SelectorOperator::Exists => r.key.clone(),
            SelectorOperator::DoesNotExist => format!("!{}", r.key),
        });
    }
    parts.join(",")
}

// ANCHOR: paths
/// The collection path of kind `K`: `/api/v1/namespaces/{ns}/pods`, `/apis/apps/v1/deployments`
/// (all namespaces), `/api/v1/nodes` (cluster-scoped).
pub fn collection_path<K: ApiResource>(namespace: Option<&str>) -> String {
    let group = if K::API_VERSION.contains('/') {
        format!("/apis/{}", K::API_VERSION)
    } else {
        format!("/api/{}", K::API_VERSION)
    };
    match namespace {
        Some(ns) if K::NAMESPACED => format!("{group}/namespaces/{ns}/{}", K::PLURAL),
        _ => format!("{group}/{}", K::PLURAL),
    }
}

/// The path of one object of kind `K`.
pub fn object_path<K: ApiResource>(namespace: Option<&str>, name: &str) -> String {
    format!("{}/{name}", collection_path::<K>(namespace))
}
// ANCHOR_END: paths

/// The namespace an object lives in: its own, `default` when unset, none for cluster kinds.
fn namespace_of<K: ApiResource>(object: &K) -> Option<String> {
    K::NAMESPACED.then(|| {
        object
            .metadata()
            .namespace
            .clone()
            .unwrap_or_else(|| "default".to_string())
    })
}

fn name_of<K: ApiResource>(object: &K) -> String {
    object.metadata().name.clone().unwrap_or_default()
}

fn decode<K: ApiResource>(body: &[u8]) -> ApiResult<K> {
    let mut value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| ApiError::Internal {
            message: format!("decoding the server's {} response: {e}", K::KIND),
        })?;
    fill_type::<K>(&mut value);
    serde_json::from_value(value).map_err(|e| ApiError::Internal {
        message: format!("decoding the server's {} response: {e}", K::KIND),
    })
}

/// List items come without `apiVersion` and `kind` from Kubernetes; put them back.
fn fill_type<K: ApiResource>(value: &mut serde_json::Value) {
    if let Some(object) = value.as_object_mut() {
        object
            .entry("apiVersion")
            .or_insert_with(|| K::API_VERSION.into());
        object.entry("kind").or_insert_with(|| K::KIND.into());
    }
}

fn encode<K: ApiResource>(object: &K) -> ApiResult<Bytes> {
    serde_json::to_vec(object)
        .map(Bytes::from)
        .map_err(|e| ApiError::Internal {
            message: format!("encoding a {}: {e}", K::KIND),
        })
}

impl HttpApi {
    /// A client of the server at `url` (`https://host:port`) trusting the CA in `ca_pem` and
    /// sending `token`.
    pub fn new(url: &str, ca_pem: &str, token: &str) -> Result<HttpApi, String> {
        Ok(HttpApi {
            connector: Connector::new(url, ca_pem, token)?,
        })
    }

    /// A client configured by a kubeconfig file (its current context).
    pub fn from_kubeconfig(path: &Path) -> Result<HttpApi, String> {
        let config = load_kubeconfig(path)?;
        HttpApi::new(&config.server, &config.ca_pem, &config.token)
    }

    /// The server URL.
    pub fn server(&self) -> &str {
        self.connector.server()
    }

    /// The connection layer, for requests whose body is read as a stream.
    pub fn connector(&self) -> &Connector {
        &self.connector
    }

    /// Sends one request and returns the status and body; for callers that need a path the
    /// typed methods do not cover (e.g. `/version`, subresources).
    pub async fn raw(
        &self,
        method: Method,
        path_and_query: &str,
        content_type: Option<&str>,
        body: Bytes,
    ) -> ApiResult<(u16, Bytes)> {
        self.connector
            .request(method, path_and_query, content_type, body)
            .await
    }

    async fn call<K: ApiResource>(
        &self,
        method: Method,
        path: &str,
        name: &str,
        body: Option<Bytes>,
    ) -> ApiResult<Bytes> {
        let content_type = body.as_ref().map(|_| "application/json");
        let (status, bytes) = self
            .raw(method, path, content_type, body.unwrap_or_default())
            .await?;
        if (200..300).contains(&status) {
            Ok(bytes)
        } else {
            Err(error_from_status(status, &bytes, K::PLURAL, K::KIND, name))
        }
    }

    /// The collection's current resourceVersion: a list of at most one item, for its metadata.
    /// A watch without a version would first replay the current objects as ADDED events
    /// (Kubernetes' semantics); the trait's empty version means "from now", so the client
    /// watches from this version instead.
    async fn current_version<K: ApiResource>(&self, namespace: Option<&str>) -> ApiResult<String> {
        let mut path = collection_path::<K>(namespace);
        path.push_str("?limit=1");
        let body = self.call::<K>(Method::GET, &path, "", None).await?;
        let list: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| ApiError::Internal {
                message: format!("decoding the server's {} list: {e}", K::KIND),
            })?;
        match list["metadata"]["resourceVersion"].as_str() {
            Some(version) if !version.is_empty() => Ok(version.to_string()),
            _ => Err(ApiError::Internal {
                message: format!(
                    "the server's {} list has no metadata.resourceVersion to watch from",
                    K::KIND
                ),
            }),
        }
    }
}

/// The body of a delete: a `DeleteOptions` object, as Kubernetes' clients send it, with
/// `gracePeriodSeconds` and `propagationPolicy` when set.
pub fn delete_body(options: &DeleteOptions) -> serde_json::Value {
    let mut body = serde_json::json!({"kind": "DeleteOptions", "apiVersion": "v1"});
    if let Some(grace) = options.grace_period_seconds {
        body["gracePeriodSeconds"] = grace.into();
    }
    if let Some(policy) = options.propagation_policy {
        let policy = match policy {
            PropagationPolicy::Orphan => "Orphan",
            PropagationPolicy::Background => "Background",
            PropagationPolicy::Foreground => "Foreground",
        };
        body["propagationPolicy"] = policy.into();
    }
    body
}

// ANCHOR: client_impl
impl ApiClient for HttpApi {
    async fn get<K: ApiResource>(&self, namespace: Option<&str>, name: &str) -> ApiResult<K> {
        let path = object_path::<K>(namespace.or(Some("default")), name);
        let body = self.call::<K>(Method::GET, &path, name, None).await?;
        decode(&body)
    }

    async fn list<K: ApiResource>(
        &self,
        namespace: Option<&str>,
        selector: &LabelSelector,
    ) -> ApiResult<ObjectList<K>> {
        let mut path = collection_path::<K>(namespace);
        if !selector.is_empty() {
            path.push_str("?labelSelector=");
            path.push_str(&encode_query_value(&selector_query(selector)));
        }
        let body = self.call::<K>(Method::GET, &path, "", None).await?;
        let list: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| ApiError::Internal {
                message: format!("decoding the server's {} list: {e}", K::KIND),
            })?;
        let resource_version = list["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let mut items = Vec::new();
        for item in list["items"].as_array().into_iter().flatten() {
            let mut item = item.clone();
            fill_type::<K>(&mut item);
            items.push(
                serde_json::from_value(item).map_err(|e| ApiError::Internal {
                    message: format!("decoding the server's {} list: {e}", K::KIND),
                })?,
            );
        }
        Ok(ObjectList {
            items,
            resource_version,
        })
    }

    async fn create<K: ApiResource>(&self, object: K) -> ApiResult<K> {
        let path = collection_path::<K>(namespace_of(&object).as_deref());
        let name = name_of(&object);
        let body = self
            .call::<K>(Method::POST, &path, &name, Some(encode(&object)?))
            .await?;
        decode(&body)
    }

    async fn update<K: ApiResource>(&self, object: K) -> ApiResult<K> {
        let name = name_of(&object);
        let path = object_path::<K>(namespace_of(&object).as_deref(), &name);
        let body = self
            .call::<K>(Method::PUT, &path, &name, Some(encode(&object)?))
            .await?;
        decode(&body)
    }

    async fn update_status<K: ApiResource>(&self, object: K) -> ApiResult<K> {
        let name = name_of(&object);
        let path = object_path::<K>(namespace_of(&object).as_deref(), &name) + "/status";
        let body = self
            .call::<K>(Method::PUT, &path, &name, Some(encode(&object)?))
            .await?;
        decode(&body)
    }

    async fn delete<K: ApiResource>(
        &self,
        namespace: Option<&str>,
        name: &str,
        options: DeleteOptions,
    ) -> ApiResult<K> {
        let path = object_path::<K>(namespace.or(Some("default")), name);
        let body = Bytes::from(delete_body(&options).to_string());
        let answer = self
            .call::<K>(Method::DELETE, &path, name, Some(body))
            .await?;
        decode(&answer)
    }

    async fn bind(&self, namespace: &str, pod: &str, node: &str) -> ApiResult<()> {
        let path = object_path::<Pod>(Some(namespace), pod) + "/binding";
        let binding = Binding::new(namespace, pod, node);
        let body = serde_json::to_vec(&binding).map_err(|e| ApiError::Internal {
            message: format!("encoding a Binding: {e}"),
        })?;
        let (status, answer) = self
            .raw(
                Method::POST,
                &path,
                Some("application/json"),
                Bytes::from(body),
            )
            .await?;
        if (200..300).contains(&status) {
            return Ok(());
        }
        // Errors about the binding name `pods/binding`; a missing pod is a missing pod.
        Err(
            match error_from_status(status, &answer, BINDING_RESOURCE, "Binding", pod) {
                ApiError::NotFound { name, .. } => ApiError::NotFound {
                    resource: Pod::PLURAL,
                    name,
                },
                error => error,
            },
        )
    }

    async fn watch<K: ApiResource>(
        &self,
        namespace: Option<&str>,
        resource_version: &str,
    ) -> ApiResult<WatchStream<K>> {
        // Empty means "from now" (the trait's contract), not "the current state first".
        let resource_version = match resource_version {
            "" => self.current_version::<K>(namespace).await?,
            version => version.to_string(),
        };
        let mut path = collection_path::<K>(namespace);
        path.push_str("?watch=true&resourceVersion=");
        path.push_str(&encode_query_value(&resource_version));
        watch::start::<K>(&self.connector, &path).await
    }
}
// ANCHOR_END: client_impl
