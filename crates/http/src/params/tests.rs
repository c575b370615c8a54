use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue};
use praetor_types::Consistency;

use super::*;

fn q(s: &str) -> QueryParams {
    QueryParams::parse(Some(s))
}

#[test]
fn presence_flags_act_without_values() {
    let p = q("recurse&keys=&raw=false");
    assert!(p.has("recurse") && p.has("keys") && p.has("raw"));
    assert_eq!(p.get("recurse"), Some(""));
    assert_eq!(p.non_empty("keys"), None);
    assert!(!p.has("stale"));
}

#[test]
fn parse_decodes_and_keeps_first_value() {
    let p = q("a=1&a=2&b=x+y%2Fz&bad=%zz&semi;colon=1");
    assert_eq!(p.get("a"), Some("1"));
    assert_eq!(p.get("b"), Some("x y/z"));
    assert!(!p.has("bad"));
    assert!(!p.has("semi;colon") && !p.has("semi"));
    assert_eq!(QueryParams::parse(None), QueryParams::default());
}

#[test]
fn encode_sorts_keys_like_go() {
    assert_eq!(
        q("cas=1&acquire=abc&recurse").encode(),
        "acquire=abc&cas=1&recurse="
    );
    assert_eq!(q("b=2&a=z&b=1").encode(), "a=z&b=2&b=1");
}

#[test]
fn conflicting_flags_carry_the_encoded_query() {
    let err = q("release=s&cas=5").reject_conflicting(&["cas", "acquire", "release"]);
    assert_eq!(
        err.unwrap_err().to_string(),
        "Conflicting flags: cas=5&release=s\n"
    );
    assert!(
        q("cas=5&flags=1")
            .reject_conflicting(&["cas", "acquire", "release"])
            .is_ok()
    );
}

#[test]
fn blocking_options() {
    let o = query_options(&q("index=42&wait=5s")).unwrap();
    assert_eq!(o.min_index, 42);
    assert_eq!(o.max_wait, Some(Duration::from_secs(5)));
    assert_eq!(o.consistency, Consistency::Default);

    let o = query_options(&q("index=&wait=")).unwrap();
    assert_eq!((o.min_index, o.max_wait), (0, None));
    // Negative and zero waits fall back to the server default, as in Consul.
    assert_eq!(query_options(&q("wait=-1s")).unwrap().max_wait, None);
    assert_eq!(query_options(&q("wait=0")).unwrap().max_wait, None);
}

#[test]
fn blocking_option_errors() {
    let text = |s: &str| query_options(&q(s)).unwrap_err().to_string();
    assert_eq!(text("index=-1"), "Invalid index");
    assert_eq!(text("index=abc"), "Invalid index");
    assert_eq!(text("index=18446744073709551616"), "Invalid index");
    assert_eq!(text("wait=forever"), "Invalid wait time");
    assert_eq!(text("wait=5"), "Invalid wait time");
    // Wait is checked before index.
    assert_eq!(text("index=x&wait=y"), "Invalid wait time");
}

#[test]
fn consistency_modes() {
    let mode = |s: &str| query_options(&q(s)).unwrap().consistency;
    assert_eq!(mode("stale"), Consistency::Stale);
    assert_eq!(mode("consistent="), Consistency::Consistent);
    assert_eq!(mode("max_stale=10s"), Consistency::Stale);
    assert_eq!(mode("stale&leader"), Consistency::Default);
    let text = |s: &str| query_options(&q(s)).unwrap_err().to_string();
    assert_eq!(
        text("stale&consistent"),
        "Cannot specify ?stale with ?consistent, conflicting semantics."
    );
    assert_eq!(
        text("cached&consistent"),
        "Cannot specify ?cached with ?consistent, conflicting semantics."
    );
    assert_eq!(text("max_stale=soon"), "Invalid max_stale value \"soon\"");
}

#[test]
fn max_stale_carries_its_bound() {
    let bound = |s: &str| query_options(&q(s)).unwrap().max_stale;
    assert_eq!(
        bound("max_stale=10s"),
        Some(std::time::Duration::from_secs(10))
    );
    assert_eq!(bound("stale"), None);
    // Zero is no bound and does not imply stale, as Consul's `MaxStaleDuration > 0`.
    assert_eq!(bound("max_stale=0s"), None);
    assert_eq!(
        query_options(&q("max_stale=0s")).unwrap().consistency,
        Consistency::Default
    );
    // `?leader` wins over `?max_stale`; `?consistent` ignores it.
    assert_eq!(bound("max_stale=5s&leader"), None);
    assert_eq!(bound("max_stale=5s&consistent"), None);
}

#[test]
fn datacenter_check() {
    assert!(check_datacenter(&q(""), "dc1").is_ok());
    assert!(check_datacenter(&q("dc="), "dc1").is_ok());
    assert!(check_datacenter(&q("dc=dc1"), "dc1").is_ok());
    assert_eq!(
        check_datacenter(&q("dc=dc2"), "dc1")
            .unwrap_err()
            .to_string(),
        "No path to datacenter"
    );
}

#[test]
fn enterprise_meta_is_refused() {
    let none = HeaderMap::new();
    assert!(reject_enterprise_meta(&q("ns="), &none).is_ok());
    assert_eq!(
        reject_enterprise_meta(&q("ns=team"), &none)
            .unwrap_err()
            .to_string(),
        r#"Invalid query parameter: "ns" - Namespaces are a Consul Enterprise feature"#
    );
    assert_eq!(
        reject_enterprise_meta(&q("partition=p"), &none)
            .unwrap_err()
            .to_string(),
        r#"Invalid query parameter: "partition" - Partitions are a Consul Enterprise feature"#
    );
    let mut h = HeaderMap::new();
    h.insert("X-Consul-Namespace", HeaderValue::from_static("team"));
    assert_eq!(
        reject_enterprise_meta(&q(""), &h).unwrap_err().to_string(),
        r#"Invalid header: "X-Consul-Namespace" - Namespaces are a Consul Enterprise feature"#
    );
}

#[test]
fn parse_uint_like_go() {
    assert_eq!(parse_uint("0"), Ok(0));
    assert_eq!(parse_uint("18446744073709551615"), Ok(u64::MAX));
    assert_eq!(
        parse_uint("abc").unwrap_err().to_string(),
        r#"strconv.ParseUint: parsing "abc": invalid syntax"#
    );
    assert!(matches!(parse_uint("+5"), Err(ParseUintError::Syntax(_))));
    assert!(matches!(parse_uint(""), Err(ParseUintError::Syntax(_))));
    assert_eq!(
        parse_uint("18446744073709551616").unwrap_err().to_string(),
        r#"strconv.ParseUint: parsing "18446744073709551616": value out of range"#
    );
}
