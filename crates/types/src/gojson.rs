//! Go's `encoding/json` escapes `<`, `>`, `&`, U+2028 and U+2029 inside strings; output meant
//! to be byte-identical to Consul's (CLI output, watch handler input) does the same.

/// Escapes what Go's encoder escapes. Those characters never occur outside strings in JSON,
/// so replacing them in serialised text is exact.
pub fn go_html_escape(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_what_go_escapes() {
        assert_eq!(
            super::go_html_escape("{\"a\":\"<b>&\u{2028}\u{2029}\"}"),
            r#"{"a":"\u003cb\u003e\u0026\u2028\u2029"}"#
        );
    }
}
