use super::*;

#[test]
fn clean_matches_go_servemux() {
    assert_eq!(clean("/v1/kv/a"), "/v1/kv/a");
    assert_eq!(clean("/v1/kv/a//b"), "/v1/kv/a/b");
    assert_eq!(clean("/v1/kv/a/../b"), "/v1/kv/b");
    assert_eq!(clean("/v1/kv/./b"), "/v1/kv/b");
    assert_eq!(clean("/v1/kv/"), "/v1/kv/");
    assert_eq!(clean("/v1/kv//"), "/v1/kv/");
    assert_eq!(clean("/../.."), "/");
    assert_eq!(clean("/"), "/");
    assert_eq!(clean(""), "/");
    assert_eq!(clean("/v1/kv/a/.."), "/v1/kv");
    assert_eq!(clean("/v1/kv/a/../"), "/v1/kv/");
}

#[test]
fn clean_leaves_encoded_dots_alone() {
    assert_eq!(clean("/v1/kv/..%2fetc"), "/v1/kv/..%2fetc");
    assert_eq!(clean("/v1/kv/%2e%2e/x"), "/v1/kv/%2e%2e/x");
}

#[test]
fn decode_once() {
    assert_eq!(decode("/v1/kv/%C3%A7a").unwrap(), "/v1/kv/ça");
    assert_eq!(decode("/v1/kv/a%252f").unwrap(), "/v1/kv/a%2f");
    assert_eq!(decode("/v1/kv/a+b").unwrap(), "/v1/kv/a+b");
    assert!(decode("/v1/kv/%zz").is_err());
    assert!(decode("/v1/kv/%4").is_err());
    assert!(decode("/v1/kv/%ff").is_err(), "not UTF-8");
}

#[test]
fn printable_filter() {
    assert!(check_printable("/v1/kv/ça va").is_ok());
    assert!(check_printable("/v1/kv/a\nb").is_err());
    assert!(check_printable("/v1/kv/a\u{7f}").is_err());
    assert!(check_printable("/v1/kv/a\u{200b}").is_err());
}

#[test]
fn query_escape_like_go() {
    assert_eq!(query_escape("a b/c~d"), "a+b%2Fc~d");
    assert_eq!(query_escape("ç"), "%C3%A7");
}
