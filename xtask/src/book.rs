//! `cargo xtask book`: build the book, and refuse a broken one.
//!
//! mdBook itself only logs a missing include and renders an empty listing for a missing
//! anchor. A book whose listings silently vanish is worse than no book, so before building we
//! check every `{{#include}}` (file and anchor), and after building every internal link and
//! fragment. Each problem names the chapter it is in.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

/// Where `book.toml` puts the HTML.
pub const OUTPUT_DIR: &str = "target/book";

/// One problem found in the book, in one chapter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookError {
    /// The chapter (Markdown source), relative to `book/`.
    pub chapter: PathBuf,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for BookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "chapter {}: {}", self.chapter.display(), self.reason)
    }
}

/// The outcome of a successful build.
#[derive(Debug)]
pub struct Built {
    /// The HTML output directory.
    pub output: PathBuf,
    /// Chapters rendered.
    pub chapters: usize,
    /// Listings included from the labs.
    pub includes: usize,
    /// External links, listed for review but never fetched.
    pub external_links: BTreeSet<String>,
}

/// Checks the sources, builds the HTML into [`OUTPUT_DIR`], then checks the links.
pub fn build(root: &Path) -> Result<Built, Vec<BookError>> {
    let chapters = chapters(root).map_err(|e| vec![e])?;
    let mut errors = Vec::new();
    let mut includes = 0;
    for chapter in &chapters {
        match check_includes(root, chapter) {
            Ok(n) => includes += n,
            Err(mut e) => errors.append(&mut e),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    render(root)?;
    let output = root.join(OUTPUT_DIR);
    let external_links = check_links(&output, &chapters)?;
    Ok(Built {
        output,
        chapters: chapters.len(),
        includes,
        external_links,
    })
}

fn render(root: &Path) -> Result<(), Vec<BookError>> {
    let failed = |e: mdbook_driver::errors::Error| {
        vec![BookError {
            chapter: PathBuf::from("SUMMARY.md"),
            reason: format!("mdBook failed: {e:#}"),
        }]
    };
    let book = mdbook_driver::MDBook::load(root).map_err(failed)?;
    book.build().map_err(failed)
}

/// The chapters listed in `book/SUMMARY.md` (draft entries have no file and are skipped),
/// relative to `book/`.
pub fn chapters(root: &Path) -> Result<Vec<PathBuf>, BookError> {
    let summary = root.join("book/SUMMARY.md");
    let text = fs::read_to_string(&summary).map_err(|e| BookError {
        chapter: "SUMMARY.md".into(),
        reason: format!("cannot read {}: {e}", summary.display()),
    })?;
    let mut chapters = Vec::new();
    for line in text.lines() {
        let Some(start) = line.find("](") else {
            continue;
        };
        let rest = &line[start + 2..];
        let Some(end) = rest.find(')') else { continue };
        let target = &rest[..end];
        if target.is_empty() {
            continue; // a draft chapter: planned, not written
        }
        let path = PathBuf::from(target);
        if !root.join("book").join(&path).exists() {
            return Err(BookError {
                chapter: "SUMMARY.md".into(),
                reason: format!("lists `{target}`, which does not exist"),
            });
        }
        chapters.push(path);
    }
    Ok(chapters)
}

/// One `{{#include path:anchor}}` (or `rustdoc_include`) directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Include {
    /// The path as written, relative to the chapter's directory.
    pub path: String,
    /// The anchor, or `None` for a whole file or a line range.
    pub anchor: Option<String>,
}

/// Finds the include directives in a chapter's Markdown (escaped `\{{#...}}` are skipped).
pub fn includes(markdown: &str) -> Vec<Include> {
    let mut found = Vec::new();
    let mut rest = markdown;
    while let Some(start) = rest.find("{{#") {
        let escaped = rest[..start].ends_with('\\');
        let after = &rest[start + 3..];
        let Some(end) = after.find("}}") else { break };
        let directive = after[..end].trim();
        rest = &after[end + 2..];
        if escaped {
            continue;
        }
        let Some((kind, argument)) = directive.split_once(char::is_whitespace) else {
            continue;
        };
        if kind != "include" && kind != "rustdoc_include" {
            continue;
        }
        let argument = argument.trim();
        let (path, selector) = match argument.split_once(':') {
            Some((p, s)) => (p, Some(s)),
            None => (argument, None),
        };
        let anchor = selector
            .filter(|s| !s.is_empty() && !s.chars().next().unwrap().is_ascii_digit())
            .map(str::to_string);
        found.push(Include {
            path: path.to_string(),
            anchor,
        });
    }
    found
}

/// Checks that every include of `chapter` names an existing file and anchor; returns the
/// number of includes.
pub fn check_includes(root: &Path, chapter: &Path) -> Result<usize, Vec<BookError>> {
    let source = root.join("book").join(chapter);
    let markdown = fs::read_to_string(&source).map_err(|e| {
        vec![BookError {
            chapter: chapter.to_path_buf(),
            reason: format!("cannot read: {e}"),
        }]
    })?;
    let dir = source.parent().unwrap_or(Path::new(""));
    let found = includes(&markdown);
    let mut errors = Vec::new();
    for include in &found {
        let error = |reason: String| BookError {
            chapter: chapter.to_path_buf(),
            reason,
        };
        let file = dir.join(&include.path);
        let Ok(text) = fs::read_to_string(&file) else {
            errors.push(error(format!(
                "includes `{}`, which does not exist",
                include.path
            )));
            continue;
        };
        if let Some(anchor) = &include.anchor
            && !has_anchor(&text, anchor)
        {
            errors.push(error(format!(
                "includes anchor `{anchor}` from `{}`, but that file has no \
                 `ANCHOR: {anchor}` ... `ANCHOR_END: {anchor}` pair",
                include.path
            )));
        }
    }
    if errors.is_empty() {
        Ok(found.len())
    } else {
        Err(errors)
    }
}

/// Whether `text` has both `ANCHOR: name` and `ANCHOR_END: name` marker lines.
fn has_anchor(text: &str, name: &str) -> bool {
    let marks = |prefix: &str| {
        text.lines().any(|line| {
            line.split(prefix)
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next())
                .is_some_and(|found| found == name)
        })
    };
    marks("ANCHOR:") && marks("ANCHOR_END:")
}

