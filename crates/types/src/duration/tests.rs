use std::time::Duration;

use super::*;

fn ok(s: &str) -> Duration {
    parse_go_duration(s).unwrap_or_else(|e| panic!("{s:?} should parse: {e}"))
}

#[test]
fn parses_single_units() {
    assert_eq!(ok("10s"), Duration::from_secs(10));
    assert_eq!(ok("90m"), Duration::from_secs(90 * 60));
    assert_eq!(ok("300ms"), Duration::from_millis(300));
    assert_eq!(ok("2us"), Duration::from_micros(2));
    assert_eq!(ok("2µs"), Duration::from_micros(2));
    assert_eq!(ok("2μs"), Duration::from_micros(2));
    assert_eq!(ok("7ns"), Duration::from_nanos(7));
    assert_eq!(ok("72h"), Duration::from_secs(72 * 3600));
}

#[test]
fn parses_fractions_and_compounds() {
    assert_eq!(ok("0.5s"), Duration::from_millis(500));
    assert_eq!(ok("1.5h"), Duration::from_secs(5400));
    assert_eq!(ok("0.001s"), Duration::from_millis(1));
    assert_eq!(ok("15.0s"), Duration::from_secs(15));
    assert_eq!(ok(".5s"), Duration::from_millis(500));
    assert_eq!(ok("5.s"), Duration::from_secs(5));
    assert_eq!(ok("1h30m"), Duration::from_secs(5400));
    assert_eq!(ok("1m30.5s"), Duration::from_millis(90_500));
    assert_eq!(ok("+5s"), Duration::from_secs(5));
}

#[test]
fn zero_needs_no_unit() {
    assert_eq!(ok("0"), Duration::ZERO);
    assert_eq!(ok("-0"), Duration::ZERO);
    assert_eq!(ok("0s"), Duration::ZERO);
}

#[test]
fn negative_is_parsed_by_signed_but_refused_by_unsigned() {
    assert_eq!(parse_signed("-1s"), Ok((true, Duration::from_secs(1))));
    assert_eq!(
        parse_go_duration("-1s"),
        Err(DurationError::Negative("-1s".into()))
    );
}

#[test]
fn rejects_malformed_input() {
    for bad in [
        "", "forever", "5", "1.5", ".", "s", "-", "1h30", "5 s", "5S", "1e3s", "--1s",
    ] {
        assert!(
            parse_go_duration(bad).is_err(),
            "{bad:?} should be rejected"
        );
    }
    assert_eq!(
        parse_go_duration("5"),
        Err(DurationError::MissingUnit("5".into()))
    );
    assert_eq!(
        parse_go_duration("5d"),
        Err(DurationError::UnknownUnit {
            unit: "d".into(),
            input: "5d".into()
        })
    );
}

#[test]
fn rejects_overflow_like_go() {
    // Go's maximum is 2^63-1 ns (~2562047h).
    assert!(parse_go_duration("2562047h").is_ok());
    assert!(matches!(
        parse_go_duration("2562048h"),
        Err(DurationError::Overflow(_))
    ));
    assert!(matches!(
        parse_go_duration("99999999999999999999999999h"),
        Err(DurationError::Overflow(_))
    ));
    assert_eq!(
        parse_signed("-9223372036854775808ns").map(|(n, _)| n),
        Ok(true)
    );
    assert!(parse_signed("9223372036854775808ns").is_err());
}

#[test]
fn long_fractions_are_truncated_not_rejected() {
    assert_eq!(ok("1.0000000000000000000000001s"), Duration::from_secs(1));
}

#[test]
fn formats_like_go() {
    let cases = [
        (Duration::ZERO, "0s"),
        (Duration::from_nanos(15), "15ns"),
        (Duration::from_micros(2), "2µs"),
        (Duration::from_nanos(1_500), "1.5µs"),
        (Duration::from_millis(500), "500ms"),
        (Duration::from_micros(1_250), "1.25ms"),
        (Duration::from_secs(10), "10s"),
        (Duration::from_millis(1_500), "1.5s"),
        (Duration::from_secs(90), "1m30s"),
        (Duration::from_secs(3600), "1h0m0s"),
        (Duration::from_millis(3_723_500), "1h2m3.5s"),
    ];
    for (d, want) in cases {
        assert_eq!(format_go_duration(d), want, "{d:?}");
    }
}
