//! Kubernetes' protobuf encoding, read for the few kinds kubectl's generators send that way.
//!
//! `kubectl create namespace`, `create configmap`, `create secret` and `auth can-i` use the
//! typed Go clients, which send `application/vnd.kubernetes.protobuf` and accept JSON back.
//! Skiff stores JSON, so it translates these bodies to JSON with a small schema per kind (the
//! field numbers of Kubernetes' `generated.proto`) and handles them like any JSON request.
//! Other kinds are a 415 that says so.
//!
//! The wire format: the bytes `k8s\0`, then a `runtime.Unknown` message whose field 1 is the
//! TypeMeta (`apiVersion` = 1, `kind` = 2) and field 2 the object's own message.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

/// The media type of Kubernetes' protobuf encoding.
pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// The magic bytes that start every Kubernetes protobuf body.
const MAGIC: &[u8] = b"k8s\0";

/// How one field is read and written to JSON.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// A string.
    Str,
    /// An integer (varint).
    Int,
    /// A boolean (varint).
    Bool,
    /// A nested message.
    Msg(&'static [Field]),
    /// `map<string, string>`.
    MapStr,
    /// `map<string, bytes>`, written as base64 like Kubernetes' JSON.
    MapBytes,
    /// `repeated string`.
    RepStr,
    /// A `metav1.Time` message (seconds = 1), written as RFC 3339.
    Time,
}

/// A field of a message: its number, its JSON name, and its kind.
#[derive(Debug, Clone, Copy)]
struct Field(u32, &'static str, Kind);

const OBJECT_META: &[Field] = &[
    Field(1, "name", Kind::Str),
    Field(2, "generateName", Kind::Str),
    Field(3, "namespace", Kind::Str),
    Field(5, "uid", Kind::Str),
    Field(6, "resourceVersion", Kind::Str),
    Field(7, "generation", Kind::Int),
    Field(8, "creationTimestamp", Kind::Time),
    Field(11, "labels", Kind::MapStr),
    Field(12, "annotations", Kind::MapStr),
    Field(14, "finalizers", Kind::RepStr),
];

const NAMESPACE: &[Field] = &[
    Field(1, "metadata", Kind::Msg(OBJECT_META)),
    Field(
        2,
        "spec",
        Kind::Msg(&[Field(1, "finalizers", Kind::RepStr)]),
    ),
];

const CONFIG_MAP: &[Field] = &[
    Field(1, "metadata", Kind::Msg(OBJECT_META)),
    Field(2, "data", Kind::MapStr),
    Field(3, "binaryData", Kind::MapBytes),
    Field(4, "immutable", Kind::Bool),
];

const SECRET: &[Field] = &[
    Field(1, "metadata", Kind::Msg(OBJECT_META)),
    Field(2, "data", Kind::MapBytes),
    Field(3, "type", Kind::Str),
    Field(4, "stringData", Kind::MapStr),
    Field(5, "immutable", Kind::Bool),
];

const RESOURCE_ATTRIBUTES: &[Field] = &[
    Field(1, "namespace", Kind::Str),
    Field(2, "verb", Kind::Str),
    Field(3, "group", Kind::Str),
    Field(4, "version", Kind::Str),
    Field(5, "resource", Kind::Str),
    Field(6, "subresource", Kind::Str),
    Field(7, "name", Kind::Str),
];

const SELF_SUBJECT_ACCESS_REVIEW: &[Field] = &[
    Field(1, "metadata", Kind::Msg(OBJECT_META)),
    Field(
        2,
        "spec",
        Kind::Msg(&[
            Field(1, "resourceAttributes", Kind::Msg(RESOURCE_ATTRIBUTES)),
            Field(
                2,
                "nonResourceAttributes",
                Kind::Msg(&[Field(1, "path", Kind::Str), Field(2, "verb", Kind::Str)]),
            ),
        ]),
    ),
];

/// The schema of a kind this module reads.
fn schema(api_version: &str, kind: &str) -> Option<&'static [Field]> {
    match (api_version, kind) {
        ("v1", "Namespace") => Some(NAMESPACE),
        ("v1", "ConfigMap") => Some(CONFIG_MAP),
        ("v1", "Secret") => Some(SECRET),
        ("authorization.k8s.io/v1", "SelfSubjectAccessReview") => Some(SELF_SUBJECT_ACCESS_REVIEW),
        _ => None,
    }
}

/// True when a `Content-Type` is Kubernetes' protobuf.
pub fn is_protobuf(content_type: &str) -> bool {
    content_type.split(';').next().unwrap_or("").trim() == MEDIA_TYPE
}

// ANCHOR: to_json
/// Translates a protobuf body into the JSON object it encodes; an error says why not (not
/// protobuf, a kind skiff does not read in protobuf, a malformed field).
pub fn to_json(body: &[u8]) -> Result<Value, String> {
    let envelope = body
        .strip_prefix(MAGIC)
        .ok_or("the body does not start with the protobuf magic bytes \"k8s\\0\"")?;
    let mut type_meta = (String::new(), String::new());
    let mut raw: &[u8] = &[];
    let mut reader = Reader::new(envelope);
    while let Some((number, wire)) = reader.field()? {
        match (number, wire) {
            (1, 2) => {
                let mut meta = Reader::new(reader.bytes()?);
                while let Some((n, w)) = meta.field()? {
                    match (n, w) {
                        (1, 2) => type_meta.0 = meta.string()?,
                        (2, 2) => type_meta.1 = meta.string()?,
                        _ => meta.skip(w)?,
                    }
                }
            }
            (2, 2) => raw = reader.bytes()?,
            _ => reader.skip(wire)?,
        }
    }
    let (api_version, kind) = type_meta;
    let fields = schema(&api_version, &kind).ok_or_else(|| {
        format!("skiff reads {kind} ({api_version}) only as JSON; send it with kubectl apply or create -f")
    })?;
    let mut object = message(raw, fields, &kind)?;
    object.insert("apiVersion".to_string(), Value::String(api_version));
    object.insert("kind".to_string(), Value::String(kind));
    Ok(Value::Object(object))
}
// ANCHOR_END: to_json

