//! HCL parsing. Consul's files are HCL1; hcl-rs speaks HCL2, which rejects a few HCL1 forms
//! seen in real configs. [`normalize_hcl1`] rewrites those before parsing:
//!
//! * several attributes on one line inside a block: `ports { http = 8500 dns = -1 }`;
//! * commas between a block's attributes: `ports { http = 8500, dns = -1 }`;
//! * quoted attribute names: `"datacenter" = "dc1"`.
//!
//! It only inserts newlines and drops quotes or commas at block-body level; strings,
//! comments, heredocs, lists and object expressions are copied untouched.

use serde_json::Value;

/// Parses an HCL config source into a JSON tree.
pub(crate) fn parse(text: &str) -> Result<Value, String> {
    let normalized = normalize_hcl1(text);
    hcl::from_str::<Value>(&normalized).map_err(|e| e.to_string())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Frame {
    /// A block body (or the file body): attributes and blocks, one per line in HCL2.
    Block,
    /// An object expression, list, or parenthesised expression: left alone.
    Expression,
}

/// Rewrites the HCL1-only forms listed in the module docs into HCL2.
pub(crate) fn normalize_hcl1(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 16);
    let mut stack = vec![Frame::Block];
    // The last significant character emitted, ignoring spaces and comments.
    let mut last = '\n';
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let in_block = stack.last() == Some(&Frame::Block);
        match c {
            '#' => i = copy_until_newline(&chars, i, &mut out),
            '/' if chars.get(i + 1) == Some(&'/') => i = copy_until_newline(&chars, i, &mut out),
            '/' if chars.get(i + 1) == Some(&'*') => {
                let end = find_seq(&chars, i + 2, &['*', '/']).map_or(chars.len(), |e| e + 2);
                out.extend(&chars[i..end]);
                i = end;
            }
            '<' if chars.get(i + 1) == Some(&'<') => {
                i = copy_heredoc(&chars, i, &mut out);
                last = 'x';
            }
            '"' => {
                let end = string_end(&chars, i);
                let literal: String = chars[i..end].iter().collect();
                let inner = literal
                    .strip_prefix('"')
                    .and_then(|l| l.strip_suffix('"'))
                    .unwrap_or("");
                if in_block && is_identifier(inner) && next_is_assign(&chars, end) {
                    if last != '\n' && last != '{' {
                        out.push('\n');
                    }
                    out.push_str(inner);
                } else {
                    out.push_str(&literal);
                }
                last = '"';
                i = end;
            }
            '{' => {
                let opens_block =
                    in_block && (last.is_alphanumeric() || last == '_' || last == '"');
                out.push('{');
                if opens_block {
                    out.push('\n');
                    stack.push(Frame::Block);
                    last = '\n';
                } else {
                    stack.push(Frame::Expression);
                    last = '{';
                }
                i += 1;
            }
            '[' | '(' => {
                stack.push(Frame::Expression);
                out.push(c);
                last = c;
                i += 1;
            }
            '}' | ']' | ')' => {
                let closed = stack.pop();
                if stack.is_empty() {
                    // Unbalanced input: let the parser report it.
                    stack.push(Frame::Block);
                }
                if c == '}' && closed == Some(Frame::Block) && last != '\n' {
                    out.push('\n');
                }
                out.push(c);
                last = c;
                i += 1;
            }
            ',' if in_block => {
                out.push('\n');
                last = '\n';
                i += 1;
            }
            '\n' => {
                out.push('\n');
                if in_block {
                    last = '\n';
                }
                i += 1;
            }
            c if c.is_whitespace() => {
                out.push(c);
                i += 1;
            }
            c if in_block && (c.is_alphabetic() || c == '_') => {
                let end = identifier_end(&chars, i);
                let starts_new = last != '\n' && last != '{' && last != '=' && last != ',';
                if starts_new && (next_is_assign(&chars, end) || next_opens_block(&chars, end)) {
                    out.push('\n');
                }
                out.extend(&chars[i..end]);
                last = chars[end - 1];
                i = end;
            }
            c => {
                out.push(c);
                last = c;
                i += 1;
            }
        }
    }
    out
}

fn copy_until_newline(chars: &[char], start: usize, out: &mut String) -> usize {
    let end = chars[start..]
        .iter()
        .position(|&c| c == '\n')
        .map_or(chars.len(), |p| start + p);
    out.extend(&chars[start..end]);
    end
}

fn find_seq(chars: &[char], from: usize, seq: &[char]) -> Option<usize> {
    (from..chars.len()).find(|&i| chars[i..].starts_with(seq))
}

