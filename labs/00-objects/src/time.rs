//! Timestamps in RFC 3339, the format every Kubernetes timestamp uses.
//!
//! Skiff keeps time as a plain count since the Unix epoch (no time-zone library): the
//! components run on virtual time in tests, and an integer is all they need to compare and add.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A timestamp with one-second precision, written as `2024-05-01T12:00:00Z`.
///
/// Like Kubernetes' `metav1.Time`, which also drops fractions of a second when it serializes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Time(pub i64);

/// A timestamp with microsecond precision, written as `2024-05-01T12:00:00.000000Z`.
///
/// Like Kubernetes' `metav1.MicroTime`, used by Leases and Events, where ordering within a
/// second matters (a leader renewing its lease every 2 seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct MicroTime(pub i64);

const MICROS_PER_SECOND: i64 = 1_000_000;

impl Time {
    /// The time `seconds` after the Unix epoch.
    pub fn from_unix_seconds(seconds: i64) -> Self {
        Time(seconds)
    }

    /// Seconds since the Unix epoch.
    pub fn unix_seconds(self) -> i64 {
        self.0
    }

    /// Parses RFC 3339 (`2024-05-01T12:00:00Z`, `...+02:00`, with optional fraction, which is
    /// dropped).
    pub fn parse(text: &str) -> Result<Self, TimeError> {
        parse_rfc3339(text).map(|micros| Time(micros.div_euclid(MICROS_PER_SECOND)))
    }
}

impl MicroTime {
    /// The time `micros` microseconds after the Unix epoch.
    pub fn from_unix_micros(micros: i64) -> Self {
        MicroTime(micros)
    }

    /// Microseconds since the Unix epoch.
    pub fn unix_micros(self) -> i64 {
        self.0
    }

    /// Parses RFC 3339 with up to microsecond precision (extra digits are dropped).
    pub fn parse(text: &str) -> Result<Self, TimeError> {
        parse_rfc3339(text).map(MicroTime)
    }
}

/// Why a timestamp could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeError {
    /// The text that was given.
    pub text: String,
}

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not an RFC 3339 timestamp (expected e.g. \"2024-05-01T12:00:00Z\")",
            self.text
        )
    }
}

impl std::error::Error for TimeError {}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_date_time(f, self.0)?;
        f.write_str("Z")
    }
}

impl fmt::Display for MicroTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_date_time(f, self.0.div_euclid(MICROS_PER_SECOND))?;
        write!(f, ".{:06}Z", self.0.rem_euclid(MICROS_PER_SECOND))
    }
}

fn write_date_time(f: &mut fmt::Formatter<'_>, seconds: i64) -> fmt::Result {
    let (days, second_of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    let (hour, minute, second) = (
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60,
    );
    write!(
        f,
        "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}"
    )
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` into microseconds since the epoch.
fn parse_rfc3339(text: &str) -> Result<i64, TimeError> {
    let error = || TimeError {
        text: text.to_string(),
    };
    let bytes = text.as_bytes();
    if bytes.len() < 20 || !separators_in_place(bytes) {
        return Err(error());
    }
    let number = |range: std::ops::Range<usize>| -> Result<i64, TimeError> {
        let digits = &text[range];
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(error());
        }
        digits.parse().map_err(|_| error())
    };
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return Err(error());
    }
    if hour > 23 || minute > 59 || second > 60 {
        return Err(error());
    }
    let (fraction_micros, zone) = split_fraction(&text[19..]).ok_or_else(error)?;
    let offset_seconds = parse_zone(zone).ok_or_else(error)?;
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
        - offset_seconds;
    Ok(seconds * MICROS_PER_SECOND + fraction_micros)
}

fn separators_in_place(bytes: &[u8]) -> bool {
    bytes[4] == b'-'
        && bytes[7] == b'-'
        && matches!(bytes[10], b'T' | b't')
        && bytes[13] == b':'
        && bytes[16] == b':'
}

/// Splits `.123456Z` into (123456 micros, "Z"); digits beyond microseconds are dropped.
fn split_fraction(rest: &str) -> Option<(i64, &str)> {
    let Some(after_dot) = rest.strip_prefix('.') else {
        return Some((0, rest));
    };
    let digit_count = after_dot.bytes().take_while(u8::is_ascii_digit).count();
    if digit_count == 0 {
        return None;
    }
    let kept = &after_dot[..digit_count.min(6)];
    let micros = kept.parse::<i64>().ok()? * 10_i64.pow(6 - kept.len() as u32);
    Some((micros, &after_dot[digit_count..]))
}

/// `Z` is UTC; `+02:00` is two hours ahead of UTC, so we subtract it to get UTC.
fn parse_zone(zone: &str) -> Option<i64> {
    if zone == "Z" || zone == "z" {
        return Some(0);
    }
    let bytes = zone.as_bytes();
    if bytes.len() != 6 || bytes[3] != b':' {
        return None;
    }
    let sign = match bytes[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let hours: i64 = zone[1..3].parse().ok()?;
    let minutes: i64 = zone[4..6].parse().ok()?;
    (hours < 24 && minutes < 60).then_some(sign * (hours * 3600 + minutes * 60))
}

fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// The two conversions below are Howard Hinnant's public-domain `days_from_civil` and
// `civil_from_days`: they count days in 400-year "eras" starting on 1 March, which puts the
// leap day at the end of the year and makes the month arithmetic linear.

fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let shifted_month = (month + 9) % 12;
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

macro_rules! serde_as_rfc3339 {
    ($ty:ident) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                $ty::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}
serde_as_rfc3339!(Time);
serde_as_rfc3339!(MicroTime);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_the_epoch_and_a_leap_day() {
        assert_eq!(Time(0).to_string(), "1970-01-01T00:00:00Z");
        assert_eq!(Time(951_782_400).to_string(), "2000-02-29T00:00:00Z");
        assert_eq!(Time(-1).to_string(), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn parses_offsets_to_utc() {
        let utc = Time::parse("2024-05-01T12:00:00Z").unwrap();
        assert_eq!(Time::parse("2024-05-01T14:00:00+02:00").unwrap(), utc);
        assert_eq!(utc.to_string(), "2024-05-01T12:00:00Z");
    }

    #[test]
    fn keeps_microseconds_in_micro_time() {
        let t = MicroTime::parse("2024-05-01T12:00:00.5Z").unwrap();
        assert_eq!(t.to_string(), "2024-05-01T12:00:00.500000Z");
    }

    #[test]
    fn round_trips_every_day_of_a_leap_year() {
        for day in 0..366 {
            let t = Time(1_704_067_200 + day * 86_400 + 3_723);
            assert_eq!(Time::parse(&t.to_string()).unwrap(), t);
        }
    }

    #[test]
    fn rejects_malformed_timestamps() {
        for bad in [
            "",
            "2024-05-01",
            "2024-13-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2024-05-01T12:00:00",
            "2024-05-01T12:00:00+2:00",
        ] {
            assert!(Time::parse(bad).is_err(), "{bad} should be rejected");
        }
    }
}
