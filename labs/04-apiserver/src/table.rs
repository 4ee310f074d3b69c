//! Server-side printing: a `meta.k8s.io/v1` Table for `kubectl get`.
//!
//! kubectl does not know how to print a Pod: it asks the server with
//! `Accept: application/json;as=Table;v=v1;g=meta.k8s.io` and prints the columns the server
//! sends. So one server-side printer per kind serves every client version, and new kinds
//! print without a new kubectl. The columns and cells here follow Kubernetes'
//! `pkg/printers/internalversion/printers.go`; columns with priority 1 are the ones
//! `kubectl get -o wide` adds.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

mod age;
mod printers;

pub use age::human_duration;
pub use printers::pod_status;

/// What each row carries besides its cells (`?includeObject=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IncludeObject {
    /// Cells only.
    None,
    /// A `PartialObjectMetadata` (the object's metadata): the default, and what kubectl uses
    /// for the NAMESPACE column of `get -A`.
    #[default]
    Metadata,
    /// The whole object.
    Object,
}

impl IncludeObject {
    /// Parses the `includeObject` query parameter; absent means `Metadata`.
    pub fn from_query(value: Option<&str>) -> Result<IncludeObject, String> {
        match value {
            None | Some("") | Some("Metadata") => Ok(IncludeObject::Metadata),
            Some("None") => Ok(IncludeObject::None),
            Some("Object") => Ok(IncludeObject::Object),
            Some(other) => Err(format!(
                "includeObject: unsupported value {other:?}: supported values are \"None\", \"Metadata\" and \"Object\""
            )),
        }
    }
}

/// True when an `Accept` header asks for a Table (`as=Table;g=meta.k8s.io;v=v1`, or `v1beta1`)
/// in any of its comma-separated alternatives.
pub fn wants_table(accept: &str) -> bool {
    accept.split(',').any(|alternative| {
        let mut parts = alternative.split(';').map(str::trim);
        let media = parts.next().unwrap_or("");
        if media != "application/json" && media != "*/*" {
            return false;
        }
        let (mut is_table, mut group, mut version) = (false, false, false);
        for param in parts {
            match param.split_once('=') {
                Some(("as", "Table")) => is_table = true,
                Some(("g", "meta.k8s.io")) => group = true,
                Some(("v", "v1" | "v1beta1")) => version = true,
                _ => {}
            }
        }
        is_table && group && version
    })
}

/// One column of a Table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Column {
    pub name: &'static str,
    pub kind: &'static str,
    pub format: &'static str,
    pub description: &'static str,
    pub priority: u8,
}

impl Column {
    fn to_json(self) -> Value {
        json!({
            "name": self.name,
            "type": self.kind,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        })
    }
}

// ANCHOR: table
/// Renders `objects` (all of resource `resource`, plural) as a `meta.k8s.io/v1` Table, ages
/// counted up to `now`. The caller fills `metadata.resourceVersion` and `metadata.continue`.
pub fn table(resource: &str, objects: &[Value], include: IncludeObject, now: SystemTime) -> Value {
    let now = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let printer = printers::printer(resource);
    let rows: Vec<Value> = objects
        .iter()
        .map(|object| {
            let printed = (printer.row)(object, now);
            let mut row = json!({ "cells": printed.cells });
            if let Some(conditions) = printed.conditions {
                row["conditions"] = conditions;
            }
            match include {
                IncludeObject::None => {}
                IncludeObject::Metadata => {
                    row["object"] = json!({
                        "kind": "PartialObjectMetadata",
                        "apiVersion": "meta.k8s.io/v1",
                        "metadata": object.get("metadata").cloned().unwrap_or_else(|| json!({})),
                    });
                }
                IncludeObject::Object => row["object"] = object.clone(),
            }
            row
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {},
        "columnDefinitions": printer.columns.iter().map(|c| c.to_json()).collect::<Vec<_>>(),
        "rows": rows,
    })
}
// ANCHOR_END: table

/// Renders a Table as text the way `kubectl get -o wide` prints it: upper-case headers,
/// columns padded to their widest cell and separated by three spaces.
pub fn render_text(table: &Value) -> String {
    let headers: Vec<String> = table["columnDefinitions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| c["name"].as_str().unwrap_or("").to_uppercase())
        .collect();
    let mut lines = vec![headers];
    for row in table["rows"].as_array().into_iter().flatten() {
        let cells = row["cells"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|cell| match cell {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        lines.push(cells);
    }
    let columns = lines.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            lines
                .iter()
                .filter_map(|l| l.get(i))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for line in lines {
        let mut text = String::new();
        for (i, cell) in line.iter().enumerate() {
            if i + 1 == line.len() {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<width$}   ", width = widths[i]));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    }
    out
}