/// The index just past the closing quote of the string starting at `start`.
fn string_end(chars: &[char], start: usize) -> usize {
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '"' => return i + 1,
            '\n' => return i,
            _ => i += 1,
        }
    }
    chars.len()
}

/// Copies `<<EOF … EOF` (or `<<-EOF`) verbatim; returns the index after it.
fn copy_heredoc(chars: &[char], start: usize, out: &mut String) -> usize {
    let mut i = start + 2;
    if chars.get(i) == Some(&'-') {
        i += 1;
    }
    let tag_end = identifier_end(chars, i);
    let tag: String = chars[i..tag_end].iter().collect();
    if tag.is_empty() {
        out.push_str("<<");
        return start + 2;
    }
    let mut line_start = copy_until_newline(chars, start, out);
    while line_start < chars.len() {
        // chars[line_start] is '\n'
        let next = copy_until_newline(chars, line_start + 1, &mut String::new());
        let line: String = chars[line_start + 1..next].iter().collect();
        out.extend(&chars[line_start..next]);
        line_start = next;
        if line.trim() == tag {
            break;
        }
    }
    line_start
}

fn identifier_end(chars: &[char], start: usize) -> usize {
    let mut i = start;
    while i < chars.len() && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '-' | '.')) {
        i += 1;
    }
    i
}

fn is_identifier(s: &str) -> bool {
    let mut it = s.chars();
    it.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && it.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

fn skip_spaces(chars: &[char], mut i: usize) -> usize {
    while i < chars.len() && (chars[i] == ' ' || chars[i] == '\t') {
        i += 1;
    }
    i
}

fn next_is_assign(chars: &[char], end: usize) -> bool {
    let i = skip_spaces(chars, end);
    chars.get(i) == Some(&'=') && chars.get(i + 1) != Some(&'=')
}

/// `ident {` or `ident "label" {`.
fn next_opens_block(chars: &[char], end: usize) -> bool {
    let mut i = skip_spaces(chars, end);
    while chars.get(i) == Some(&'"') {
        i = skip_spaces(chars, string_end(chars, i));
    }
    chars.get(i) == Some(&'{')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_line_block_with_several_attributes_parses() {
        let v = parse("ports { http = 8500 dns = -1 }\n").expect("parses");
        assert_eq!(v, json!({"ports": {"http": 8500, "dns": -1}}));
    }

    #[test]
    fn comma_separated_block_body_parses() {
        let v = parse("ports { http = 8500, dns = -1 }").expect("parses");
        assert_eq!(v, json!({"ports": {"http": 8500, "dns": -1}}));
    }

    #[test]
    fn quoted_attribute_names_parse() {
        let v = parse("\"datacenter\" = \"dc1\"\n\"node_name\" = \"n1\"").expect("parses");
        assert_eq!(v, json!({"datacenter": "dc1", "node_name": "n1"}));
    }

    #[test]
    fn several_top_level_attributes_on_one_line_parse() {
        let v = parse("server = true bootstrap_expect = 3").expect("parses");
        assert_eq!(v, json!({"server": true, "bootstrap_expect": 3}));
    }

    #[test]
    fn nested_one_line_blocks_parse() {
        let v =
            parse("service { name = \"web\" port = 80 check { ttl = \"10s\" } }").expect("parses");
        assert_eq!(
            v,
            json!({"service": {"name": "web", "port": 80, "check": {"ttl": "10s"}}})
        );
    }

    #[test]
    fn strings_comments_lists_and_objects_are_untouched() {
        let text = r#"
# a comment with ports { a = 1 b = 2 }
retry_join = ["a b = c", "d"] // trailing
/* block { x = 1 y = 2 } */
node_meta = { rack = "r1", zone = "z = 1" }
tags = "x, y = z"
"#;
        let v = parse(text).expect("parses");
        assert_eq!(
            v,
            json!({
                "retry_join": ["a b = c", "d"],
                "node_meta": {"rack": "r1", "zone": "z = 1"},
                "tags": "x, y = z",
            })
        );
    }

    #[test]
    fn heredoc_is_copied_verbatim() {
        let text = "notes = <<EOF\nports { a = 1 b = 2 }\nEOF\nserver = true\n";
        let v = parse(text).expect("parses");
        assert_eq!(
            v,
            json!({"notes": "ports { a = 1 b = 2 }\n", "server": true})
        );
    }

    #[test]
    fn garbage_reports_an_error() {
        assert!(parse("ports {").is_err());
        assert!(parse("= = =").is_err());
    }
}
