//! Store responses to etcd's gateway JSON: base64 bytes, int64 as strings, zero fields left out.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use crate::kv::KeyValue;
use crate::request::{DeleteRangeResponse, PutResponse, RangeResponse, ResponseOp, TxnResponse};

/// A JSON object under construction that skips zero values, as protobuf's JSON mapping does.
#[derive(Default)]
pub struct Object(Map<String, Value>);

impl Object {
    /// An object holding the response header.
    pub fn with_header(revision: i64) -> Object {
        let mut header = Object::default();
        header.int("revision", revision);
        let mut object = Object::default();
        object.0.insert("header".into(), header.into_value());
        object
    }

    /// Adds an int64 (as a string) unless it is 0.
    pub fn int(&mut self, field: &str, value: i64) -> &mut Object {
        if value != 0 {
            self.0
                .insert(field.into(), Value::String(value.to_string()));
        }
        self
    }

    /// Adds bytes (as base64) unless they are empty.
    pub fn bytes(&mut self, field: &str, value: &[u8]) -> &mut Object {
        if !value.is_empty() {
            self.0
                .insert(field.into(), Value::String(STANDARD.encode(value)));
        }
        self
    }

    /// Adds `true`; `false` is the zero value and is left out.
    pub fn flag(&mut self, field: &str, value: bool) -> &mut Object {
        if value {
            self.0.insert(field.into(), Value::Bool(true));
        }
        self
    }

    /// Adds a list unless it is empty.
    pub fn list(&mut self, field: &str, values: Vec<Value>) -> &mut Object {
        if !values.is_empty() {
            self.0.insert(field.into(), Value::Array(values));
        }
        self
    }

    /// Adds any value.
    pub fn value(&mut self, field: &str, value: Value) -> &mut Object {
        self.0.insert(field.into(), value);
        self
    }

    /// The finished object.
    pub fn into_value(self) -> Value {
        Value::Object(self.0)
    }
}

// ANCHOR: key_value
/// A key-value.
pub fn key_value(kv: &KeyValue) -> Value {
    let mut object = Object::default();
    object
        .bytes("key", &kv.key)
        .int("create_revision", kv.create_revision)
        .int("mod_revision", kv.mod_revision)
        .int("version", kv.version)
        .bytes("value", &kv.value)
        .int("lease", kv.lease);
    object.into_value()
}
// ANCHOR_END: key_value

fn key_values(kvs: &[KeyValue]) -> Vec<Value> {
    kvs.iter().map(key_value).collect()
}

/// `/v3/kv/range`'s answer.
pub fn range(response: &RangeResponse) -> Value {
    let mut object = Object::with_header(response.header_revision);
    object
        .list("kvs", key_values(&response.kvs))
        .flag("more", response.more)
        .int("count", response.count);
    object.into_value()
}

/// `/v3/kv/put`'s answer.
pub fn put(response: &PutResponse) -> Value {
    let mut object = Object::with_header(response.header_revision);
    if let Some(previous) = &response.prev_kv {
        object.value("prev_kv", key_value(previous));
    }
    object.into_value()
}

/// `/v3/kv/deleterange`'s answer.
pub fn delete_range(response: &DeleteRangeResponse) -> Value {
    let mut object = Object::with_header(response.header_revision);
    object
        .int("deleted", response.deleted)
        .list("prev_kvs", key_values(&response.prev_kvs));
    object.into_value()
}

/// `/v3/kv/txn`'s answer.
pub fn txn(response: &TxnResponse) -> Value {
    let responses = response
        .responses
        .iter()
        .map(|op| match op {
            ResponseOp::Range(r) => json!({ "response_range": range(r) }),
            ResponseOp::Put(r) => json!({ "response_put": put(r) }),
            ResponseOp::DeleteRange(r) => json!({ "response_delete_range": delete_range(r) }),
        })
        .collect();
    let mut object = Object::with_header(response.header_revision);
    object
        .flag("succeeded", response.succeeded)
        .list("responses", responses);
    object.into_value()
}
