//! `cargo xtask grade`: score a submission per lab and per exercise.
//!
//! The submission is never touched. It is copied into a work directory; every protected file
//! (graded tests, snapshots, grading files) is restored there from the originals, and each one
//! the learner changed is listed; instructor hidden tests are laid over the copy; then each
//! lab's graded tests run. An exercise earns its points when all its tests pass (including
//! hidden ones). A lab that does not compile scores 0, with the compiler's first error.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::grading::{self, Exercise, GradingFile, HiddenFile, TestRef};
use crate::runner::{CargoRun, LabRun, Outcome};
use crate::starter;
use crate::workspace::{self, Lab};

/// How many lines of a failure the report keeps.
const FAILURE_LINES: usize = 6;

/// What to grade and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// The learner's workspace (left unchanged).
    pub submission: PathBuf,
    /// The workspace whose labs are graded (the grader's own): it lists the labs.
    pub reference: PathBuf,
    /// Where the protected files' originals come from: a reference workspace, or a starter's
    /// saved originals (see [`starter::ORIGINALS`]).
    pub originals: PathBuf,
    /// Only these labs (all labs when empty).
    pub labs: Vec<u32>,
    /// Run each graded test this many times; one failure fails it (and marks it flaky).
    pub repeat: u32,
    /// Instructor tests laid over the copy: same layout as the workspace (`labs/NN-name/...`).
    pub hidden: Option<PathBuf>,
    /// Scratch directory for the copy (emptied first).
    pub work_dir: PathBuf,
    /// Cargo target dir for the builds (kept between runs, so dependencies compile once).
    pub target_dir: PathBuf,
    /// See [`CargoRun::variant`]: set it when the target dir is shared with other copies.
    pub variant: u8,
}

/// The whole report.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Report {
    /// Points earned.
    pub score: u32,
    /// Points available.
    pub max: u32,
    /// One entry per graded lab.
    pub labs: Vec<LabReport>,
    /// Protected files the learner changed, added or deleted; restored before grading.
    pub tampered: Vec<String>,
}

/// One lab's part of the report.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LabReport {
    /// The lab number.
    pub lab: u32,
    /// The package name.
    pub package: String,
    /// Points earned.
    pub score: u32,
    /// Points available.
    pub max: u32,
    /// The compiler's first error, when the lab did not build.
    pub build_error: Option<String>,
    /// The lab's exercises.
    pub exercises: Vec<ExerciseReport>,
}

/// One exercise's part of the report.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ExerciseReport {
    /// The exercise id.
    pub id: String,
    /// Points earned: all or nothing.
    pub score: u32,
    /// Points available.
    pub max: u32,
    /// Each graded test.
    pub tests: Vec<TestReport>,
}

/// One graded test's part of the report.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TestReport {
    /// `target::name`.
    pub name: String,
    /// Whether it passed (every repetition).
    pub passed: bool,
    /// It both passed and failed across repetitions.
    pub flaky: bool,
    /// It came from the instructor's hidden tests.
    pub hidden: bool,
    /// The first lines of its failure.
    pub failure: Option<String>,
}

/// Grades a submission.
pub fn grade(options: &Options) -> Result<Report, String> {
    let copy = options.work_dir.join("submission");
    if options.work_dir.exists() {
        fs::remove_dir_all(&options.work_dir)
            .map_err(|e| format!("{}: {e}", options.work_dir.display()))?;
    }
    copy_tree(&options.submission, &copy)?;

    let labs = workspace::labs(&options.reference).map_err(|e| e.to_string())?;
    let tampered = restore_protected(&options.originals, &copy, &labs)?;
    let hidden_tests = match &options.hidden {
        Some(dir) => overlay_hidden(dir, &copy, &labs)?,
        None => BTreeMap::new(),
    };

    let run = CargoRun {
        repeat: options.repeat,
        variant: options.variant,
        ..CargoRun::new(&copy, &options.target_dir)
    };
    let mut reports = Vec::new();
    for lab in labs
        .iter()
        .filter(|l| options.labs.is_empty() || options.labs.contains(&l.number))
    {
        let mut file = grading::load(&options.originals, lab)?;
        if let Some(extra) = hidden_tests.get(&lab.number) {
            merge_hidden(&mut file, extra)?;
        }
        if !file.exercise.is_empty() {
            reports.push(grade_lab(&run, lab, &file, hidden_tests.get(&lab.number)));
        }
    }
    if !options.labs.is_empty() && reports.len() < options.labs.len() {
        let found: Vec<u32> = reports.iter().map(|r| r.lab).collect();
        let missing: Vec<String> = options
            .labs
            .iter()
            .filter(|n| !found.contains(n))
            .map(u32::to_string)
            .collect();
        return Err(format!(
            "--lab {}: no such lab with graded exercises",
            missing.join(", ")
        ));
    }
    Ok(Report {
        score: reports.iter().map(|l| l.score).sum(),
        max: reports.iter().map(|l| l.max).sum(),
        labs: reports,
        tampered,
    })
}

