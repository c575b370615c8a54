//! Service metadata rules (Consul's `structs.validateMetadata`).

use std::collections::BTreeMap;

const MAX_PAIRS: usize = 64;
const MAX_KEY_LEN: usize = 128;
const MAX_VALUE_LEN: usize = 512;
const RESERVED_PREFIX: &str = "consul-";

/// Checks `meta` against Consul's limits; the error is the reason Consul gives.
pub(crate) fn validate(meta: &BTreeMap<String, String>) -> Result<(), String> {
    if meta.len() > MAX_PAIRS {
        return Err(format!(
            "Node metadata cannot contain more than {MAX_PAIRS} key/value pairs"
        ));
    }
    for (key, value) in meta {
        pair(key, value)
            .map_err(|e| format!("Couldn't load metadata pair ('{key}', '{value}'): {e}"))?;
    }
    Ok(())
}

fn pair(key: &str, value: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("Key cannot be blank".to_owned());
    }
    if !key
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
    {
        return Err("Key contains invalid characters".to_owned());
    }
    if key.len() > MAX_KEY_LEN {
        return Err(format!("Key is too long (limit: {MAX_KEY_LEN} characters)"));
    }
    if key.starts_with(RESERVED_PREFIX) {
        return Err(format!(
            "Key prefix '{RESERVED_PREFIX}' is reserved for internal use"
        ));
    }
    if value.len() > MAX_VALUE_LEN {
        return Err(format!(
            "Value is too long (limit: {MAX_VALUE_LEN} characters)"
        ));
    }
    Ok(())
}
