//! The naming rules of Kubernetes, with its exact messages.
//!
//! Each function returns the list of rules the value breaks (empty when valid), because a value
//! can break several at once (too long *and* upper case) and the user should hear about all.

const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_FMT: &str =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1123_SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1035_LABEL_FMT: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";
const DNS1035_LABEL_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
const QUALIFIED_NAME_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const QUALIFIED_NAME_MSG: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const CONFIG_KEY_FMT: &str = "[-._a-zA-Z0-9]+";
const CONFIG_KEY_MSG: &str =
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";

/// The longest DNS-1123 or DNS-1035 label.
pub const LABEL_MAX_LENGTH: usize = 63;
/// The longest DNS-1123 subdomain.
pub const SUBDOMAIN_MAX_LENGTH: usize = 253;

/// "must be no more than N characters", as Kubernetes' `MaxLenError`.
pub fn max_len_error(length: usize) -> String {
    format!("must be no more than {length} characters")
}

/// A rule's message with examples and the regex, as Kubernetes' `RegexError`.
///
/// Each example is written as `'x', ` and they are joined with ` or `, which gives the double
/// space of the real messages: `(e.g. 'my-name',  or '123-abc', regex used ...)`.
pub fn regex_error(message: &str, regex: &str, examples: &[&str]) -> String {
    let examples: Vec<String> = examples.iter().map(|e| format!("'{e}', ")).collect();
    format!(
        "{message} (e.g. {}regex used for validation is '{regex}')",
        examples.join(" or ")
    )
}

fn is_lower_alphanumeric(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

fn is_alphanumeric(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

/// True when `value` starts and ends with an `edge` character and has only `inner` ones between.
fn shaped(value: &str, edge: fn(char) -> bool, inner: fn(char) -> bool) -> bool {
    let (Some(first), Some(last)) = (value.chars().next(), value.chars().last()) else {
        return false;
    };
    edge(first) && edge(last) && value.chars().all(inner)
}

// ANCHOR: dns_label
/// A DNS-1123 label: at most 63 of `a-z`, `0-9` and `-`, starting and ending alphanumeric.
/// Namespaces, container names and most Service-facing names must be one.
pub fn dns1123_label(value: &str) -> Vec<String> {
    // EXERCISE(objects-dns-label): collect every broken rule: longer than LABEL_MAX_LENGTH gives max_len_error; not lower-alphanumeric-or-'-' with alphanumeric ends gives regex_error(DNS1123_LABEL_MSG, DNS1123_LABEL_FMT, &["my-name", "123-abc"])
    let mut errors = Vec::new();
    if value.len() > LABEL_MAX_LENGTH {
        errors.push(max_len_error(LABEL_MAX_LENGTH));
    }
    if !shaped(value, is_lower_alphanumeric, |c| {
        is_lower_alphanumeric(c) || c == '-'
    }) {
        errors.push(regex_error(
            DNS1123_LABEL_MSG,
            DNS1123_LABEL_FMT,
            &["my-name", "123-abc"],
        ));
    }
    errors
    // END EXERCISE
}
// ANCHOR_END: dns_label

/// A DNS-1123 subdomain: dot-separated labels, at most 253 characters. Most object names.
pub fn dns1123_subdomain(value: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if value.len() > SUBDOMAIN_MAX_LENGTH {
        errors.push(max_len_error(SUBDOMAIN_MAX_LENGTH));
    }
    let labels_ok = value.split('.').all(|label| {
        shaped(label, is_lower_alphanumeric, |c| {
            is_lower_alphanumeric(c) || c == '-'
        })
    });
    if !labels_ok {
        errors.push(regex_error(
            DNS1123_SUBDOMAIN_MSG,
            DNS1123_SUBDOMAIN_FMT,
            &["example.com"],
        ));
    }
    errors
}

/// A DNS-1035 label: like a DNS-1123 label but starting with a letter. Service names, because
/// they become environment variable names and DNS names.
pub fn dns1035_label(value: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if value.len() > LABEL_MAX_LENGTH {
        errors.push(max_len_error(LABEL_MAX_LENGTH));
    }
    let starts_with_letter = value.starts_with(|c: char| c.is_ascii_lowercase());
    let shape_ok = shaped(value, is_lower_alphanumeric, |c| {
        is_lower_alphanumeric(c) || c == '-'
    });
    if !(starts_with_letter && shape_ok) {
        errors.push(regex_error(
            DNS1035_LABEL_MSG,
            DNS1035_LABEL_FMT,
            &["my-name", "abc-123"],
        ));
    }
    errors
}

/// A qualified name, `[prefix/]name`: label keys and annotation keys. The optional prefix is a
/// DNS subdomain (`app.kubernetes.io/name`); the name is at most 63 characters.
pub fn qualified_name(value: &str) -> Vec<String> {
    let parts: Vec<&str> = value.split('/').collect();
    let mut errors = Vec::new();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errors.push("prefix part must be non-empty".to_string());
            }
            let prefix_errors = if prefix.is_empty() {
                Vec::new()
            } else {
                dns1123_subdomain(prefix)
            };
            errors.extend(prefix_errors.iter().map(|e| format!("prefix part {e}")));
            name
        }
        _ => {
            let rule = regex_error(
                QUALIFIED_NAME_MSG,
                QUALIFIED_NAME_FMT,
                &["MyName", "my.name", "123-abc"],
            );
            return vec![format!(
                "a qualified name {rule} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
            )];
        }
    };
    if name.is_empty() {
        errors.push("name part must be non-empty".to_string());
    } else if name.len() > LABEL_MAX_LENGTH {
        errors.push(format!("name part {}", max_len_error(LABEL_MAX_LENGTH)));
    }
    if !qualified_shape(name) {
        let rule = regex_error(
            QUALIFIED_NAME_MSG,
            QUALIFIED_NAME_FMT,
            &["MyName", "my.name", "123-abc"],
        );
        errors.push(format!("name part {rule}"));
    }
    errors
}

