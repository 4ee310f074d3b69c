//! `skiffctl describe KIND NAME`: the object for people (metadata, the fields that matter for
//! its kind) followed by the Events that name it, as kubectl shows them.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use apiserver::resources::ResourceInfo;
use apiserver::table::human_duration;
use serde_json::Value;

use super::args::Invocation;
use super::client::{Ctl, CtlError, CtlResult, object_path, query_value};
use super::get::target;
use super::output::{Rows, format_table};

fn map_lines(map: &Value) -> Vec<String> {
    match map.as_object() {
        Some(m) if !m.is_empty() => m
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
            .collect(),
        _ => vec!["<none>".to_string()],
    }
}

fn field(out: &mut String, label: &str, lines: &[String]) {
    let label = format!("{label}:");
    for (i, line) in lines.iter().enumerate() {
        let shown = if i == 0 { label.as_str() } else { "" };
        // Values start in column 15, or one space after a longer label.
        let width = 14.max(label.len() + 1);
        let _ = writeln!(out, "{shown:<width$}{line}");
    }
}

fn s<'a>(object: &'a Value, pointer: &str) -> &'a str {
    object
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn n(object: &Value, pointer: &str) -> i64 {
    object.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

/// The describe text of `object` (without events).
pub fn describe_object(info: &ResourceInfo, object: &Value) -> String {
    let mut out = String::new();
    field(&mut out, "Name", &[s(object, "/metadata/name").to_string()]);
    if info.namespaced {
        field(
            &mut out,
            "Namespace",
            &[s(object, "/metadata/namespace").to_string()],
        );
    }
    field(
        &mut out,
        "Labels",
        &map_lines(&object["metadata"]["labels"]),
    );
    field(
        &mut out,
        "Annotations",
        &map_lines(&object["metadata"]["annotations"]),
    );
    field(
        &mut out,
        "Created",
        &[s(object, "/metadata/creationTimestamp").to_string()],
    );
    let one = |out: &mut String, label: &str, value: String| field(out, label, &[value]);
    match info.kind {
        "Pod" => {
            one(&mut out, "Node", or_none(s(object, "/spec/nodeName")));
            one(&mut out, "Status", apiserver::table::pod_status(object));
            one(&mut out, "IP", or_none(s(object, "/status/podIP")));
            let _ = writeln!(out, "Containers:");
            for c in object["spec"]["containers"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let name = s(c, "/name");
                let status = object["status"]["containerStatuses"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|st| st["name"] == name);
                let _ = writeln!(out, "  {name}:");
                let _ = writeln!(out, "    Image:     {}", s(c, "/image"));
                if let Some(st) = status {
                    let state = st["state"]
                        .as_object()
                        .and_then(|m| m.keys().next().cloned())
                        .unwrap_or_else(|| "unknown".into());
                    let _ = writeln!(out, "    State:     {}", capitalize(&state));
                    let _ = writeln!(
                        out,
                        "    Ready:     {}",
                        st["ready"].as_bool().unwrap_or(false)
                    );
                    let _ = writeln!(out, "    Restarts:  {}", n(st, "/restartCount"));
                }
            }
        }
        "Deployment" | "ReplicaSet" => {
            let selector = map_lines(&object["spec"]["selector"]["matchLabels"]).join(",");
            one(&mut out, "Selector", selector);
            let desired = object["spec"]["replicas"].as_i64().unwrap_or(1);
            let line = if info.kind == "Deployment" {
                format!(
                    "{desired} desired | {} updated | {} total | {} available | {} unavailable",
                    n(object, "/status/updatedReplicas"),
                    n(object, "/status/replicas"),
                    n(object, "/status/availableReplicas"),
                    n(object, "/status/unavailableReplicas"),
                )
            } else {
                format!(
                    "{} current / {desired} desired",
                    n(object, "/status/replicas")
                )
            };
            one(&mut out, "Replicas", line);
            let images: Vec<String> = object["spec"]["template"]["spec"]["containers"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| format!("{}: {}", s(c, "/name"), s(c, "/image")))
                .collect();
            field(&mut out, "Containers", &images);
        }
        "Node" => {
            let unschedulable = object["spec"]["unschedulable"].as_bool().unwrap_or(false);
            one(&mut out, "Unschedulable", unschedulable.to_string());
            let conditions: Vec<String> = object["status"]["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| {
                    format!(
                        "{}={} ({})",
                        s(c, "/type"),
                        s(c, "/status"),
                        s(c, "/reason")
                    )
                })
                .collect();
            field(&mut out, "Conditions", &conditions);
            field(
                &mut out,
                "Allocatable",
                &map_lines(&object["status"]["allocatable"]),
            );
        }
        "Service" => {
            one(&mut out, "Type", or_none(s(object, "/spec/type")));
            one(&mut out, "IP", or_none(s(object, "/spec/clusterIP")));
            field(
                &mut out,
                "Selector",
                &map_lines(&object["spec"]["selector"]),
            );
        }
        _ => {}
    }
    out
}

