//! `skiffctl get`: tables (with the API server's own column printers), `-o wide|yaml|json|name`,
//! `-l`, `-A`, and `-w` to keep printing as watch events arrive.

use std::io::Write;

use apiserver::resources::ResourceInfo;
use serde_json::Value;

use super::args::{Invocation, OutputFormat};
use super::client::{Ctl, CtlError, CtlResult, LineBuffer, collection_path, query_value, resolve};
use super::output::{format_table, list_of, rows_of, to_json, to_yaml, with_type};

/// Splits `pods web`, `pod/web` or `pods` into the resource and the names asked for.
pub fn target(words: &[String]) -> CtlResult<(&'static ResourceInfo, Vec<String>)> {
    let Some(first) = words.first() else {
        return Err(CtlError::local(
            "error: you must specify the type of resource to get, e.g. `skiffctl get pods`",
        ));
    };
    if let Some((kind, name)) = first.split_once('/') {
        let mut names = vec![name.to_string()];
        for word in &words[1..] {
            match word.split_once('/') {
                Some((_, n)) => names.push(n.to_string()),
                None => names.push(word.clone()),
            }
        }
        return Ok((resolve(kind)?, names));
    }
    Ok((resolve(first)?, words[1..].to_vec()))
}

/// The objects the invocation names: the named ones, or the (selected) list.
async fn fetch(
    ctl: &Ctl,
    inv: &Invocation,
    info: &ResourceInfo,
    names: &[String],
) -> CtlResult<(Vec<Value>, String)> {
    let namespace = (!inv.all_namespaces).then_some(ctl.namespace.as_str());
    if !names.is_empty() {
        if inv.all_namespaces {
            return Err(CtlError::local(
                "error: a resource cannot be retrieved by name across all namespaces",
            ));
        }
        let mut objects = Vec::new();
        for name in names {
            let path = format!(
                "{}/{name}",
                collection_path(info, Some(namespace.unwrap_or(&ctl.namespace)))
            );
            objects.push(with_type(ctl.get(&path).await?, info));
        }
        return Ok((objects, String::new()));
    }
    let mut path = collection_path(info, namespace);
    if let Some(selector) = &inv.selector {
        path.push_str(&format!("?labelSelector={}", query_value(selector)));
    }
    let list = ctl.get(&path).await?;
    let version = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let items = list["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|o| with_type(o, info))
        .collect();
    Ok((items, version))
}

/// Prints `objects` in the invocation's format.
/// `single` prints one object as itself rather than in a `List` (`get pod web -o yaml`).
fn print(
    inv: &Invocation,
    info: &ResourceInfo,
    objects: &[Value],
    headers: bool,
    single: bool,
) -> CtlResult<String> {
    Ok(match inv.output {
        OutputFormat::Table | OutputFormat::Wide => {
            let wide = inv.output == OutputFormat::Wide;
            let rows = rows_of(info, objects, wide, inv.all_namespaces && info.namespaced);
            format_table(&rows, headers && !inv.no_headers)
        }
        OutputFormat::Yaml | OutputFormat::Json => {
            let value = match objects {
                [one] if single => one.clone(),
                many => list_of(many.to_vec()),
            };
            if inv.output == OutputFormat::Yaml {
                to_yaml(&value)?
            } else {
                to_json(&value)
            }
        }
        OutputFormat::Name => objects
            .iter()
            .map(|o| {
                let name = o["metadata"]["name"].as_str().unwrap_or("");
                format!("{}\n", super::client::qualified_name(info, name))
            })
            .collect(),
    })
}

/// Runs `get`.
pub async fn run(ctl: &Ctl, inv: &Invocation) -> CtlResult<()> {
    let (info, names) = target(&inv.words[1..])?;
    let (objects, version) = fetch(ctl, inv, info, &names).await?;
    let mut stdout = std::io::stdout();
    if objects.is_empty() && names.is_empty() {
        if inv.all_namespaces || !info.namespaced {
            eprintln!("No resources found");
        } else {
            eprintln!("No resources found in {} namespace.", ctl.namespace);
        }
    } else {
        let _ = stdout.write_all(print(inv, info, &objects, true, names.len() == 1)?.as_bytes());
    }
    let _ = stdout.flush();
    if !inv.watch {
        return Ok(());
    }
    // -w: one line (or document) per event from the version the list was read at. The
    // column widths of later rows follow their own cells, as kubectl's do.
    let namespace = (!inv.all_namespaces).then_some(ctl.namespace.as_str());
    let mut path = collection_path(info, namespace);
    path.push_str(&format!(
        "?watch=true&resourceVersion={}",
        query_value(&version)
    ));
    if let Some(selector) = &inv.selector {
        path.push_str(&format!("&labelSelector={}", query_value(selector)));
    }
    let mut lines = LineBuffer::default();
    let mut failure = None;
    ctl.stream(&path, |chunk| {
        for line in lines.push(chunk) {
            let event: Value = match serde_json::from_str(&line) {
                Ok(event) => event,
                Err(e) => {
                    failure = Some(CtlError::local(format!(
                        "error: a watch event is not JSON: {e}"
                    )));
                    return false;
                }
            };
            if event["type"] == "ERROR" {
                let message = event["object"]["message"].as_str().unwrap_or("watch ended");
                failure = Some(CtlError::local(format!("error: {message}")));
                return false;
            }
            let object = with_type(event["object"].clone(), info);
            if !names.is_empty()
                && !names
                    .iter()
                    .any(|n| object["metadata"]["name"] == n.as_str())
            {
                continue;
            }
            match print(inv, info, &[object], false, true) {
                Ok(text) => {
                    let text = match inv.output {
                        OutputFormat::Yaml => format!("---\n{text}"),
                        _ => text,
                    };
                    let _ = stdout.write_all(text.as_bytes());
                    let _ = stdout.flush();
                }
                Err(e) => {
                    failure = Some(e);
                    return false;
                }
            }
        }
        true
    })
    .await?;
    failure.map_or(Ok(()), Err)
}