/// Checks every relative `href`/`src` of each chapter's HTML page: the target exists and, for
/// a `#fragment`, has that id. Returns the external links found.
fn check_links(output: &Path, chapters: &[PathBuf]) -> Result<BTreeSet<String>, Vec<BookError>> {
    let mut ids_cache: HashMap<PathBuf, BTreeSet<String>> = HashMap::new();
    let mut external = BTreeSet::new();
    let mut errors = Vec::new();
    for chapter in chapters {
        let page = output.join(chapter).with_extension("html");
        let Ok(html) = fs::read_to_string(&page) else {
            errors.push(BookError {
                chapter: chapter.clone(),
                reason: format!("was not rendered to {}", page.display()),
            });
            continue;
        };
        for link in links_in_main(&html) {
            if link.contains("://") || link.starts_with("mailto:") {
                external.insert(link);
                continue;
            }
            if let Err(reason) = check_link(output, &page, &link, &mut ids_cache) {
                errors.push(BookError {
                    chapter: chapter.clone(),
                    reason,
                });
            }
        }
    }
    if errors.is_empty() {
        Ok(external)
    } else {
        Err(errors)
    }
}

fn check_link(
    output: &Path,
    page: &Path,
    link: &str,
    ids_cache: &mut HashMap<PathBuf, BTreeSet<String>>,
) -> Result<(), String> {
    let (path, fragment) = match link.split_once('#') {
        Some((p, f)) => (p, Some(f)),
        None => (link, None),
    };
    let target = if path.is_empty() {
        page.to_path_buf()
    } else {
        crate::workspace::lexically_normal(&page.parent().unwrap_or(output).join(path))
    };
    if !target.starts_with(output) || !target.exists() {
        return Err(format!(
            "links to `{link}`, which does not exist in the book"
        ));
    }
    let Some(fragment) = fragment.filter(|f| !f.is_empty()) else {
        return Ok(());
    };
    let ids = ids_cache.entry(target.clone()).or_insert_with(|| {
        fs::read_to_string(&target)
            .map(|h| ids(&h))
            .unwrap_or_default()
    });
    if ids.contains(fragment) {
        Ok(())
    } else {
        Err(format!(
            "links to `{link}`, but that page has no id `{fragment}`"
        ))
    }
}

/// The `href` and `src` values inside the page's `<main>` element (the chapter itself, not
/// mdBook's navigation chrome).
fn links_in_main(html: &str) -> Vec<String> {
    let main = match (html.find("<main"), html.rfind("</main>")) {
        (Some(start), Some(end)) if start < end => &html[start..end],
        _ => html,
    };
    let mut links = attribute_values(main, "href=\"");
    links.extend(attribute_values(main, "src=\""));
    links
}

fn ids(html: &str) -> BTreeSet<String> {
    attribute_values(html, " id=\"").into_iter().collect()
}

fn attribute_values(html: &str, prefix: &str) -> Vec<String> {
    let mut values = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find(prefix) {
        let after = &rest[start + prefix.len()..];
        let Some(end) = after.find('"') else { break };
        values.push(after[..end].replace("&amp;", "&"));
        rest = &after[end..];
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_includes_with_and_without_anchors() {
        let md = "a {{#include ../x.rs:parse}} b {{#include y.rs}} \\{{#include z.rs:no}} {{#include w.rs:3:9}} {{#title T}}";
        let found = includes(md);
        assert_eq!(
            found,
            vec![
                Include {
                    path: "../x.rs".into(),
                    anchor: Some("parse".into())
                },
                Include {
                    path: "y.rs".into(),
                    anchor: None
                },
                Include {
                    path: "w.rs".into(),
                    anchor: None
                },
            ]
        );
    }

    #[test]
    fn an_anchor_needs_both_markers() {
        let text = "// ANCHOR: parse\nfn f() {}\n// ANCHOR_END: parse\n// ANCHOR: half\n";
        assert!(has_anchor(text, "parse"));
        assert!(!has_anchor(text, "half"));
        assert!(!has_anchor(text, "par"));
    }

    #[test]
    fn normalizes_parent_components() {
        assert_eq!(
            crate::workspace::lexically_normal(Path::new("/a/b/../c/./d.html")),
            PathBuf::from("/a/c/d.html")
        );
    }

    #[test]
    fn reads_links_only_from_main() {
        let html = r#"<nav><a href="nav.html">x</a></nav><main><a href="a.html#x">a</a><img src="i.svg"></main>"#;
        assert_eq!(links_in_main(html), vec!["a.html#x", "i.svg"]);
    }
}
