//! Exercise regions: finding them in the reference code and stripping them for the starter.
//!
//! A region is the whole body of a function, written between two marker comments:
//!
//! ```text
//! // EXERCISE(objects-quantity): split the number from its suffix, then scale
//! ...reference solution...
//! // END EXERCISE
//! ```
//!
//! The starter replaces the region, markers included, with `todo!("<id>: <hint>")`.

use std::fmt;
use std::path::{Path, PathBuf};

const OPEN: &str = "// EXERCISE(";
const CLOSE: &str = "// END EXERCISE";

/// The attribute the starter adds to a file that had a region: without the solution, some
/// parameters, imports and helpers are unused until the learner writes it.
pub const STARTER_ALLOW: &str = "#![allow(unused_variables, unused_imports, dead_code)] // starter: the todo!()s below leave some items unused";

/// One exercise region in one source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    /// The exercise id, e.g. `objects-quantity`.
    pub id: String,
    /// The one-line hint from the opening marker.
    pub hint: String,
    /// The file, relative to the workspace root.
    pub file: PathBuf,
    /// 1-based line of the opening marker.
    pub open_line: usize,
    /// 1-based line of the closing marker.
    pub close_line: usize,
    /// The indentation of the opening marker, reused for `todo!()`.
    pub indent: String,
}

impl Region {
    /// The `todo!()` line that replaces the region in the starter.
    pub fn todo_line(&self) -> String {
        // `todo!` takes a format string: a brace in a hint must be doubled to print as itself.
        let message = format!("{}: {}", self.id, self.hint)
            .replace('{', "{{")
            .replace('}', "}}");
        format!("{}todo!({:?})", self.indent, message)
    }
}

/// A malformed marker, with the file and line where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkerError {
    /// The file, relative to the workspace root.
    pub file: PathBuf,
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for MarkerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.reason)
    }
}

impl std::error::Error for MarkerError {}

/// Finds every exercise region in `text` (the contents of `file`).
pub fn scan(file: &Path, text: &str) -> Result<Vec<Region>, MarkerError> {
    let mut regions = Vec::new();
    let mut open: Option<Region> = None;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let error = |reason: String| MarkerError {
            file: file.to_path_buf(),
            line: number,
            reason,
        };
        let trimmed = line.trim_start();
        if trimmed.starts_with(OPEN) {
            if let Some(outer) = &open {
                return Err(error(format!(
                    "exercise regions cannot nest: `{}` opened at line {} is still open",
                    outer.id, outer.open_line
                )));
            }
            let (id, hint) = parse_open(trimmed).map_err(error)?;
            let indent = line[..line.len() - trimmed.len()].to_string();
            open = Some(Region {
                id,
                hint,
                file: file.to_path_buf(),
                open_line: number,
                close_line: 0,
                indent,
            });
        } else if trimmed.starts_with(CLOSE) {
            let Some(mut region) = open.take() else {
                return Err(error("`// END EXERCISE` without an opening marker".into()));
            };
            region.close_line = number;
            regions.push(region);
        }
    }
    if let Some(region) = open {
        return Err(MarkerError {
            file: file.to_path_buf(),
            line: region.open_line,
            reason: format!("exercise `{}` is never closed with `{CLOSE}`", region.id),
        });
    }
    Ok(regions)
}

/// Splits `// EXERCISE(id): hint` into the id and the hint, checking both.
fn parse_open(marker: &str) -> Result<(String, String), String> {
    let rest = &marker[OPEN.len()..];
    let Some((id, after)) = rest.split_once(')') else {
        return Err("expected `// EXERCISE(<id>): <hint>`: missing `)`".into());
    };
    let Some(hint) = after.strip_prefix(':') else {
        return Err(format!("exercise `{id}`: expected `: <hint>` after `)`"));
    };
    let hint = hint.trim();
    if !is_valid_id(id) {
        return Err(format!(
            "exercise id `{id}` must be `<lab>-<name>` in lower-case letters, digits and '-'"
        ));
    }
    if hint.is_empty() {
        return Err(format!("exercise `{id}` has no hint"));
    }
    Ok((id.to_string(), hint.to_string()))
}

