//! `skiffctl scale deployment/web --replicas=N`: a merge patch of the scale subresource, the
//! same endpoint the autoscaler uses.

use serde_json::json;

use super::args::Invocation;
use super::client::{Ctl, CtlError, CtlResult, object_path, qualified_name};
use super::get::target;

/// Runs `scale`.
pub async fn run(ctl: &Ctl, inv: &Invocation) -> CtlResult<()> {
    let Some(replicas) = inv.replicas else {
        return Err(CtlError::local("error: --replicas=COUNT is required"));
    };
    let (info, names) = target(&inv.words[1..])?;
    if info.subresource("scale").is_none() {
        return Err(CtlError::local(format!(
            "error: {} cannot be scaled (only deployments and replicasets have a scale subresource)",
            info.plural
        )));
    }
    if names.is_empty() {
        return Err(CtlError::local("error: scale: a NAME is required"));
    }
    for name in names {
        let path = format!("{}/scale", object_path(info, &ctl.namespace, &name));
        ctl.merge_patch(&path, &json!({"spec": {"replicas": replicas}}))
            .await?;
        println!("{} scaled", qualified_name(info, &name));
    }
    Ok(())
}
