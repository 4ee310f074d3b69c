//! RFC 6902 JSON patch: `add`, `remove`, `replace`, `move`, `copy` and `test` on RFC 6901 JSON
//! pointers (`/spec/containers/0/image`, `~1` for `/`, `~0` for `~`, `-` for "after the last
//! element"). The operations apply in order to a copy; any failure leaves the target untouched.

use serde_json::Value;

use super::PatchError;

/// Applies a JSON patch document (a list of operations) to a copy of `target`.
pub(super) fn apply(target: &Value, patch: &Value) -> Result<Value, PatchError> {
    let Value::Array(operations) = patch else {
        return Err(PatchError::new(
            "json patch: the patch must be a JSON array of operations",
        ));
    };
    let mut doc = target.clone();
    for (index, operation) in operations.iter().enumerate() {
        apply_one(&mut doc, operation, index)?;
    }
    Ok(doc)
}

fn field<'a>(operation: &'a Value, name: &str, index: usize) -> Result<&'a Value, PatchError> {
    operation.get(name).ok_or_else(|| {
        PatchError::new(format!(
            "json patch: operation {index} is missing the field {name:?}"
        ))
    })
}

fn string_field<'a>(operation: &'a Value, name: &str, index: usize) -> Result<&'a str, PatchError> {
    field(operation, name, index)?.as_str().ok_or_else(|| {
        PatchError::new(format!(
            "json patch: operation {index}: {name:?} must be a string"
        ))
    })
}

fn apply_one(doc: &mut Value, operation: &Value, index: usize) -> Result<(), PatchError> {
    if !operation.is_object() {
        return Err(PatchError::new(format!(
            "json patch: operation {index} must be an object"
        )));
    }
    let op = string_field(operation, "op", index)?;
    let path = string_field(operation, "path", index)?;
    let tokens = parse_pointer(path)?;
    match op {
        "add" => add(
            doc,
            &tokens,
            field(operation, "value", index)?.clone(),
            path,
        ),
        "remove" => remove(doc, &tokens, path).map(|_| ()),
        "replace" => {
            let value = field(operation, "value", index)?.clone();
            let slot = get_mut(doc, &tokens).ok_or_else(|| missing("replace", path))?;
            *slot = value;
            Ok(())
        }
        "move" => {
            let from = string_field(operation, "from", index)?;
            let from_tokens = parse_pointer(from)?;
            if tokens.len() > from_tokens.len() && tokens[..from_tokens.len()] == from_tokens[..] {
                return Err(PatchError::new(format!(
                    "json patch: cannot move {from} into its own child {path}"
                )));
            }
            let value = remove(doc, &from_tokens, from)?;
            add(doc, &tokens, value, path)
        }
        "copy" => {
            let from = string_field(operation, "from", index)?;
            let value = get(doc, &parse_pointer(from)?)
                .ok_or_else(|| missing("copy from", from))?
                .clone();
            add(doc, &tokens, value, path)
        }
        "test" => {
            let expected = field(operation, "value", index)?;
            match get(doc, &tokens) {
                Some(actual) if json_equal(actual, expected) => Ok(()),
                _ => Err(PatchError::new(format!(
                    "json patch: test failed at {path}"
                ))),
            }
        }
        other => Err(PatchError::new(format!(
            "json patch: operation {index} has an unknown op {other:?} (expected add, remove, replace, move, copy or test)"
        ))),
    }
}

fn missing(op: &str, path: &str) -> PatchError {
    PatchError::new(format!("json patch: {op}: no value at {path}"))
}

/// Splits an RFC 6901 pointer into unescaped tokens; `""` is the whole document.
fn parse_pointer(pointer: &str) -> Result<Vec<String>, PatchError> {
    if pointer.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = pointer.strip_prefix('/') else {
        return Err(PatchError::new(format!(
            "json patch: invalid path {pointer:?}: a JSON pointer starts with '/'"
        )));
    };
    rest.split('/')
        .map(|token| {
            let mut out = String::with_capacity(token.len());
            let mut chars = token.chars();
            while let Some(c) = chars.next() {
                if c == '~' {
                    match chars.next() {
                        Some('0') => out.push('~'),
                        Some('1') => out.push('/'),
                        _ => {
                            return Err(PatchError::new(format!(
                                "json patch: invalid path {pointer:?}: '~' must be followed by 0 or 1"
                            )));
                        }
                    }
                } else {
                    out.push(c);
                }
            }
            Ok(out)
        })
        .collect()
}

/// An array index token: digits without a leading zero (RFC 6901).
fn array_index(token: &str) -> Option<usize> {
    if token.is_empty() || (token.len() > 1 && token.starts_with('0')) {
        return None;
    }
    if !token.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    token.parse().ok()
}

fn get<'a>(doc: &'a Value, tokens: &[String]) -> Option<&'a Value> {
    tokens.iter().try_fold(doc, |value, token| match value {
        Value::Object(map) => map.get(token),
        Value::Array(items) => array_index(token).and_then(|i| items.get(i)),
        _ => None,
    })
}

fn get_mut<'a>(doc: &'a mut Value, tokens: &[String]) -> Option<&'a mut Value> {
    tokens.iter().try_fold(doc, |value, token| match value {
        Value::Object(map) => map.get_mut(token),
        Value::Array(items) => array_index(token).and_then(move |i| items.get_mut(i)),
        _ => None,
    })
}

fn add(doc: &mut Value, tokens: &[String], value: Value, path: &str) -> Result<(), PatchError> {
    let Some((last, parent_tokens)) = tokens.split_last() else {
        *doc = value;
        return Ok(());
    };
    let parent = get_mut(doc, parent_tokens).ok_or_else(|| {
        PatchError::new(format!(
            "json patch: add: the parent of {path} does not exist"
        ))
    })?;
    match parent {
        Value::Object(map) => {
            map.insert(last.clone(), value);
            Ok(())
        }
        Value::Array(items) => {
            let index = if last == "-" {
                items.len()
            } else {
                array_index(last)
                    .filter(|i| *i <= items.len())
                    .ok_or_else(|| {
                        PatchError::new(format!(
                            "json patch: add: index {last:?} is out of bounds at {path} (the list has {} elements)",
                            items.len()
                        ))
                    })?
            };
            items.insert(index, value);
            Ok(())
        }
        _ => Err(PatchError::new(format!(
            "json patch: add: the parent of {path} is neither an object nor a list"
        ))),
    }
}

fn remove(doc: &mut Value, tokens: &[String], path: &str) -> Result<Value, PatchError> {
    let Some((last, parent_tokens)) = tokens.split_last() else {
        return Err(PatchError::new(
            "json patch: remove: cannot remove the whole document",
        ));
    };
    let parent = get_mut(doc, parent_tokens).ok_or_else(|| missing("remove", path))?;
    let removed = match parent {
        Value::Object(map) => map.remove(last),
        Value::Array(items) => array_index(last)
            .filter(|i| *i < items.len())
            .map(|i| items.remove(i)),
        _ => None,
    };
    removed.ok_or_else(|| missing("remove", path))
}

/// Equality as RFC 6902 `test` defines it: numbers compare by value (`2` equals `2.0`),
/// objects regardless of key order, lists element by element.
fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_equal(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(key, value)| y.get(key).is_some_and(|other| json_equal(value, other)))
        }
        _ => a == b,
    }
}