fn is_valid_id(id: &str) -> bool {
    id.contains('-')
        && !id.starts_with('-')
        && !id.ends_with('-')
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Returns the starter version of `text`: every region whose id `keep` rejects becomes a
/// `todo!()`, and the file gets [`STARTER_ALLOW`] if anything was stripped.
pub fn strip(text: &str, regions: &[Region], strip_region: impl Fn(&Region) -> bool) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    let mut stripped_any = false;
    let mut next = 0; // index into lines
    for region in regions.iter().filter(|r| strip_region(r)) {
        out.extend(
            lines[next..region.open_line - 1]
                .iter()
                .map(|l| l.to_string()),
        );
        out.push(region.todo_line());
        next = region.close_line;
        stripped_any = true;
    }
    out.extend(lines[next..].iter().map(|l| l.to_string()));
    if stripped_any {
        insert_allow(&mut out);
    }
    let mut result = out.join("\n");
    if text.ends_with('\n') {
        result.push('\n');
    }
    result
}

/// Inserts the allow attribute after the file's leading inner doc comments and attributes,
/// where inner attributes are allowed.
fn insert_allow(lines: &mut Vec<String>) {
    let position = lines
        .iter()
        .position(|line| {
            let t = line.trim_start();
            !(t.starts_with("//!") || t.starts_with("#![") || t.is_empty())
        })
        .unwrap_or(lines.len());
    lines.insert(position, STARTER_ALLOW.to_string());
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "//! A module.\n\nuse std::fmt;\n\npub fn double(x: u32) -> u32 {\n    // EXERCISE(demo-double): multiply by two\n    x * 2\n    // END EXERCISE\n}\n";

    #[test]
    fn finds_a_region_with_its_id_hint_and_lines() {
        let regions = scan(Path::new("a.rs"), SAMPLE).unwrap();
        assert_eq!(regions.len(), 1);
        let r = &regions[0];
        assert_eq!(
            (r.id.as_str(), r.hint.as_str()),
            ("demo-double", "multiply by two")
        );
        assert_eq!((r.open_line, r.close_line), (6, 8));
        assert_eq!(r.indent, "    ");
    }

    #[test]
    fn strips_to_todo_and_allows_unused() {
        let regions = scan(Path::new("a.rs"), SAMPLE).unwrap();
        let starter = strip(SAMPLE, &regions, |_| true);
        assert_eq!(
            starter,
            format!(
                "//! A module.\n\n{STARTER_ALLOW}\nuse std::fmt;\n\npub fn double(x: u32) -> u32 {{\n    todo!(\"demo-double: multiply by two\")\n}}\n"
            )
        );
    }

    #[test]
    fn braces_in_a_hint_are_escaped_for_the_format_string() {
        let text = "fn f() -> u32 {\n    // EXERCISE(demo-braces): return {a} or {}\n    1\n    // END EXERCISE\n}\n";
        let regions = scan(Path::new("a.rs"), text).unwrap();
        assert_eq!(
            regions[0].todo_line(),
            "    todo!(\"demo-braces: return {{a}} or {{}}\")"
        );
    }

    #[test]
    fn keeping_every_region_changes_nothing() {
        let regions = scan(Path::new("a.rs"), SAMPLE).unwrap();
        assert_eq!(strip(SAMPLE, &regions, |_| false), SAMPLE);
    }

    #[test]
    fn malformed_markers_are_errors_with_the_line() {
        let unclosed = "fn f() {\n// EXERCISE(a-b): hint\n}\n";
        let err = scan(Path::new("x.rs"), unclosed).unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.reason.contains("never closed"), "{err}");

        let stray = "// END EXERCISE\n";
        assert!(
            scan(Path::new("x.rs"), stray)
                .unwrap_err()
                .reason
                .contains("without")
        );

        let no_hint = "// EXERCISE(a-b):\n// END EXERCISE\n";
        assert!(
            scan(Path::new("x.rs"), no_hint)
                .unwrap_err()
                .reason
                .contains("no hint")
        );

        let bad_id = "// EXERCISE(Bad): hint\n// END EXERCISE\n";
        assert!(
            scan(Path::new("x.rs"), bad_id)
                .unwrap_err()
                .reason
                .contains("lower-case")
        );

        let nested = "// EXERCISE(a-b): h\n// EXERCISE(a-c): h\n// END EXERCISE\n// END EXERCISE\n";
        assert!(
            scan(Path::new("x.rs"), nested)
                .unwrap_err()
                .reason
                .contains("nest")
        );
    }
}
