//! Running a lab's graded tests with Cargo and reading the results back.
//!
//! Used by the starter-honesty test, by `cargo xtask check` and by `cargo xtask grade`. Tests
//! run in a workspace that may be a copy (a starter, a submission), with a target dir of the
//! caller's choosing, so a run never waits on the lock of the `cargo test` that started it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::grading::TestRef;
use crate::workspace::Lab;

/// How one graded test ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It passed (every time, with `--repeat`).
    Passed,
    /// It failed at least once; `output` is what it printed on the first failure.
    Failed {
        /// The test's captured output (panic message, assertion diff).
        output: String,
        /// It also passed at least once: flaky.
        flaky: bool,
    },
    /// The test target does not contain it (renamed or deleted).
    Missing,
}

impl Outcome {
    /// Whether the test passed.
    pub fn passed(&self) -> bool {
        matches!(self, Outcome::Passed)
    }
}

/// The result of running one lab's graded tests.
#[derive(Debug, Clone)]
pub enum LabRun {
    /// The lab's tests compiled; each graded test has an outcome.
    Ran(BTreeMap<TestRef, Outcome>),
    /// The lab (or its tests) did not compile; the compiler's first error.
    BuildFailed(String),
}

/// Where and how to run Cargo.
#[derive(Debug, Clone)]
pub struct CargoRun {
    /// The workspace to test.
    pub workspace: PathBuf,
    /// The target dir to build into.
    pub target_dir: PathBuf,
    /// Run every test this many times.
    pub repeat: u32,
    /// Tells this copy's build apart from other copies' in a shared target dir (0: as is).
    ///
    /// Cargo names a workspace crate's artifacts after its path *inside* the workspace, so the
    /// reference and a starter (both `labs/00-objects`) would overwrite each other's builds,
    /// and an older source file could even pass for fresh. A distinct, harmless
    /// `codegen-units` for the labs' crates gives each copy its own artifacts, while the
    /// dependencies, compiled once, are shared.
    pub variant: u8,
}

impl CargoRun {
    /// A run of `workspace` with `target_dir`, once per test, as the workspace's own build.
    pub fn new(workspace: &Path, target_dir: &Path) -> CargoRun {
        CargoRun {
            workspace: workspace.to_path_buf(),
            target_dir: target_dir.to_path_buf(),
            repeat: 1,
            variant: 0,
        }
    }

    fn cargo(&self) -> Command {
        let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        if self.variant > 0 {
            let units = 256 - u32::from(self.variant);
            for lab in crate::workspace::labs(&self.workspace).unwrap_or_default() {
                command.arg("--config").arg(format!(
                    "profile.dev.package.{}.codegen-units={units}",
                    lab.package
                ));
            }
        }
        command
            .current_dir(&self.workspace)
            .env("CARGO_TARGET_DIR", &self.target_dir)
            // Colour codes would end up in reports.
            .env("CARGO_TERM_COLOR", "never")
            // A snapshot mismatch must fail, never be written as a new snapshot.
            .env("INSTA_UPDATE", "no")
            // Reports show what failed, not the runtime's frames.
            .env("RUST_BACKTRACE", "0")
            .env_remove("RUSTFLAGS");
        command
    }

    /// Builds the lab's test targets, returning the compiler's first error on failure, and
    /// every warning either way.
    pub fn build(&self, lab: &Lab) -> Result<Vec<String>, String> {
        self.build_targets(lab, None)
    }

    /// Like [`CargoRun::build`], but of the integration tests only those in `tests` (and the
    /// library, binaries and examples, which is where a starter differs from the reference).
    pub fn build_for(&self, lab: &Lab, tests: &[TestRef]) -> Result<Vec<String>, String> {
        self.build_targets(lab, Some(tests))
    }

