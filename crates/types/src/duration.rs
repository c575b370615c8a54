//! Go's `time.ParseDuration` grammar, which Consul uses for `?wait`, `?max_stale` and
//! duration strings in request bodies: a sequence of decimal numbers with optional
//! fractions, each followed by a unit (`ns`, `us`/`µs`, `ms`, `s`, `m`, `h`), with an
//! optional sign; the bare string `0` needs no unit.

use std::time::Duration;

/// Why a duration string was refused. Messages follow Go's wording.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DurationError {
    /// Not a duration at all (empty, stray characters, a lone `.`).
    #[error("time: invalid duration {0:?}")]
    Invalid(String),
    /// A number without a unit (`"5"`).
    #[error("time: missing unit in duration {0:?}")]
    MissingUnit(String),
    /// A unit Go does not know (`"5d"`).
    #[error("time: unknown unit {unit:?} in duration {input:?}")]
    UnknownUnit {
        /// The unit as written.
        unit: String,
        /// The whole input.
        input: String,
    },
    /// More than Go's `int64` nanoseconds (about 292 years).
    #[error("time: invalid duration {0:?}")]
    Overflow(String),
    /// A valid but negative duration where only non-negative ones make sense.
    #[error("time: negative duration {0:?}")]
    Negative(String),
}

/// Nanoseconds per unit, as Go spells them (both micro signs included).
const UNITS: &[(&str, u128)] = &[
    ("ns", 1),
    ("us", 1_000),
    ("\u{b5}s", 1_000),
    ("\u{3bc}s", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// Fraction digits beyond this add nothing at nanosecond precision and could overflow.
const MAX_FRACTION_DIGITS: usize = 18;

/// Parses a non-negative Go duration (`"10s"`, `"1h30m"`, `"0.5s"`, `"300ms"`).
///
/// A negative duration is refused with [`DurationError::Negative`]; callers that follow
/// Consul in treating it as "unset" match on that variant.
pub fn parse_go_duration(input: &str) -> Result<Duration, DurationError> {
    let (negative, magnitude) = parse_signed(input)?;
    if negative && !magnitude.is_zero() {
        return Err(DurationError::Negative(input.to_owned()));
    }
    Ok(magnitude)
}

/// Parses a Go duration into its sign (`true` = negative) and magnitude.
pub fn parse_signed(input: &str) -> Result<(bool, Duration), DurationError> {
    let invalid = || DurationError::Invalid(input.to_owned());
    let (negative, mut rest) = match input.as_bytes().first() {
        Some(b'-') => (true, &input[1..]),
        Some(b'+') => (false, &input[1..]),
        _ => (false, input),
    };
    if rest == "0" {
        return Ok((negative, Duration::ZERO));
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    // Go's limit: |d| fits an int64 of nanoseconds (one more for negative values).
    let limit: u128 = if negative { 1 << 63 } else { (1 << 63) - 1 };
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (int_digits, after_int) = rest.split_at(int_len);
        rest = after_int;
        let mut frac_digits = "";
        if let Some(after_dot) = rest.strip_prefix('.') {
            let frac_len = after_dot.bytes().take_while(u8::is_ascii_digit).count();
            frac_digits = &after_dot[..frac_len];
            rest = &after_dot[frac_len..];
        }
        if int_digits.is_empty() && frac_digits.is_empty() {
            return Err(invalid());
        }
        let unit_len = rest
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(rest.len());
        if unit_len == 0 {
            return Err(DurationError::MissingUnit(input.to_owned()));
        }
        let (unit, after_unit) = rest.split_at(unit_len);
        rest = after_unit;
        let per_unit = UNITS
            .iter()
            .find(|(name, _)| *name == unit)
            .map(|(_, ns)| *ns)
            .ok_or_else(|| DurationError::UnknownUnit {
                unit: unit.to_owned(),
                input: input.to_owned(),
            })?;

        let overflow = || DurationError::Overflow(input.to_owned());
        // 20 digits already exceed any valid value; refuse before u128 could overflow.
        let whole: u128 = if int_digits.len() > 20 {
            return Err(overflow());
        } else {
            int_digits
                .bytes()
                .fold(0, |acc, d| acc * 10 + u128::from(d - b'0'))
        };
        let frac_digits = &frac_digits[..frac_digits.len().min(MAX_FRACTION_DIGITS)];
        let frac: u128 = frac_digits
            .bytes()
            .fold(0, |acc, d| acc * 10 + u128::from(d - b'0'));
        let scale = 10u128.pow(u32::try_from(frac_digits.len()).map_err(|_| overflow())?);
        total = whole
            .checked_mul(per_unit)
            .and_then(|w| total.checked_add(w))
            .and_then(|t| t.checked_add(frac * per_unit / scale))
            .filter(|t| *t <= limit)
            .ok_or_else(overflow)?;
    }
    let secs = u64::try_from(total / 1_000_000_000).map_err(|_| invalid())?;
    let nanos = u32::try_from(total % 1_000_000_000).map_err(|_| invalid())?;
    Ok((negative, Duration::new(secs, nanos)))
}

#[cfg(test)]
mod tests;

/// Formats `d` like Go's `time.Duration.String` (`"10s"`, `"1m30s"`, `"500ms"`, `"0s"`),
/// the form Consul shows check intervals and timeouts in.
pub fn format_go_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".to_owned();
    }
    if nanos < 1_000 {
        return format!("{nanos}ns");
    }
    if nanos < 1_000_000 {
        return format!("{}µs", decimal(nanos, 1_000));
    }
    if nanos < 1_000_000_000 {
        return format!("{}ms", decimal(nanos, 1_000_000));
    }
    let secs = d.as_secs();
    let (hours, minutes, seconds) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    let seconds = decimal(
        u128::from(seconds) * 1_000_000_000 + u128::from(d.subsec_nanos()),
        1_000_000_000,
    );
    if hours > 0 {
        format!("{hours}h{minutes}m{seconds}s")
    } else if minutes > 0 {
        format!("{minutes}m{seconds}s")
    } else {
        format!("{seconds}s")
    }
}

/// `value / unit` with the remainder as a decimal fraction, trailing zeros dropped.
fn decimal(value: u128, unit: u128) -> String {
    let whole = value / unit;
    let rest = value % unit;
    if rest == 0 {
        return whole.to_string();
    }
    let width = unit.ilog10() as usize;
    let fraction = format!("{rest:0width$}");
    format!("{whole}.{}", fraction.trim_end_matches('0'))
}
