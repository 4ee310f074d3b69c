//! Authentication by bearer token: who is sending this request?
//!
//! Tokens live in a file in Kubernetes' static token file format (`--token-auth-file`), one
//! line per token: `token,user,uid,"group1,group2"` (the groups column is optional). A request
//! carries its token in `Authorization: Bearer <token>`. A token not in the file is a 401; no
//! token at all is the anonymous user, whom only the health and version paths accept.

use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::request::User;

/// The name of the token file in the data directory.
pub const TOKEN_FILE: &str = "tokens.csv";

/// A token file that cannot be used: which line, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenFileError {
    /// The file (or `<csv>` for text given directly).
    pub file: String,
    /// The 1-based line number; 0 when the file itself could not be read.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for TokenFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "token file {}: {}", self.file, self.message)
        } else {
            write!(
                f,
                "token file {} line {}: {}",
                self.file, self.line, self.message
            )
        }
    }
}

impl std::error::Error for TokenFileError {}

/// One line of a token file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenEntry {
    /// The secret the client sends.
    pub token: String,
    /// The user it authenticates as.
    pub user: User,
    /// The user's uid (kept for the file's format; skiff does not use it).
    pub uid: String,
}

/// The outcome of authenticating one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authn {
    /// A known token: this user.
    User(User),
    /// No credentials at all.
    Anonymous,
    /// Credentials that are wrong: a malformed header or an unknown token (always a 401).
    Invalid,
}

/// Maps bearer tokens to users, loaded from a static token file.
#[derive(Debug, Clone, Default)]
pub struct TokenAuthenticator {
    entries: Vec<TokenEntry>,
    by_token: HashMap<String, usize>,
}

// ANCHOR: bearer_token
/// The token in an `Authorization` header value: `Bearer <token>`. The scheme is
/// case-insensitive (RFC 7235); `None` for any other scheme, or an empty token.
pub fn bearer_token(header: &str) -> Option<&str> {
    // EXERCISE(apiserver-bearer-token): split off the scheme at the first space, compare it to "bearer" ignoring case, and return the trimmed rest if it is not empty
    let (scheme, rest) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = rest.trim();
    if token.is_empty() || token.contains(' ') {
        return None;
    }
    Some(token)
    // END EXERCISE
}
// ANCHOR_END: bearer_token

/// Splits one CSV line into fields; double quotes group commas (`"a,b"`), `""` is a quote.
fn csv_fields(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', false) if field.is_empty() => quoted = true,
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            ('"', true) => {
                quoted = false;
                if !matches!(chars.peek(), None | Some(',')) {
                    return Err("a closing quote must end its field".to_string());
                }
            }
            (',', false) => fields.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    if quoted {
        return Err("unterminated quote".to_string());
    }
    fields.push(field);
    Ok(fields)
}

