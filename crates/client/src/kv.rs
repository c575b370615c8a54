//! The KV endpoints (`/v1/kv/<key>`), as Consul's Go `api.KV` calls them.

use praetor_types::{KvEntry, QueryMeta, QueryOptions};
use reqwest::{Method, StatusCode};

use crate::client::{decode_json, query_meta_from_headers, query_params};
use crate::{Client, ClientError};

/// One KV write: `PUT /v1/kv/<key>` with its conditions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KvPut {
    /// The key; must not begin with `/`.
    pub key: String,
    /// The value bytes (sent as the raw body).
    pub value: Vec<u8>,
    /// Opaque client flags (`?flags`, sent when non-zero).
    pub flags: u64,
    /// Check-and-set: write only if the key's `ModifyIndex` equals this (0: only if absent).
    pub cas: Option<u64>,
    /// Acquire the key's lock for this session (`?acquire`).
    pub acquire: Option<String>,
    /// Release the key's lock held by this session (`?release`).
    pub release: Option<String>,
}

impl KvPut {
    /// An unconditional write of `value` to `key`.
    pub fn new(key: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
            ..Self::default()
        }
    }
}

impl Client {
    /// `GET /v1/kv/<key>`: the entry, or `None` when the key does not exist.
    pub async fn kv_get(
        &self,
        key: &str,
        options: &QueryOptions,
    ) -> Result<(Option<KvEntry>, QueryMeta), ClientError> {
        let (entries, meta) = self.kv_read::<Vec<KvEntry>>(key, &[], options).await?;
        Ok((entries.and_then(|e| e.into_iter().next()), meta))
    }

    /// `GET /v1/kv/<prefix>?recurse`: every entry under `prefix`, sorted by key.
    pub async fn kv_list(
        &self,
        prefix: &str,
        options: &QueryOptions,
    ) -> Result<(Vec<KvEntry>, QueryMeta), ClientError> {
        let (entries, meta) = self.kv_read(prefix, &[("recurse", "")], options).await?;
        Ok((entries.unwrap_or_default(), meta))
    }

    /// `GET /v1/kv/<prefix>?keys[&separator=]`: key names under `prefix`, rolled up at
    /// `separator` when given.
    pub async fn kv_keys(
        &self,
        prefix: &str,
        separator: Option<&str>,
        options: &QueryOptions,
    ) -> Result<(Vec<String>, QueryMeta), ClientError> {
        let mut extra = vec![("keys", "")];
        if let Some(separator) = separator.filter(|s| !s.is_empty()) {
            extra.push(("separator", separator));
        }
        let (keys, meta) = self.kv_read(prefix, &extra, options).await?;
        Ok((keys.unwrap_or_default(), meta))
    }

    /// `PUT /v1/kv/<key>`: `Ok(false)` when a CAS, acquire or release did not take effect.
    pub async fn kv_put(&self, put: &KvPut) -> Result<bool, ClientError> {
        reject_leading_slash(&put.key)?;
        let url = self.url(&kv_path(&put.key));
        let mut params: Vec<(&str, String)> = Vec::new();
        if put.flags != 0 {
            params.push(("flags", put.flags.to_string()));
        }
        if let Some(cas) = put.cas {
            params.push(("cas", cas.to_string()));
        }
        if let Some(session) = &put.acquire {
            params.push(("acquire", session.clone()));
        }
        if let Some(session) = &put.release {
            params.push(("release", session.clone()));
        }
        let builder = self
            .request(Method::PUT, url.clone())
            .query(&params)
            .body(put.value.clone());
        let response = self.send(builder).await?;
        decode_json(&url, response).await
    }

    /// `DELETE /v1/kv/<key>[?recurse|?cas=]`: `Ok(false)` only when a CAS did not match.
    pub async fn kv_delete(
        &self,
        key: &str,
        recurse: bool,
        cas: Option<u64>,
    ) -> Result<bool, ClientError> {
        reject_leading_slash(key)?;
        let url = self.url(&kv_path(key));
        let mut params: Vec<(&str, String)> = Vec::new();
        if recurse {
            params.push(("recurse", String::new()));
        }
        if let Some(cas) = cas {
            params.push(("cas", cas.to_string()));
        }
        let response = self
            .send(self.request(Method::DELETE, url.clone()).query(&params))
            .await?;
        decode_json(&url, response).await
    }

    /// A KV GET; `None` for a 404 (nothing there), whose headers still carry the index.
    async fn kv_read<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
        extra: &[(&str, &str)],
        options: &QueryOptions,
    ) -> Result<(Option<T>, QueryMeta), ClientError> {
        let url = self.url(&kv_path(key));
        let builder = self
            .request(Method::GET, url.clone())
            .query(extra)
            .query(&query_params(options));
        let response = self
            .send_allowing(builder, Some(StatusCode::NOT_FOUND))
            .await?;
        let meta = query_meta_from_headers(response.headers())?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok((None, meta));
        }
        Ok((Some(decode_json(&url, response).await?), meta))
    }
}

fn reject_leading_slash(key: &str) -> Result<(), ClientError> {
    if key.starts_with('/') {
        return Err(ClientError::InvalidKey {
            key: key.to_owned(),
        });
    }
    Ok(())
}

/// `/v1/kv/<key>` with the key percent-encoded byte-wise except for `/` and RFC 3986
/// unreserved characters, so spaces, `?`, `#`, `%` and non-ASCII reach the agent intact.
pub(crate) fn kv_path(key: &str) -> String {
    let mut path = String::with_capacity(7 + key.len());
    path.push_str("/v1/kv/");
    for byte in key.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'/' | b'-' | b'.' | b'_' | b'~') {
            path.push(char::from(byte));
        } else {
            path.push_str(&format!("%{byte:02X}"));
        }
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kv_path_keeps_slashes_and_encodes_the_rest() {
        assert_eq!(kv_path("web/key1"), "/v1/kv/web/key1");
        assert_eq!(kv_path("a b?c#d%e"), "/v1/kv/a%20b%3Fc%23d%25e");
        assert_eq!(kv_path("ç"), "/v1/kv/%C3%A7");
        assert_eq!(kv_path(""), "/v1/kv/");
        assert_eq!(kv_path("dir/"), "/v1/kv/dir/");
    }

    #[test]
    fn leading_slash_is_refused_for_writes() {
        assert!(matches!(
            reject_leading_slash("/foo"),
            Err(ClientError::InvalidKey { .. })
        ));
        assert!(reject_leading_slash("foo/").is_ok());
    }
}
