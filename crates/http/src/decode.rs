//! JSON request bodies, decoded case-insensitively by [`praetor_types::decode`].

use serde::de::DeserializeOwned;

use crate::error::HttpError;

/// Decodes `body` into `T`, matching struct fields case-insensitively; errors are
/// `400 Request decode failed: …`.
pub(crate) fn json_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, HttpError> {
    praetor_types::decode::from_slice(body).map_err(|e| HttpError::RequestDecode(e.to_string()))
}
