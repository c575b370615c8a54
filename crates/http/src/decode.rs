//! JSON request bodies, decoded case-insensitively by [`praetor_types::decode`].

use serde::de::DeserializeOwned;

use crate::error::HttpError;

/// Decodes `body` into `T`, matching struct fields case-insensitively; errors are
/// `400 Request decode failed: …`.
pub(crate) fn json_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, HttpError> {
    praetor_types::decode::from_slice(body).map_err(|e| HttpError::RequestDecode(e.to_string()))
}

/// Parses `body` as JSON without decoding it into a type (the agent decodes service and
/// check definitions itself); an empty body is `null`.
pub(crate) fn json_value(body: &[u8]) -> Result<serde_json::Value, HttpError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Value::Null);
    }
    serde_json::from_slice(body).map_err(|e| HttpError::RequestDecode(e.to_string()))
}
