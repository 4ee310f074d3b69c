//! The crash test: SIGKILL a writer at random moments; every acknowledged write must survive.
//!
//! A child process (`store-crash-child`) writes fresh keys from 8 threads and prints each
//! acknowledged put. The test kills it after a seeded-random number of acknowledgements, 50
//! times, reopening the store after each kill and checking every write acknowledged so far:
//! present, with its value and its revision, and the revisions without a gap.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use store::durable::WAL_FILE;
use store::wal::scan_log;
use store::{DurableOptions, DurableStore, RangeRequest};

const ROUNDS: u64 = 50;
const CLIENTS: &str = "8";
const SNAPSHOT_EVERY: &str = "64";

/// A tiny seeded generator (SplitMix64), so every run kills at the same ack counts.
struct Rng(u64);

impl Rng {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % bound
    }
}

/// An acknowledged write: key -> (revision, value).
type Acks = BTreeMap<String, (i64, String)>;

/// Runs the child until it has acknowledged `kill_after` writes, kills it, and collects every
/// acknowledgement it printed before dying.
fn run_and_kill(dir: &Path, round: u64, kill_after: u64, acks: &mut Acks) -> u64 {
    let mut child = Command::new(env!("CARGO_BIN_EXE_store-crash-child"))
        .args([
            dir.to_str().unwrap(),
            &round.to_string(),
            CLIENTS,
            SNAPSHOT_EVERY,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the crash child");
    let mut lines = BufReader::new(child.stdout.take().unwrap());
    let mut seen = 0;
    let mut killed = false;
    let mut line = String::new();
    while lines.read_line(&mut line).expect("read the child's stdout") > 0 {
        // A line cut short by the kill has no newline: that ack was never completed.
        if let Some(text) = line.strip_suffix('\n') {
            if let Some(ack) = text.strip_prefix("ack ") {
                let mut fields = ack.split(' ');
                let (key, revision, value) = (fields.next(), fields.next(), fields.next());
                let revision = revision.unwrap().parse().expect("a revision");
                acks.insert(
                    key.unwrap().to_string(),
                    (revision, value.unwrap().to_string()),
                );
                seen += 1;
            }
            if !killed
                && (text.starts_with("ready") || text.starts_with("ack"))
                && seen >= kill_after
            {
                child.kill().expect("SIGKILL the child");
                killed = true;
            }
        }
        line.clear();
    }
    assert!(killed, "round {round}: the child exited on its own");
    child.wait().expect("reap the child");
    seen
}

// ANCHOR: verify
/// Reopens the store and checks every acknowledged write and the revision sequence.
fn verify(dir: &Path, acks: &Acks, round: u64) -> bool {
    let log = std::fs::read(dir.join(WAL_FILE)).unwrap_or_default();
    let scan = scan_log(&log).expect("a killed process never corrupts the middle of the log");
    let torn = scan.valid_len < log.len() as u64;
    let store = DurableStore::open(dir, DurableOptions::default()).expect("recover");
    for (key, (revision, value)) in acks {
        let found = store.range(&RangeRequest::key(key.as_str())).unwrap();
        let kv = found
            .kvs
            .first()
            .unwrap_or_else(|| panic!("round {round}: lost {key}"));
        assert_eq!(
            kv.mod_revision, *revision,
            "round {round}: {key} has the wrong revision"
        );
        assert_eq!(
            kv.value,
            value.as_bytes(),
            "round {round}: {key} has the wrong value"
        );
    }
    let all = store.range(&RangeRequest::all()).unwrap();
    let mut revisions: Vec<i64> = all.kvs.iter().map(|kv| kv.mod_revision).collect();
    revisions.sort_unstable();
    let expected: Vec<i64> = (2..=store.status().revision).collect();
    assert_eq!(
        revisions, expected,
        "round {round}: revisions have a gap or a repeat"
    );
    store.close().expect("close");
    torn
}
// ANCHOR_END: verify

#[test]
fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(0x5EED);
    let mut acks = Acks::new();
    let mut torn_tails = 0;
    for round in 0..ROUNDS {
        let kill_after = rng.below(250);
        run_and_kill(dir.path(), round, kill_after, &mut acks);
        if verify(dir.path(), &acks, round) {
            torn_tails += 1;
        }
    }
    println!(
        "crash test: {ROUNDS} SIGKILLs, {} acknowledged writes all recovered with their \
         revisions, {torn_tails} torn tails truncated",
        acks.len()
    );
    assert!(
        acks.len() as u64 >= ROUNDS,
        "the child wrote too little to test anything"
    );
}
