//! Go-syntax durations (`"10s"`, `"1m30s"`, `"300ms"`, `"1.5h"`), as Consul's config files use.

use std::time::Duration;

/// Parses a Go duration string. Negative durations are rejected: no agent setting takes one.
pub(crate) fn parse_go_duration(text: &str) -> Result<Duration, String> {
    praetor_types::duration::parse_go_duration(text.trim()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_parse() {
        let cases = [
            ("10s", Duration::from_secs(10)),
            ("1m30s", Duration::from_secs(90)),
            ("72h", Duration::from_secs(72 * 3600)),
            ("300ms", Duration::from_millis(300)),
            ("1.5s", Duration::from_millis(1500)),
            ("2us", Duration::from_micros(2)),
            ("2µs", Duration::from_micros(2)),
            ("5ns", Duration::from_nanos(5)),
            ("1h30m", Duration::from_secs(5400)),
            ("0", Duration::ZERO),
            ("-0s", Duration::ZERO),
        ];
        for (text, want) in cases {
            assert_eq!(parse_go_duration(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn bad_durations_are_rejected() {
        for text in ["", "10", "s", "10x", "1..5s", "-5s", "ten seconds", "1 s"] {
            assert!(parse_go_duration(text).is_err(), "{text:?} should fail");
        }
    }
}
