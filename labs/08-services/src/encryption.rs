//! Secrets encrypted at rest: AES-256-GCM between the API server and its storage.
//!
//! A Secret's `data` is base64 in the API, which is an *encoding*: anyone who can read the
//! store's files can decode it. [`EncryptedStorage`] wraps any [`Storage`] and encrypts every
//! value under [`SECRETS_PREFIX`] before it reaches the backend, the way Kubernetes'
//! `EncryptionConfiguration` does with its `aesgcm` provider. The stored bytes look like
//!
//! ```text
//! k8s:enc:aesgcm:v1:<key name>:<12-byte nonce><ciphertext and 16-byte tag>
//! ```
//!
//! so that a reader knows which key sealed a value. The configuration lists providers in
//! order: the **first** one encrypts new writes, **every** listed one may decrypt. That order
//! is what makes key rotation possible without downtime (see [`rotate`]).
//!
//! The API server's binary lives in lab 04, which cannot depend on this lab; a server is
//! given encryption by wrapping its storage before building it:
//! `ApiServer::new(services::encryption::wrap(storage, config))`.

use std::fmt;
use std::sync::Arc;

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng};
use aes_gcm::{Aes256Gcm, Nonce};
use apiserver::storage::{
    ListRequest, Page, Storage, StorageError, StorageEvent, StorageFuture, StorageWatch, Stored,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use tokio::sync::mpsc;

/// The keys whose values are encrypted: every Secret.
pub const SECRETS_PREFIX: &str = "/registry/secrets/";

/// The start of every value sealed by the `aesgcm` provider; the key's name follows.
pub const AESGCM_PREFIX: &str = "k8s:enc:aesgcm:v1:";

/// The length of an AES-GCM nonce: 96 bits.
pub const NONCE_LEN: usize = 12;

/// Why a value could not be sealed or opened, or a configuration not loaded. No variant ever
/// carries a value's bytes: an error message may end up in a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EncryptionError {
    /// The configuration file is not valid: the field and the reason.
    Config {
        /// Where in the file, e.g. `resources[0].providers[0].aesgcm.keys[1].secret`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The value was sealed with a key the configuration does not list.
    UnknownKey {
        /// The key name found in the stored value.
        key: String,
    },
    /// The value names a listed key but does not decrypt with it (tampered, or a different
    /// key under the same name).
    DecryptFailed {
        /// The key name.
        key: String,
    },
    /// The value starts like a sealed value but is cut short or has no key name.
    Malformed {
        /// What is missing.
        reason: String,
    },
    /// The value is stored unencrypted and the configuration has no `identity` provider to
    /// read it with.
    NotEncrypted,
}

impl fmt::Display for EncryptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncryptionError::Config { field, reason } => {
                write!(f, "encryption config: {field}: {reason}")
            }
            EncryptionError::UnknownKey { key } => write!(
                f,
                "value was encrypted with key {key:?}, which is not in the encryption config"
            ),
            EncryptionError::DecryptFailed { key } => write!(
                f,
                "value does not decrypt with key {key:?} (wrong key material or tampered data)"
            ),
            EncryptionError::Malformed { reason } => {
                write!(f, "malformed encrypted value: {reason}")
            }
            EncryptionError::NotEncrypted => write!(
                f,
                "value is stored unencrypted and the encryption config lists no identity provider"
            ),
        }
    }
}

impl std::error::Error for EncryptionError {}

/// One named AES-256 key. Its `Debug` shows the name only.
#[derive(Clone)]
pub struct Key {
    /// The name written in front of every value it seals.
    pub name: String,
    cipher: Aes256Gcm,
}

impl Key {
    /// A key from its name and its 32 bytes.
    pub fn new(name: &str, bytes: &[u8; 32]) -> Key {
        Key {
            name: name.to_string(),
            cipher: Aes256Gcm::new(bytes.into()),
        }
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({:?}, <32 bytes hidden>)", self.name)
    }
}

