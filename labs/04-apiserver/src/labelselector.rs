//! Label selectors in query strings (`?labelSelector=app=web,tier in (front,cache),!canary`),
//! parsed into the same [`LabelSelector`] a Deployment carries in its spec.
//!
//! The syntax is Kubernetes' (`k8s.io/apimachinery/pkg/labels.Parse`): requirements joined by
//! commas (AND), each one of `key=value`, `key==value`, `key!=value`, `key in (v1,v2)`,
//! `key notin (v1)`, `key` (exists) or `!key` (does not exist).

use api::{LabelSelector, LabelSelectorRequirement, SelectorOperator};

/// A token of the selector language, with its byte position for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Identifier(String),
    In,
    NotIn,
    Equals,
    DoubleEquals,
    NotEquals,
    Bang,
    Open,
    Close,
    Comma,
    Other(String),
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::Identifier(s) => format!("identifier '{s}'"),
            Token::In => "'in'".into(),
            Token::NotIn => "'notin'".into(),
            Token::Equals => "'='".into(),
            Token::DoubleEquals => "'=='".into(),
            Token::NotEquals => "'!='".into(),
            Token::Bang => "'!'".into(),
            Token::Open => "'('".into(),
            Token::Close => "')'".into(),
            Token::Comma => "','".into(),
            Token::Other(s) => format!("'{s}'"),
        }
    }
}

fn is_special(c: char) -> bool {
    matches!(c, '=' | '!' | '(' | ')' | ',' | '<' | '>') || c.is_whitespace()
}

fn tokenize(text: &str) -> Vec<(usize, Token)> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((pos, c)) = chars.next() {
        let token = match c {
            c if c.is_whitespace() => continue,
            '(' => Token::Open,
            ')' => Token::Close,
            ',' => Token::Comma,
            '=' if chars.peek().map(|p| p.1) == Some('=') => {
                chars.next();
                Token::DoubleEquals
            }
            '=' => Token::Equals,
            '!' if chars.peek().map(|p| p.1) == Some('=') => {
                chars.next();
                Token::NotEquals
            }
            '!' => Token::Bang,
            '<' | '>' => Token::Other(c.to_string()),
            _ => {
                let mut word = c.to_string();
                while let Some(&(_, next)) = chars.peek() {
                    if is_special(next) {
                        break;
                    }
                    word.push(next);
                    chars.next();
                }
                match word.as_str() {
                    "in" => Token::In,
                    "notin" => Token::NotIn,
                    _ => Token::Identifier(word),
                }
            }
        };
        tokens.push((pos, token));
    }
    tokens
}

struct Parser<'a> {
    tokens: Vec<(usize, Token)>,
    next: usize,
    end: usize,
    text: &'a str,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next).map(|(_, t)| t)
    }

    fn position(&self) -> usize {
        self.tokens.get(self.next).map_or(self.end, |(p, _)| *p)
    }

    fn bump(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.next).map(|(_, t)| t.clone());
        self.next += 1;
        token
    }

    fn fail(&self, expected: &str) -> String {
        let found = self
            .peek()
            .map_or_else(|| "end of input".to_string(), Token::describe);
        format!(
            "unable to parse requirement: at position {} of {:?}: found {found}, expected: {expected}",
            self.position(),
            self.text
        )
    }

    fn identifier(&mut self, expected: &str) -> Result<String, String> {
        match self.peek() {
            Some(Token::Identifier(s)) => {
                let s = s.clone();
                self.bump();
                Ok(s)
            }
            // `in` and `notin` are fine as values.
            Some(Token::In) => {
                self.bump();
                Ok("in".into())
            }
            Some(Token::NotIn) => {
                self.bump();
                Ok("notin".into())
            }
            _ => Err(self.fail(expected)),
        }
    }

    /// A value after `=`, `==` or `!=`: an identifier, or empty before `,` or the end.
    fn value(&mut self) -> Result<String, String> {
        match self.peek() {
            None | Some(Token::Comma) => Ok(String::new()),
            _ => self.identifier("identifier (a label value)"),
        }
    }

    /// `( v1, v2 )`, values possibly empty.
    fn values(&mut self) -> Result<Vec<String>, String> {
        if self.peek() != Some(&Token::Open) {
            return Err(self.fail("'(' after in/notin"));
        }
        self.bump();
        if self.peek() == Some(&Token::Close) {
            return Err(format!(
                "unable to parse requirement: at position {} of {:?}: for 'in', 'notin' operators, values set can't be empty",
                self.position(),
                self.text
            ));
        }
        let mut values = Vec::new();
        loop {
            let value = match self.peek() {
                Some(Token::Comma) | Some(Token::Close) => String::new(),
                _ => self.identifier("identifier, ',' or ')'")?,
            };
            if !values.contains(&value) {
                values.push(value);
            }
            match self.bump() {
                Some(Token::Comma) => continue,
                Some(Token::Close) => break,
                _ => {
                    self.next -= 1;
                    return Err(self.fail("',' or ')'"));
                }
            }
        }
        Ok(values)
    }
}

