//! The instructor kit, end to end: `grade` scores a fresh starter 0, the reference in full,
//! exactly one solved exercise, ignores edited tests, counts hidden tests, survives a lab that
//! does not compile, and never touches the learner's tree.
//!
//! The scenarios run one after another in one work directory, so each build recompiles only
//! what the previous scenario changed.

mod support;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use support::{is_starter, nested_target_dir, root, scratch};
use xtask::exercises;
use xtask::grade::{self, Options, Report};
use xtask::grading;
use xtask::starter::{self, Selection};
use xtask::workspace::{self, Lab};

/// The labs these scenarios grade: two that do not depend on each other (so breaking one
/// leaves the other gradable) and build quickly. That every lab's graded tests fail in the
/// starter and pass on the reference is the starter-honesty test's job, for all labs.
const GRADED_LABS: [u32; 2] = [0, 3];

fn options(submission: &Path, hidden: Option<PathBuf>, work: &Path) -> Options {
    Options {
        submission: submission.to_path_buf(),
        reference: root(),
        originals: root(),
        labs: GRADED_LABS.to_vec(),
        repeat: 1,
        hidden,
        work_dir: work.to_path_buf(),
        target_dir: nested_target_dir(),
        // The starter-honesty test builds the reference (0) and a starter (1) in the same
        // target dir; the grading work copy gets artifacts of its own.
        variant: 2,
    }
}

fn exercise_scores(report: &Report) -> BTreeMap<String, u32> {
    report
        .labs
        .iter()
        .flat_map(|l| &l.exercises)
        .map(|e| (e.id.clone(), e.score))
        .collect()
}

/// Every file's bytes, by relative path: to prove a tree was not touched.
fn tree_contents(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    workspace::files(dir)
        .unwrap()
        .into_iter()
        .map(|f| {
            let bytes = fs::read(dir.join(&f)).unwrap();
            (f, bytes)
        })
        .collect()
}

/// Puts the reference solution of exercise `id` back into a starter (undoing its `todo!()`).
fn solve(starter_dir: &Path, id: &str) {
    let region = workspace::regions(&root())
        .unwrap()
        .into_iter()
        .find(|r| r.id == id)
        .unwrap();
    let reference = fs::read_to_string(root().join(&region.file)).unwrap();
    let solution: Vec<&str> = reference
        .lines()
        .skip(region.open_line - 1)
        .take(region.close_line - region.open_line + 1)
        .collect();
    let path = starter_dir.join(&region.file);
    let text = fs::read_to_string(&path).unwrap();
    let todo = region.todo_line();
    assert!(text.contains(&todo), "the starter has no `{todo}`");
    fs::write(&path, text.replacen(&todo, &solution.join("\n"), 1)).unwrap();
}

/// Rewrites a graded test file so that every test in it passes without checking anything.
fn gut_test_file(dir: &Path, lab: &Lab, target: &str) -> PathBuf {
    let relative = lab.dir.join("tests").join(format!("{target}.rs"));
    let grading = grading::load(&root(), lab).unwrap();
    let mut fake = String::new();
    for exercise in &grading.exercise {
        for test in exercise.test_refs().unwrap() {
            if test.target == target {
                let (modules, name) = match test.name.rsplit_once("::") {
                    Some((m, n)) => (m.split("::").collect::<Vec<_>>(), n.to_string()),
                    None => (Vec::new(), test.name.clone()),
                };
                let open: String = modules.iter().map(|m| format!("mod {m} {{ ")).collect();
                let close = "} ".repeat(modules.len());
                fake.push_str(&format!("{open}#[test] fn {name}() {{}} {close}\n"));
            }
        }
    }
    fs::write(dir.join(&relative), fake).unwrap();
    relative
}

fn labs_with_exercises() -> Vec<(Lab, Vec<grading::Exercise>)> {
    support::graded_labs()
        .into_iter()
        .filter(|(lab, ex)| !ex.is_empty() && GRADED_LABS.contains(&lab.number))
        .collect()
}

