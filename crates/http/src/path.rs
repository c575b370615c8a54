//! URL path handling with Go `net/http` semantics, which Consul clients can observe:
//! `ServeMux`-style cleaning (redirects for `//`, `.` and `..` segments), percent
//! decoding, and the unprintable-character filter.

use crate::error::HttpError;

/// The canonical form of a raw (still percent-encoded) path, as Go's `ServeMux` computes
/// it: rooted, no empty, `.` or `..` segments, trailing slash kept.
///
/// Cleaning works on the encoded path so that encoded dots and slashes (`%2e%2e%2f`) stay
/// inside a segment and reach key validation instead of being resolved here.
pub(crate) fn clean(raw: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for seg in raw.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = String::with_capacity(raw.len() + 1);
    for seg in &segments {
        out.push('/');
        out.push_str(seg);
    }
    if out.is_empty() || raw.ends_with('/') {
        out.push('/');
    }
    out
}

/// Decodes `%XX` escapes once (a `+` stays a `+` in paths), requiring UTF-8 afterwards.
pub(crate) fn decode(raw: &str) -> Result<String, HttpError> {
    let bytes = percent_decode(raw, false).ok_or(HttpError::MalformedPath)?;
    String::from_utf8(bytes).map_err(|_| HttpError::MalformedPath)
}

/// Refuses paths with characters that are not printable (control characters, `%0a`).
pub(crate) fn check_printable(decoded: &str) -> Result<(), HttpError> {
    if decoded
        .chars()
        .any(|c| c.is_control() || is_unicode_unprintable(c))
    {
        return Err(HttpError::UnprintablePath);
    }
    Ok(())
}

/// Format and separator characters Go's `unicode.IsPrint` also refuses.
fn is_unicode_unprintable(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{206f}' | '\u{feff}')
}

/// Percent-decodes `s`; with `plus_is_space`, `+` becomes a space (query strings).
/// `None` on a malformed escape.
pub(crate) fn percent_decode(s: &str, plus_is_space: bool) -> Option<Vec<u8>> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hi = hex_value(*bytes.get(i + 1)?)?;
                let lo = hex_value(*bytes.get(i + 2)?)?;
                out.push(hi << 4 | lo);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Some(out)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Go's `url.QueryEscape`: unreserved bytes kept, space as `+`, the rest `%XX`.
pub(crate) fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests;
