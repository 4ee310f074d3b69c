//! `skiffctl cordon|uncordon|drain NODE`: marking a node unschedulable, and emptying it.
//!
//! kubectl's drain evicts each pod through the Eviction API (which honours
//! PodDisruptionBudgets); skiff has no budgets, so skiffctl deletes each pod and waits for it
//! to be gone. Pods of a Deployment come back on another node: their ReplicaSet makes new ones
//! and the scheduler skips the cordoned node.

use std::time::Instant;

use serde_json::json;

use super::args::Invocation;
use super::client::{Ctl, CtlError, CtlResult, object_path, query_value, resolve};
use super::delete::wait_gone;

fn node_name(inv: &Invocation) -> CtlResult<String> {
    let verb = &inv.words[0];
    let word = inv
        .words
        .get(1)
        .ok_or_else(|| CtlError::local(format!("error: {verb}: a NODE is required")))?;
    Ok(word.strip_prefix("node/").unwrap_or(word).to_string())
}

/// Sets `spec.unschedulable`; prints `node/NAME cordoned` (or `already cordoned`).
async fn set_unschedulable(ctl: &Ctl, node: &str, unschedulable: bool) -> CtlResult<()> {
    let path = object_path(resolve("nodes")?, "", node);
    let current = ctl.get(&path).await?;
    let word = if unschedulable {
        "cordoned"
    } else {
        "uncordoned"
    };
    if current["spec"]["unschedulable"].as_bool().unwrap_or(false) == unschedulable {
        println!("node/{node} already {word}");
        return Ok(());
    }
    let value = if unschedulable {
        json!(true)
    } else {
        json!(null)
    };
    ctl.merge_patch(&path, &json!({"spec": {"unschedulable": value}}))
        .await?;
    println!("node/{node} {word}");
    Ok(())
}

/// Runs `cordon`, `uncordon` or `drain`.
pub async fn run(ctl: &Ctl, inv: &Invocation) -> CtlResult<()> {
    let node = node_name(inv)?;
    match inv.words[0].as_str() {
        "cordon" => set_unschedulable(ctl, &node, true).await,
        "uncordon" => set_unschedulable(ctl, &node, false).await,
        _ => drain(ctl, inv, &node).await,
    }
}

async fn drain(ctl: &Ctl, inv: &Invocation, node: &str) -> CtlResult<()> {
    set_unschedulable(ctl, node, true).await?;
    let deadline = Instant::now() + inv.timeout;
    let path = format!(
        "/api/v1/pods?fieldSelector={}",
        query_value(&format!("spec.nodeName={node}"))
    );
    let list = ctl.get(&path).await?;
    let pods: Vec<(String, String)> = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| !matches!(p["status"]["phase"].as_str(), Some("Succeeded" | "Failed")))
        .map(|p| {
            (
                p["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or("default")
                    .to_string(),
                p["metadata"]["name"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let info = resolve("pods")?;
    for (namespace, name) in &pods {
        println!("evicting pod {namespace}/{name}");
        match ctl.delete(&object_path(info, namespace, name)).await {
            Ok(_) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
    }
    for (namespace, name) in &pods {
        let left = deadline.saturating_duration_since(Instant::now());
        let what = format!("pod {namespace}/{name}");
        wait_gone(ctl, &object_path(info, namespace, name), &what, left).await?;
        println!("pod/{name} evicted");
    }
    println!("node/{node} drained");
    Ok(())
}
