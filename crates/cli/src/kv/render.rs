//! Pure renderers for `kv get` and `kv export` output, byte for byte as Consul prints them.
//! Values are bytes (not necessarily UTF-8), so most renderers return `Vec<u8>`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use praetor_types::KvEntry;
use praetor_types::gojson::go_html_escape;
use serde::{Deserialize, Serialize};

/// Labels of the `-detailed` table, in Consul's order.
const DETAILED_LABELS: [&str; 7] = [
    "CreateIndex",
    "Flags",
    "Key",
    "LockIndex",
    "ModifyIndex",
    "Session",
    "Value",
];

/// Gap after the longest label in the `-detailed` table (Go tabwriter padding 6).
const DETAILED_PADDING: usize = 6;

/// A value as printed: raw bytes, or base64 with `-base64`.
pub(crate) fn value_bytes(value: &[u8], base64: bool) -> Vec<u8> {
    if base64 {
        STANDARD.encode(value).into_bytes()
    } else {
        value.to_vec()
    }
}

/// One `-recurse` line without its newline: `<key>:<value>`.
pub(crate) fn recurse_line(entry: &KvEntry, base64: bool) -> Vec<u8> {
    let mut line = Vec::with_capacity(entry.key.len() + 1 + entry.value.len());
    line.extend_from_slice(entry.key.as_bytes());
    line.push(b':');
    line.extend_from_slice(&value_bytes(&entry.value, base64));
    line
}

/// The `-detailed` table without a trailing newline: labels padded to the longest label
/// plus 6, `Session` `-` when unlocked.
pub(crate) fn detailed(entry: &KvEntry, base64: bool) -> Vec<u8> {
    let width = DETAILED_LABELS.iter().map(|l| l.len()).max().unwrap_or(0) + DETAILED_PADDING;
    let session = entry
        .session
        .as_deref()
        .filter(|s| !s.is_empty())
        .unwrap_or("-");
    let cells: [Vec<u8>; 7] = [
        entry.create_index.to_string().into_bytes(),
        entry.flags.to_string().into_bytes(),
        entry.key.clone().into_bytes(),
        entry.lock_index.to_string().into_bytes(),
        entry.modify_index.to_string().into_bytes(),
        session.as_bytes().to_vec(),
        value_bytes(&entry.value, base64),
    ];
    let mut out = Vec::new();
    for (i, (label, cell)) in DETAILED_LABELS.iter().zip(cells).enumerate() {
        if i > 0 {
            out.push(b'\n');
        }
        out.extend_from_slice(format!("{label:<width$}").as_bytes());
        out.extend_from_slice(&cell);
    }
    out
}

/// One entry of `kv export` / `kv import` JSON: lowercase names, base64 value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ExportEntry {
    pub(crate) key: String,
    pub(crate) flags: u64,
    pub(crate) value: String,
}

impl From<&KvEntry> for ExportEntry {
    fn from(entry: &KvEntry) -> Self {
        Self {
            key: entry.key.clone(),
            flags: entry.flags,
            value: STANDARD.encode(&entry.value),
        }
    }
}

/// `kv export` output: a tab-indented JSON array, with `<`, `>`, `&`, U+2028 and U+2029
/// escaped as Go's `encoding/json` does. Empty input is `[]`.
pub(crate) fn export_json(entries: &[KvEntry]) -> String {
    let exported: Vec<ExportEntry> = entries.iter().map(ExportEntry::from).collect();
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    exported
        .serialize(&mut serializer)
        .expect("serialising strings and integers cannot fail");
    let text = String::from_utf8(out).expect("serde_json writes UTF-8");
    go_html_escape(&text)
}

/// Why `kv import` data was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ImportError {
    /// Not a JSON array of objects.
    #[error("Cannot unmarshal data: {0}")]
    Json(#[from] serde_json::Error),
    /// An entry's value is not base64.
    #[error("Error base 64 decoding value for key {key}: {source}")]
    Base64 {
        key: String,
        #[source]
        source: base64::DecodeError,
    },
}

/// One decoded import entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ImportEntry {
    pub(crate) key: String,
    pub(crate) flags: u64,
    pub(crate) value: Vec<u8>,
}

