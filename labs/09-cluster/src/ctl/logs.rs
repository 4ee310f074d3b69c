//! `skiffctl logs POD [-c CONTAINER] [-f] [--tail N]`: the pods/log subresource, which the API
//! server serves by asking the pod's kubelet; with `-f` the answer streams until the pod ends.

use std::io::Write;

use super::args::Invocation;
use super::client::{Ctl, CtlError, CtlResult, query_value};

/// The path of a pod's log with the invocation's options.
pub fn log_path(namespace: &str, pod: &str, inv: &Invocation) -> String {
    let mut query = Vec::new();
    if let Some(container) = &inv.container {
        query.push(format!("container={}", query_value(container)));
    }
    if inv.follow {
        query.push("follow=true".to_string());
    }
    if let Some(tail) = inv.tail {
        query.push(format!("tailLines={tail}"));
    }
    let mut path = format!("/api/v1/namespaces/{namespace}/pods/{pod}/log");
    if !query.is_empty() {
        path.push('?');
        path.push_str(&query.join("&"));
    }
    path
}

/// Runs `logs`.
pub async fn run(ctl: &Ctl, inv: &Invocation) -> CtlResult<()> {
    let pod = match inv.words.get(1) {
        Some(word) => word.strip_prefix("pod/").unwrap_or(word),
        None => {
            return Err(CtlError::local(
                "error: expected POD: skiffctl logs POD [-c CONTAINER] [-f]",
            ));
        }
    };
    let path = log_path(&ctl.namespace, pod, inv);
    let mut stdout = std::io::stdout();
    ctl.stream(&path, |chunk| {
        // A closed stdout (`skiffctl logs -f | head`) ends the stream.
        stdout.write_all(chunk).is_ok() && stdout.flush().is_ok()
    })
    .await
}
