//! `ConfigMap` and `Secret`: configuration handed to Pods as environment variables or files.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::meta::{ObjectMeta, resource};

/// A ConfigMap (`v1`): non-secret configuration as key/value pairs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct ConfigMap {
    /// Always `v1`.
    pub api_version: String,
    /// Always `ConfigMap`.
    pub kind: String,
    /// Name and namespace.
    pub metadata: ObjectMeta,
    /// UTF-8 values.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub data: BTreeMap<String, String>,
    /// Binary values, base64 in manifests.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub binary_data: BTreeMap<String, Bytes>,
    /// When true, the data can no longer be changed (only the object deleted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub immutable: Option<bool>,
}
resource!(ConfigMap, "v1", "ConfigMap", namespaced: true, [data, binary_data, immutable]);

// ANCHOR: secret
/// A Secret (`v1`): like a ConfigMap, for credentials.
///
/// Its values are base64-*encoded*, which is not encryption: anyone who can read the object can
/// decode them (see [`Bytes`]). What protects a Secret is who may read it (authorization) and
/// how it is stored (encryption at rest, lab 08).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Secret {
    /// Always `v1`.
    pub api_version: String,
    /// Always `Secret`.
    pub kind: String,
    /// Name and namespace.
    pub metadata: ObjectMeta,
    /// E.g. `Opaque` (the default) or `kubernetes.io/tls`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub secret_type: Option<String>,
    /// The values, as bytes (base64 in manifests).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub data: BTreeMap<String, Bytes>,
    /// Plain-text values for convenience; the API server merges them into `data` on write.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub string_data: BTreeMap<String, String>,
    /// When true, the data can no longer be changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub immutable: Option<bool>,
}
resource!(Secret, "v1", "Secret", namespaced: true, [secret_type, data, string_data, immutable]);
// ANCHOR_END: secret

// ANCHOR: bytes
/// Bytes that travel as standard base64 text, as Kubernetes' `[]byte` fields do.
///
/// Base64 only makes arbitrary bytes safe to put in JSON; decoding needs no key:
/// `STANDARD.decode("aHVudGVyMg==")` is `b"hunter2"`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bytes(pub Vec<u8>);

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // EXERCISE(objects-base64): read a String, decode it with base64's STANDARD engine, and turn a decode error into serde::de::Error::custom("illegal base64 data: ...")
        let text = String::deserialize(deserializer)?;
        STANDARD
            .decode(text.as_bytes())
            .map(Bytes)
            .map_err(|e| serde::de::Error::custom(format!("illegal base64 data: {e}")))
        // END EXERCISE
    }
}
// ANCHOR_END: bytes

impl From<&[u8]> for Bytes {
    fn from(bytes: &[u8]) -> Self {
        Bytes(bytes.to_vec())
    }
}

impl fmt::Display for Bytes {
    /// Shows the bytes as text where they are UTF-8 (lossily otherwise).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.0))
    }
}