/// One provider, in the configuration's order.
#[derive(Debug, Clone)]
pub enum Provider {
    /// AES-256-GCM with these keys; the first one seals.
    AesGcm(Vec<Key>),
    /// No encryption: writes are stored as they are, plain values can be read.
    Identity,
}

/// The providers for Secrets, in order: the first seals, every one may open.
#[derive(Debug, Clone)]
pub struct EncryptionConfig {
    /// The providers, in the file's order.
    pub providers: Vec<Provider>,
}

// The file, as Kubernetes' EncryptionConfiguration spells it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct File {
    api_version: String,
    kind: String,
    resources: Vec<ResourceConfig>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResourceConfig {
    resources: Vec<String>,
    providers: Vec<ProviderFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProviderFile {
    aesgcm: Option<KeysFile>,
    identity: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeysFile {
    keys: Vec<KeyFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    name: String,
    secret: String,
}

fn config_error(field: impl Into<String>, reason: impl Into<String>) -> EncryptionError {
    EncryptionError::Config {
        field: field.into(),
        reason: reason.into(),
    }
}

impl EncryptionConfig {
    /// A configuration that encrypts with `keys` (the first seals) and can still read values
    /// stored before encryption was turned on.
    pub fn aesgcm(keys: Vec<Key>) -> EncryptionConfig {
        EncryptionConfig {
            providers: vec![Provider::AesGcm(keys), Provider::Identity],
        }
    }

    /// Parses an `EncryptionConfiguration` (YAML or JSON):
    ///
    /// ```yaml
    /// apiVersion: apiserver.config.k8s.io/v1
    /// kind: EncryptionConfiguration
    /// resources:
    ///   - resources: [secrets]
    ///     providers:
    ///       - aesgcm:
    ///           keys:
    ///             - name: key1
    ///               secret: <base64 of 32 random bytes>
    ///       - identity: {}
    /// ```
    ///
    /// Only the `secrets` resource is supported; every error names the field.
    pub fn parse(text: &str) -> Result<EncryptionConfig, EncryptionError> {
        let file: File = serde_saphyr::from_str(text)
            .map_err(|e| config_error("(file)", format!("not a valid document: {e}")))?;
        if file.api_version != "apiserver.config.k8s.io/v1" {
            return Err(config_error(
                "apiVersion",
                format!(
                    "must be apiserver.config.k8s.io/v1, not {:?}",
                    file.api_version
                ),
            ));
        }
        if file.kind != "EncryptionConfiguration" {
            return Err(config_error(
                "kind",
                format!("must be EncryptionConfiguration, not {:?}", file.kind),
            ));
        }
        let [resource] = file.resources.as_slice() else {
            return Err(config_error(
                "resources",
                format!(
                    "exactly one entry (for secrets) is supported, found {}",
                    file.resources.len()
                ),
            ));
        };
        if resource.resources != ["secrets"] {
            return Err(config_error(
                "resources[0].resources",
                format!("only [secrets] is supported, not {:?}", resource.resources),
            ));
        }
        if resource.providers.is_empty() {
            return Err(config_error(
                "resources[0].providers",
                "at least one provider is required",
            ));
        }
        let mut providers = Vec::new();
        for (i, provider) in resource.providers.iter().enumerate() {
            let field = format!("resources[0].providers[{i}]");
            match (&provider.aesgcm, &provider.identity) {
                (Some(keys), None) => providers.push(Provider::AesGcm(parse_keys(&field, keys)?)),
                (None, Some(_)) => providers.push(Provider::Identity),
                _ => {
                    return Err(config_error(
                        field,
                        "must set exactly one of aesgcm or identity",
                    ));
                }
            }
        }
        Ok(EncryptionConfig { providers })
    }

    /// Reads and parses a configuration file.
    pub fn load(path: &std::path::Path) -> Result<EncryptionConfig, EncryptionError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| config_error(path.display().to_string(), e.to_string()))?;
        EncryptionConfig::parse(&text)
    }

    /// The key listed under `name`, in any `aesgcm` provider.
    pub fn key(&self, name: &str) -> Option<&Key> {
        self.providers
            .iter()
            .filter_map(|p| match p {
                Provider::AesGcm(keys) => Some(keys),
                Provider::Identity => None,
            })
            .flatten()
            .find(|k| k.name == name)
    }

    /// Is `identity` one of the providers (may plain values be read)?
    pub fn reads_plain(&self) -> bool {
        self.providers
            .iter()
            .any(|p| matches!(p, Provider::Identity))
    }

    // ANCHOR: seal
    /// Seals a value with the first provider: under `aesgcm`, its first key and a fresh random
    /// nonce, as `k8s:enc:aesgcm:v1:<key name>:<nonce><ciphertext>`; under `identity`, as is.
    pub fn seal(&self, plaintext: &[u8]) -> Vec<u8> {
        // EXERCISE(services-seal-secret): take the first provider; for AesGcm use its first key, a fresh nonce from Aes256Gcm::generate_nonce(&mut OsRng), and write AESGCM_PREFIX, the key name, ':', the nonce, then cipher.encrypt(...); for Identity return the plaintext
        let key = match self.providers.first() {
            Some(Provider::AesGcm(keys)) if !keys.is_empty() => &keys[0],
            _ => return plaintext.to_vec(),
        };
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ciphertext = key
            .cipher
            .encrypt(&nonce, plaintext)
            .expect("AES-GCM encryption only fails for inputs over 64 GiB");
        let mut sealed = Vec::with_capacity(AESGCM_PREFIX.len() + key.name.len() + 1 + 12);
        sealed.extend_from_slice(AESGCM_PREFIX.as_bytes());
        sealed.extend_from_slice(key.name.as_bytes());
        sealed.push(b':');
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        sealed
        // END EXERCISE
    }
    // ANCHOR_END: seal

    // ANCHOR: open
    /// Opens a stored value: a sealed one with the key it names, a plain one only if
    /// `identity` is listed. An unknown key, a cut-short value or a failed decryption is an
    /// error naming the key, never a panic.
    pub fn open(&self, stored: &[u8]) -> Result<Vec<u8>, EncryptionError> {
        // EXERCISE(services-open-secret): without AESGCM_PREFIX the value is plain (allowed only if reads_plain()); otherwise split "<key name>:" off the rest, look the key up with self.key, split the 12-byte nonce off, and decrypt; map each failure to its EncryptionError
        let Some(rest) = stored.strip_prefix(AESGCM_PREFIX.as_bytes()) else {
            return if self.reads_plain() {
                Ok(stored.to_vec())
            } else {
                Err(EncryptionError::NotEncrypted)
            };
        };
        let Some(colon) = rest.iter().position(|&b| b == b':') else {
            return Err(EncryptionError::Malformed {
                reason: "no ':' after the key name".into(),
            });
        };
        let name = String::from_utf8_lossy(&rest[..colon]).into_owned();
        if name.is_empty() {
            return Err(EncryptionError::Malformed {
                reason: "empty key name".into(),
            });
        }
        let key = self
            .key(&name)
            .ok_or_else(|| EncryptionError::UnknownKey { key: name.clone() })?;
        let body = &rest[colon + 1..];
        if body.len() < NONCE_LEN {
            return Err(EncryptionError::Malformed {
                reason: format!("{} bytes after the key name, a nonce needs 12", body.len()),
            });
        }
        let (nonce, ciphertext) = body.split_at(NONCE_LEN);
        key.cipher
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| EncryptionError::DecryptFailed { key: name })
        // END EXERCISE
    }
    // ANCHOR_END: open
}

