//! Reads of endpoints this client has no typed method for, returned as untyped JSON.

use praetor_types::{QueryMeta, QueryOptions};
use reqwest::Method;

use crate::client::{decode_json, query_meta_from_headers, query_params};
use crate::{Client, ClientError};

impl Client {
    /// `GET <encoded_path>?<params>` with the read options (`?index`, `?wait`, `?stale`…):
    /// the JSON body and the `X-Consul-*` metadata. `encoded_path` must already be
    /// percent-encoded (`/v1/event/list`).
    pub async fn get_json(
        &self,
        encoded_path: &str,
        params: &[(&str, String)],
        options: &QueryOptions,
    ) -> Result<(serde_json::Value, QueryMeta), ClientError> {
        let url = self.url(encoded_path);
        let builder = self
            .request(Method::GET, url.clone())
            .query(params)
            .query(&query_params(options));
        let response = self.send(builder).await?;
        let meta = query_meta_from_headers(response.headers())?;
        Ok((decode_json(&url, response).await?, meta))
    }
}
