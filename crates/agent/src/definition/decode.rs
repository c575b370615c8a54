//! Decoding definitions: Go-style field matching from [`praetor_types::decode`], `null`
//! taken as "absent" (Go leaves the zero value), and Go durations as strings or integer
//! nanoseconds.

use std::time::Duration;

use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde_json::Value;

use crate::BackendError;

/// Decodes `value` into `T`; errors are `400 Request decode failed: …`.
pub(crate) fn decode<T: DeserializeOwned>(value: &Value) -> Result<T, BackendError> {
    let mut value = value.clone();
    strip_nulls(&mut value);
    if value.is_null() {
        value = Value::Object(serde_json::Map::new());
    }
    praetor_types::decode::from_value(&value)
        .map_err(|e| BackendError::BadRequest(format!("Request decode failed: {e}")))
}

/// Removes every `null` object member, recursively.
fn strip_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// A duration field: a Go duration string (`"10s"`) or a number of nanoseconds, as
/// Consul's `time.Duration` fields accept; negative values are "unset".
pub(crate) fn go_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    struct DurationVisitor;

    impl Visitor<'_> for DurationVisitor {
        type Value = Option<Duration>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a duration such as \"10s\" or a number of nanoseconds")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            let v = v.trim();
            if v.is_empty() {
                return Ok(None);
            }
            match praetor_types::duration::parse_signed(v) {
                Ok((true, _)) => Ok(None),
                Ok((false, d)) => Ok(Some(d)),
                Err(e) => Err(E::custom(e)),
            }
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(Duration::from_nanos(v)))
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(u64::try_from(v).ok().map(Duration::from_nanos))
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            if v.is_finite() && v > 0.0 {
                Ok(Some(Duration::from_nanos(v as u64)))
            } else {
                Ok(None)
            }
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }

    d.deserialize_any(DurationVisitor)
}
