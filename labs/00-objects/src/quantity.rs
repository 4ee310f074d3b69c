//! `Quantity`: resource amounts such as `500m` CPU or `128Mi` memory, parsed as Kubernetes does.
//!
//! A quantity is exact: `0.1` CPU is one hundred millicores, not the nearest binary fraction.
//! So skiff stores it as a scaled integer, `mantissa × 10^exponent`, and never as a float.

use std::cmp::Ordering;
use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An exact amount of a resource, written the Kubernetes way (`1Gi`, `500m`, `1e3`, `0.5`).
///
/// Equality and ordering compare amounts, not spelling: `0.5 == 500m` and `1Ki == 1024`.
/// Serialization writes back the text the quantity was parsed from (Kubernetes rewrites it to a
/// canonical form instead; keeping the user's spelling makes round trips byte-for-byte stable
/// and error messages quote what the user wrote).
#[derive(Debug, Clone)]
pub struct Quantity {
    text: String,
    /// The amount is `mantissa × 10^exponent`, normalized so the mantissa has no trailing zeros.
    mantissa: i128,
    exponent: i32,
}

/// How a suffix scales the number in front of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Multiply by `10^n`: the SI suffixes (`m` is -3, `k` is 3) and exponents (`e3`).
    Decimal(i32),
    /// Multiply by `2^n`: the binary suffixes (`Ki` is 10, `Mi` is 20, ...).
    Binary(u32),
}

/// Why a string is not a quantity; the messages are Kubernetes' own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuantityError {
    /// The text does not have the shape number-then-suffix.
    FormatWrong,
    /// The number part is not a number (e.g. `.` alone).
    Numeric,
    /// The suffix is none of the known ones (e.g. `K`, which Kubernetes spells `k` or `Ki`).
    Suffix,
    /// The amount does not fit skiff's 128-bit representation (Kubernetes has no such limit).
    OutOfRange,
}

impl fmt::Display for QuantityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            QuantityError::FormatWrong => {
                "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
            }
            QuantityError::Numeric => "unable to parse numeric part of quantity",
            QuantityError::Suffix => "unable to parse quantity's suffix",
            QuantityError::OutOfRange => "quantity is too large for skiff (at most 38 digits)",
        })
    }
}

impl std::error::Error for QuantityError {}

// ANCHOR: parse
impl Quantity {
    /// Parses a quantity: an optional sign, a decimal number, then a suffix.
    pub fn parse(text: &str) -> Result<Quantity, QuantityError> {
        let (number, suffix) = split_number_and_suffix(text)?;
        let (mantissa, exponent) = parse_decimal(number)?;
        let scaled = match parse_suffix(suffix)? {
            Scale::Decimal(power) => (Some(mantissa), exponent.checked_add(power)),
            Scale::Binary(bits) => (mantissa.checked_mul(1_i128 << bits), Some(exponent)),
        };
        match scaled {
            (Some(mantissa), Some(exponent)) => Ok(Quantity::normalized(text, mantissa, exponent)),
            _ => Err(QuantityError::OutOfRange),
        }
    }
}
// ANCHOR_END: parse

