//! Printing: tables padded like kubectl's, and objects as YAML or JSON.

use std::time::SystemTime;

use apiserver::resources::ResourceInfo;
use apiserver::table::{IncludeObject, table};
use serde_json::Value;

use super::client::{CtlError, CtlResult};

/// Text lines of a table: a header row (upper case) and one row per object.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rows {
    /// The column names, e.g. `NAME`, `READY`.
    pub headers: Vec<String>,
    /// The cells, one `Vec` per object, as many as there are headers.
    pub rows: Vec<Vec<String>>,
}

fn cell_text(cell: &Value) -> String {
    match cell {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The rows of `objects` (all of `info`'s kind) with the columns the API server's Table
/// printer defines for that kind: the priority-0 ones, plus the priority-1 ones when `wide`.
/// With `namespaces`, a NAMESPACE column comes first, as in `kubectl get -A`.
pub fn rows_of(info: &ResourceInfo, objects: &[Value], wide: bool, namespaces: bool) -> Rows {
    let printed = table(info.plural, objects, IncludeObject::None, SystemTime::now());
    let columns: Vec<&Value> = printed["columnDefinitions"]
        .as_array()
        .map(|c| c.iter().collect())
        .unwrap_or_default();
    let keep: Vec<usize> = columns
        .iter()
        .enumerate()
        .filter(|(_, c)| wide || c["priority"].as_i64().unwrap_or(0) == 0)
        .map(|(i, _)| i)
        .collect();
    let mut headers: Vec<String> = keep
        .iter()
        .map(|&i| columns[i]["name"].as_str().unwrap_or("").to_uppercase())
        .collect();
    if namespaces {
        headers.insert(0, "NAMESPACE".to_string());
    }
    let rows = printed["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .zip(objects)
        .map(|(row, object)| {
            let cells = row["cells"].as_array().cloned().unwrap_or_default();
            let mut out: Vec<String> = keep
                .iter()
                .map(|&i| cells.get(i).map(cell_text).unwrap_or_default())
                .collect();
            if namespaces {
                let ns = object["metadata"]["namespace"].as_str().unwrap_or("");
                out.insert(0, ns.to_string());
            }
            out
        })
        .collect();
    Rows { headers, rows }
}

// ANCHOR: format_table
/// Lays out `rows` the way kubectl does: every column as wide as its widest printed cell,
/// columns separated by three spaces, the last column not padded, no trailing spaces.
/// Without `headers` (`--no-headers`) the header line is neither printed nor measured.
pub fn format_table(rows: &Rows, headers: bool) -> String {
    // EXERCISE(cluster-ctl-table): measure each column over the printed lines (chars, not bytes), then pad every cell but the last to its width plus three spaces
    let columns = rows.headers.len();
    let printed: Vec<&Vec<String>> = if headers {
        std::iter::once(&rows.headers).chain(&rows.rows).collect()
    } else {
        rows.rows.iter().collect()
    };
    let mut widths = vec![0usize; columns];
    for line in &printed {
        for (i, cell) in line.iter().enumerate().take(columns) {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for line in printed {
        let mut text = String::new();
        for (i, cell) in line.iter().enumerate().take(columns) {
            text.push_str(cell);
            if i + 1 < columns {
                let pad = widths[i] - cell.chars().count() + 3;
                text.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    }
    out
    // END EXERCISE
}
// ANCHOR_END: format_table

/// One object, or a `List` of them, as YAML (keys sorted, as kubectl prints them).
pub fn to_yaml(value: &Value) -> CtlResult<String> {
    serde_saphyr::to_string(value)
        .map_err(|e| CtlError::local(format!("error: printing YAML: {e}")))
}

/// One object, or a `List`, as indented JSON.
pub fn to_json(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

/// The `List` kubectl prints for `-o yaml|json` over several objects.
pub fn list_of(items: Vec<Value>) -> Value {
    serde_json::json!({
        "apiVersion": "v1",
        "kind": "List",
        "items": items,
        "metadata": {"resourceVersion": ""},
    })
}

/// Items of a list answer come without `apiVersion` and `kind`; put them back.
pub fn with_type(mut object: Value, info: &ResourceInfo) -> Value {
    if let Some(map) = object.as_object_mut() {
        map.entry("apiVersion")
            .or_insert_with(|| info.api_version().into());
        map.entry("kind").or_insert_with(|| info.kind.into());
    }
    object
}