    fn build_targets(&self, lab: &Lab, tests: Option<&[TestRef]>) -> Result<Vec<String>, String> {
        let mut command = self.cargo();
        command
            .args([
                "test",
                "--locked",
                "--no-run",
                "--message-format=short",
                "-p",
            ])
            .arg(&lab.package);
        if let Some(tests) = tests {
            command.args(["--lib", "--bins", "--examples"]);
            let targets: std::collections::BTreeSet<&str> =
                tests.iter().map(|t| t.target.as_str()).collect();
            for target in targets {
                command.args(["--test", target]);
            }
        }
        let output = command
            .output()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            return Err(first_error(&stderr));
        }
        Ok(stderr
            .lines()
            .filter(|l| l.contains("warning:") && !l.contains("generated"))
            .map(str::to_string)
            .collect())
    }

    /// Builds (see [`CargoRun::build_for`]) then runs the given graded tests of `lab`.
    pub fn run(&self, lab: &Lab, tests: &[TestRef]) -> LabRun {
        if let Err(error) = self.build_for(lab, tests) {
            return LabRun::BuildFailed(error);
        }
        let mut by_target: BTreeMap<&str, Vec<&TestRef>> = BTreeMap::new();
        for test in tests {
            by_target.entry(&test.target).or_default().push(test);
        }
        let mut outcomes = BTreeMap::new();
        for (target, tests) in by_target {
            match self.run_target(lab, target, &tests) {
                Ok(results) => outcomes.extend(results),
                Err(error) => return LabRun::BuildFailed(error),
            }
        }
        LabRun::Ran(outcomes)
    }

    fn run_target(
        &self,
        lab: &Lab,
        target: &str,
        tests: &[&TestRef],
    ) -> Result<BTreeMap<TestRef, Outcome>, String> {
        let mut outcomes: BTreeMap<TestRef, Outcome> = BTreeMap::new();
        for round in 0..self.repeat.max(1) {
            let output = self
                .cargo()
                .args([
                    "test",
                    "--locked",
                    "-p",
                    &lab.package,
                    "--test",
                    target,
                    "--",
                ])
                .arg("--exact")
                .args(tests.iter().map(|t| t.name.as_str()))
                .output()
                .map_err(|e| format!("cannot run cargo: {e}"))?;
            record_round(&output, tests, round, &mut outcomes)?;
        }
        Ok(outcomes)
    }
}

/// The test executables of a whole workspace as an enclosing `cargo test` built them, to run
/// the reference's graded tests without building anything again.
///
/// A nested `cargo test -p <lab>` could not reuse that build: Cargo unifies features over the
/// packages it is asked to build, so one lab alone gets a few dependencies with fewer features
/// than the whole workspace, and with them its own copy of every lab crate above them (measured:
/// `-p skiff-controllers` recompiles the kubelet, the controllers and all their tests).
#[derive(Debug, Clone)]
pub struct Prebuilt {
    workspace: PathBuf,
    /// (manifest path, test target name) → executable.
    executables: BTreeMap<(PathBuf, String), PathBuf>,
}

impl Prebuilt {
    /// Lists the test executables of `workspace`'s default members in `target_dir`, building
    /// whatever is not built yet (nothing, when called from inside the `cargo test` of the same
    /// workspace and target dir: Cargo holds no lock while tests run). The environment is left
    /// as it is (`RUSTFLAGS` included), so that nothing is rebuilt differently.
    pub fn of_workspace(workspace: &Path, target_dir: &Path) -> Result<Prebuilt, String> {
        let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .current_dir(workspace)
            .env("CARGO_TARGET_DIR", target_dir)
            .args(["test", "--locked", "--no-run", "--message-format=json"])
            .output()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        if !output.status.success() {
            return Err(first_error(&String::from_utf8_lossy(&output.stderr)));
        }
        Ok(Prebuilt {
            workspace: workspace.to_path_buf(),
            executables: test_executables(&String::from_utf8_lossy(&output.stdout)),
        })
    }

    /// Runs the given graded tests of `lab` from the prebuilt executables, as `cargo test`
    /// would: in the lab's directory, once each.
    pub fn run(&self, lab: &Lab, tests: &[TestRef]) -> LabRun {
        let manifest = lab_dir(&self.workspace, lab).join("Cargo.toml");
        let mut by_target: BTreeMap<&str, Vec<&TestRef>> = BTreeMap::new();
        for test in tests {
            by_target.entry(&test.target).or_default().push(test);
        }
        let mut outcomes = BTreeMap::new();
        for (target, tests) in by_target {
            let Some(executable) = self
                .executables
                .get(&(manifest.clone(), target.to_string()))
            else {
                for test in tests {
                    outcomes.insert(test.clone(), Outcome::Missing);
                }
                continue;
            };
            let output = Command::new(executable)
                .current_dir(lab_dir(&self.workspace, lab))
                .env("INSTA_UPDATE", "no")
                .env("RUST_BACKTRACE", "0")
                .arg("--exact")
                .args(tests.iter().map(|t| t.name.as_str()))
                .output();
            let recorded = output
                .map_err(|e| format!("cannot run {}: {e}", executable.display()))
                .and_then(|output| record_round(&output, &tests, 0, &mut outcomes));
            if let Err(error) = recorded {
                return LabRun::BuildFailed(error);
            }
        }
        LabRun::Ran(outcomes)
    }
}