/// The keys of one `aesgcm` provider: at least one, unique names, 32-byte base64 secrets.
fn parse_keys(field: &str, keys: &KeysFile) -> Result<Vec<Key>, EncryptionError> {
    if keys.keys.is_empty() {
        return Err(config_error(
            format!("{field}.aesgcm.keys"),
            "at least one key is required",
        ));
    }
    let mut parsed: Vec<Key> = Vec::new();
    for (j, key) in keys.keys.iter().enumerate() {
        let at = format!("{field}.aesgcm.keys[{j}]");
        if key.name.is_empty() || key.name.contains(':') {
            return Err(config_error(
                format!("{at}.name"),
                "must be non-empty and contain no ':'",
            ));
        }
        if parsed.iter().any(|k| k.name == key.name) {
            return Err(config_error(
                format!("{at}.name"),
                format!("duplicate key name {:?}", key.name),
            ));
        }
        // The error never quotes the secret itself.
        let bytes = STANDARD
            .decode(key.secret.trim())
            .map_err(|_| config_error(format!("{at}.secret"), "is not valid base64"))?;
        let bytes: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
            config_error(
                format!("{at}.secret"),
                format!("must decode to 32 bytes for AES-256, got {}", bytes.len()),
            )
        })?;
        parsed.push(Key::new(&key.name, &bytes));
    }
    Ok(parsed)
}

