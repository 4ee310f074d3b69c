//! `kubectl logs`: the API server asks the kubelet of the pod's node.
//!
//! The core finds the pod's node and calls [`PodLogs::logs`]; this proxy reads the Node object
//! for the kubelet's address (`status.addresses`) and port
//! (`status.daemonEndpoints.kubeletEndpoint.Port`), sends
//! `GET /containerLogs/{namespace}/{pod}/{container}?follow=&tailLines=` with a bearer token
//! the kubelet knows, and streams the answer back chunk by chunk.
//!
//! The kubelet's endpoint is plain HTTP on the node's address with one shared token: in skiff
//! every node is on this machine (127.x.y.z), and the API server is the endpoint's only
//! caller. Kubernetes serves it over TLS on port 10250 and the API server presents a client
//! certificate (`--kubelet-client-certificate`).

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::sync::mpsc;

use crate::request::{ApiRequest, ApiResponse, Handler, User};
use crate::rest::logs::{LogsFuture, PodLogs};

/// Proxies pod logs to kubelets; reads Node objects through `nodes` (the API server itself).
pub struct KubeletLogs {
    nodes: Arc<dyn Handler>,
    token: String,
}

impl KubeletLogs {
    /// A proxy that looks nodes up through `nodes` and authenticates to kubelets with `token`.
    pub fn new(nodes: Arc<dyn Handler>, token: impl Into<String>) -> Self {
        KubeletLogs {
            nodes,
            token: token.into(),
        }
    }
}

// ANCHOR: kubelet_endpoint
/// The kubelet's `host:port` from a Node object: the first InternalIP (else Hostname) address,
/// and the advertised kubelet port.
pub fn kubelet_endpoint(node: &serde_json::Value) -> Result<(String, u16), String> {
    let name = node["metadata"]["name"].as_str().unwrap_or("");
    let addresses = node["status"]["addresses"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let pick = |kind: &str| {
        addresses
            .iter()
            .find(|a| a["type"] == kind)
            .and_then(|a| a["address"].as_str())
            .map(String::from)
    };
    let host = pick("InternalIP")
        .or_else(|| pick("Hostname"))
        .ok_or_else(|| format!("node {name}: status.addresses has no InternalIP or Hostname"))?;
    let port = node["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"]
        .as_u64()
        .filter(|p| (1..=65535).contains(p))
        .ok_or_else(|| {
            format!("node {name}: status.daemonEndpoints.kubeletEndpoint.Port is not set")
        })?;
    Ok((host, port as u16))
}
// ANCHOR_END: kubelet_endpoint

impl KubeletLogs {
    async fn node(&self, name: &str) -> Result<serde_json::Value, String> {
        let request = ApiRequest {
            method: hyper::Method::GET,
            path: format!("/api/v1/nodes/{name}"),
            query: String::new(),
            headers: hyper::HeaderMap::new(),
            body: Bytes::new(),
            user: User::new("system:apiserver", &["system:masters"]),
        };
        match self.nodes.handle(request).await {
            ApiResponse::Full {
                status: 200, body, ..
            } => serde_json::from_slice(&body).map_err(|e| format!("node {name}: {e}")),
            ApiResponse::Full { status, body, .. } => Err(format!(
                "node {name}: {status} {}",
                String::from_utf8_lossy(&body)
            )),
            ApiResponse::Stream { status, .. } => Err(format!("node {name}: {status}")),
        }
    }

    async fn fetch(&self, node_name: &str, path: String) -> Result<mpsc::Receiver<Bytes>, String> {
        let node = self.node(node_name).await?;
        let (host, port) = kubelet_endpoint(&node)?;
        let tcp = tokio::net::TcpStream::connect((host.as_str(), port))
            .await
            .map_err(|e| format!("dial kubelet {host}:{port}: {e}"))?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
            .await
            .map_err(|e| format!("kubelet {host}:{port}: {e}"))?;
        tokio::spawn(connection);
        let request = Request::get(path)
            .header(hyper::header::HOST, format!("{host}:{port}"))
            .header(
                hyper::header::AUTHORIZATION,
                format!("Bearer {}", self.token),
            )
            .body(Empty::<Bytes>::new())
            .map_err(|e| e.to_string())?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("kubelet {host}:{port}: {e}"))?;
        let status = response.status();
        let mut body = response.into_body();
        if !status.is_success() {
            let text = body
                .collect()
                .await
                .map(|c| c.to_bytes())
                .unwrap_or_default();
            return Err(format!(
                "kubelet {host}:{port}: {status}: {}",
                String::from_utf8_lossy(&text).trim()
            ));
        }
        let (tx, rx) = mpsc::channel(16);
        tokio::spawn(async move {
            let _sender = sender;
            loop {
                let frame = tokio::select! {
                    frame = body.frame() => frame,
                    _ = tx.closed() => return,
                };
                match frame {
                    Some(Ok(frame)) => {
                        if let Ok(data) = frame.into_data()
                            && tx.send(data).await.is_err()
                        {
                            return;
                        }
                    }
                    Some(Err(_)) | None => return,
                }
            }
        });
        Ok(rx)
    }
}

impl PodLogs for KubeletLogs {
    fn logs(
        &self,
        node_name: &str,
        namespace: &str,
        pod: &str,
        container: &str,
        follow: bool,
        tail_lines: Option<i64>,
    ) -> LogsFuture<'_> {
        let mut path = format!("/containerLogs/{namespace}/{pod}/{container}?follow={follow}");
        if let Some(tail) = tail_lines {
            path.push_str(&format!("&tailLines={tail}"));
        }
        let node_name = node_name.to_string();
        Box::pin(async move { self.fetch(&node_name, path).await })
    }
}
