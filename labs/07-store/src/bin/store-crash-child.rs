//! The victim of the crash test: writes under concurrent load until it is killed.
//!
//! `store-crash-child DATA_DIR ROUND CLIENTS SNAPSHOT_EVERY` opens the durable store in
//! DATA_DIR and runs CLIENTS threads that put fresh keys as fast as they can. After each put is
//! acknowledged it prints `ack KEY REVISION VALUE`; the test kills the process with SIGKILL at
//! a random moment and checks that every printed write survived.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use store::{DurableOptions, DurableStore, PutRequest};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, round, clients, snapshot_every] = args.as_slice() else {
        eprintln!("usage: store-crash-child DATA_DIR ROUND CLIENTS SNAPSHOT_EVERY");
        return ExitCode::from(2);
    };
    let (Ok(clients), Ok(snapshot_every)) = (clients.parse::<usize>(), snapshot_every.parse())
    else {
        eprintln!("CLIENTS and SNAPSHOT_EVERY must be whole numbers");
        return ExitCode::from(2);
    };
    let options = DurableOptions {
        snapshot_every,
        ..DurableOptions::default()
    };
    let store = match DurableStore::open(&PathBuf::from(dir), options) {
        Ok(store) => Arc::new(store),
        Err(error) => {
            eprintln!("open: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("ready {}", store.status().revision);
    let writers: Vec<_> = (0..clients)
        .map(|client| {
            let store = store.clone();
            let round = round.clone();
            std::thread::spawn(move || write_forever(&store, &round, client))
        })
        .collect();
    for writer in writers {
        let _ = writer.join();
    }
    ExitCode::FAILURE
}

/// Puts `r{round}/c{client}/{n}` for n = 0, 1, 2, ... and reports each acknowledgement.
fn write_forever(store: &DurableStore, round: &str, client: usize) {
    for n in 0u64.. {
        let key = format!("r{round}/c{client}/{n}");
        let value = format!("value-{round}-{client}-{n}");
        match store.put(&PutRequest::new(key.clone(), value.clone())) {
            Ok(response) => {
                // One write call per line, so a kill never interleaves two lines.
                let line = format!("ack {key} {} {value}\n", response.header_revision);
                let mut stdout = std::io::stdout().lock();
                if stdout
                    .write_all(line.as_bytes())
                    .and_then(|()| stdout.flush())
                    .is_err()
                {
                    return;
                }
            }
            Err(error) => {
                eprintln!("put {key}: {error}");
                return;
            }
        }
    }
}