fn or_none(text: &str) -> String {
    if text.is_empty() {
        "<none>".to_string()
    } else {
        text.to_string()
    }
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn seconds(timestamp: &str) -> Option<i64> {
    // RFC 3339 in UTC, as the API writes it: 2026-01-01T00:00:00Z.
    let (date, time) = timestamp.trim_end_matches('Z').split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>());
    let (y, m, day) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    let mut t = time
        .split(':')
        .map(|p| p.split('.').next().unwrap_or("0").parse::<i64>());
    let (hh, mm, ss) = (t.next()?.ok()?, t.next()?.ok()?, t.next()?.ok()?);
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// The Events section: `Type Reason Age From Message`, or `<none>`.
pub fn events_section(events: &[Value], now: SystemTime) -> String {
    if events.is_empty() {
        return "Events:       <none>\n".to_string();
    }
    let now = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let mut rows = Rows {
        headers: ["Type", "Reason", "Age", "From", "Message"]
            .map(String::from)
            .to_vec(),
        rows: Vec::new(),
    };
    let mut sorted: Vec<&Value> = events.iter().collect();
    let when = |e: &Value| {
        [
            s(e, "/lastTimestamp"),
            s(e, "/eventTime"),
            s(e, "/firstTimestamp"),
        ]
        .into_iter()
        .find(|t| !t.is_empty())
        .unwrap_or("")
        .to_string()
    };
    sorted.sort_by_key(|e| when(e));
    for e in sorted {
        let age = seconds(&when(e))
            .map(|t| human_duration(now - t))
            .unwrap_or_else(|| "<unknown>".into());
        rows.rows.push(vec![
            s(e, "/type").to_string(),
            s(e, "/reason").to_string(),
            age,
            or_none(s(e, "/source/component")),
            s(e, "/message").to_string(),
        ]);
    }
    let mut out = "Events:\n".to_string();
    for line in format_table(&rows, true).lines() {
        let _ = writeln!(out, "  {line}");
    }
    out
}

/// Runs `describe`.
pub async fn run(ctl: &Ctl, inv: &Invocation) -> CtlResult<()> {
    let (info, names) = target(&inv.words[1..])?;
    if names.is_empty() {
        return Err(CtlError::local("error: describe: a NAME is required"));
    }
    for (i, name) in names.iter().enumerate() {
        let object = ctl.get(&object_path(info, &ctl.namespace, name)).await?;
        let namespace = if info.namespaced {
            ctl.namespace.as_str()
        } else {
            "default"
        };
        let selector = format!(
            "involvedObject.name={name},involvedObject.kind={}",
            info.kind
        );
        let events = ctl
            .get(&format!(
                "/api/v1/namespaces/{namespace}/events?fieldSelector={}",
                query_value(&selector)
            ))
            .await?;
        let events = events["items"].as_array().cloned().unwrap_or_default();
        if i > 0 {
            println!();
        }
        print!("{}", describe_object(info, &object));
        print!("{}", events_section(&events, SystemTime::now()));
    }
    Ok(())
}