fn qualified_shape(value: &str) -> bool {
    shaped(value, is_alphanumeric, |c| {
        is_alphanumeric(c) || matches!(c, '-' | '_' | '.')
    })
}

/// A label value: empty, or at most 63 characters shaped like a qualified name.
pub fn label_value(value: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if value.len() > LABEL_MAX_LENGTH {
        errors.push(max_len_error(LABEL_MAX_LENGTH));
    }
    if !value.is_empty() && !qualified_shape(value) {
        errors.push(regex_error(
            LABEL_VALUE_MSG,
            LABEL_VALUE_FMT,
            &["MyValue", "my_value", "12345"],
        ));
    }
    errors
}

/// A ConfigMap or Secret key: it becomes a file name, so `.` and `..` are out.
pub fn config_map_key(value: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if value.len() > SUBDOMAIN_MAX_LENGTH {
        errors.push(max_len_error(SUBDOMAIN_MAX_LENGTH));
    }
    let allowed = |c: char| is_alphanumeric(c) || matches!(c, '-' | '_' | '.');
    if value.is_empty() || !value.chars().all(allowed) {
        errors.push(regex_error(
            CONFIG_KEY_MSG,
            CONFIG_KEY_FMT,
            &["key.name", "KEY_NAME", "key-name"],
        ));
    }
    if value == "." {
        errors.push("must not be '.'".to_string());
    } else if value == ".." {
        errors.push("must not be '..'".to_string());
    } else if value.starts_with("..") {
        errors.push("must not start with '..'".to_string());
    }
    errors
}

/// An IANA service name, as container and Service port names must be (RFC 6335).
pub fn port_name(value: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if value.len() > 15 {
        errors.push(max_len_error(15));
    }
    if !value.chars().all(|c| is_lower_alphanumeric(c) || c == '-') || value.is_empty() {
        errors.push(
            "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".to_string(),
        );
    }
    if !value.chars().any(|c| c.is_ascii_lowercase()) {
        errors.push("must contain at least one letter (a-z)".to_string());
    }
    if value.contains("--") {
        errors.push("must not contain consecutive hyphens".to_string());
    }
    if value.starts_with('-') || value.ends_with('-') {
        errors.push("must not begin or end with a hyphen".to_string());
    }
    errors
}

/// A port number, 1–65535.
pub fn port_number(port: i32) -> Vec<String> {
    if (1..=65535).contains(&port) {
        Vec::new()
    } else {
        vec!["must be between 1 and 65535, inclusive".to_string()]
    }
}
