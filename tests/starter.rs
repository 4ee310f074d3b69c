//! The starter is honest: every exercise region is graded, the starter builds without
//! warnings, and every graded test passes on the reference and fails in the starter.

use std::collections::BTreeSet;

mod support;

use support::{graded_labs, is_starter, nested_target_dir, root, scratch};
use xtask::grading::TestRef;
use xtask::runner::{CargoRun, LabRun, Outcome};
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

    let target_dir = nested_target_dir();
    let reference = CargoRun::new(&root(), &target_dir);
    let learner = CargoRun {
        variant: 1,
        ..CargoRun::new(&starter_dir, &target_dir)
    };

    let mut problems = Vec::new();
    for (lab, exercises) in graded_labs() {
        if exercises.is_empty() {
            continue;
        }
        match learner.build(&lab) {
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
        let tests: Vec<TestRef> = exercises
            .iter()
            .flat_map(|e| e.test_refs().unwrap())
            .collect();
        let on_reference = outcomes(&reference, &lab, &tests, &mut problems);
        let in_starter = outcomes(&learner, &lab, &tests, &mut problems);
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

fn outcomes(
    run: &CargoRun,
    lab: &Lab,
    tests: &[TestRef],
    problems: &mut Vec<String>,
) -> std::collections::BTreeMap<TestRef, Outcome> {
    match run.run(lab, tests) {
        LabRun::Ran(outcomes) => outcomes,
        LabRun::BuildFailed(error) => {
            problems.push(format!(
                "{} in {} does not build:\n{error}",
                lab.package,
                run.workspace.display()
            ));
            Default::default()
        }
    }
}