/// Parses `kv import` data. Field names match case-insensitively and missing fields are
/// zero, as with Go's `encoding/json`.
pub(crate) fn parse_import(data: &[u8]) -> Result<Vec<ImportEntry>, ImportError> {
    let raw: Vec<serde_json::Map<String, serde_json::Value>> = serde_json::from_slice(data)?;
    let mut entries = Vec::with_capacity(raw.len());
    for object in raw {
        let field = |name: &str| {
            object
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        // Go leaves a field at its zero value when it is absent or null.
        let present = |name: &str| field(name).filter(|v| !v.is_null());
        let key: String = present("key")
            .map(serde_json::from_value)
            .transpose()?
            .unwrap_or_default();
        let flags: u64 = present("flags")
            .map(serde_json::from_value)
            .transpose()?
            .unwrap_or(0);
        let encoded: String = present("value")
            .map(serde_json::from_value)
            .transpose()?
            .unwrap_or_default();
        let value = STANDARD
            .decode(encoded.as_bytes())
            .map_err(|source| ImportError::Base64 {
                key: key.clone(),
                source,
            })?;
        entries.push(ImportEntry { key, flags, value });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &str, value: &[u8]) -> KvEntry {
        KvEntry {
            key: key.into(),
            value: value.to_vec(),
            create_index: 336,
            modify_index: 336,
            ..KvEntry::default()
        }
    }

    #[test]
    fn detailed_matches_consul_table() {
        let text = detailed(&entry("redis/config/connections", b"5"), false);
        assert_eq!(
            String::from_utf8(text).unwrap(),
            "CreateIndex      336\nFlags            0\nKey              redis/config/connections\n\
             LockIndex        0\nModifyIndex      336\nSession          -\nValue            5"
        );
    }

    #[test]
    fn detailed_shows_session_and_base64() {
        let mut e = entry("k", b"hi");
        e.session = Some("adf4238a".into());
        let text = String::from_utf8(detailed(&e, true)).unwrap();
        assert!(text.contains("\nSession          adf4238a\n"), "{text}");
        assert!(text.ends_with("\nValue            aGk="), "{text}");
    }

    #[test]
    fn recurse_line_is_key_colon_value() {
        assert_eq!(recurse_line(&entry("a/b", b"x:y"), false), b"a/b:x:y");
        assert_eq!(recurse_line(&entry("a/b", b"hi"), true), b"a/b:aGk=");
        assert_eq!(recurse_line(&entry("empty", b""), false), b"empty:");
    }

    #[test]
    fn export_is_tab_indented_lowercase_base64() {
        let mut e = entry("redis/config/connections", b"5");
        e.flags = 0;
        assert_eq!(
            export_json(&[e]),
            "[\n\t{\n\t\t\"key\": \"redis/config/connections\",\n\t\t\"flags\": 0,\n\t\t\"value\": \"NQ==\"\n\t}\n]"
        );
        assert_eq!(export_json(&[]), "[]");
    }

    #[test]
    fn export_escapes_like_go() {
        let text = export_json(&[entry("a<b>&c", b"")]);
        assert!(text.contains(r#""key": "a\u003cb\u003e\u0026c""#), "{text}");
        assert!(text.contains(r#""value": """#), "{text}");
    }

    #[test]
    fn import_parses_export_output() {
        let data = export_json(&[entry("a", b"1"), entry("b/", b"")]);
        let entries = parse_import(data.as_bytes()).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(
            entries[0],
            ImportEntry {
                key: "a".into(),
                flags: 0,
                value: b"1".to_vec()
            }
        );
        assert_eq!(entries[1].key, "b/");
        assert!(entries[1].value.is_empty());
    }

    #[test]
    fn import_matches_fields_case_insensitively() {
        let entries = parse_import(br#"[{"Key":"k","FLAGS":7,"Value":"aGk=","Extra":1}]"#).unwrap();
        assert_eq!(
            entries[0],
            ImportEntry {
                key: "k".into(),
                flags: 7,
                value: b"hi".to_vec()
            }
        );
    }

    #[test]
    fn import_rejects_bad_json_and_bad_base64() {
        let err = parse_import(b"{not json").unwrap_err();
        assert!(
            err.to_string().starts_with("Cannot unmarshal data: "),
            "{err}"
        );
        let err = parse_import(br#"[{"key":"k","value":"!!"}]"#).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("Error base 64 decoding value for key k: "),
            "{err}"
        );
    }
}
