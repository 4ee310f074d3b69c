//! The audit log: who changed what, when, and with what result.
//!
//! Every mutating request (create, update, patch, delete, deletecollection), allowed or
//! denied, becomes one [`AuditEntry`], written as one JSON line in the shape of Kubernetes'
//! `audit.k8s.io/v1` `Event` at level `Metadata`, so the same `jq` one-liners work on both.
//! An entry is built from the request's [`Attributes`] and the response code only: it never
//! holds a request or response body, so a Secret's values can never end up in the log.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use api::MicroTime;
use serde_json::{Map, Value, json};

use crate::auth::Attributes;

// ANCHOR: audit_entry
/// One audited request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// The user name.
    pub user: String,
    /// The user's groups.
    pub groups: Vec<String>,
    /// The verb, e.g. `create`.
    pub verb: String,
    /// The API group, `""` for the core group.
    pub api_group: String,
    /// The resource, e.g. `pods`.
    pub resource: String,
    /// The subresource, e.g. `status`, or `""`.
    pub subresource: String,
    /// The namespace, or `""`.
    pub namespace: String,
    /// The object's name, or `""`.
    pub name: String,
    /// The response's HTTP status code: 201, 403, 409, ...
    pub code: u16,
    /// When the response was complete.
    pub timestamp: MicroTime,
}
// ANCHOR_END: audit_entry

/// True for the verbs the audit log records: those that change something.
pub fn is_audited(verb: &str) -> bool {
    matches!(
        verb,
        "create" | "update" | "patch" | "delete" | "deletecollection"
    )
}

impl AuditEntry {
    /// The entry for a request described by `a` that was answered with `code` at `timestamp`.
    pub fn new(a: &Attributes, code: u16, timestamp: MicroTime) -> AuditEntry {
        AuditEntry {
            user: a.user.name.clone(),
            groups: a.user.groups.clone(),
            verb: a.verb.to_string(),
            api_group: a.api_group.to_string(),
            resource: a.resource.to_string(),
            subresource: a.subresource.to_string(),
            namespace: a.namespace.to_string(),
            name: a.name.to_string(),
            code,
            timestamp,
        }
    }

    /// The entry for a request answered with `code` just now (the system clock).
    pub fn now(a: &Attributes, code: u16) -> AuditEntry {
        let micros = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_micros() as i64)
            .unwrap_or(0);
        AuditEntry::new(a, code, MicroTime::from_unix_micros(micros))
    }

    // ANCHOR: to_json
    /// The entry as an `audit.k8s.io/v1` `Event` at level `Metadata`: who, what, the code and
    /// the time; empty fields are left out, as Kubernetes does.
    pub fn to_json(&self) -> Value {
        let mut object_ref = Map::new();
        for (key, value) in [
            ("resource", &self.resource),
            ("namespace", &self.namespace),
            ("name", &self.name),
            ("apiGroup", &self.api_group),
            ("subresource", &self.subresource),
        ] {
            if !value.is_empty() {
                object_ref.insert(key.to_string(), Value::String(value.clone()));
            }
        }
        json!({
            "kind": "Event",
            "apiVersion": "audit.k8s.io/v1",
            "level": "Metadata",
            "stage": "ResponseComplete",
            "verb": self.verb,
            "user": { "username": self.user, "groups": self.groups },
            "objectRef": object_ref,
            "responseStatus": { "code": self.code },
            "stageTimestamp": self.timestamp.to_string(),
        })
    }
    // ANCHOR_END: to_json

    /// Reads back one line written by [`AuditLog`]; the error names the missing or bad field.
    pub fn from_json_line(line: &str) -> Result<AuditEntry, String> {
        let v: Value =
            serde_json::from_str(line).map_err(|e| format!("not an audit event: {e}"))?;
        let text = |pointer: &str, required: bool| -> Result<String, String> {
            match v.pointer(pointer) {
                Some(Value::String(s)) => Ok(s.clone()),
                None if !required => Ok(String::new()),
                _ => Err(format!(
                    "{}: must be a string",
                    &pointer[1..].replace('/', ".")
                )),
            }
        };
        let groups = match v.pointer("/user/groups") {
            None => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|g| g.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or("user.groups: must be a list of strings")?,
            Some(_) => return Err("user.groups: must be a list of strings".into()),
        };
        let code = v
            .pointer("/responseStatus/code")
            .and_then(Value::as_u64)
            .and_then(|c| u16::try_from(c).ok())
            .ok_or("responseStatus.code: must be an HTTP status code")?;
        let timestamp = MicroTime::parse(&text("/stageTimestamp", true)?)
            .map_err(|e| format!("stageTimestamp: {e}"))?;
        Ok(AuditEntry {
            user: text("/user/username", true)?,
            groups,
            verb: text("/verb", true)?,
            api_group: text("/objectRef/apiGroup", false)?,
            resource: text("/objectRef/resource", false)?,
            subresource: text("/objectRef/subresource", false)?,
            namespace: text("/objectRef/namespace", false)?,
            name: text("/objectRef/name", false)?,
            code,
            timestamp,
        })
    }
}

/// Where entries go.
#[derive(Debug)]
enum Sink {
    Memory(Mutex<Vec<AuditEntry>>),
    File(Mutex<File>),
}

/// The audit log: an append-only file of JSON lines, or a list in memory for tests.
#[derive(Debug)]
pub struct AuditLog {
    sink: Sink,
}

impl AuditLog {
    /// A log appending to the file at `path` (created if missing; existing lines are kept).
    pub fn to_file(path: impl AsRef<Path>) -> io::Result<AuditLog> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path.as_ref())?;
        Ok(AuditLog {
            sink: Sink::File(Mutex::new(file)),
        })
    }

    /// A log kept in memory; read it with [`AuditLog::entries`].
    pub fn in_memory() -> AuditLog {
        AuditLog {
            sink: Sink::Memory(Mutex::new(Vec::new())),
        }
    }

    // ANCHOR: record
    /// Records one entry. A file entry is written as a single line in a single `write`, so
    /// concurrent requests never interleave their lines. A failing disk does not fail the
    /// request, which has already happened: the error goes to the server's log.
    pub fn record(&self, entry: AuditEntry) {
        match &self.sink {
            Sink::Memory(entries) => lock(entries).push(entry),
            Sink::File(file) => {
                let mut line = entry.to_json().to_string();
                line.push('\n');
                if let Err(e) = lock(file).write_all(line.as_bytes()) {
                    tracing::warn!(error = %e, "could not write the audit log");
                }
            }
        }
    }
    // ANCHOR_END: record

    /// The entries recorded so far by an in-memory log, oldest first; empty for a file log
    /// (read the file).
    pub fn entries(&self) -> Vec<AuditEntry> {
        match &self.sink {
            Sink::Memory(entries) => lock(entries).clone(),
            Sink::File(_) => Vec::new(),
        }
    }
}

/// Locks a mutex, recovering it if a thread panicked while holding it: a half-written entry
/// cannot exist (each is pushed or written whole), so the data is still good.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
