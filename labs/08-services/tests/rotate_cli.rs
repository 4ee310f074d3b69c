//! `skiff-secrets rotate` on an embedded store: every Secret ends up under the new key, and a
//! bad config or an unknown key is a clear error, not a panic.

use std::path::Path;
use std::sync::Arc;

use apiserver::storage::embedded::EmbeddedStorage;
use apiserver::storage::{ListRequest, Storage};
use assert_cmd::Command;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use services::encryption::{AESGCM_PREFIX, EncryptedStorage, EncryptionConfig, Key};

fn config_file(dir: &Path, keys: &[(&str, u8)]) -> std::path::PathBuf {
    let mut text = String::from(
        "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n  - resources: [secrets]\n    providers:\n      - aesgcm:\n          keys:\n",
    );
    for (name, byte) in keys {
        let secret = STANDARD.encode([*byte; 32]);
        text += &format!("            - name: {name}\n              secret: {secret}\n");
    }
    let path = dir.join("encryption.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

async fn seed(data_dir: &Path) {
    let store: Arc<dyn Storage> = Arc::new(EmbeddedStorage::open(data_dir).unwrap());
    let storage = EncryptedStorage::new(
        store,
        EncryptionConfig::aesgcm(vec![Key::new("key1", &[1; 32])]),
    );
    for name in ["a", "b", "c"] {
        let key = format!("/registry/secrets/default/{name}");
        storage.create(&key, b"{}".to_vec()).await.unwrap();
    }
}

async fn key_names(data_dir: &Path) -> Vec<String> {
    let store = EmbeddedStorage::open(data_dir).unwrap();
    let page = store
        .list(&ListRequest {
            prefix: "/registry/secrets/".into(),
            ..ListRequest::default()
        })
        .await
        .unwrap();
    page.items
        .iter()
        .map(|s| {
            let rest = &s.value[AESGCM_PREFIX.len()..];
            let colon = rest.iter().position(|&b| b == b':').unwrap();
            String::from_utf8(rest[..colon].to_vec()).unwrap()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_rewrites_every_secret_with_the_first_key() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("store");
    seed(&data).await;
    assert_eq!(key_names(&data).await, ["key1", "key1", "key1"]);
    let config = config_file(tmp.path(), &[("key2", 2), ("key1", 1)]);
    let output = Command::cargo_bin("skiff-secrets")
        .unwrap()
        .args(["rotate", "--encryption-config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "rewrote 3 Secrets with the first provider (0 changed meanwhile, left as written)\n"
    );
    assert_eq!(key_names(&data).await, ["key2", "key2", "key2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_without_the_old_key_fails_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("store");
    seed(&data).await;
    let config = config_file(tmp.path(), &[("key2", 2)]);
    let output = Command::cargo_bin("skiff-secrets")
        .unwrap()
        .args(["rotate", "--encryption-config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "skiff-secrets: storage unavailable: /registry/secrets/default/a: value was encrypted with key \"key1\", which is not in the encryption config\n"
    );
    assert_eq!(
        key_names(&data).await,
        ["key1", "key1", "key1"],
        "nothing changed"
    );
}

#[test]
fn bad_arguments_and_configs_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let output = Command::cargo_bin("skiff-secrets")
            .unwrap()
            .args(args)
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    assert_eq!(
        run(&["rotate", "--data-dir", "x"]),
        (
            Some(2),
            "skiff-secrets: --encryption-config is required\n".into()
        )
    );
    assert_eq!(
        run(&["spin"]),
        (
            Some(2),
            "skiff-secrets: unknown command \"spin\" (see --help)\n".into()
        )
    );
    let bad = tmp.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "apiVersion: v1\nkind: EncryptionConfiguration\nresources: []\n",
    )
    .unwrap();
    let data = tmp.path().join("store").display().to_string();
    assert_eq!(
        run(&["rotate", "--encryption-config", bad.to_str().unwrap(), "--data-dir", &data]),
        (
            Some(1),
            "skiff-secrets: encryption config: apiVersion: must be apiserver.config.k8s.io/v1, not \"v1\"\n"
                .into()
        )
    );
}
