//! JSON requests of etcd's gateway to the store's request types.
//!
//! The gateway is grpc-gateway over etcd's protobuf messages: bytes are base64 strings, 64-bit
//! integers are strings (numbers are accepted too), enums are their names, and a missing field
//! is its zero value.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use crate::error::{Result, StoreError};
use crate::request::{
    Compare, CompareResult, CompareTarget, DeleteRangeRequest, PutRequest, RangeRequest, RequestOp,
    TxnRequest,
};

/// A bytes field: base64 text, or empty when absent.
pub fn bytes(body: &Value, field: &str, path: &str) -> Result<Vec<u8>> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(text)) => STANDARD.decode(text).map_err(|error| {
            StoreError::invalid(format!("{path}{field}"), format!("invalid base64: {error}"))
        }),
        Some(_) => Err(StoreError::invalid(
            format!("{path}{field}"),
            "must be a base64 string",
        )),
    }
}

/// An int64 field: a decimal string or a number, 0 when absent.
pub fn int(body: &Value, field: &str, path: &str) -> Result<i64> {
    let invalid = || StoreError::invalid(format!("{path}{field}"), "must be a 64-bit integer");
    match body.get(field) {
        None | Some(Value::Null) => Ok(0),
        Some(Value::String(text)) => text.parse().map_err(|_| invalid()),
        Some(Value::Number(number)) => number.as_i64().ok_or_else(invalid),
        Some(_) => Err(invalid()),
    }
}

/// A bool field, false when absent.
pub fn boolean(body: &Value, field: &str, path: &str) -> Result<bool> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(value)) => Ok(*value),
        Some(_) => Err(StoreError::invalid(
            format!("{path}{field}"),
            "must be true or false",
        )),
    }
}

/// An enum field given by name, or the first (zero) name when absent.
fn name<'a>(body: &'a Value, field: &str, path: &str) -> Result<Option<&'a str>> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(StoreError::invalid(
            format!("{path}{field}"),
            "must be an enum name",
        )),
    }
}

/// `/v3/kv/range`.
pub fn range(body: &Value, path: &str) -> Result<RangeRequest> {
    Ok(RangeRequest {
        key: bytes(body, "key", path)?,
        range_end: bytes(body, "range_end", path)?,
        limit: int(body, "limit", path)?,
        revision: int(body, "revision", path)?,
        count_only: boolean(body, "count_only", path)?,
        keys_only: boolean(body, "keys_only", path)?,
    })
}

/// `/v3/kv/put`.
pub fn put(body: &Value, path: &str) -> Result<PutRequest> {
    Ok(PutRequest {
        key: bytes(body, "key", path)?,
        value: bytes(body, "value", path)?,
        lease: int(body, "lease", path)?,
        prev_kv: boolean(body, "prev_kv", path)?,
    })
}

/// `/v3/kv/deleterange`.
pub fn delete_range(body: &Value, path: &str) -> Result<DeleteRangeRequest> {
    Ok(DeleteRangeRequest {
        key: bytes(body, "key", path)?,
        range_end: bytes(body, "range_end", path)?,
        prev_kv: boolean(body, "prev_kv", path)?,
    })
}

/// `/v3/kv/txn`.
pub fn txn(body: &Value) -> Result<TxnRequest> {
    Ok(TxnRequest {
        compare: list(body, "compare", compare)?,
        success: list(body, "success", request_op)?,
        failure: list(body, "failure", request_op)?,
    })
}

/// A repeated field, each element decoded with `decode(element, "field[i].")`.
fn list<T>(body: &Value, field: &str, decode: fn(&Value, &str) -> Result<T>) -> Result<Vec<T>> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(index, item)| decode(item, &format!("{field}[{index}].")))
            .collect(),
        Some(_) => Err(StoreError::invalid(field, "must be a list")),
    }
}

// ANCHOR: compare
/// One compare: `{"key", "result": "EQUAL", "target": "MOD", "mod_revision": "5"}`.
fn compare(body: &Value, path: &str) -> Result<Compare> {
    let result = match name(body, "result", path)?.unwrap_or("EQUAL") {
        "EQUAL" => CompareResult::Equal,
        "GREATER" => CompareResult::Greater,
        "LESS" => CompareResult::Less,
        "NOT_EQUAL" => CompareResult::NotEqual,
        other => {
            return Err(unknown(
                path,
                "result",
                other,
                "EQUAL, GREATER, LESS, NOT_EQUAL",
            ));
        }
    };
    let target = match name(body, "target", path)?.unwrap_or("VERSION") {
        "VERSION" => CompareTarget::Version(int(body, "version", path)?),
        "CREATE" => CompareTarget::CreateRevision(int(body, "create_revision", path)?),
        "MOD" => CompareTarget::ModRevision(int(body, "mod_revision", path)?),
        "VALUE" => CompareTarget::Value(bytes(body, "value", path)?),
        other => {
            return Err(unknown(
                path,
                "target",
                other,
                "VERSION, CREATE, MOD, VALUE",
            ));
        }
    };
    Ok(Compare {
        key: bytes(body, "key", path)?,
        result,
        target,
    })
}
// ANCHOR_END: compare

/// One op: `{"request_put": {...}}`, `{"request_range": {...}}` or `{"request_delete_range": {...}}`.
fn request_op(body: &Value, path: &str) -> Result<RequestOp> {
    if let Some(inner) = body.get("request_range") {
        return Ok(RequestOp::Range(range(
            inner,
            &format!("{path}request_range."),
        )?));
    }
    if let Some(inner) = body.get("request_put") {
        return Ok(RequestOp::Put(put(inner, &format!("{path}request_put."))?));
    }
    if let Some(inner) = body.get("request_delete_range") {
        let path = format!("{path}request_delete_range.");
        return Ok(RequestOp::DeleteRange(delete_range(inner, &path)?));
    }
    Err(StoreError::invalid(
        path.trim_end_matches('.'),
        "needs one of request_range, request_put, request_delete_range",
    ))
}

fn unknown(path: &str, field: &str, value: &str, allowed: &str) -> StoreError {
    StoreError::invalid(
        format!("{path}{field}"),
        format!("unknown value {value:?}; expected one of {allowed}"),
    )
}
