//! Encryption at rest: the sealed format, opening with every listed key, rotation, clear
//! errors, and a storage wrapper whose reads, lists and watch events are decrypted.

use std::sync::Arc;

use apiserver::storage::memory::MemoryStorage;
use apiserver::storage::{ListRequest, Storage, StorageEvent};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use services::encryption::{
    AESGCM_PREFIX, EncryptedStorage, EncryptionConfig, EncryptionError, Key, Provider, rotate,
};

const SECRET: &[u8] = br#"{"kind":"Secret","data":{"password":"aHVudGVyMg=="}}"#;
const KEY: &str = "/registry/secrets/default/db";

fn key(name: &str, byte: u8) -> Key {
    Key::new(name, &[byte; 32])
}

fn config(keys: &[(&str, u8)]) -> EncryptionConfig {
    EncryptionConfig::aesgcm(keys.iter().map(|(n, b)| key(n, *b)).collect())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn a_sealed_value_names_its_key_and_hides_the_data() {
    let sealed = config(&[("key1", 1)]).seal(SECRET);
    let head = format!("{AESGCM_PREFIX}key1:");
    assert!(sealed.starts_with(head.as_bytes()));
    // prefix, nonce, ciphertext of the same length, 16-byte tag
    assert_eq!(sealed.len(), head.len() + 12 + SECRET.len() + 16);
    assert!(!contains(&sealed, b"aHVudGVyMg=="));
    assert!(!contains(&sealed, b"password"));
}

#[test]
fn every_write_gets_a_fresh_nonce() {
    let c = config(&[("key1", 1)]);
    let (a, b) = (c.seal(SECRET), c.seal(SECRET));
    assert_ne!(a, b, "the same plaintext must not give the same ciphertext");
    assert_eq!(c.open(&a).unwrap(), SECRET);
    assert_eq!(c.open(&b).unwrap(), SECRET);
}

#[test]
fn the_first_key_seals_and_every_listed_key_opens() {
    let old = config(&[("old", 1)]).seal(SECRET);
    let both = config(&[("new", 2), ("old", 1)]);
    assert_eq!(both.open(&old).unwrap(), SECRET);
    let resealed = both.seal(SECRET);
    assert!(resealed.starts_with(format!("{AESGCM_PREFIX}new:").as_bytes()));
}

#[test]
fn an_unknown_key_is_an_error_naming_it() {
    let sealed = config(&[("old", 1)]).seal(SECRET);
    let error = config(&[("new", 2)]).open(&sealed).unwrap_err();
    assert_eq!(error, EncryptionError::UnknownKey { key: "old".into() });
    assert_eq!(
        error.to_string(),
        "value was encrypted with key \"old\", which is not in the encryption config"
    );
}

#[test]
fn the_wrong_bytes_under_a_known_name_or_a_tampered_value_fail_to_decrypt() {
    let sealed = config(&[("key1", 1)]).seal(SECRET);
    let impostor = config(&[("key1", 9)]);
    assert_eq!(
        impostor.open(&sealed).unwrap_err(),
        EncryptionError::DecryptFailed { key: "key1".into() }
    );
    let mut tampered = sealed.clone();
    *tampered.last_mut().unwrap() ^= 1;
    assert_eq!(
        config(&[("key1", 1)]).open(&tampered).unwrap_err(),
        EncryptionError::DecryptFailed { key: "key1".into() }
    );
}

#[test]
fn cut_short_values_are_malformed_not_a_panic() {
    let c = config(&[("key1", 1)]);
    for bad in [
        format!("{AESGCM_PREFIX}key1"),
        format!("{AESGCM_PREFIX}:abc"),
        format!("{AESGCM_PREFIX}key1:short"),
    ] {
        let error = c.open(bad.as_bytes()).unwrap_err();
        assert!(
            matches!(error, EncryptionError::Malformed { .. }),
            "{bad}: {error:?}"
        );
    }
}

#[test]
fn plain_values_are_read_only_when_identity_is_listed() {
    assert_eq!(config(&[("k", 1)]).open(SECRET).unwrap(), SECRET);
    let strict = EncryptionConfig {
        providers: vec![Provider::AesGcm(vec![key("k", 1)])],
    };
    assert_eq!(
        strict.open(SECRET).unwrap_err(),
        EncryptionError::NotEncrypted
    );
    let identity_first = EncryptionConfig {
        providers: vec![Provider::Identity, Provider::AesGcm(vec![key("k", 1)])],
    };
    assert_eq!(identity_first.seal(SECRET), SECRET);
}

fn yaml(keys: &[(&str, &str)], identity: bool) -> String {
    let mut text = String::from(
        "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n  - resources: [secrets]\n    providers:\n      - aesgcm:\n          keys:\n",
    );
    for (name, secret) in keys {
        text += &format!("            - name: {name}\n              secret: {secret}\n");
    }
    if identity {
        text += "      - identity: {}\n";
    }
    text
}

#[test]
fn a_kubernetes_encryption_configuration_is_read() {
    let k1 = STANDARD.encode([1u8; 32]);
    let k2 = STANDARD.encode([2u8; 32]);
    let parsed = EncryptionConfig::parse(&yaml(&[("key2", &k2), ("key1", &k1)], true)).unwrap();
    assert_eq!(parsed.providers.len(), 2);
    assert!(parsed.reads_plain());
    // key2 seals, and a value sealed by key1 elsewhere still opens.
    let sealed = parsed.seal(SECRET);
    assert!(sealed.starts_with(format!("{AESGCM_PREFIX}key2:").as_bytes()));
    assert_eq!(
        parsed.open(&config(&[("key1", 1)]).seal(SECRET)).unwrap(),
        SECRET
    );
    // JSON is accepted too.
    let json = format!(
        r#"{{"apiVersion":"apiserver.config.k8s.io/v1","kind":"EncryptionConfiguration","resources":[{{"resources":["secrets"],"providers":[{{"aesgcm":{{"keys":[{{"name":"key1","secret":"{k1}"}}]}}}}]}}]}}"#
    );
    assert!(!EncryptionConfig::parse(&json).unwrap().reads_plain());
}

#[test]
fn a_bad_configuration_names_the_field_and_never_echoes_a_secret() {
    let short = STANDARD.encode([7u8; 16]);
    let good = STANDARD.encode([1u8; 32]);
    let cases = [
        (
            yaml(&[("key1", &short)], false),
            "encryption config: resources[0].providers[0].aesgcm.keys[0].secret: must decode to 32 bytes for AES-256, got 16",
        ),
        (
            yaml(&[("key1", "not*base64")], false),
            "encryption config: resources[0].providers[0].aesgcm.keys[0].secret: is not valid base64",
        ),
        (
            yaml(&[("a", &good), ("a", &good)], false),
            "encryption config: resources[0].providers[0].aesgcm.keys[1].name: duplicate key name \"a\"",
        ),
        (
            yaml(&[("a:b", &good)], false),
            "encryption config: resources[0].providers[0].aesgcm.keys[0].name: must be non-empty and contain no ':'",
        ),
        (
            yaml(&[], true).replace(
                "- aesgcm:\n          keys:\n",
                "- aesgcm:\n          keys: []\n",
            ),
            "encryption config: resources[0].providers[0].aesgcm.keys: at least one key is required",
        ),
        (
            yaml(&[("k", &good)], false).replace("[secrets]", "[configmaps]"),
            "encryption config: resources[0].resources: only [secrets] is supported, not [\"configmaps\"]",
        ),
        (
            yaml(&[("k", &good)], false).replace("apiserver.config.k8s.io/v1", "v1"),
            "encryption config: apiVersion: must be apiserver.config.k8s.io/v1, not \"v1\"",
        ),
    ];
    for (text, expected) in cases {
        let error = EncryptionConfig::parse(&text).unwrap_err().to_string();
        assert_eq!(error, expected, "{text}");
        assert!(!error.contains(&short) && !error.contains(&good));
    }
    let debug = format!(
        "{:?}",
        EncryptionConfig::parse(&yaml(&[("k", &good)], true)).unwrap()
    );
    assert!(
        !debug.contains(&good) && debug.contains("hidden"),
        "{debug}"
    );
}

fn wrapped(keys: &[(&str, u8)]) -> (Arc<MemoryStorage>, EncryptedStorage) {
    let disk = Arc::new(MemoryStorage::new());
    let storage = EncryptedStorage::new(disk.clone(), config(keys));
    (disk, storage)
}

#[tokio::test]
async fn the_wrapper_encrypts_secrets_only_and_reads_them_back() {
    let (disk, storage) = wrapped(&[("key1", 1)]);
    let created = storage.create(KEY, SECRET.to_vec()).await.unwrap();
    assert_eq!(created.value, SECRET);
    storage
        .create("/registry/configmaps/default/web", b"{}".to_vec())
        .await
        .unwrap();
    let raw = disk.get(KEY).await.unwrap().unwrap();
    assert!(
        raw.value
            .starts_with(format!("{AESGCM_PREFIX}key1:").as_bytes())
    );
    let plain = disk.get("/registry/configmaps/default/web").await.unwrap();
    assert_eq!(plain.unwrap().value, b"{}");
    assert_eq!(storage.get(KEY).await.unwrap().unwrap().value, SECRET);
    let page = storage
        .list(&ListRequest {
            prefix: "/registry/".into(),
            ..ListRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(page.items[1].value, SECRET);
    let updated = storage
        .update(KEY, b"{\"v\":2}".to_vec(), created.mod_revision)
        .await
        .unwrap();
    let (gone, _) = storage
        .delete(KEY, Some(updated.mod_revision))
        .await
        .unwrap();
    assert_eq!(gone.value, b"{\"v\":2}");
}

#[tokio::test]
async fn watch_events_are_decrypted() {
    let (_, storage) = wrapped(&[("key1", 1)]);
    let mut watch = storage.watch(SECRETS_PREFIX_FOR_TEST, 0).await.unwrap();
    let created = storage.create(KEY, SECRET.to_vec()).await.unwrap();
    storage
        .update(KEY, b"{\"v\":2}".to_vec(), created.mod_revision)
        .await
        .unwrap();
    storage.delete(KEY, None).await.unwrap();
    let mut seen = Vec::new();
    for _ in 0..3 {
        match watch.recv().await.unwrap().unwrap() {
            StorageEvent::Put { current, prev } => seen.push((
                String::from_utf8(current.value).unwrap(),
                prev.map(|p| String::from_utf8(p.value).unwrap()),
            )),
            StorageEvent::Delete { prev, .. } => seen.push((
                "deleted".into(),
                Some(String::from_utf8(prev.value).unwrap()),
            )),
        }
    }
    let secret = String::from_utf8(SECRET.to_vec()).unwrap();
    assert_eq!(
        seen,
        [
            (secret.clone(), None),
            ("{\"v\":2}".into(), Some(secret)),
            ("deleted".into(), Some("{\"v\":2}".into())),
        ]
    );
}

const SECRETS_PREFIX_FOR_TEST: &str = "/registry/secrets/";

#[tokio::test]
async fn a_secret_under_a_removed_key_is_a_clear_storage_error() {
    let disk: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
    EncryptedStorage::new(disk.clone(), config(&[("old", 1)]))
        .create(KEY, SECRET.to_vec())
        .await
        .unwrap();
    let error = EncryptedStorage::new(disk, config(&[("new", 2)]))
        .get(KEY)
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "storage unavailable: /registry/secrets/default/db: value was encrypted with key \"old\", which is not in the encryption config"
    );
}

#[tokio::test]
async fn rotation_rewrites_every_secret_with_the_new_key_and_then_the_old_can_go() {
    let disk: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
    // Step 0: 250 Secrets (more than one page) sealed with the old key, and one from before
    // encryption was turned on.
    let before = EncryptedStorage::new(disk.clone(), config(&[("old", 1)]));
    for i in 0..250 {
        let key = format!("/registry/secrets/default/s{i:03}");
        before
            .create(&key, format!("{{\"n\":{i}}}").into_bytes())
            .await
            .unwrap();
    }
    disk.create(
        "/registry/secrets/default/zz-plain",
        b"{\"plain\":1}".to_vec(),
    )
    .await
    .unwrap();
    // Steps 1-2: the new key first, the old one still listed. Step 3: rotate.
    let during = EncryptedStorage::new(disk.clone(), config(&[("new", 2), ("old", 1)]));
    let report = rotate(&during).await.unwrap();
    assert_eq!(report.rewritten, 251);
    assert_eq!(report.skipped, 0);
    let page = disk
        .list(&ListRequest {
            prefix: "/registry/secrets/".into(),
            ..ListRequest::default()
        })
        .await
        .unwrap();
    assert!(page.items.iter().all(|s| {
        s.value
            .starts_with(format!("{AESGCM_PREFIX}new:").as_bytes())
    }));
    // Step 4: the old key removed (and identity too): everything still reads.
    let after = EncryptedStorage::new(
        disk,
        EncryptionConfig {
            providers: vec![Provider::AesGcm(vec![key("new", 2)])],
        },
    );
    assert_eq!(
        after
            .get("/registry/secrets/default/s123")
            .await
            .unwrap()
            .unwrap()
            .value,
        b"{\"n\":123}"
    );
    assert_eq!(
        after
            .get("/registry/secrets/default/zz-plain")
            .await
            .unwrap()
            .unwrap()
            .value,
        b"{\"plain\":1}"
    );
}
