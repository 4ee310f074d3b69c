//! `pods/{name}/log`: the API server does not have the logs; the kubelet of the pod's node
//! does. The server finds the node and hands the request to a [`PodLogs`] (the HTTP shell's
//! kubelet proxy), then streams what comes back.

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use tokio::sync::mpsc;

use super::list::get;
use super::{Call, Context, RestResult};
use crate::request::ApiResponse;
use crate::status::StatusError;

/// The future [`PodLogs::logs`] returns: a stream of log chunks, or why not.
pub type LogsFuture<'a> =
    Pin<Box<dyn Future<Output = Result<mpsc::Receiver<Bytes>, String>> + Send + 'a>>;

/// Where container logs come from: the kubelet of a node, reached by the HTTP shell.
pub trait PodLogs: Send + Sync {
    /// The logs of one container of a pod on `node_name`; `follow` keeps the stream open,
    /// `tail_lines` starts with only the last lines.
    fn logs(
        &self,
        node_name: &str,
        namespace: &str,
        pod: &str,
        container: &str,
        follow: bool,
        tail_lines: Option<i64>,
    ) -> LogsFuture<'_>;
}

/// Answers `GET pods/{name}/log`.
pub async fn logs(ctx: &Context, call: &Call) -> RestResult {
    let pod = get(ctx, call).await?;
    let node = pod["spec"]["nodeName"].as_str().unwrap_or("");
    if node.is_empty() {
        return Err(StatusError::bad_request(format!(
            "pod {} does not have a host assigned (pod has no node)",
            call.name()
        )));
    }
    let containers: Vec<&str> = pod["spec"]["containers"]
        .as_array()
        .map(|cs| cs.iter().filter_map(|c| c["name"].as_str()).collect())
        .unwrap_or_default();
    let container = match call.query.non_empty("container") {
        Some(name) if containers.contains(&name) => name.to_string(),
        Some(name) => {
            return Err(StatusError::bad_request(format!(
                "container {name} is not valid for pod {}",
                call.name()
            )));
        }
        None => match containers.as_slice() {
            [only] => only.to_string(),
            _ => {
                return Err(StatusError::bad_request(format!(
                    "a container name must be specified for pod {}, choose one of: [{}]",
                    call.name(),
                    containers.join(" ")
                )));
            }
        },
    };
    let tail_lines = call.query.integer("tailLines")?;
    let Some(source) = &ctx.pod_logs else {
        return Err(StatusError::unavailable(
            "pod logs are not available: this API server has no connection to kubelets",
        ));
    };
    let namespace = call.route.namespace.as_deref().unwrap_or("default");
    let chunks = source
        .logs(
            node,
            namespace,
            call.name(),
            &container,
            call.query.flag("follow"),
            tail_lines,
        )
        .await
        .map_err(|message| {
            StatusError::internal(format!("error getting logs from node {node}: {message}"))
        })?;
    Ok(ApiResponse::Stream {
        status: 200,
        content_type: "text/plain".to_string(),
        chunks,
    })
}