/// Reads one run of a test executable into `outcomes`; an error when it printed nothing and
/// failed (it did not build, or could not start).
fn record_round(
    output: &std::process::Output,
    tests: &[&TestRef],
    round: u32,
    outcomes: &mut BTreeMap<TestRef, Outcome>,
) -> Result<(), String> {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if stdout.trim().is_empty() && !output.status.success() {
        return Err(first_error(&stderr));
    }
    let results = parse_libtest(&stdout);
    for test in tests {
        let this_round = match results.get(test.name.as_str()) {
            Some(true) => Outcome::Passed,
            Some(false) => Outcome::Failed {
                output: failure_output(&stdout, &test.name),
                flaky: round > 0 && outcomes.get(*test) == Some(&Outcome::Passed),
            },
            None => Outcome::Missing,
        };
        merge(outcomes, test, this_round);
    }
    Ok(())
}

/// Combines one round's outcome into the running result: a failure sticks, and a failure
/// after a pass (or a pass after a failure) is flaky.
fn merge(outcomes: &mut BTreeMap<TestRef, Outcome>, test: &TestRef, this_round: Outcome) {
    let merged = match (outcomes.remove(test), this_round) {
        (None, new) => new,
        (Some(Outcome::Missing), _) | (_, Outcome::Missing) => Outcome::Missing,
        (Some(Outcome::Passed), Outcome::Passed) => Outcome::Passed,
        (Some(Outcome::Passed), Outcome::Failed { output, .. }) => Outcome::Failed {
            output,
            flaky: true,
        },
        (Some(Outcome::Failed { output, .. }), Outcome::Passed) => Outcome::Failed {
            output,
            flaky: true,
        },
        (Some(Outcome::Failed { output, flaky }), Outcome::Failed { .. }) => {
            Outcome::Failed { output, flaky }
        }
    };
    outcomes.insert(test.clone(), merged);
}

/// The test executables in Cargo's `--message-format=json` output, by (manifest path, target
/// name).
fn test_executables(json_lines: &str) -> BTreeMap<(PathBuf, String), PathBuf> {
    let mut executables = BTreeMap::new();
    for line in json_lines.lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let test_target = message["target"]["kind"]
            .as_array()
            .is_some_and(|kinds| kinds.iter().any(|k| k == "test"));
        let (Some(manifest), Some(name), Some(executable)) = (
            message["manifest_path"].as_str(),
            message["target"]["name"].as_str(),
            message["executable"].as_str(),
        ) else {
            continue;
        };
        if test_target {
            executables.insert(
                (PathBuf::from(manifest), name.to_string()),
                PathBuf::from(executable),
            );
        }
    }
    executables
}

/// Reads `test <name> ... ok|FAILED` lines: name → passed.
pub fn parse_libtest(stdout: &str) -> BTreeMap<&str, bool> {
    let mut results = BTreeMap::new();
    for line in stdout.lines() {
        let Some(rest) = line.strip_prefix("test ") else {
            continue;
        };
        if let Some(name) = rest.strip_suffix(" ... ok") {
            results.insert(name, true);
        } else if let Some(name) = rest.strip_suffix(" ... FAILED") {
            results.insert(name, false);
        }
    }
    results
}

