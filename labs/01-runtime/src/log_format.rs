//! The CRI container log format: one line of output becomes one line of log file,
//!
//! ```text
//! 2024-01-01T00:00:00.000000000Z stdout F listening on 127.1.0.2:8080
//! ```
//!
//! a timestamp (RFC 3339, UTC, nanoseconds), the stream, a tag (`F` for a full line, `P` for a
//! partial one that continues on the next log line) and the line itself. `kubectl logs` reads
//! exactly this format from the node.

use std::fmt;
use std::time::SystemTime;

/// Which output stream of the container a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

impl fmt::Display for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        })
    }
}

// ANCHOR: format_log_line
/// Formats one CRI log line, newline included: `<RFC 3339 time> <stream> F <line>\n`.
/// Times before 1970 cannot come from a real clock; they are printed as the epoch.
pub fn format_log_line(time: SystemTime, stream: Stream, line: &str) -> String {
    // EXERCISE(runtime-log-format): split the time into days, seconds of the day and nanos; civil_from_days gives the date; then write YYYY-MM-DDTHH:MM:SS.NNNNNNNNNZ, the stream, F, the line and a newline
    let since_epoch = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let seconds = since_epoch.as_secs();
    let (year, month, day) = civil_from_days((seconds / 86_400) as i64);
    let second_of_day = seconds % 86_400;
    let (hour, minute, second) = (
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60,
    );
    let nanos = since_epoch.subsec_nanos();
    format!(
        "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{nanos:09}Z \
         {stream} F {line}\n"
    )
    // END EXERCISE
}
// ANCHOR_END: format_log_line

/// Turns a count of days since 1970-01-01 into a (year, month, day) date of the proleptic
/// Gregorian calendar. This is Howard Hinnant's `civil_from_days`: it shifts the year to start
/// in March, so the leap day is the last day of the shifted year, then counts 400-year eras.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * shifted_month + 2) / 5 + 1) as u32;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// One parsed line of a CRI log file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine<'a> {
    /// The RFC 3339 timestamp, as written.
    pub time: &'a str,
    /// `stdout` or `stderr`.
    pub stream: &'a str,
    /// `F` (full line) or `P` (partial).
    pub tag: &'a str,
    /// The container's output.
    pub text: &'a str,
}

impl<'a> LogLine<'a> {
    /// Splits a log line into its four fields; `None` when it is not in the CRI format.
    pub fn parse(line: &'a str) -> Option<Self> {
        let mut fields = line.trim_end_matches('\n').splitn(4, ' ');
        let time = fields.next()?;
        let stream = fields.next()?;
        let tag = fields.next()?;
        let text = fields.next().unwrap_or("");
        let known_stream = stream == "stdout" || stream == "stderr";
        (known_stream && (tag == "F" || tag == "P")).then_some(LogLine {
            time,
            stream,
            tag,
            text,
        })
    }
}