fn grade_lab(
    run: &CargoRun,
    lab: &Lab,
    file: &GradingFile,
    hidden: Option<&HiddenFile>,
) -> LabReport {
    let tests = file.test_refs();
    let is_hidden = |test: &TestRef| {
        hidden.is_some_and(|h| {
            h.exercise
                .iter()
                .any(|e| e.tests.iter().any(|t| *t == test.to_string()))
        })
    };
    let (outcomes, build_error) = match run.run(lab, &tests) {
        LabRun::Ran(outcomes) => (outcomes, None),
        LabRun::BuildFailed(error) => (BTreeMap::new(), Some(error)),
    };
    let exercises: Vec<ExerciseReport> = file
        .exercise
        .iter()
        .map(|exercise| exercise_report(exercise, &outcomes, &is_hidden))
        .collect();
    LabReport {
        lab: lab.number,
        package: lab.package.clone(),
        score: exercises.iter().map(|e| e.score).sum(),
        max: exercises.iter().map(|e| e.max).sum(),
        build_error,
        exercises,
    }
}

fn exercise_report(
    exercise: &Exercise,
    outcomes: &BTreeMap<TestRef, Outcome>,
    is_hidden: &dyn Fn(&TestRef) -> bool,
) -> ExerciseReport {
    let tests: Vec<TestReport> = exercise
        .test_refs()
        .unwrap_or_default()
        .iter()
        .map(|test| {
            let (passed, flaky, failure) = match outcomes.get(test) {
                Some(Outcome::Passed) => (true, false, None),
                Some(Outcome::Failed { output, flaky }) => {
                    (false, *flaky, Some(first_lines(output)))
                }
                Some(Outcome::Missing) => (false, false, Some("test not found".to_string())),
                None => (
                    false,
                    false,
                    Some("not run: the lab did not build".to_string()),
                ),
            };
            TestReport {
                name: test.to_string(),
                passed,
                flaky,
                hidden: is_hidden(test),
                failure,
            }
        })
        .collect();
    let all_passed = !tests.is_empty() && tests.iter().all(|t| t.passed);
    ExerciseReport {
        id: exercise.id.clone(),
        score: if all_passed { exercise.points } else { 0 },
        max: exercise.points,
        tests,
    }
}

fn first_lines(output: &str) -> String {
    output
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("note: run with `RUST_BACKTRACE"))
        .take(FAILURE_LINES)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Copies a workspace without its build output. Every copied file gets a new modification
/// time, so Cargo never mistakes a changed file in a reused work directory for a fresh one.
pub fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    for file in workspace::files(from).map_err(|e| format!("{}: {e}", from.display()))? {
        copy_file(&from.join(&file), &to.join(&file))?;
    }
    Ok(())
}

fn copy_file(from: &Path, to: &Path) -> Result<(), String> {
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    fs::copy(from, to).map_err(|e| format!("{}: {e}", from.display()))?;
    Ok(())
}

/// Restores every protected file of `copy` from `originals`; returns the ones that differed.
fn restore_protected(originals: &Path, copy: &Path, labs: &[Lab]) -> Result<Vec<String>, String> {
    let mut tampered = Vec::new();
    let original_files: Vec<PathBuf> = workspace::files(originals)
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|f| starter::is_protected(labs, f))
        .collect();
    for file in &original_files {
        let original = fs::read(originals.join(file)).map_err(|e| e.to_string())?;
        let submitted = fs::read(copy.join(file)).ok();
        if submitted.as_deref() != Some(&original[..]) {
            let what = if submitted.is_some() {
                "changed"
            } else {
                "deleted"
            };
            tampered.push(format!("{} ({what})", file.display()));
            copy_file(&originals.join(file), &copy.join(file))?;
        }
    }
    for file in workspace::files(copy).map_err(|e| e.to_string())? {
        if starter::is_protected(labs, &file) && !original_files.contains(&file) {
            // insta leaves `.snap.new` files behind when a snapshot fails: not tampering.
            if !is_pending_snapshot(&file) {
                tampered.push(format!("{} (added)", file.display()));
            }
            fs::remove_file(copy.join(&file)).map_err(|e| e.to_string())?;
        }
    }
    tampered.sort();
    Ok(tampered)
}

fn is_pending_snapshot(file: &Path) -> bool {
    let name = file.to_string_lossy();
    name.ends_with(".snap.new") || name.ends_with(".pending-snap")
}

