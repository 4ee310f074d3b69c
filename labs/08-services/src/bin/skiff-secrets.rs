//! `skiff-secrets`: step 3 of a key rotation for an API server on the embedded store.
//!
//! `skiff-secrets rotate --encryption-config FILE --data-dir DIR` opens the store in `DIR`
//! (the API server must be stopped: the embedded store belongs to one process), reads every
//! Secret with any key the config lists and writes it again with the first one.

use std::path::PathBuf;
use std::sync::Arc;

use apiserver::storage::embedded::EmbeddedStorage;
use services::encryption::{EncryptedStorage, EncryptionConfig, rotate};

const USAGE: &str = "\
skiff-secrets: re-encrypt every Secret with the first key of an encryption config

USAGE:
    skiff-secrets rotate --encryption-config FILE --data-dir DIR

The API server using DIR must be stopped first (the embedded store has one owner).
";

fn parse(args: &[String]) -> Result<Option<(PathBuf, PathBuf)>, String> {
    let mut args = args.iter();
    match args.next().map(String::as_str) {
        Some("rotate") => {}
        Some("-h" | "--help") | None => return Ok(None),
        Some(other) => return Err(format!("unknown command {other:?} (see --help)")),
    }
    let (mut config, mut data_dir) = (None, None);
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .cloned()
                .ok_or_else(|| format!("{flag}: a value is required"))
        };
        match flag.as_str() {
            "--encryption-config" => config = Some(PathBuf::from(value()?)),
            "--data-dir" => data_dir = Some(PathBuf::from(value()?)),
            other => return Err(format!("unknown argument {other:?} (see --help)")),
        }
    }
    match (config, data_dir) {
        (Some(c), Some(d)) => Ok(Some((c, d))),
        (None, _) => Err("--encryption-config is required".into()),
        (_, None) => Err("--data-dir is required".into()),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (config, data_dir) = match parse(&args) {
        Ok(Some(parsed)) => parsed,
        Ok(None) => {
            print!("{USAGE}");
            return;
        }
        Err(message) => {
            eprintln!("skiff-secrets: {message}");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    match runtime.block_on(run(config, data_dir)) {
        Ok(line) => println!("{line}"),
        Err(message) => {
            eprintln!("skiff-secrets: {message}");
            std::process::exit(1);
        }
    }
}

async fn run(config: PathBuf, data_dir: PathBuf) -> Result<String, String> {
    let config = EncryptionConfig::load(&config).map_err(|e| e.to_string())?;
    let store = EmbeddedStorage::open(&data_dir).map_err(|e| e.to_string())?;
    let storage = EncryptedStorage::new(Arc::new(store), config);
    let report = rotate(&storage).await.map_err(|e| e.to_string())?;
    Ok(format!(
        "rewrote {} Secrets with the first provider ({} changed meanwhile, left as written)",
        report.rewritten, report.skipped
    ))
}
