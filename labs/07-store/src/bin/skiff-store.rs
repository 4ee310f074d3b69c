//! `skiff-store`: disaster recovery for a skiff store's data directory.
//!
//! ```text
//! skiff-store snapshot save FILE --data-dir DIR      write DIR's state to FILE
//! skiff-store snapshot save FILE --endpoint ADDR     download a running server's state
//!                                                    (skiff-store or etcd, host:port)
//! skiff-store snapshot restore FILE --data-dir DIR   create DIR from FILE
//! skiff-store snapshot status FILE                   check FILE and describe it
//! skiff-store serve --data-dir DIR [--listen ADDR]   serve etcd's JSON gateway (default
//!                                                    127.0.0.1:2379)
//! ```
//!
//! Like `etcdutl snapshot save/restore/status`. `save` can run while a store writes to DIR.

use std::path::PathBuf;
use std::process::ExitCode;

use store::backup;
use store::snapshot::Snapshot;

const USAGE: &str = "usage:
  skiff-store snapshot save FILE --data-dir DIR
  skiff-store snapshot save FILE --endpoint HOST:PORT
  skiff-store snapshot restore FILE --data-dir DIR
  skiff-store snapshot status FILE
  skiff-store serve --data-dir DIR [--listen ADDR]";

/// Where `serve` listens unless told otherwise: etcd's client port, on loopback only.
const DEFAULT_LISTEN: &str = "127.0.0.1:2379";

/// A parsed command line.
enum Action {
    Save { file: PathBuf, data_dir: PathBuf },
    Fetch { file: PathBuf, endpoint: String },
    Restore { file: PathBuf, data_dir: PathBuf },
    Status { file: PathBuf },
    Serve { data_dir: PathBuf, listen: String },
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let action = match parse(&args) {
        Ok(action) => action,
        Err(message) => {
            eprintln!("error: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(action) {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Turns the arguments into an action, or says what is wrong with them.
fn parse(args: &[String]) -> Result<Action, String> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["snapshot", "save", file, "--endpoint", endpoint]
        | ["snapshot", "save", "--endpoint", endpoint, file] => Ok(Action::Fetch {
            file: file.into(),
            endpoint: endpoint.to_string(),
        }),
        ["snapshot", "save", rest @ ..] => {
            let (file, data_dir) = file_and_data_dir(rest)?;
            Ok(Action::Save { file, data_dir })
        }
        ["snapshot", "restore", rest @ ..] => {
            let (file, data_dir) = file_and_data_dir(rest)?;
            Ok(Action::Restore { file, data_dir })
        }
        ["snapshot", "status", file] => Ok(Action::Status { file: file.into() }),
        ["snapshot", "status", ..] => Err("snapshot status takes exactly one FILE".into()),
        ["snapshot", other, ..] => Err(format!("unknown snapshot command `{other}`")),
        ["serve", rest @ ..] => parse_serve(rest),
        [other, ..] => Err(format!("unknown command `{other}`")),
        [] => Err("no command given".into()),
    }
}

/// `FILE --data-dir DIR`, in either order.
fn file_and_data_dir(args: &[&str]) -> Result<(PathBuf, PathBuf), String> {
    let mut file = None;
    let mut data_dir = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match *arg {
            "--data-dir" => {
                let dir = args.next().ok_or("--data-dir needs a directory")?;
                data_dir = Some(PathBuf::from(dir));
            }
            flag if flag.starts_with("--") => return Err(format!("unknown flag `{flag}`")),
            path if file.is_none() => file = Some(PathBuf::from(path)),
            extra => return Err(format!("unexpected argument `{extra}`")),
        }
    }
    let file = file.ok_or("FILE is missing")?;
    let data_dir = data_dir.ok_or("--data-dir is missing")?;
    Ok((file, data_dir))
}

/// `--data-dir DIR [--listen ADDR]`.
fn parse_serve(args: &[&str]) -> Result<Action, String> {
    let mut data_dir = None;
    let mut listen = DEFAULT_LISTEN.to_string();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match *arg {
            "--data-dir" => {
                data_dir = Some(PathBuf::from(
                    args.next().ok_or("--data-dir needs a directory")?,
                ))
            }
            "--listen" => listen = args.next().ok_or("--listen needs an address")?.to_string(),
            other => return Err(format!("unexpected argument `{other}`")),
        }
    }
    let data_dir = data_dir.ok_or("--data-dir is missing")?;
    Ok(Action::Serve { data_dir, listen })
}

/// Does it; returns the line to print.
fn run(action: Action) -> store::Result<String> {
    match action {
        Action::Save { file, data_dir } => {
            let snapshot = backup::save(&data_dir, &file)?;
            Ok(format!("saved {}", describe(&snapshot)))
        }
        Action::Fetch { file, endpoint } => {
            // The bytes must be a whole snapshot before they may replace `file`.
            let bytes = store::gateway::stream::fetch_snapshot(&endpoint)?;
            let snapshot = Snapshot::decode(&bytes, &endpoint)?;
            snapshot.write_atomically(&file)?;
            Ok(format!("saved {}", describe(&snapshot)))
        }
        Action::Restore { file, data_dir } => {
            let snapshot = backup::restore(&file, &data_dir)?;
            Ok(format!("restored {}", describe(&snapshot)))
        }
        Action::Status { file } => Ok(format!("ok: {}", describe(&Snapshot::read(&file)?))),
        Action::Serve { data_dir, listen } => serve(&data_dir, &listen),
    }
}

/// Opens the store and serves the gateway until killed.
fn serve(data_dir: &std::path::Path, listen: &str) -> store::Result<String> {
    let store = std::sync::Arc::new(store::DurableStore::open(data_dir, Default::default())?);
    let listener = std::net::TcpListener::bind(listen)
        .map_err(|error| store::StoreError::Io(format!("listen on {listen}: {error}")))?;
    println!(
        "serving etcd's JSON gateway on http://{}",
        listener.local_addr()?
    );
    store::gateway::http::serve(listener, store)?;
    Ok("stopped".into())
}

/// One line about a snapshot's contents.
fn describe(snapshot: &Snapshot) -> String {
    let store = snapshot.clone().into_store();
    let keys = store
        .range(&store::RangeRequest::all())
        .map_or(0, |r| r.count);
    format!(
        "revision {}, {keys} keys, {} leases, compacted at {}",
        snapshot.revision,
        snapshot.leases.len(),
        snapshot.compact_revision
    )
}
