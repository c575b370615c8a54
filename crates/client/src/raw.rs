//! Reads of endpoints this client has no typed method for, returned as untyped JSON.

use praetor_types::{QueryMeta, QueryOptions};

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
        self.read(encoded_path, params, options).await
    }
}
