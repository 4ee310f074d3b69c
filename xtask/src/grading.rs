//! Grading files: `labs/NN-name/grading.toml` lists each exercise's points and graded tests.

use std::fmt;
use std::fs;
use std::path::Path;

use serde::Deserialize;

use crate::workspace::Lab;

/// The parsed `grading.toml` of one lab.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradingFile {
    /// The lab's exercises, in the order the chapter presents them.
    #[serde(default)]
    pub exercise: Vec<Exercise>,
}

/// One exercise: its points and the tests that grade it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exercise {
    /// The id in the `// EXERCISE(<id>)` marker.
    pub id: String,
    /// Points awarded when every graded test passes.
    pub points: u32,
    /// Graded tests, as `<file stem under tests/>::<test path>`.
    pub tests: Vec<String>,
}

/// An instructor's `grading.toml` in a hidden-tests directory: more tests for existing
/// exercises (the points stay those of the lab's own grading file).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HiddenFile {
    /// Additions, by exercise id.
    #[serde(default)]
    pub exercise: Vec<HiddenTests>,
}

/// Hidden tests for one exercise.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HiddenTests {
    /// The exercise id they grade.
    pub id: String,
    /// Graded tests, as `<file stem under tests/>::<test path>`.
    pub tests: Vec<String>,
}

/// A graded test split into its Cargo test target and its name within it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TestRef {
    /// The integration test target (the file stem under `tests/`).
    pub target: String,
    /// The test's path inside the target, as libtest prints it.
    pub name: String,
}

impl fmt::Display for TestRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}::{}", self.target, self.name)
    }
}

impl TestRef {
    /// Parses `target::name`.
    pub fn parse(text: &str) -> Result<TestRef, String> {
        match text.split_once("::") {
            Some((target, name)) if !target.is_empty() && !name.is_empty() => Ok(TestRef {
                target: target.to_string(),
                name: name.to_string(),
            }),
            _ => Err(format!(
                "graded test `{text}` must be `<file stem under tests/>::<test name>`"
            )),
        }
    }
}

impl GradingFile {
    /// Every graded test of every exercise, in order. (`load` has checked that they parse.)
    pub fn test_refs(&self) -> Vec<TestRef> {
        self.exercise
            .iter()
            .flat_map(|e| e.test_refs().unwrap_or_default())
            .collect()
    }
}

impl Exercise {
    /// The graded tests, parsed.
    pub fn test_refs(&self) -> Result<Vec<TestRef>, String> {
        self.tests.iter().map(|t| TestRef::parse(t)).collect()
    }
}

/// Reads a lab's `grading.toml`; a lab without one has no exercises.
pub fn load(root: &Path, lab: &Lab) -> Result<GradingFile, String> {
    let path = root.join(&lab.dir).join("grading.toml");
    if !path.exists() {
        return Ok(GradingFile {
            exercise: Vec::new(),
        });
    }
    let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let file: GradingFile =
        toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    for exercise in &file.exercise {
        if exercise.tests.is_empty() {
            return Err(format!(
                "{}: exercise `{}` lists no graded tests",
                path.display(),
                exercise.id
            ));
        }
        exercise
            .test_refs()
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(file)
}