/// Reads one message with its schema; unknown field numbers are skipped.
fn message(buf: &[u8], fields: &[Field], what: &str) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    let mut reader = Reader::new(buf);
    while let Some((number, wire)) = reader.field()? {
        let Some(Field(_, name, kind)) = fields.iter().find(|f| f.0 == number).copied() else {
            reader.skip(wire)?;
            continue;
        };
        let expected = match kind {
            Kind::Int | Kind::Bool => 0,
            _ => 2,
        };
        if wire != expected {
            return Err(format!(
                "{what}.{name}: wire type {wire}, expected {expected}"
            ));
        }
        let path = format!("{what}.{name}");
        match kind {
            // Go's protobuf writes empty strings and zeros that JSON would omit: omit them.
            Kind::Str => {
                let text = reader.string()?;
                if !text.is_empty() {
                    out.insert(name.into(), Value::String(text));
                }
            }
            Kind::Int => {
                let number = reader.varint()? as i64;
                if number != 0 {
                    out.insert(name.into(), Value::from(number));
                }
            }
            Kind::Bool => {
                out.insert(name.into(), Value::Bool(reader.varint()? != 0));
            }
            Kind::Msg(inner) => {
                let value = message(reader.bytes()?, inner, &path)?;
                out.insert(name.into(), Value::Object(value));
            }
            Kind::MapStr | Kind::MapBytes => {
                let (key, value) = map_entry(reader.bytes()?, matches!(kind, Kind::MapBytes))?;
                let map = out.entry(name).or_insert_with(|| Value::Object(Map::new()));
                if let Some(map) = map.as_object_mut() {
                    map.insert(key, value);
                }
            }
            Kind::RepStr => {
                let list = out.entry(name).or_insert_with(|| Value::Array(Vec::new()));
                if let Some(list) = list.as_array_mut() {
                    list.push(Value::String(reader.string()?));
                }
            }
            Kind::Time => {
                let mut time = Reader::new(reader.bytes()?);
                let mut seconds = 0;
                while let Some((n, w)) = time.field()? {
                    match (n, w) {
                        (1, 0) => seconds = time.varint()? as i64,
                        _ => time.skip(w)?,
                    }
                }
                if seconds != 0 {
                    let value = serde_json::to_value(api::Time(seconds)).unwrap_or(Value::Null);
                    out.insert(name.into(), value);
                }
            }
        }
    }
    Ok(out)
}

/// One entry of a map field: key = 1 (a string), value = 2 (a string, or bytes as base64).
fn map_entry(buf: &[u8], bytes: bool) -> Result<(String, Value), String> {
    let mut reader = Reader::new(buf);
    let (mut key, mut value) = (String::new(), Value::String(String::new()));
    while let Some((number, wire)) = reader.field()? {
        match (number, wire) {
            (1, 2) => key = reader.string()?,
            (2, 2) if bytes => value = Value::String(STANDARD.encode(reader.bytes()?)),
            (2, 2) => value = Value::String(reader.string()?),
            _ => reader.skip(wire)?,
        }
    }
    Ok((key, value))
}

/// A cursor over protobuf bytes.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    fn varint(&mut self) -> Result<u64, String> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self.buf.get(self.pos).ok_or("truncated varint")?;
            self.pos += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("varint longer than 10 bytes".to_string())
    }

    /// The next field's number and wire type, or `None` at the end.
    fn field(&mut self) -> Result<Option<(u32, u8)>, String> {
        if self.pos == self.buf.len() {
            return Ok(None);
        }
        let tag = self.varint()?;
        Ok(Some(((tag >> 3) as u32, (tag & 7) as u8)))
    }

    fn bytes(&mut self) -> Result<&'a [u8], String> {
        let len = usize::try_from(self.varint()?).map_err(|_| "length too large")?;
        let end = self.pos.checked_add(len).filter(|&e| e <= self.buf.len());
        let end = end.ok_or("length beyond the end of the message")?;
        let slice = &self.buf[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn string(&mut self) -> Result<String, String> {
        String::from_utf8(self.bytes()?.to_vec()).map_err(|_| "a string is not UTF-8".to_string())
    }

    fn skip(&mut self, wire: u8) -> Result<(), String> {
        match wire {
            0 => self.varint().map(|_| ()),
            1 | 5 => {
                let width = if wire == 1 { 8 } else { 4 };
                if self.pos + width > self.buf.len() {
                    return Err("truncated fixed-width field".to_string());
                }
                self.pos += width;
                Ok(())
            }
            2 => self.bytes().map(|_| ()),
            other => Err(format!("unsupported wire type {other}")),
        }
    }
}