/// Lays the instructor's files over the copy. A `labs/NN-name/grading.toml` in the hidden
/// directory adds its tests to the lab's exercises; returns those additions by lab number.
fn overlay_hidden(
    hidden: &Path,
    copy: &Path,
    labs: &[Lab],
) -> Result<BTreeMap<u32, HiddenFile>, String> {
    if !hidden.is_dir() {
        return Err(format!("--hidden {}: not a directory", hidden.display()));
    }
    let mut additions = BTreeMap::new();
    for file in workspace::files(hidden).map_err(|e| e.to_string())? {
        let Some(lab) = workspace::lab_of(labs, &file) else {
            return Err(format!(
                "--hidden: {} is not under a lab directory (labs/NN-name/...)",
                file.display()
            ));
        };
        if file == lab.dir.join("grading.toml") {
            let text = fs::read_to_string(hidden.join(&file)).map_err(|e| e.to_string())?;
            let extra: HiddenFile =
                toml::from_str(&text).map_err(|e| format!("--hidden {}: {e}", file.display()))?;
            additions.insert(lab.number, extra);
        } else {
            copy_file(&hidden.join(&file), &copy.join(&file))?;
        }
    }
    Ok(additions)
}

/// Adds hidden tests to the exercises they name.
fn merge_hidden(file: &mut GradingFile, extra: &HiddenFile) -> Result<(), String> {
    for addition in &extra.exercise {
        let Some(exercise) = file.exercise.iter_mut().find(|e| e.id == addition.id) else {
            return Err(format!(
                "--hidden grading.toml: no exercise `{}`",
                addition.id
            ));
        };
        for test in &addition.tests {
            TestRef::parse(test).map_err(|e| format!("--hidden grading.toml: {e}"))?;
        }
        exercise.tests.extend(addition.tests.iter().cloned());
    }
    Ok(())
}

impl Report {
    /// The report as a Markdown table with failures and tampering listed.
    pub fn markdown(&self) -> String {
        let mut out = String::from("# skiff grade report\n\n");
        out.push_str("| lab | exercise | points | tests |\n|---|---|---:|---|\n");
        for lab in &self.labs {
            for ex in &lab.exercises {
                let passed = ex.tests.iter().filter(|t| t.passed).count();
                out.push_str(&format!(
                    "| {:02} {} | `{}` | {} / {} | {passed}/{} passed{} |\n",
                    lab.lab,
                    lab.package,
                    ex.id,
                    ex.score,
                    ex.max,
                    ex.tests.len(),
                    if ex.tests.iter().any(|t| t.flaky) {
                        ", flaky"
                    } else {
                        ""
                    }
                ));
            }
            out.push_str(&format!(
                "| **{:02} {}** | **lab total** | **{} / {}** | |\n",
                lab.lab, lab.package, lab.score, lab.max
            ));
        }
        out.push_str(&format!("\n**Total: {} / {}**\n", self.score, self.max));
        self.markdown_problems(&mut out);
        out
    }

    fn markdown_problems(&self, out: &mut String) {
        for lab in self.labs.iter().filter(|l| l.build_error.is_some()) {
            out.push_str(&format!(
                "\n## {:02} {} does not compile (0 points)\n\n```text\n{}\n```\n",
                lab.lab,
                lab.package,
                lab.build_error.as_deref().unwrap_or_default()
            ));
        }
        let failing: Vec<&ExerciseReport> = self
            .labs
            .iter()
            .filter(|l| l.build_error.is_none())
            .flat_map(|l| l.exercises.iter())
            .filter(|e| e.tests.iter().any(|t| !t.passed))
            .collect();
        if !failing.is_empty() {
            out.push_str("\n## Failed tests\n");
        }
        for exercise in failing {
            markdown_failures(out, exercise);
        }
        if !self.tampered.is_empty() {
            out.push_str(
                "\n## Protected files changed by the learner\n\nThese were restored to the \
                 originals before grading; the changes had no effect on the score.\n\n",
            );
            for file in &self.tampered {
                out.push_str(&format!("- {file}\n"));
            }
        }
    }

