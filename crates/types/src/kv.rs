//! Key/value entries and the write requests that change them (Consul's `DirEntry` and
//! `KVSRequest`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One KV entry, as `GET /v1/kv/<key>` shows it.
///
/// JSON: `{"LockIndex","Key","Flags","Value","Session"?,"CreateIndex","ModifyIndex"}` with
/// `Value` base64-encoded, or `null` when the value is empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct KvEntry {
    /// Number of successful lock acquisitions; never decreases.
    pub lock_index: u64,
    /// The full key, as stored.
    pub key: String,
    /// Opaque client flags.
    pub flags: u64,
    /// The value bytes.
    #[serde(with = "value_base64")]
    pub value: Vec<u8>,
    /// The session holding the lock, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// Raft index that created the key.
    pub create_index: u64,
    /// Raft index of the last write to the key: the basis of `?cas`.
    pub modify_index: u64,
}

/// The kind of a KV write (Consul's `api.KVOp` for the write verbs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KvOp {
    /// Unconditional set.
    Set,
    /// Set only if the key's `ModifyIndex` equals `cas_index` (0: only if absent).
    Cas,
    /// Acquire the lock for `session` and set the value.
    Lock,
    /// Release the lock held by `session` and set the value.
    Unlock,
    /// Delete one key; a missing key is not an error.
    Delete,
    /// Delete one key only if its `ModifyIndex` equals `cas_index` (never for 0).
    DeleteCas,
    /// Delete every key starting with `key`.
    DeleteTree,
}

/// A KV write as it travels through Raft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KvRequest {
    /// What to do.
    pub op: KvOp,
    /// The key, or the prefix for [`KvOp::DeleteTree`].
    pub key: String,
    /// The value to store (ignored by deletes).
    #[serde(with = "raw_bytes")]
    pub value: Vec<u8>,
    /// Flags to store (ignored by deletes).
    pub flags: u64,
    /// The expected `ModifyIndex` for [`KvOp::Cas`] and [`KvOp::DeleteCas`].
    pub cas_index: u64,
    /// The session for [`KvOp::Lock`] and [`KvOp::Unlock`].
    pub session: Option<String>,
}

impl KvRequest {
    /// A request of `op` on `key` with an empty value and no conditions.
    pub fn new(op: KvOp, key: impl Into<String>) -> Self {
        Self {
            op,
            key: key.into(),
            value: Vec::new(),
            flags: 0,
            cas_index: 0,
            session: None,
        }
    }

    /// An unconditional set of `key` to `value`.
    pub fn set(key: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        Self {
            value: value.into(),
            ..Self::new(KvOp::Set, key)
        }
    }
}

/// `Value`: base64 standard encoding, `null` for an empty value.
pub(crate) mod value_base64 {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        if v.is_empty() {
            s.serialize_none()
        } else {
            s.serialize_str(&STANDARD.encode(v))
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(Vec::new()),
            Some(s) => STANDARD
                .decode(s.as_bytes())
                .map_err(serde::de::Error::custom),
        }
    }
}

/// Raw bytes as msgpack `bin` (not an array of integers) in Raft entries and snapshots;
/// reads either form. Use with `#[serde(with = "praetor_types::kv::raw_bytes")]`.
pub mod raw_bytes {
    use super::*;

    /// Writes `v` as one byte string.
    pub fn serialize<S: Serializer, B: AsRef<[u8]> + ?Sized>(
        v: &B,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v.as_ref())
    }

    /// Reads a byte string or a sequence of bytes.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                Ok(v.to_vec())
            }
            fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
                Ok(v)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Vec<u8>, A::Error> {
                let mut out = Vec::new();
                while let Some(b) = a.next_element::<u8>()? {
                    out.push(b);
                }
                Ok(out)
            }
        }
        d.deserialize_byte_buf(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_json_matches_consul_shape() {
        let e = KvEntry {
            lock_index: 0,
            key: "web/key1".into(),
            flags: 42,
            value: b"test".to_vec(),
            session: None,
            create_index: 5,
            modify_index: 7,
        };
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"LockIndex":0,"Key":"web/key1","Flags":42,"Value":"dGVzdA==","CreateIndex":5,"ModifyIndex":7}"#
        );
        let back: KvEntry = serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
        assert_eq!(back, e);
    }

    #[test]
    fn empty_value_is_null() {
        let e = KvEntry {
            key: "k".into(),
            ..Default::default()
        };
        assert!(
            serde_json::to_string(&e)
                .unwrap()
                .contains(r#""Value":null"#)
        );
    }
}
