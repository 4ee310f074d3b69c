//! `skiff-store snapshot save | restore | status`: backups that restore exactly, taken while
//! writes go on, and damaged files refused.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command as Process, Stdio};

use assert_cmd::Command;
use store::{
    DeleteRangeRequest, DurableOptions, DurableStore, PutRequest, RangeRequest, RangeResponse,
};

fn cli() -> Command {
    Command::cargo_bin("skiff-store").unwrap()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A store with history: puts, an overwrite, a delete, a lease and a compaction.
fn build_store(dir: &Path) {
    let store = DurableStore::open(dir, DurableOptions::default()).unwrap();
    store.put(&PutRequest::new("/pods/a", "1")).unwrap(); // 2
    store.put(&PutRequest::new("/pods/b", "1")).unwrap(); // 3
    store.put(&PutRequest::new("/pods/a", "2")).unwrap(); // 4
    store
        .delete_range(&DeleteRangeRequest::key("/pods/b"))
        .unwrap(); // 5
    store.compact(3).unwrap();
    let lease = store.lease_grant(0, 600).unwrap();
    let leased = PutRequest {
        lease,
        ..PutRequest::new("/nodes/n1", "alive")
    };
    store.put(&leased).unwrap(); // 6
    store.put(&PutRequest::new("/pods/c", "1")).unwrap(); // 7
    store.close().unwrap();
}

fn read_all(dir: &Path, revision: i64) -> RangeResponse {
    let store = DurableStore::open(dir, DurableOptions::default()).unwrap();
    let mut response = store.range(&RangeRequest::all().at(revision)).unwrap();
    response.header_revision = 0; // the current revision differs; the contents must not
    response
}

#[test]
fn a_restore_brings_back_exactly_the_saved_state() {
    let work = tempfile::tempdir().unwrap();
    let (original, restored) = (work.path().join("a"), work.path().join("b"));
    let file = work.path().join("backup.snap");
    build_store(&original);
    cli()
        .args([
            "snapshot",
            "save",
            path(&file),
            "--data-dir",
            path(&original),
        ])
        .assert()
        .success()
        .stdout("saved revision 7, 3 keys, 1 leases, compacted at 3\n");
    cli()
        .args([
            "snapshot",
            "restore",
            path(&file),
            "--data-dir",
            path(&restored),
        ])
        .assert()
        .success()
        .stdout("restored revision 7, 3 keys, 1 leases, compacted at 3\n");
    for revision in [3, 4, 5, 6, 7] {
        assert_eq!(
            read_all(&restored, revision),
            read_all(&original, revision),
            "at {revision}"
        );
    }
    let store = DurableStore::open(&restored, DurableOptions::default()).unwrap();
    assert_eq!(store.status().revision, 7);
    assert_eq!(store.status().compact_revision, 3);
    assert_eq!(
        store.lease_time_to_live(1).unwrap().keys,
        vec![b"/nodes/n1".to_vec()]
    );
    let next = store.put(&PutRequest::new("/pods/d", "1")).unwrap();
    assert_eq!(
        next.header_revision, 8,
        "the restored store carries on from its revision"
    );
}

#[test]
fn a_snapshot_file_may_be_named_relative_to_the_current_directory() {
    let work = tempfile::tempdir().unwrap();
    build_store(&work.path().join("data"));
    cli()
        .current_dir(work.path())
        .args(["snapshot", "save", "backup.snap", "--data-dir", "data"])
        .assert()
        .success();
    cli()
        .current_dir(work.path())
        .args([
            "snapshot",
            "restore",
            "backup.snap",
            "--data-dir",
            "restored",
        ])
        .assert()
        .success();
    assert_eq!(
        read_all(&work.path().join("restored"), 7),
        read_all(&work.path().join("data"), 7)
    );
}

#[test]
fn status_describes_a_snapshot() {
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("backup.snap");
    build_store(&work.path().join("data"));
    cli()
        .args([
            "snapshot",
            "save",
            path(&file),
            "--data-dir",
            path(&work.path().join("data")),
        ])
        .assert()
        .success();
    let output = cli()
        .args(["snapshot", "status", path(&file)])
        .output()
        .unwrap();
    insta::assert_snapshot!(String::from_utf8(output.stdout).unwrap());
}

#[test]
fn a_snapshot_taken_while_writes_go_on_is_a_consistent_cut() {
    let work = tempfile::tempdir().unwrap();
    let (live, restored) = (work.path().join("live"), work.path().join("restored"));
    let file = work.path().join("live.snap");
    let mut child = Process::new(env!("CARGO_BIN_EXE_store-crash-child"))
        .args([path(&live), "0", "4", "16"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut acked_before_save = Vec::new();
    while acked_before_save.len() < 200 {
        let line = lines.next().unwrap().unwrap();
        if let Some(ack) = line.strip_prefix("ack ") {
            acked_before_save.push(ack.split(' ').next().unwrap().to_string());
        }
    }
    cli()
        .args(["snapshot", "save", path(&file), "--data-dir", path(&live)])
        .assert()
        .success();
    for _ in 0..200 {
        lines.next(); // let the writers go on after the save, too
    }
    child.kill().unwrap();
    child.wait().unwrap();

    cli()
        .args([
            "snapshot",
            "restore",
            path(&file),
            "--data-dir",
            path(&restored),
        ])
        .assert()
        .success();
    let revision = DurableStore::open(&restored, DurableOptions::default())
        .unwrap()
        .status()
        .revision;
    assert_eq!(read_all(&restored, revision), read_all(&live, revision));
    let saved = read_all(&restored, revision);
    let saved_keys: Vec<&[u8]> = saved.kvs.iter().map(|kv| kv.key.as_slice()).collect();
    for key in &acked_before_save {
        assert!(
            saved_keys.contains(&key.as_bytes()),
            "{key} was acknowledged before the save"
        );
    }
}

fn saved_snapshot(work: &Path) -> std::path::PathBuf {
    let file = work.join("backup.snap");
    build_store(&work.join("data"));
    store::backup::save(&work.join("data"), &file).unwrap();
    file
}

#[test]
fn a_damaged_snapshot_is_refused_and_nothing_is_restored() {
    let work = tempfile::tempdir().unwrap();
    let file = saved_snapshot(work.path());
    let mut bytes = std::fs::read(&file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&file, &bytes).unwrap();
    let target = work.path().join("restored");
    let output = cli()
        .args([
            "snapshot",
            "restore",
            path(&file),
            "--data-dir",
            path(&target),
        ])
        .assert()
        .failure()
        .get_output()
        .stderr
        .clone();
    let message = String::from_utf8(output).unwrap();
    let expected = format!(
        "error: corrupt data in {} at offset 24: checksum mismatch",
        path(&file)
    );
    assert!(message.starts_with(&expected), "{message}");
    assert!(
        !target.exists(),
        "nothing may be written from a damaged snapshot"
    );
}

#[test]
fn a_truncated_or_foreign_file_is_refused() {
    let work = tempfile::tempdir().unwrap();
    let file = saved_snapshot(work.path());
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, &bytes[..bytes.len() - 10]).unwrap();
    let truncated = cli()
        .args(["snapshot", "status", path(&file)])
        .assert()
        .failure();
    let stderr = String::from_utf8(truncated.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.ends_with("at offset 24: file is truncated\n"),
        "{stderr}"
    );

    std::fs::write(&file, b"{\"not\": \"a snapshot\"}").unwrap();
    let foreign = cli()
        .args(["snapshot", "status", path(&file)])
        .assert()
        .failure();
    let stderr = String::from_utf8(foreign.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.ends_with("at offset 0: not a skiff-store snapshot (bad magic)\n"),
        "{stderr}"
    );
}

#[test]
fn a_restore_never_overwrites_a_store() {
    let work = tempfile::tempdir().unwrap();
    let file = saved_snapshot(work.path());
    let data = work.path().join("data");
    let assert = cli()
        .args([
            "snapshot",
            "restore",
            path(&file),
            "--data-dir",
            path(&data),
        ])
        .assert()
        .failure();
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    let expected = format!(
        "error: --data-dir: {} already holds a store; restore into a new directory\n",
        path(&data)
    );
    assert_eq!(stderr, expected);
}

#[test]
fn saving_a_directory_without_a_store_is_refused() {
    let work = tempfile::tempdir().unwrap();
    let assert = cli()
        .args([
            "snapshot",
            "save",
            "out.snap",
            "--data-dir",
            path(work.path()),
        ])
        .assert()
        .failure();
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.ends_with("holds no store (no snapshot or wal)\n"),
        "{stderr}"
    );
}

#[test]
fn bad_command_lines_get_the_usage() {
    let cases = [
        vec!["snapshot", "save", "f.snap"],
        vec!["snapshot", "save", "--data-dir"],
        vec!["snapshot", "save", "f.snap", "--data-dir", "d", "--force"],
        vec!["snapshot", "explode"],
        vec!["serve"],
        vec!["serve", "--data-dir", "d", "--port", "2379"],
        vec!["backup"],
        vec![],
    ];
    let mut report = String::new();
    for args in cases {
        let output = cli().args(&args).output().unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        let first = stderr.lines().next().unwrap_or_default();
        report += &format!("{:?} -> exit {:?}: {first}\n", args, output.status.code());
    }
    insta::assert_snapshot!(report);
}
