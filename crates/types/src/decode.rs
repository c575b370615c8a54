//! JSON decoded as Go's `encoding/json` does (spec/http-api.md §1.2): struct field names
//! match ignoring ASCII case, at every nesting level, and unknown fields are ignored. Map
//! keys (`Meta`, `NodeMeta`, …) are data and keep their case. Used for request bodies by
//! the HTTP layer and for service/check definitions from config files by the agent.
//!
//! As a last resort a key also matches a field when both agree once underscores are
//! dropped, so the snake_case spellings of config files and of Consul's translated agent
//! bodies (`deregister_critical_service_after`, `service_id`) decode into the same types.
//!
//! The input is a [`serde_json::Value`]; [`Ci`] deserialises it, renaming each object key
//! to the target struct's field name it matches. Only `deserialize_struct` knows the field
//! names, which is why this is a deserializer wrapper rather than a pass over the `Value`.

use serde::de::value::{MapDeserializer, SeqDeserializer};
use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;
use serde_json::{Map, Value};

/// Decodes `body` (JSON text) into `T`, matching struct fields case-insensitively.
pub fn from_slice<T: DeserializeOwned>(body: &[u8]) -> Result<T, serde_json::Error> {
    let value: Value = serde_json::from_slice(body)?;
    from_value(&value)
}

/// Decodes a parsed JSON `value` into `T`, matching struct fields case-insensitively.
pub fn from_value<T: DeserializeOwned>(value: &Value) -> Result<T, serde_json::Error> {
    T::deserialize(Ci(value))
}

/// A borrowed JSON value deserialised with case-insensitive struct fields.
#[derive(Clone, Copy)]
struct Ci<'a>(&'a Value);

impl<'de> IntoDeserializer<'de, serde_json::Error> for Ci<'de> {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

/// `obj`'s entries with keys renamed to the field of `fields` they match: an exact
/// match first, else one ignoring ASCII case; unmatched keys stay (and are ignored by
/// the derived struct visitor). A later key for the same field replaces an earlier
/// one, as in Go.
fn renamed<'a>(obj: &'a Map<String, Value>, fields: &[&'static str]) -> Vec<(&'a str, Ci<'a>)> {
    let mut out: Vec<(&'a str, Ci<'a>)> = Vec::with_capacity(obj.len());
    for (key, value) in obj {
        let name = fields
            .iter()
            .find(|f| **f == key)
            .or_else(|| fields.iter().find(|f| f.eq_ignore_ascii_case(key)))
            .or_else(|| fields.iter().find(|f| same_without_underscores(f, key)))
            .copied()
            .unwrap_or(key.as_str());
        match out.iter_mut().find(|(k, _)| *k == name) {
            Some(slot) => slot.1 = Ci(value),
            None => out.push((name, Ci(value))),
        }
    }
    out
}

/// Whether `a` and `b` are equal ignoring ASCII case and underscores.
fn same_without_underscores(a: &str, b: &str) -> bool {
    let letters = |s: &str| {
        s.bytes()
            .filter(|c| *c != b'_')
            .map(|c| c.to_ascii_lowercase())
            .collect::<Vec<u8>>()
    };
    letters(a) == letters(b)
}

fn unexpected(v: &Value) -> de::Unexpected<'_> {
    match v {
        Value::Null => de::Unexpected::Unit,
        Value::Bool(b) => de::Unexpected::Bool(*b),
        Value::Number(_) => de::Unexpected::Other("number"),
        Value::String(s) => de::Unexpected::Str(s),
        Value::Array(_) => de::Unexpected::Seq,
        Value::Object(_) => de::Unexpected::Map,
    }
}

