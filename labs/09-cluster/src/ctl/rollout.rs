//! `skiffctl rollout status|history|undo deployment/NAME`: reading a Deployment's progress from
//! its status, and its history from its ReplicaSets' revision annotations (lab 06's
//! deployment controller writes them, as Kubernetes' does).

use std::time::Instant;

use serde_json::Value;

use super::args::Invocation;
use super::client::{
    Ctl, CtlError, CtlResult, collection_path, object_path, qualified_name, query_value, resolve,
};
use super::delete::POLL;

/// The annotation with a ReplicaSet's revision number.
pub const REVISION: &str = "deployment.kubernetes.io/revision";
/// The annotation whose value `rollout history` shows as CHANGE-CAUSE.
pub const CHANGE_CAUSE: &str = "kubernetes.io/change-cause";
/// The label the deployment controller adds to each ReplicaSet's pod template.
pub const POD_TEMPLATE_HASH: &str = "pod-template-hash";

/// Where a rollout stands, with kubectl's words for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Still going; the message says on what.
    Waiting(String),
    /// Finished.
    Done(String),
    /// It will not finish (the progress deadline passed).
    Failed(String),
}

fn int(object: &Value, pointer: &str) -> i64 {
    object.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

// ANCHOR: rollout_status
/// kubectl's verdict on a Deployment, in its words (`rollout_status.go`): first the
/// controller must have seen the latest spec, then every replica must be updated, the old
/// ones gone, and the updated ones available.
pub fn rollout_progress(deployment: &Value) -> Progress {
    // EXERCISE(cluster-ctl-rollout-status): compare generation with observedGeneration, then updated vs desired, total vs updated, available vs updated, in that order
    let name = deployment["metadata"]["name"].as_str().unwrap_or("");
    if int(deployment, "/metadata/generation") > int(deployment, "/status/observedGeneration") {
        return Progress::Waiting("Waiting for deployment spec update to be observed...".into());
    }
    let timed_out = deployment["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Progressing" && c["reason"] == "ProgressDeadlineExceeded");
    if timed_out {
        return Progress::Failed(format!(
            "deployment \"{name}\" exceeded its progress deadline"
        ));
    }
    let desired = deployment["spec"]["replicas"].as_i64().unwrap_or(1);
    let updated = int(deployment, "/status/updatedReplicas");
    let total = int(deployment, "/status/replicas");
    let available = int(deployment, "/status/availableReplicas");
    if updated < desired {
        return Progress::Waiting(format!(
            "Waiting for deployment \"{name}\" rollout to finish: {updated} out of {desired} new replicas have been updated..."
        ));
    }
    if total > updated {
        return Progress::Waiting(format!(
            "Waiting for deployment \"{name}\" rollout to finish: {} old replicas are pending termination...",
            total - updated
        ));
    }
    if available < updated {
        return Progress::Waiting(format!(
            "Waiting for deployment \"{name}\" rollout to finish: {available} of {updated} updated replicas are available..."
        ));
    }
    Progress::Done(format!("deployment \"{name}\" successfully rolled out"))
    // END EXERCISE
}
// ANCHOR_END: rollout_status

/// The deployment named by `rollout <verb> deployment/NAME` (or `deployment NAME`).
fn deployment_name(inv: &Invocation) -> CtlResult<String> {
    let words = &inv.words[2..];
    let (kind, name) = match words {
        [one] => match one.split_once('/') {
            Some((k, n)) => (k.to_string(), n.to_string()),
            None => (one.clone(), String::new()),
        },
        [kind, name, ..] => (kind.clone(), name.clone()),
        [] => (String::new(), String::new()),
    };
    if kind.is_empty() || name.is_empty() {
        return Err(CtlError::local(
            "error: expected deployment/NAME, e.g. `skiffctl rollout status deployment/web`",
        ));
    }
    if resolve(&kind)?.kind != "Deployment" {
        return Err(CtlError::local(format!(
            "error: rollout: only deployments are supported, not {kind:?}"
        )));
    }
    Ok(name)
}

/// The ReplicaSets a Deployment owns, with their revisions, oldest first.
async fn revisions(ctl: &Ctl, deployment: &Value) -> CtlResult<Vec<(i64, Value)>> {
    let uid = deployment["metadata"]["uid"].as_str().unwrap_or("");
    let rs = resolve("replicasets")?;
    let mut path = collection_path(rs, Some(&ctl.namespace));
    let labels = deployment["spec"]["selector"]["matchLabels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    if !labels.is_empty() {
        path.push_str(&format!("?labelSelector={}", query_value(&labels)));
    }
    let list = ctl.get(&path).await?;
    let mut owned: Vec<(i64, Value)> = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|rs| {
            rs["metadata"]["ownerReferences"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|o| o["uid"] == uid && o["controller"] == true)
        })
        .map(|rs| {
            let revision = rs["metadata"]["annotations"][REVISION]
                .as_str()
                .and_then(|r| r.parse().ok())
                .unwrap_or(0);
            (revision, rs.clone())
        })
        .collect();
    owned.sort_by_key(|(revision, _)| *revision);
    Ok(owned)
}

