//! `cargo xtask check` and `cargo xtask hint`: the grader's machinery, with a learner's output.

use std::path::Path;

use crate::grading::{self, TestRef};
use crate::runner::{CargoRun, LabRun, Outcome};
use crate::workspace::{self, Lab};

/// One exercise's state in the learner's workspace.
#[derive(Debug, Clone)]
pub struct ExerciseState {
    /// The lab it belongs to.
    pub lab: Lab,
    /// The exercise id.
    pub id: String,
    /// Its points.
    pub points: u32,
    /// Graded tests passed / total.
    pub passed: usize,
    /// Graded tests in all.
    pub total: usize,
    /// The first failing test and its output.
    pub first_failure: Option<(TestRef, String)>,
}

impl ExerciseState {
    /// Whether every graded test passes.
    pub fn done(&self) -> bool {
        self.total > 0 && self.passed == self.total
    }
}

/// The learner's progress over the checked labs.
#[derive(Debug, Clone)]
pub struct Progress {
    /// Every exercise, in lab and chapter order.
    pub exercises: Vec<ExerciseState>,
    /// Labs that did not compile, with the compiler's first error.
    pub broken: Vec<(Lab, String)>,
    /// The hint of each exercise, by id.
    hints: Vec<(String, String)>,
}

impl Progress {
    /// Whether every exercise is done and every lab compiles.
    pub fn all_done(&self) -> bool {
        self.broken.is_empty() && self.exercises.iter().all(ExerciseState::done)
    }

    /// A progress table, then help for the first exercise still to do.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "{:<4} {:<32} {:<8} {}\n",
            "lab", "exercise", "tests", "status"
        ));
        for ex in &self.exercises {
            let status = if ex.done() { "done" } else { "to do" };
            out.push_str(&format!(
                "{:<4} {:<32} {:<8} {status}\n",
                format!("{:02}", ex.lab.number),
                ex.id,
                format!("{}/{}", ex.passed, ex.total)
            ));
        }
        let done = self.exercises.iter().filter(|e| e.done()).count();
        out.push_str(&format!(
            "\n{done} of {} exercises done.\n",
            self.exercises.len()
        ));
        for (lab, error) in &self.broken {
            out.push_str(&format!("\n{} does not compile:\n{error}\n", lab.package));
        }
        if let Some(next) = self.exercises.iter().find(|e| !e.done()) {
            out.push_str(&format!("\nNext: `{}`\n", next.id));
            if let Some((_, hint)) = self.hints.iter().find(|(id, _)| *id == next.id) {
                out.push_str(&format!("  hint: {hint}\n"));
            }
            if let Some((test, output)) = &next.first_failure {
                out.push_str(&format!("  failing test: {test}\n"));
                for line in output.lines().filter(|l| !l.trim().is_empty()).take(8) {
                    out.push_str(&format!("    {line}\n"));
                }
                out.push_str(&format!(
                    "  run it: cargo test -p {} --test {}\n",
                    next.lab.package, test.target
                ));
            }
        }
        out
    }
}

