//! The starter is honest: every exercise region is graded, the starter builds without
//! warnings, and every graded test passes on the reference and fails in the starter.

use std::collections::BTreeSet;

mod support;

use support::{graded_labs, is_starter, nested_target_dir, root, scratch};
use xtask::grading::TestRef;
use xtask::runner::{CargoRun, LabRun, Outcome, Prebuilt};
use xtask::starter::{self, Selection};
use xtask::workspace::{self, Lab};

#[test]
fn every_exercise_region_has_a_grading_entry_and_every_entry_a_region() {
    let regions: BTreeSet<String> = workspace::regions(&root())
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|r| r.id)
        .collect();
    let graded: BTreeSet<String> = graded_labs()
        .into_iter()
        .flat_map(|(_, exercises)| exercises.into_iter().map(|e| e.id))
        .collect();
    let ungraded: Vec<_> = regions.difference(&graded).collect();
    let orphaned: Vec<_> = graded.difference(&regions).collect();
    assert!(
        ungraded.is_empty(),
        "regions without a grading.toml entry: {ungraded:?}"
    );
    assert!(
        orphaned.is_empty(),
        "grading.toml entries without a region: {orphaned:?}"
    );
    assert!(
        regions.len() >= 7,
        "expected at least 7 exercises, found {}",
        regions.len()
    );
}

#[test]
fn graded_tests_pass_on_the_reference_and_fail_in_the_starter() {
    if is_starter() {
        eprintln!("skipped: this workspace is a starter; the check runs on the reference");
        return;
    }
    let dir = scratch("starter-honesty");
    let starter_dir = dir.join("starter");
    let summary = starter::write(&root(), &starter_dir, Selection::AllLabs).unwrap();
    assert!(!summary.stripped.is_empty(), "the starter stripped nothing");

    // The reference's tests are the ones the enclosing `cargo test` has just built: run
    // those. The starter builds in a target dir of its own, and only what the graded tests
    // need (the starter differs from the reference in `src/` only).
    let reference = Prebuilt::of_workspace(&root(), &enclosing_target_dir())
        .unwrap_or_else(|e| panic!("the reference does not build:\n{e}"));
    let learner = CargoRun {
        variant: 1,
        ..CargoRun::new(&starter_dir, &nested_target_dir())
    };

    let mut problems = Vec::new();
    for (lab, exercises) in graded_labs() {
        if exercises.is_empty() {
            continue;
        }
        let tests: Vec<TestRef> = exercises
            .iter()
            .flat_map(|e| e.test_refs().unwrap())
            .collect();
        match learner.build_for(&lab, &tests) {
            Ok(warnings) if warnings.is_empty() => {}
            Ok(warnings) => problems.push(format!(
                "{}: the starter builds with warnings:\n{}",
                lab.package,
                warnings.join("\n")
            )),
            Err(error) => problems.push(format!(
                "{}: the starter does not build:\n{error}",
                lab.package
            )),
        }
        let on_reference = ran(
            reference.run(&lab, &tests),
            &lab,
            "the reference",
            &mut problems,
        );
        let in_starter = ran(
            learner.run(&lab, &tests),
            &lab,
            "the starter",
            &mut problems,
        );
        for exercise in &exercises {
            let id = &exercise.id;
            for test in &exercise.test_refs().unwrap() {
                match on_reference.get(test) {
                    Some(Outcome::Passed) => {}
                    Some(Outcome::Missing) | None => {
                        problems.push(format!("{id}: graded test `{test}` does not exist"))
                    }
                    Some(Outcome::Failed { output, .. }) => problems.push(format!(
                        "{id}: graded test `{test}` fails on the reference:\n{output}"
                    )),
                }
                if in_starter.get(test).is_some_and(Outcome::passed) {
                    problems.push(format!(
                        "{id}: graded test `{test}` passes in the starter, so it grades nothing"
                    ));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "the starter is not honest:\n\n{}",
        problems.join("\n\n")
    );
}

/// The outcomes of a run, or none (and a problem) when `which` did not build.
fn ran(
    run: LabRun,
    lab: &Lab,
    which: &str,
    problems: &mut Vec<String>,
) -> std::collections::BTreeMap<TestRef, Outcome> {
    match run {
        LabRun::Ran(outcomes) => outcomes,
        LabRun::BuildFailed(error) => {
            problems.push(format!(
                "{} in {which} does not build:\n{error}",
                lab.package
            ));
            Default::default()
        }
    }
}

/// The target dir of the `cargo test` running this test: its executable is
/// `<target dir>/<profile>/deps/<name>-<hash>`.
fn enclosing_target_dir() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    exe.ancestors()
        .nth(3)
        .expect("a test executable lives in <target>/<profile>/deps")
        .to_path_buf()
}