/// A [`Storage`] that encrypts Secrets on the way in and decrypts them on the way out
/// (reads, lists, deletes and watch events alike). Other keys pass through untouched.
pub struct EncryptedStorage {
    inner: Arc<dyn Storage>,
    config: Arc<EncryptionConfig>,
}

/// Wraps `storage` so that Secrets are encrypted at rest with `config`.
pub fn wrap(storage: Arc<dyn Storage>, config: EncryptionConfig) -> Arc<dyn Storage> {
    Arc::new(EncryptedStorage::new(storage, config))
}

fn is_secret(key: &str) -> bool {
    key.starts_with(SECRETS_PREFIX)
}

/// An encryption failure as the API server sees it: the storage is unusable for that key.
/// The message names the storage key and the encryption key, never the value.
fn unavailable(key: &str, error: EncryptionError) -> StorageError {
    StorageError::Unavailable {
        message: format!("{key}: {error}"),
    }
}

impl EncryptedStorage {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn Storage>, config: EncryptionConfig) -> EncryptedStorage {
        EncryptedStorage {
            inner,
            config: Arc::new(config),
        }
    }

    /// The storage underneath (what is really on disk).
    pub fn inner(&self) -> &Arc<dyn Storage> {
        &self.inner
    }

    fn seal(&self, key: &str, value: Vec<u8>) -> Vec<u8> {
        if is_secret(key) {
            self.config.seal(&value)
        } else {
            value
        }
    }

    fn open(config: &EncryptionConfig, mut stored: Stored) -> Result<Stored, StorageError> {
        if is_secret(&stored.key) {
            stored.value = config
                .open(&stored.value)
                .map_err(|e| unavailable(&stored.key, e))?;
        }
        Ok(stored)
    }

    fn open_event(
        config: &EncryptionConfig,
        event: StorageEvent,
    ) -> Result<StorageEvent, StorageError> {
        Ok(match event {
            StorageEvent::Put { current, prev } => StorageEvent::Put {
                current: Self::open(config, current)?,
                prev: prev.map(|p| Self::open(config, p)).transpose()?,
            },
            StorageEvent::Delete { prev, revision } => StorageEvent::Delete {
                prev: Self::open(config, prev)?,
                revision,
            },
        })
    }
}

impl Storage for EncryptedStorage {
    fn get<'a>(&'a self, key: &'a str) -> StorageFuture<'a, Option<Stored>> {
        Box::pin(async move {
            match self.inner.get(key).await? {
                Some(stored) => Ok(Some(Self::open(&self.config, stored)?)),
                None => Ok(None),
            }
        })
    }