impl TokenAuthenticator {
    /// Parses a token file's text; `file` names it in errors.
    pub fn from_csv_named(text: &str, file: &str) -> Result<Self, TokenFileError> {
        let mut auth = TokenAuthenticator::default();
        for (i, line) in text.lines().enumerate() {
            let err = |message: String| TokenFileError {
                file: file.to_string(),
                line: i + 1,
                message,
            };
            if line.trim().is_empty() {
                continue;
            }
            let fields = csv_fields(line).map_err(err)?;
            if fields.len() < 3 {
                return Err(err(format!(
                    "expected token,user,uid[,\"groups\"], found {} column(s)",
                    fields.len()
                )));
            }
            let (token, name, uid) = (fields[0].trim(), fields[1].trim(), fields[2].trim());
            if token.is_empty() {
                return Err(err("token: must not be empty".to_string()));
            }
            if token.contains(char::is_whitespace) {
                return Err(err("token: must not contain whitespace".to_string()));
            }
            if name.is_empty() {
                return Err(err("user: must not be empty".to_string()));
            }
            let groups: Vec<String> = fields
                .get(3)
                .map(|g| {
                    g.split(',')
                        .map(str::trim)
                        .filter(|g| !g.is_empty())
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default();
            if auth.by_token.contains_key(token) {
                return Err(err(format!(
                    "token: duplicate token (also used earlier for another line; user {name:?})"
                )));
            }
            auth.by_token.insert(token.to_string(), auth.entries.len());
            auth.entries.push(TokenEntry {
                token: token.to_string(),
                user: User {
                    name: name.to_string(),
                    groups,
                },
                uid: uid.to_string(),
            });
        }
        Ok(auth)
    }

    /// Parses a token file's text.
    pub fn from_csv(text: &str) -> Result<Self, TokenFileError> {
        Self::from_csv_named(text, "<csv>")
    }

    /// Loads a token file.
    pub fn load(path: &Path) -> Result<Self, TokenFileError> {
        let text = fs::read_to_string(path).map_err(|e| TokenFileError {
            file: path.display().to_string(),
            line: 0,
            message: e.to_string(),
        })?;
        Self::from_csv_named(&text, &path.display().to_string())
    }

    /// The user a token belongs to, if any.
    pub fn authenticate(&self, token: &str) -> Option<User> {
        self.by_token
            .get(token)
            .map(|&i| self.entries[i].user.clone())
    }

    // ANCHOR: authenticate_header
    /// Authenticates a request from its `Authorization` header (if it has one).
    pub fn authenticate_header(&self, authorization: Option<&str>) -> Authn {
        let Some(header) = authorization else {
            return Authn::Anonymous;
        };
        match bearer_token(header).and_then(|token| self.authenticate(token)) {
            Some(user) => Authn::User(user),
            None => Authn::Invalid,
        }
    }
    // ANCHOR_END: authenticate_header

    /// The first token of the user called `name` (to write a kubeconfig for it).
    pub fn token_for(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|e| e.user.name == name)
            .map(|e| e.token.as_str())
    }

    /// Every entry, in file order.
    pub fn entries(&self) -> &[TokenEntry] {
        &self.entries
    }
}

/// The identities a new cluster gets a token for: (user, groups).
pub const BUILTIN_IDENTITIES: &[(&str, &str)] = &[
    ("admin", "system:masters"),
    ("viewer", "skiff:viewers"),
    ("system:kube-scheduler", ""),
    ("system:kube-controller-manager", ""),
    ("system:kube-proxy", ""),
];

/// 32 random bytes from the kernel, hex-encoded: a 256-bit token.
pub fn random_token() -> io::Result<String> {
    let mut bytes = [0u8; 32];
    fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn csv_line(token: &str, user: &str, groups: &str) -> String {
    format!("{token},{user},{user},\"{groups}\"\n")
}

/// A token file on disk that the server reads and that new identities are added to.
#[derive(Debug, Clone)]
pub struct TokenFile {
    path: PathBuf,
}

impl TokenFile {
    /// The token file at `path` (not read yet).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        TokenFile { path: path.into() }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Makes the file with a fresh random token for every [`BUILTIN_IDENTITIES`] entry unless
    /// it already exists, then loads it.
    pub fn ensure_builtin(&self) -> Result<TokenAuthenticator, TokenFileError> {
        let io_err = |e: io::Error| TokenFileError {
            file: self.path.display().to_string(),
            line: 0,
            message: e.to_string(),
        };
        if !self.path.exists() {
            let mut text = String::new();
            for (user, groups) in BUILTIN_IDENTITIES {
                text.push_str(&csv_line(&random_token().map_err(io_err)?, user, groups));
            }
            crate::tls::write_file(&self.path, &text, 0o600).map_err(io_err)?;
        }
        TokenAuthenticator::load(&self.path)
    }

    /// The token of node `node` (user `system:node:<node>`, group `system:nodes`), added to the
    /// file if the node has none yet. The server reads the file at start, so a running server
    /// learns a new token through [`crate::http::ServerHandle::set_authenticator`].
    pub fn node_token(&self, node: &str) -> Result<String, TokenFileError> {
        let user = format!("system:node:{node}");
        self.add_user(&user, "system:nodes")
    }

    /// The token of `user`, added (with `groups`, comma-separated) if the user has none yet.
    pub fn add_user(&self, user: &str, groups: &str) -> Result<String, TokenFileError> {
        let io_err = |e: io::Error| TokenFileError {
            file: self.path.display().to_string(),
            line: 0,
            message: e.to_string(),
        };
        let text = if self.path.exists() {
            fs::read_to_string(&self.path).map_err(io_err)?
        } else {
            String::new()
        };
        let auth = TokenAuthenticator::from_csv_named(&text, &self.path.display().to_string())?;
        if let Some(token) = auth.token_for(user) {
            return Ok(token.to_string());
        }
        let token = random_token().map_err(io_err)?;
        self.append(text, &token, user, groups)?;
        Ok(token)
    }

    /// Adds the line `token,user,user,"groups"`: for a token whose text is chosen by the
    /// caller (a bootstrap token `<id>.<secret>` names its own id). The token must not be in
    /// the file yet.
    pub fn add_token(&self, token: &str, user: &str, groups: &str) -> Result<(), TokenFileError> {
        let text = if self.path.exists() {
            fs::read_to_string(&self.path).map_err(|e| TokenFileError {
                file: self.path.display().to_string(),
                line: 0,
                message: e.to_string(),
            })?
        } else {
            String::new()
        };
        let auth = TokenAuthenticator::from_csv_named(&text, &self.path.display().to_string())?;
        if auth.authenticate(token).is_some()
            || token.is_empty()
            || token.contains([',', '"', ' ', '\n'])
        {
            return Err(TokenFileError {
                file: self.path.display().to_string(),
                line: 0,
                message: format!(
                    "token for user {user:?}: must be new, not empty, and without commas, quotes or spaces"
                ),
            });
        }
        self.append(text, token, user, groups)
    }

    fn append(
        &self,
        mut text: String,
        token: &str,
        user: &str,
        groups: &str,
    ) -> Result<(), TokenFileError> {
        let io_err = |e: io::Error| TokenFileError {
            file: self.path.display().to_string(),
            line: 0,
            message: e.to_string(),
        };
        if user.contains(['"', ',', '\n']) || groups.contains(['"', '\n']) {
            return Err(TokenFileError {
                file: self.path.display().to_string(),
                line: 0,
                message: format!("user {user:?}: must not contain quotes, commas or newlines"),
            });
        }
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&csv_line(token, user, groups));
        crate::tls::write_file(&self.path, &text, 0o600).map_err(io_err)
    }
}