#[test]
fn grading_scores_starters_solutions_tampering_hidden_tests_and_broken_labs() {
    if is_starter() {
        eprintln!("skipped: this workspace is a starter; the grading check runs on the reference");
        return;
    }
    let labs = labs_with_exercises();
    assert_eq!(
        labs.len(),
        GRADED_LABS.len(),
        "expected labs {GRADED_LABS:?} to have exercises"
    );
    let max: u32 = labs.iter().flat_map(|(_, e)| e).map(|e| e.points).sum();
    let dir = scratch("grading");
    let work = dir.join("work");

    // 1. A fresh starter scores 0 for every exercise.
    let starter_dir = dir.join("starter");
    starter::write(&root(), &starter_dir, Selection::AllLabs).unwrap();
    let fresh = grade::grade(&options(&starter_dir, None, &work)).unwrap();
    assert_eq!((fresh.score, fresh.max), (0, max), "{}", fresh.markdown());
    assert!(fresh.tampered.is_empty(), "{:?}", fresh.tampered);

    // 2. One exercise solved (its region copied back) scores exactly its points; a graded
    //    test of another exercise gutted to pass is reported and changes nothing.
    let (first_lab, first_exercises) = &labs[0];
    let solved = &first_exercises[0];
    solve(&starter_dir, &solved.id);
    let (other_lab, other_exercises) = &labs[1];
    let gutted_target = other_exercises[0].test_refs().unwrap()[0].target.clone();
    let gutted = gut_test_file(&starter_dir, other_lab, &gutted_target);
    let before = tree_contents(&starter_dir);
    let one = grade::grade(&options(&starter_dir, None, &work)).unwrap();
    assert_eq!(
        tree_contents(&starter_dir),
        before,
        "grading modified the learner's tree"
    );
    let expected: BTreeMap<String, u32> = labs
        .iter()
        .flat_map(|(_, e)| e)
        .map(|e| (e.id.clone(), if e.id == solved.id { e.points } else { 0 }))
        .collect();
    assert_eq!(exercise_scores(&one), expected, "{}", one.markdown());
    assert_eq!(
        one.tampered,
        vec![format!("{} (changed)", gutted.display())]
    );
    assert_eq!(first_lab.number, one.labs[0].lab);
    insta::assert_snapshot!("sample_report", one.markdown());

    // 3. The reference, with a failing hidden test and a lab that does not compile: the hidden
    //    test costs its exercise, the broken lab scores 0 with the compiler's error, every
    //    other exercise scores in full, and the submission is untouched.
    let reference_copy = dir.join("reference");
    grade::copy_tree(&root(), &reference_copy).unwrap();
    let (broken_lab, broken_exercises) = labs.last().unwrap();
    let lib = reference_copy.join(&broken_lab.dir).join("src/lib.rs");
    let mut source = fs::read_to_string(&lib).unwrap();
    source.push_str("\npub fn broken() -> u32 {\n    \"not a number\"\n}\n");
    fs::write(&lib, source).unwrap();
    let hidden = dir.join("hidden");
    let hidden_exercise = &first_exercises[0].id;
    write_hidden_test(&hidden, first_lab, hidden_exercise);
    let before = tree_contents(&reference_copy);
    let report = grade::grade(&options(&reference_copy, Some(hidden.clone()), &work)).unwrap();
    assert_eq!(
        tree_contents(&reference_copy),
        before,
        "grading modified the submission"
    );
    let broken = report
        .labs
        .iter()
        .find(|l| l.lab == broken_lab.number)
        .unwrap();
    assert_eq!(broken.score, 0);
    let error = broken.build_error.as_deref().unwrap_or_default();
    assert!(
        error.contains("error[E0308]"),
        "expected the compiler's error, got: {error}"
    );
    for (lab, exercises) in &labs {
        for exercise in exercises {
            let score = exercise_scores(&report)[&exercise.id];
            let expected = if lab.number == broken_lab.number || exercise.id == *hidden_exercise {
                0
            } else {
                exercise.points
            };
            assert_eq!(score, expected, "{}: {}", exercise.id, report.markdown());
        }
    }
    assert!(broken_exercises.iter().all(|e| e.points > 0));
    let md = report.markdown();
    assert!(
        md.contains("(hidden)") && md.contains("instructor's hidden check"),
        "{md}"
    );

    // 4. The same machinery for the learner: exercises and their hints in the starter.
    let hint = xtask::check::hint(&starter_dir, &other_exercises[0].id).unwrap();
    assert!(
        hint.contains("hint:") && hint.contains("cargo test -p"),
        "{hint}"
    );
}

/// A hidden test for `exercise` that fails, and the grading file that attaches it.
fn write_hidden_test(hidden: &Path, lab: &Lab, exercise: &str) {
    let tests = hidden.join(&lab.dir).join("tests");
    fs::create_dir_all(&tests).unwrap();
    fs::write(
        tests.join("instructor_hidden.rs"),
        "#[test]\nfn stricter_than_the_public_tests() {\n    \
         assert_eq!(1 + 1, 3, \"instructor's hidden check\");\n}\n",
    )
    .unwrap();
    fs::write(
        hidden.join(&lab.dir).join("grading.toml"),
        format!(
            "[[exercise]]\nid = \"{exercise}\"\n\
             tests = [\"instructor_hidden::stricter_than_the_public_tests\"]\n"
        ),
    )
    .unwrap();
}

#[test]
fn a_single_lab_starter_strips_only_that_lab() {
    let labs = labs_with_exercises();
    let (lab, _) = labs.last().unwrap();
    let dir = scratch("single-lab-starter");
    let summary = starter::write(&root(), &dir.join("s"), Selection::Lab(lab.number)).unwrap();
    assert!(!summary.stripped.is_empty());
    assert!(
        summary
            .stripped
            .iter()
            .all(|r| r.file.starts_with(&lab.dir))
    );
    for region in workspace::regions(&root()).unwrap() {
        let text = fs::read_to_string(dir.join("s").join(&region.file)).unwrap();
        let stripped = text.contains(&region.todo_line());
        assert_eq!(stripped, region.file.starts_with(&lab.dir), "{}", region.id);
        if !stripped {
            assert!(!text.contains(exercises::STARTER_ALLOW));
        }
    }
    let manifest = starter::read_manifest(&dir.join("s")).unwrap();
    assert_eq!(manifest.stripped_labs, vec![lab.number]);
    assert!(!manifest.protected.is_empty());
}

#[test]
fn a_starter_inside_the_workspace_is_refused_and_nothing_is_written() {
    let inside = root().join("labs").join("my-starter");
    let error = starter::write(&root(), &inside, Selection::AllLabs).unwrap_err();
    assert!(error.contains("inside the workspace"), "{error}");
    assert!(
        !inside.exists(),
        "the refused starter left {} behind",
        inside.display()
    );
}
