//! `skiffctl delete`: by name, by `-l`, or the objects of `-f`; then, like kubectl, wait until
//! they are really gone (a pod first terminates gracefully), unless `--wait=false`.

use std::time::{Duration, Instant};

use apiserver::resources::ResourceInfo;

use super::apply::read_manifests;
use super::args::Invocation;
use super::client::{Ctl, CtlError, CtlResult, collection_path, object_path, query_value};
use super::get::target;

/// How often a waiting command looks again.
pub const POLL: Duration = Duration::from_millis(200);

/// Waits until GET `path` answers 404, or fails after `timeout`.
pub async fn wait_gone(ctl: &Ctl, path: &str, what: &str, timeout: Duration) -> CtlResult<()> {
    let deadline = Instant::now() + timeout;
    loop {
        match ctl.get(path).await {
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) => return Err(e),
            Ok(_) if Instant::now() >= deadline => {
                return Err(CtlError::local(format!(
                    "error: timed out waiting for the deletion of {what} (--timeout {}s)",
                    timeout.as_secs()
                )));
            }
            Ok(_) => tokio::time::sleep(POLL).await,
        }
    }
}

/// Runs `delete`.
pub async fn run(ctl: &Ctl, inv: &Invocation) -> CtlResult<()> {
    let mut targets: Vec<(&'static ResourceInfo, String, String)> = Vec::new();
    if !inv.files.is_empty() {
        for m in read_manifests(&inv.files, &ctl.namespace)? {
            targets.push((m.info, m.namespace, m.name));
        }
    } else {
        let (info, names) = target(&inv.words[1..])?;
        if names.is_empty() {
            let Some(selector) = &inv.selector else {
                return Err(CtlError::local(
                    "error: resource(s) were provided, but no name was specified (give names or -l SELECTOR)",
                ));
            };
            let path = format!(
                "{}?labelSelector={}",
                collection_path(info, Some(&ctl.namespace)),
                query_value(selector)
            );
            let list = ctl.get(&path).await?;
            for item in list["items"].as_array().into_iter().flatten() {
                let name = item["metadata"]["name"].as_str().unwrap_or("").to_string();
                targets.push((info, ctl.namespace.clone(), name));
            }
            if targets.is_empty() {
                eprintln!("No resources found");
            }
        } else {
            for name in names {
                targets.push((info, ctl.namespace.clone(), name));
            }
        }
    }
    let mut deleted = Vec::new();
    for (info, namespace, name) in targets {
        let path = object_path(info, &namespace, &name);
        ctl.delete(&path).await?;
        println!("{} \"{name}\" deleted", info.singular_or_group());
        deleted.push((path, format!("{} \"{name}\"", info.plural)));
    }
    if inv.wait {
        for (path, what) in deleted {
            wait_gone(ctl, &path, &what, inv.timeout).await?;
        }
    }
    Ok(())
}

/// kubectl's name for a kind in `delete`'s message: `pod`, `deployment.apps`.
trait SingularOrGroup {
    fn singular_or_group(&self) -> String;
}

impl SingularOrGroup for ResourceInfo {
    fn singular_or_group(&self) -> String {
        if self.group.is_empty() {
            self.singular.to_string()
        } else {
            format!("{}.{}", self.singular, self.group)
        }
    }
}