impl<'de> de::Deserializer<'de> for Ci<'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => de::Deserializer::deserialize_any(n, visitor),
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Array(items) => {
                let mut seq = SeqDeserializer::new(items.iter().map(Ci));
                let out = visitor.visit_seq(&mut seq)?;
                seq.end()?;
                Ok(out)
            }
            Value::Object(obj) => {
                let mut map = MapDeserializer::new(obj.iter().map(|(k, v)| (k.as_str(), Ci(v))));
                let out = visitor.visit_map(&mut map)?;
                map.end()?;
                Ok(out)
            }
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Object(obj) => {
                let mut map = MapDeserializer::new(renamed(obj, fields).into_iter());
                let out = visitor.visit_map(&mut map)?;
                map.end()?;
                Ok(out)
            }
            // Go leaves a struct decoded from `null` at its zero value.
            Value::Null => {
                visitor.visit_map(MapDeserializer::new(std::iter::empty::<(&str, Ci<'de>)>()))
            }
            // Go refuses any other JSON type for a struct (serde would take an array).
            other => Err(de::Error::invalid_type(unexpected(other), &visitor)),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        // Enums in request types are unit variants spelled as strings (`"passing"`).
        de::Deserializer::deserialize_enum(self.0, name, variants, visitor)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use crate::{HealthStatus, RegisterRequest};

    use super::*;

    fn json_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, serde_json::Error> {
        from_slice(body)
    }

    #[test]
    fn fields_match_ignoring_case_at_every_level_and_map_keys_keep_case() {
        let req: RegisterRequest = json_body(
            br#"{"node":"n1","ADDRESS":"10.0.0.1","nodemeta":{"Env":"QA"},
                "service":{"service":"web","tags":["v1"],"port":80,
                           "taggedaddresses":{"lan":{"address":"10.0.0.2","port":81}}},
                "checks":[{"checkid":"c1","name":"c","status":"passing","serviceid":"web",
                           "definition":{"http":"http://x","interval":"5s"}}],
                "Unknown":{"deep":[1,2]},"skipnodeupdate":true}"#,
        )
        .expect("decodes");
        assert_eq!(req.node, "n1");
        assert_eq!(req.address, "10.0.0.1");
        assert_eq!(req.node_meta.get("Env").map(String::as_str), Some("QA"));
        assert!(req.skip_node_update);
        let svc = req.service.expect("service");
        assert_eq!((svc.service.as_str(), svc.port), ("web", 80));
        assert_eq!(svc.tags, ["v1"]);
        assert_eq!(svc.tagged_addresses["lan"].port, 81);
        assert_eq!(req.checks[0].check_id, "c1");
        assert_eq!(req.checks[0].status, HealthStatus::Passing);
        assert_eq!(req.checks[0].definition.http, "http://x");
        assert_eq!(req.checks[0].definition.interval, "5s");
    }

    #[test]
    fn exact_names_and_nulls_decode_too() {
        let req: RegisterRequest =
            json_body(br#"{"Node":"n","Service":null,"Checks":null,"TaggedAddresses":null}"#)
                .expect("decodes");
        assert_eq!(req.node, "n");
        assert!(req.service.is_none() && req.checks.is_empty());
    }

    #[test]
    fn null_body_is_an_empty_request_as_in_go() {
        let req: RegisterRequest = json_body(b"null").expect("decodes");
        assert_eq!(req, RegisterRequest::default());
    }

    #[test]
    fn snake_case_keys_match_without_underscores() {
        let req: RegisterRequest =
            json_body(br#"{"node":"n","node_meta":{"a":"b"},"skip_node_update":true}"#)
                .expect("decodes");
        assert_eq!(req.node_meta.get("a").map(String::as_str), Some("b"));
        assert!(req.skip_node_update);
    }

    #[test]
    fn later_duplicate_field_wins_as_in_go() {
        let req: RegisterRequest = json_body(br#"{"Node":"a","node":"b"}"#).expect("decodes");
        assert_eq!(req.node, "b");
    }

    #[test]
    fn bad_json_and_bad_types_are_decode_failures() {
        for body in [
            &b"{"[..],
            b"[]",
            br#"{"Node":5}"#,
            br#"{"Check":{"Status":"up"}}"#,
        ] {
            json_body::<RegisterRequest>(body).expect_err("refused");
        }
    }
}