    fn list<'a>(&'a self, request: &'a ListRequest) -> StorageFuture<'a, Page> {
        Box::pin(async move {
            let mut page = self.inner.list(request).await?;
            page.items = page
                .items
                .into_iter()
                .map(|s| Self::open(&self.config, s))
                .collect::<Result<_, _>>()?;
            Ok(page)
        })
    }

    fn create<'a>(&'a self, key: &'a str, value: Vec<u8>) -> StorageFuture<'a, Stored> {
        Box::pin(async move {
            let sealed = self.seal(key, value.clone());
            let mut stored = self.inner.create(key, sealed).await?;
            stored.value = value;
            Ok(stored)
        })
    }

    fn update<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
        expected: i64,
    ) -> StorageFuture<'a, Stored> {
        Box::pin(async move {
            let sealed = self.seal(key, value.clone());
            let mut stored = self.inner.update(key, sealed, expected).await?;
            stored.value = value;
            Ok(stored)
        })
    }

    fn delete<'a>(
        &'a self,
        key: &'a str,
        expected: Option<i64>,
    ) -> StorageFuture<'a, (Stored, i64)> {
        Box::pin(async move {
            let (prev, revision) = self.inner.delete(key, expected).await?;
            Ok((Self::open(&self.config, prev)?, revision))
        })
    }

    fn watch<'a>(&'a self, prefix: &'a str, after: i64) -> StorageFuture<'a, StorageWatch> {
        Box::pin(async move {
            let mut inner = self.inner.watch(prefix, after).await?;
            let (tx, rx) = mpsc::channel(256);
            let config = self.config.clone();
            tokio::spawn(async move {
                loop {
                    // Ends when the backend ends the watch, or when our reader goes away
                    // (dropping `inner` then tells the backend in turn).
                    let item = tokio::select! {
                        item = inner.recv() => item,
                        () = tx.closed() => None,
                    };
                    let Some(item) = item else { break };
                    let item = item.and_then(|e| Self::open_event(&config, e));
                    let failed = item.is_err();
                    if tx.send(item).await.is_err() || failed {
                        break;
                    }
                }
            });
            Ok(rx)
        })
    }

    fn revision(&self) -> StorageFuture<'_, i64> {
        self.inner.revision()
    }
}

/// What [`rotate`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RotateReport {
    /// Secrets rewritten with the first provider.
    pub rewritten: usize,
    /// Secrets changed or deleted by someone else meanwhile (their new value was already
    /// written with the current configuration, so nothing is lost).
    pub skipped: usize,
}

// ANCHOR: rotate
/// Rewrites every Secret with the configuration's first provider: step 3 of a key rotation.
///
/// 1. add the new key *second* in every API server's config and restart them (all can now
///    read it); 2. move it *first* and restart (new writes use it); 3. `rotate`: every stored
///    Secret is read (with whichever key sealed it) and written again (with the new one);
///    4. remove the old key and restart. Each rewrite is a compare-and-swap on the revision
///    it read, so a concurrent write by a user is never overwritten.
pub async fn rotate(storage: &EncryptedStorage) -> Result<RotateReport, StorageError> {
    let mut report = RotateReport::default();
    let mut request = ListRequest {
        prefix: SECRETS_PREFIX.to_string(),
        start_after: None,
        limit: Some(100),
        revision: None,
    };
    loop {
        let page = storage.list(&request).await?;
        for item in &page.items {
            match storage
                .update(&item.key, item.value.clone(), item.mod_revision)
                .await
            {
                Ok(_) => report.rewritten += 1,
                Err(StorageError::Conflict { .. } | StorageError::NotFound { .. }) => {
                    report.skipped += 1
                }
                Err(other) => return Err(other),
            }
        }
        match page.items.last() {
            Some(last) if page.more => {
                request.start_after = Some(last.key.clone());
                request.revision = Some(page.revision);
            }
            _ => return Ok(report),
        }
    }
}
// ANCHOR_END: rotate