// ANCHOR: parse_label_selector
/// Parses a label selector in Kubernetes' text syntax. An empty text selects everything.
///
/// `key=value` (or `==`) becomes a `matchLabels` pair, every other form a `matchExpressions`
/// requirement (`!=` is `NotIn` with one value: it also matches objects without the label).
/// Errors say where and why: `unable to parse requirement: at position 4 of "a in b": found
/// identifier 'b', expected: '(' after in/notin`.
pub fn parse_label_selector(text: &str) -> Result<LabelSelector, String> {
    let mut parser = Parser {
        tokens: tokenize(text),
        next: 0,
        end: text.len(),
        text,
    };
    let mut selector = LabelSelector::default();
    if parser.peek().is_none() {
        return Ok(selector);
    }
    loop {
        let requirement = if parser.peek() == Some(&Token::Bang) {
            parser.bump();
            let key = parser.identifier("identifier (a label key) after '!'")?;
            requirement(key, SelectorOperator::DoesNotExist, Vec::new())
        } else {
            let key = parser.identifier("identifier (a label key)")?;
            match parser.peek() {
                None | Some(Token::Comma) => requirement(key, SelectorOperator::Exists, Vec::new()),
                Some(Token::Equals) | Some(Token::DoubleEquals) => {
                    parser.bump();
                    let value = parser.value()?;
                    requirement(key, SelectorOperator::In, vec![value])
                }
                Some(Token::NotEquals) => {
                    parser.bump();
                    let value = parser.value()?;
                    requirement(key, SelectorOperator::NotIn, vec![value])
                }
                Some(Token::In) => {
                    parser.bump();
                    requirement(key, SelectorOperator::In, parser.values()?)
                }
                Some(Token::NotIn) => {
                    parser.bump();
                    requirement(key, SelectorOperator::NotIn, parser.values()?)
                }
                Some(_) => {
                    return Err(parser.fail("'=', '==', '!=', 'in', 'notin', ',' or end of input"));
                }
            }
        };
        validate(&requirement)?;
        add(&mut selector, requirement);
        match parser.bump() {
            None => break,
            Some(Token::Comma) => continue,
            Some(_) => {
                parser.next -= 1;
                return Err(parser.fail("',' or end of input"));
            }
        }
    }
    Ok(selector)
}
// ANCHOR_END: parse_label_selector

fn requirement(
    key: String,
    operator: SelectorOperator,
    values: Vec<String>,
) -> LabelSelectorRequirement {
    LabelSelectorRequirement {
        key,
        operator,
        values,
    }
}

/// Equality goes to `matchLabels` (the common, readable form) unless the key is already there.
fn add(selector: &mut LabelSelector, r: LabelSelectorRequirement) {
    if r.operator == SelectorOperator::In
        && r.values.len() == 1
        && !selector.match_labels.contains_key(&r.key)
    {
        selector.match_labels.insert(r.key, r.values[0].clone());
    } else {
        selector.match_expressions.push(r);
    }
}

fn validate(r: &LabelSelectorRequirement) -> Result<(), String> {
    validate_key(&r.key).map_err(|reason| {
        format!(
            "unable to parse requirement: invalid label key {:?}: {reason}",
            r.key
        )
    })?;
    for value in &r.values {
        validate_name_part(value, true).map_err(|reason| {
            format!(
                "unable to parse requirement: invalid label value {value:?} for key {:?}: {reason}",
                r.key
            )
        })?;
    }
    Ok(())
}

/// A qualified name: an optional DNS subdomain prefix and `/`, then a name part.
fn validate_key(key: &str) -> Result<(), String> {
    let name = match key.split_once('/') {
        Some((prefix, name)) => {
            if prefix.is_empty() || prefix.len() > 253 {
                return Err("the prefix must be a DNS subdomain of 1 to 253 characters".into());
            }
            let ok = prefix.split('.').all(|label| {
                !label.is_empty()
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            });
            if !ok {
                return Err(
                    "the prefix must be a DNS subdomain (lower-case alphanumerics, '-' and '.')"
                        .into(),
                );
            }
            name
        }
        None => key,
    };
    validate_name_part(name, false)
}

/// A name part or label value: up to 63 characters, alphanumerics, `-`, `_`, `.`, beginning
/// and ending with an alphanumeric (a value may be empty).
fn validate_name_part(text: &str, empty_ok: bool) -> Result<(), String> {
    if text.is_empty() {
        return if empty_ok {
            Ok(())
        } else {
            Err("the name must not be empty".into())
        };
    }
    if text.len() > 63 {
        return Err("must be no more than 63 characters".into());
    }
    let alnum = |c: char| c.is_ascii_alphanumeric();
    if !text
        .chars()
        .all(|c| alnum(c) || matches!(c, '-' | '_' | '.'))
        || !text.starts_with(alnum)
        || !text.ends_with(alnum)
    {
        return Err(
            "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character".into(),
        );
    }
    Ok(())
}

/// Writes a selector back in the text syntax, requirements sorted by key like Kubernetes'
/// `labels.Selector.String()` (`app=web,tier in (cache,front)`); `<none>` when empty.
pub fn format_label_selector(selector: &LabelSelector) -> String {
    let mut parts: Vec<(String, String)> = selector
        .match_labels
        .iter()
        .map(|(k, v)| (k.clone(), format!("{k}={v}")))
        .collect();
    for r in &selector.match_expressions {
        let mut values = r.values.clone();
        values.sort();
        let text = match r.operator {
            SelectorOperator::In if values.len() == 1 => format!("{}={}", r.key, values[0]),
            SelectorOperator::In => format!("{} in ({})", r.key, values.join(",")),
            SelectorOperator::NotIn if values.len() == 1 => format!("{}!={}", r.key, values[0]),
            SelectorOperator::NotIn => format!("{} notin ({})", r.key, values.join(",")),
            SelectorOperator::Exists => r.key.clone(),
            SelectorOperator::DoesNotExist => format!("!{}", r.key),
        };
        parts.push((r.key.clone(), text));
    }
    if parts.is_empty() {
        return "<none>".to_string();
    }
    parts.sort_by(|a, b| a.0.cmp(&b.0));
    parts
        .into_iter()
        .map(|(_, t)| t)
        .collect::<Vec<_>>()
        .join(",")
}