/// The `---- <name> stdout ----` section libtest prints for a failed test, without a
/// backtrace and without the thread id (which changes from run to run).
pub fn failure_output(stdout: &str, name: &str) -> String {
    let header = format!("---- {name} stdout ----");
    let Some(start) = stdout.find(&header) else {
        return String::new();
    };
    let body = &stdout[start + header.len()..];
    let end = [
        "\n---- ",
        "\n\nfailures:",
        "\nfailures:",
        "\nstack backtrace:",
    ]
    .iter()
    .filter_map(|marker| body.find(marker))
    .min()
    .unwrap_or(body.len());
    body[..end]
        .lines()
        .filter(|line| !line.starts_with("note: run with `RUST_BACKTRACE"))
        .map(without_thread_id)
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

/// `thread 'x' (12345) panicked at ...` → `thread 'x' panicked at ...`.
fn without_thread_id(line: &str) -> String {
    if let Some(rest) = line.strip_prefix("thread '")
        && let Some((name, after)) = rest.split_once("' (")
        && let Some((id, tail)) = after.split_once(')')
        && id.chars().all(|c| c.is_ascii_digit())
    {
        return format!("thread '{name}'{tail}");
    }
    line.to_string()
}

/// The compiler's first error (with a few lines of context), or the tail of the output.
pub fn first_error(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().collect();
    match lines.iter().position(|l| l.contains("error")) {
        Some(i) => lines[i..lines.len().min(i + 6)].join("\n"),
        None => lines[lines.len().saturating_sub(6)..].join("\n"),
    }
}

/// The directory of a lab inside `workspace`.
pub fn lab_dir(workspace: &Path, lab: &Lab) -> PathBuf {
    workspace.join(&lab.dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTPUT: &str = "\nrunning 2 tests\ntest a::passes ... ok\ntest fails ... FAILED\n\nfailures:\n\n---- fails stdout ----\n\nthread 'fails' (4242) panicked at tests/x.rs:3:5:\nnot yet implemented: demo-x: hint\nstack backtrace:\n   0: frame\n\n\nfailures:\n    fails\n\ntest result: FAILED. 1 passed; 1 failed\n";

    #[test]
    fn parses_results_and_failure_output() {
        let results = parse_libtest(OUTPUT);
        assert_eq!(results.get("a::passes"), Some(&true));
        assert_eq!(results.get("fails"), Some(&false));
        let failure = failure_output(OUTPUT, "fails");
        assert!(failure.starts_with("thread 'fails' panicked"), "{failure}");
        assert!(failure.ends_with("demo-x: hint"), "{failure}");
    }

    #[test]
    fn test_executables_are_read_from_cargos_json_messages() {
        let lines = [
            r#"{"reason":"compiler-artifact","manifest_path":"/w/labs/02-kubelet/Cargo.toml","target":{"kind":["test"],"name":"lifecycle"},"executable":"/w/target/debug/deps/lifecycle-1"}"#,
            // The same target name in another lab is another executable.
            r#"{"reason":"compiler-artifact","manifest_path":"/w/labs/04-apiserver/Cargo.toml","target":{"kind":["test"],"name":"lifecycle"},"executable":"/w/target/debug/deps/lifecycle-2"}"#,
            // A library's unit tests are not an integration test target.
            r#"{"reason":"compiler-artifact","manifest_path":"/w/labs/02-kubelet/Cargo.toml","target":{"kind":["lib"],"name":"kubelet"},"executable":"/w/target/debug/deps/kubelet-3"}"#,
            r#"{"reason":"compiler-artifact","manifest_path":"/w/labs/02-kubelet/Cargo.toml","target":{"kind":["lib"],"name":"kubelet"},"executable":null}"#,
            r#"{"reason":"build-finished","success":true}"#,
            "not json",
        ]
        .join("\n");
        let found = test_executables(&lines);
        let key = |lab: &str| {
            (
                PathBuf::from(format!("/w/labs/{lab}/Cargo.toml")),
                "lifecycle".to_string(),
            )
        };
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(
            found[&key("02-kubelet")],
            PathBuf::from("/w/target/debug/deps/lifecycle-1")
        );
        assert_eq!(
            found[&key("04-apiserver")],
            PathBuf::from("/w/target/debug/deps/lifecycle-2")
        );
    }

    #[test]
    fn a_test_that_fails_once_is_failed_and_flaky() {
        let test = TestRef::parse("t::x").unwrap();
        let mut outcomes = BTreeMap::new();
        merge(&mut outcomes, &test, Outcome::Passed);
        let failed = Outcome::Failed {
            output: "boom".into(),
            flaky: false,
        };
        merge(&mut outcomes, &test, failed);
        assert_eq!(
            outcomes[&test],
            Outcome::Failed {
                output: "boom".into(),
                flaky: true
            }
        );
    }
}