/// Runs the graded tests of every lab (or lab `only`) in place, in the workspace's own
/// target dir, so the build is shared with the learner's `cargo test`.
pub fn check(root: &Path, only: Option<u32>) -> Result<Progress, String> {
    let run = CargoRun::new(root, &root.join("target"));
    let hints = workspace::regions(root)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|r| (r.id, r.hint))
        .collect();
    let mut progress = Progress {
        exercises: Vec::new(),
        broken: Vec::new(),
        hints,
    };
    let labs = workspace::labs(root).map_err(|e| e.to_string())?;
    for lab in labs
        .into_iter()
        .filter(|l| only.is_none_or(|n| n == l.number))
    {
        let file = grading::load(root, &lab)?;
        if file.exercise.is_empty() {
            continue;
        }
        let outcomes = match run.run(&lab, &file.test_refs()) {
            LabRun::Ran(outcomes) => outcomes,
            LabRun::BuildFailed(error) => {
                progress.broken.push((lab.clone(), error));
                Default::default()
            }
        };
        for exercise in &file.exercise {
            // In a starter the region is gone: its hint lives on in the `todo!()`.
            if !progress.hints.iter().any(|(id, _)| *id == exercise.id)
                && let Some((_, _, hint)) = find_todo(root, &format!("todo!(\"{}: ", exercise.id))?
            {
                progress.hints.push((exercise.id.clone(), hint));
            }
            let refs = exercise.test_refs().unwrap_or_default();
            let passed = refs
                .iter()
                .filter(|t| outcomes.get(t).is_some_and(Outcome::passed))
                .count();
            let first_failure = refs.iter().find_map(|t| match outcomes.get(t) {
                Some(Outcome::Failed { output, .. }) => Some((t.clone(), output.clone())),
                _ => None,
            });
            progress.exercises.push(ExerciseState {
                lab: lab.clone(),
                id: exercise.id.clone(),
                points: exercise.points,
                passed,
                total: refs.len(),
                first_failure,
            });
        }
    }
    if progress.exercises.is_empty() && progress.broken.is_empty() {
        return Err(match only {
            Some(n) => format!("--lab {n}: no lab with graded exercises"),
            None => "no graded exercises found".into(),
        });
    }
    Ok(progress)
}

/// The hint for exercise `id`: where it is, what to do, and how to test it.
pub fn hint(root: &Path, id: &str) -> Result<String, String> {
    let regions = workspace::regions(root).map_err(|e| e.to_string())?;
    let labs = workspace::labs(root).map_err(|e| e.to_string())?;
    // In a starter the region is gone; its hint lives on in the todo!() and the grading file.
    let todo_marker = format!("todo!(\"{id}: ");
    let location = match regions.iter().find(|r| r.id == id) {
        Some(region) => Some((
            region.file.display().to_string(),
            region.open_line,
            region.hint.clone(),
        )),
        None => find_todo(root, &todo_marker)?,
    };
    let Some((file, line, hint)) = location else {
        let known: Vec<String> = regions.iter().map(|r| r.id.clone()).collect();
        return Err(format!(
            "no exercise `{id}`; known exercises: {}",
            known.join(", ")
        ));
    };
    let mut out = format!("{id}\n  where: {file}:{line}\n  hint:  {hint}\n");
    for lab in &labs {
        let grading = grading::load(root, lab)?;
        if let Some(exercise) = grading.exercise.iter().find(|e| e.id == id) {
            out.push_str(&format!("  graded by ({} points):\n", exercise.points));
            for test in exercise.test_refs()? {
                out.push_str(&format!(
                    "    cargo test -p {} --test {} -- --exact {}\n",
                    lab.package, test.target, test.name
                ));
            }
        }
    }
    Ok(out)
}

/// Finds `todo!("<id>: <hint>")` in the labs' sources: (file, line, hint).
fn find_todo(root: &Path, marker: &str) -> Result<Option<(String, usize, String)>, String> {
    for file in workspace::files(&root.join("labs")).map_err(|e| e.to_string())? {
        if file.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let path = Path::new("labs").join(&file);
        let text = std::fs::read_to_string(root.join(&path)).map_err(|e| e.to_string())?;
        for (index, line) in text.lines().enumerate() {
            if let Some(start) = line.find(marker) {
                let literal = line[start + marker.len()..]
                    .strip_suffix("\")")
                    .unwrap_or(&line[start + marker.len()..]);
                // Undo what `Region::todo_line` did to write the hint as a format string
                // inside a string literal.
                let hint = literal
                    .replace("\\\"", "\"")
                    .replace("\\\\", "\\")
                    .replace("{{", "{")
                    .replace("}}", "}");
                return Ok(Some((path.display().to_string(), index + 1, hint)));
            }
        }
    }
    Ok(None)
}