// ANCHOR: suffix
/// Maps a suffix to its scale: binary (`Ki`..`Ei`), decimal SI (`n`..`E`) or an exponent (`e3`).
pub fn parse_suffix(suffix: &str) -> Result<Scale, QuantityError> {
    // EXERCISE(objects-quantity): match the binary suffixes (Ki=2^10 ... Ei=2^60), the SI ones (n=10^-9 ... E=10^18, "" = 1), then e/E followed by a signed integer exponent
    const BINARY: [&str; 6] = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
    const DECIMAL: [(&str, i32); 10] = [
        ("n", -9),
        ("u", -6),
        ("m", -3),
        ("", 0),
        ("k", 3),
        ("M", 6),
        ("G", 9),
        ("T", 12),
        ("P", 15),
        ("E", 18),
    ];
    if let Some(index) = BINARY.iter().position(|&s| s == suffix) {
        return Ok(Scale::Binary(10 * (index as u32 + 1)));
    }
    if let Some((_, power)) = DECIMAL.iter().find(|(s, _)| *s == suffix) {
        return Ok(Scale::Decimal(*power));
    }
    // `1E` is exa, but `1E3` is an exponent: only digits after the `e` make it one.
    let exponent = suffix
        .strip_prefix(['e', 'E'])
        .filter(|rest| {
            rest.trim_start_matches(['+', '-'])
                .starts_with(|c: char| c.is_ascii_digit())
        })
        .ok_or(QuantityError::Suffix)?;
    exponent
        .parse::<i32>()
        .map(Scale::Decimal)
        .map_err(|_| QuantityError::Suffix)
    // END EXERCISE
}
// ANCHOR_END: suffix

/// Splits `-1.5Gi` into `-1.5` and `Gi`, checking the overall shape Kubernetes' regex demands.
fn split_number_and_suffix(text: &str) -> Result<(&str, &str), QuantityError> {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let sign_len = text.len() - unsigned.len();
    // Digits, then at most one '.', then digits: a second '.' is left for the suffix check.
    let whole_len = unsigned.bytes().take_while(u8::is_ascii_digit).count();
    let number_len = match unsigned[whole_len..].strip_prefix('.') {
        Some(fraction) => whole_len + 1 + fraction.bytes().take_while(u8::is_ascii_digit).count(),
        None => whole_len,
    };
    let (number, suffix) = text.split_at(sign_len + number_len);
    let suffix_letters = suffix.trim_start_matches(|c| "eEinumkKMGTP".contains(c));
    let exponent_digits = suffix_letters
        .strip_prefix(['+', '-'])
        .unwrap_or(suffix_letters);
    if number_len == 0 || !exponent_digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(QuantityError::FormatWrong);
    }
    Ok((number, suffix))
}

/// Parses `-1.25` into the integer `-125` and the decimal exponent `-2`.
fn parse_decimal(number: &str) -> Result<(i128, i32), QuantityError> {
    let negative = number.starts_with('-');
    let unsigned = number.trim_start_matches(['+', '-']);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits = format!("{whole}{fraction}");
    if digits.is_empty() {
        return Err(QuantityError::Numeric);
    }
    let magnitude: i128 = digits.parse().map_err(|_| QuantityError::OutOfRange)?;
    let exponent = -i32::try_from(fraction.len()).map_err(|_| QuantityError::OutOfRange)?;
    Ok((if negative { -magnitude } else { magnitude }, exponent))
}

impl Quantity {
    fn normalized(text: &str, mut mantissa: i128, mut exponent: i32) -> Quantity {
        if mantissa == 0 {
            exponent = 0;
        }
        while mantissa != 0 && mantissa % 10 == 0 {
            mantissa /= 10;
            exponent += 1;
        }
        Quantity {
            text: text.to_string(),
            mantissa,
            exponent,
        }
    }

    /// A whole number of units, e.g. `Quantity::from_integer(4)` CPUs; written as `4`.
    pub fn from_integer(value: i64) -> Quantity {
        Quantity::normalized(&value.to_string(), value.into(), 0)
    }

    /// An amount in thousandths, e.g. `Quantity::from_millis(500)`; written as `500m`.
    pub fn from_millis(millis: i64) -> Quantity {
        Quantity::normalized(&format!("{millis}m"), millis.into(), -3)
    }

    /// The amount rounded up (away from zero) to a whole number, like Kubernetes' `Value()`:
    /// `1Gi` gives 1073741824 bytes and `1.5` gives 2. Saturates at the bounds of `i64`.
    pub fn value(&self) -> i64 {
        self.scaled_up(0)
    }

