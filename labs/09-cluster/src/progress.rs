//! The progress display of `skiff up`: one line per change, coloured only on a terminal.

use std::io::Write;

/// A component's state as shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Its process started; not ready yet.
    Starting,
    /// Ready (see `up` for what that means for each component).
    Ready,
    /// It crashed and will be restarted.
    Crashed,
    /// Stopped cleanly.
    Stopped,
}

/// Writes progress lines to stdout.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    colour: bool,
}

/// True when stdout is a terminal and `NO_COLOR` is unset (<https://no-color.org>).
pub fn colour_wanted() -> bool {
    // SAFETY: isatty only reads the file descriptor's type.
    let tty = unsafe { libc::isatty(libc::STDOUT_FILENO) } == 1;
    tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

impl Progress {
    /// Colour as the terminal and `NO_COLOR` say.
    pub fn new() -> Self {
        Progress {
            colour: colour_wanted(),
        }
    }

    /// Colour on or off regardless of the terminal (for tests and `--no-color`-style callers).
    pub fn with_colour(colour: bool) -> Self {
        Progress { colour }
    }

    /// The line for `name` entering `state`, with an optional detail.
    pub fn line(&self, name: &str, state: State, detail: &str) -> String {
        let (mark, word, code) = match state {
            State::Starting => ("..", "starting", "33"),
            State::Ready => ("ok", "ready", "32"),
            State::Crashed => ("!!", "crashed", "31"),
            State::Stopped => ("--", "stopped", "90"),
        };
        let status = format!("{mark} {word:<8}");
        let status = if self.colour {
            format!("\x1b[{code}m{status}\x1b[0m")
        } else {
            status
        };
        let detail = if detail.is_empty() {
            String::new()
        } else {
            format!("  {detail}")
        };
        format!("  {status} {name:<20}{detail}")
            .trim_end()
            .to_string()
    }

    /// Prints the line for `name` entering `state`.
    pub fn show(&self, name: &str, state: State, detail: &str) {
        self.say(&self.line(name, state, detail));
    }

    /// Prints a line of narration, flushed at once.
    pub fn say(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
    }

    /// `text` in bold when colour is on.
    pub fn bold(&self, text: &str) -> String {
        if self.colour {
            format!("\x1b[1m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

impl Default for Progress {
    fn default() -> Self {
        Progress::new()
    }
}
