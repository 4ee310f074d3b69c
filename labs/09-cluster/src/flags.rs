//! A tiny flag parser shared by the subcommands: `--name value` or `--name=value`, errors
//! that name the flag. (Each subcommand has a handful of flags; no extra crate for that.)

/// The arguments of one subcommand, consumed flag by flag.
#[derive(Debug)]
pub struct Flags {
    args: std::vec::IntoIter<String>,
}

/// One flag as read: its name and, for `--name=value`, the inline value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    /// `--name` (or `-h`).
    pub name: String,
    inline: Option<String>,
}

impl Flag {
    /// The value given inline (`--name=value`), if any.
    pub fn inline_value(&self) -> Option<&str> {
        self.inline.as_deref()
    }
}

impl Flags {
    /// The arguments after the subcommand's name.
    pub fn new(args: &[String]) -> Self {
        Flags {
            args: Vec::from(args).into_iter(),
        }
    }

    /// The next flag, or `None` at the end.
    pub fn next_flag(&mut self) -> Option<Flag> {
        let arg = self.args.next()?;
        match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => Some(Flag {
                name: name.to_string(),
                inline: Some(value.to_string()),
            }),
            _ => Some(Flag {
                name: arg,
                inline: None,
            }),
        }
    }

    /// The value of `flag`: inline, or the next argument.
    pub fn value(&mut self, flag: &Flag) -> Result<String, String> {
        if let Some(value) = &flag.inline {
            return Ok(value.clone());
        }
        self.args
            .next()
            .ok_or_else(|| format!("{}: a value is required", flag.name))
    }

    /// The value of `flag` parsed as `T`, with `what` (e.g. "a number") in the error.
    pub fn parsed<T: std::str::FromStr>(&mut self, flag: &Flag, what: &str) -> Result<T, String> {
        let text = self.value(flag)?;
        text.parse()
            .map_err(|_| format!("{}: {text:?} is not {what}", flag.name))
    }

    /// Every argument not read yet (for flags passed through to a lab's own parser).
    pub fn rest(&mut self) -> Vec<String> {
        self.args.by_ref().collect()
    }
}

/// True when the value of the environment variable `name` is set and not empty.
pub fn env_set(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| !v.is_empty())
}