    /// The amount in thousandths, rounded up (away from zero), like Kubernetes' `MilliValue()`:
    /// `500m` and `0.5` both give 500 millicores. Saturates at the bounds of `i64`.
    pub fn millis(&self) -> i64 {
        self.scaled_up(3)
    }

    /// True for amounts below zero (requests and limits must not be).
    pub fn is_negative(&self) -> bool {
        self.mantissa < 0
    }

    /// The text this quantity was written as.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// `self × 10^power`, rounded away from zero and saturated to `i64`.
    fn scaled_up(&self, power: i32) -> i64 {
        let exponent = self.exponent.saturating_add(power);
        let saturated = if self.mantissa < 0 {
            i64::MIN
        } else {
            i64::MAX
        };
        let exact = if exponent >= 0 {
            10_i128
                .checked_pow(exponent.unsigned_abs())
                .and_then(|factor| self.mantissa.checked_mul(factor))
        } else {
            let divisor = 10_i128.checked_pow(exponent.unsigned_abs());
            Some(match divisor {
                Some(d) if self.mantissa % d == 0 => self.mantissa / d,
                Some(d) => self.mantissa / d + self.mantissa.signum(),
                // |mantissa| < 10^38 < divisor: the amount is a sliver away from zero.
                None => self.mantissa.signum(),
            })
        };
        exact.map_or(saturated, |n| i64::try_from(n).unwrap_or(saturated))
    }
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        // Normalized, so equal amounts have equal mantissas and exponents.
        self.mantissa == other.mantissa && self.exponent == other.exponent
    }
}

impl Eq for Quantity {}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Quantity {
    fn cmp(&self, other: &Self) -> Ordering {
        let by_sign = self.mantissa.signum().cmp(&other.mantissa.signum());
        if by_sign != Ordering::Equal || self.mantissa == 0 {
            return by_sign;
        }
        // Same sign: bring both to the smaller exponent. If that overflows, the one being
        // scaled up is the larger in magnitude.
        let (high, low, flipped) = if self.exponent >= other.exponent {
            (self, other, false)
        } else {
            (other, self, true)
        };
        let shift = (high.exponent - low.exponent).unsigned_abs();
        let ordering = match 10_i128
            .checked_pow(shift)
            .and_then(|f| high.mantissa.checked_mul(f))
        {
            Some(aligned) => aligned.cmp(&low.mantissa),
            None if high.mantissa > 0 => Ordering::Greater,
            None => Ordering::Less,
        };
        if flipped {
            ordering.reverse()
        } else {
            ordering
        }
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::str::FromStr for Quantity {
    type Err = QuantityError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Quantity::parse(text)
    }
}

impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(QuantityVisitor)
    }
}

/// Accepts strings (`"500m"`) and bare numbers (`cpu: 2`, `cpu: 0.5`), as manifests use both.
struct QuantityVisitor;

impl Visitor<'_> for QuantityVisitor {
    type Value = Quantity;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a quantity such as \"500m\", \"128Mi\" or 2")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Quantity, E> {
        Quantity::parse(v).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Quantity, E> {
        Ok(Quantity::from_integer(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Quantity, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Quantity, E> {
        // Rust prints the shortest text that reads back as `v`, which is what the user wrote.
        self.visit_str(&v.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_by_amount_not_spelling() {
        let q = |s: &str| Quantity::parse(s).unwrap();
        assert!(q("500m") < q("1"));
        assert!(q("1Gi") > q("1G"));
        assert!(q("-1") < q("0"));
        assert!(q("1E") > q("999P"));
        assert_eq!(q("0.5").cmp(&q("500m")), Ordering::Equal);
    }

    #[test]
    fn tiny_amounts_round_up_to_one() {
        let q = Quantity::parse("1e-60").unwrap();
        assert_eq!((q.value(), q.millis()), (1, 1));
    }

    #[test]
    fn huge_amounts_saturate() {
        assert_eq!(Quantity::parse("1e30").unwrap().value(), i64::MAX);
    }
}