    /// The report as JSON, for an LMS import.
    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serializes") + "\n"
    }

    /// The report as JUnit XML, for CI dashboards: one suite per lab, one case per test.
    pub fn junit(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let tests: usize = self
            .labs
            .iter()
            .flat_map(|l| &l.exercises)
            .map(|e| e.tests.len())
            .sum();
        let failures = self.failed_tests();
        out.push_str(&format!(
            "<testsuites name=\"skiff\" tests=\"{tests}\" failures=\"{failures}\">\n"
        ));
        for lab in &self.labs {
            let cases: Vec<(&ExerciseReport, &TestReport)> = lab
                .exercises
                .iter()
                .flat_map(|e| e.tests.iter().map(move |t| (e, t)))
                .collect();
            let failed = cases.iter().filter(|(_, t)| !t.passed).count();
            out.push_str(&format!(
                "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\">\n",
                xml(&lab.package),
                cases.len()
            ));
            for (exercise, test) in cases {
                out.push_str(&format!(
                    "    <testcase classname=\"{}\" name=\"{}\"",
                    xml(&exercise.id),
                    xml(&test.name)
                ));
                match &test.failure {
                    None => out.push_str("/>\n"),
                    Some(failure) => out.push_str(&format!(
                        ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                        xml(failure.lines().next().unwrap_or_default()),
                        xml(failure)
                    )),
                }
            }
            out.push_str("  </testsuite>\n");
        }
        out.push_str("</testsuites>\n");
        out
    }

    fn failed_tests(&self) -> usize {
        self.labs
            .iter()
            .flat_map(|l| &l.exercises)
            .flat_map(|e| &e.tests)
            .filter(|t| !t.passed)
            .count()
    }
}

/// One exercise's failed tests. Many failures of one exercise are the same `todo!()` panic, so
/// a failure identical to the one shown just before it (but for the test's name) is not
/// repeated.
fn markdown_failures(out: &mut String, exercise: &ExerciseReport) {
    let failed: Vec<&TestReport> = exercise.tests.iter().filter(|t| !t.passed).collect();
    out.push_str(&format!(
        "\n### `{}`: {} of {} tests failed\n",
        exercise.id,
        failed.len(),
        exercise.tests.len()
    ));
    let mut shown: Option<String> = None;
    for test in failed {
        let flags = match (test.hidden, test.flaky) {
            (true, true) => " (hidden, flaky)",
            (true, false) => " (hidden)",
            (false, true) => " (flaky)",
            (false, false) => "",
        };
        let failure = test.failure.as_deref().unwrap_or_default();
        let anonymous = failure.replace(&format!("'{}'", test_fn_name(&test.name)), "'…'");
        if shown.as_deref() == Some(anonymous.as_str()) {
            out.push_str(&format!("\n- `{}`{flags}: the same failure\n", test.name));
        } else {
            out.push_str(&format!("\n- `{}`{flags}:\n\n  ```text\n", test.name));
            for line in failure.lines() {
                out.push_str(&format!("  {line}\n"));
            }
            out.push_str("  ```\n");
            shown = Some(anonymous);
        }
    }
}

/// The test function's own name (libtest names the panicking thread after it).
fn test_fn_name(test: &str) -> &str {
    test.rsplit("::").next().unwrap_or(test)
}

fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Report {
        let test = |name: &str, passed: bool| TestReport {
            name: name.into(),
            passed,
            flaky: false,
            hidden: false,
            failure: (!passed)
                .then(|| "thread 'x' panicked\nnot yet implemented: a-b: hint".into()),
        };
        Report {
            score: 10,
            max: 20,
            labs: vec![LabReport {
                lab: 0,
                package: "skiff-api".into(),
                score: 10,
                max: 20,
                build_error: None,
                exercises: vec![
                    ExerciseReport {
                        id: "a-b".into(),
                        score: 0,
                        max: 10,
                        tests: vec![test("t::x", false)],
                    },
                    ExerciseReport {
                        id: "a-c".into(),
                        score: 10,
                        max: 10,
                        tests: vec![test("t::y", true)],
                    },
                ],
            }],
            tampered: vec!["labs/00-objects/tests/t.rs (changed)".into()],
        }
    }

    #[test]
    fn markdown_has_the_table_the_total_failures_and_tampering() {
        let md = sample().markdown();
        assert!(
            md.contains("| 00 skiff-api | `a-b` | 0 / 10 | 0/1 passed |"),
            "{md}"
        );
        assert!(md.contains("**Total: 10 / 20**"), "{md}");
        assert!(md.contains("### `a-b`: 1 of 1 tests failed"), "{md}");
        assert!(
            md.contains("- `t::x`:\n\n  ```text\n  thread 'x' panicked"),
            "{md}"
        );
        assert!(
            md.contains("- labs/00-objects/tests/t.rs (changed)"),
            "{md}"
        );
    }

    #[test]
    fn junit_escapes_and_counts() {
        let xml = sample().junit();
        assert!(
            xml.contains("<testsuites name=\"skiff\" tests=\"2\" failures=\"1\">"),
            "{xml}"
        );
        assert!(
            xml.contains("<failure message=\"thread 'x' panicked\">"),
            "{xml}"
        );
    }

    #[test]
    fn json_round_trips_the_numbers() {
        let json: serde_json::Value = serde_json::from_str(&sample().json()).unwrap();
        assert_eq!(json["score"], 10);
        assert_eq!(json["labs"][0]["exercises"][0]["tests"][0]["passed"], false);
    }
}