/// Runs `rollout status|history|undo`.
pub async fn run(ctl: &Ctl, inv: &Invocation) -> CtlResult<()> {
    let verb = inv.words.get(1).map(String::as_str).unwrap_or("");
    if !matches!(verb, "status" | "history" | "undo") {
        return Err(CtlError::local(format!(
            "error: rollout: unknown subcommand {verb:?} (status, history, undo)"
        )));
    }
    let name = deployment_name(inv)?;
    let info = resolve("deployments")?;
    let path = object_path(info, &ctl.namespace, &name);
    match verb {
        "status" => status(ctl, inv, &path).await,
        "history" => {
            let deployment = ctl.get(&path).await?;
            let history = revisions(ctl, &deployment).await?;
            // kubectl prints the name, a space, then the table (which starts on a new line).
            println!("{} ", qualified_name(info, &name));
            let mut rows = super::output::Rows {
                headers: vec!["REVISION".into(), "CHANGE-CAUSE".into()],
                rows: Vec::new(),
            };
            for (revision, rs) in history {
                let cause = rs["metadata"]["annotations"][CHANGE_CAUSE]
                    .as_str()
                    .unwrap_or("<none>");
                rows.rows
                    .push(vec![revision.to_string(), cause.to_string()]);
            }
            print!("{}", format_history(&rows));
            Ok(())
        }
        _ => undo(ctl, inv, &path, &name).await,
    }
}

/// kubectl prints history with two spaces between columns (a tabwriter with padding 2).
fn format_history(rows: &super::output::Rows) -> String {
    let width = rows
        .rows
        .iter()
        .map(|r| r[0].len())
        .chain(std::iter::once(rows.headers[0].len()))
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for row in std::iter::once(&rows.headers).chain(&rows.rows) {
        out.push_str(&format!("{:<width$}  {}\n", row[0], row[1]));
    }
    out.push('\n');
    out
}

async fn status(ctl: &Ctl, inv: &Invocation, path: &str) -> CtlResult<()> {
    let deadline = Instant::now() + inv.timeout;
    let mut last = String::new();
    loop {
        let deployment = ctl.get(path).await?;
        match rollout_progress(&deployment) {
            Progress::Done(message) => {
                println!("{message}");
                return Ok(());
            }
            Progress::Failed(message) => return Err(CtlError::local(format!("error: {message}"))),
            Progress::Waiting(message) => {
                if message != last {
                    println!("{message}");
                    last = message;
                }
            }
        }
        if Instant::now() >= deadline {
            return Err(CtlError::local(format!(
                "error: timed out waiting for the condition (--timeout {}s)",
                inv.timeout.as_secs()
            )));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Makes an older ReplicaSet's template the Deployment's template again.
async fn undo(ctl: &Ctl, inv: &Invocation, path: &str, name: &str) -> CtlResult<()> {
    let mut deployment = ctl.get(path).await?;
    let history = revisions(ctl, &deployment).await?;
    let current = history.last().map(|(r, _)| *r).unwrap_or(0);
    let target = match inv.to_revision {
        Some(wanted) => history.iter().find(|(r, _)| *r == wanted).ok_or_else(|| {
            CtlError::local(format!(
                "error: unable to find specified revision {wanted} in history"
            ))
        })?,
        None => history
            .iter()
            .rev()
            .find(|(r, _)| *r != current)
            .ok_or_else(|| {
                CtlError::local(format!(
                    "error: no rollout history found for deployment \"{name}\""
                ))
            })?,
    };
    let mut template = target.1["spec"]["template"].clone();
    if let Some(labels) = template["metadata"]["labels"].as_object_mut() {
        labels.remove(POD_TEMPLATE_HASH);
    }
    let shown = qualified_name(resolve("deployments")?, name);
    if template == deployment["spec"]["template"] {
        println!(
            "{shown} skipped rollback (current template already matches revision {})",
            target.0
        );
        return Ok(());
    }
    deployment["spec"]["template"] = template;
    ctl.put(path, &deployment).await?;
    println!("{shown} rolled back");
    Ok(())
}
