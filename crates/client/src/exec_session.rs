//! The session calls `consul exec` makes (Consul's `command/exec` `createSessionLocal`,
//! `RenewPeriodic` and `destroySession`): a TTL session with the `delete` behaviour that
//! holds a remote execution's KV keys.

use reqwest::Method;
use serde::Deserialize;

use crate::client::decode_json;
use crate::{Client, ClientError};

/// The TTL of a remote execution session (Consul's `rExecTTL`); renew at half of it.
pub const REXEC_SESSION_TTL: &str = "15s";

#[derive(Deserialize)]
struct Created {
    #[serde(rename = "ID")]
    id: String,
}

impl Client {
    /// `PUT /v1/session/create` for a remote execution: `Name = "Remote Exec"`,
    /// `Behavior = "delete"`, `TTL = 15s`; the session ID.
    pub async fn rexec_session_create(&self) -> Result<String, ClientError> {
        let url = self.url("/v1/session/create");
        let body = serde_json::json!({
            "Name": "Remote Exec",
            "Behavior": "delete",
            "TTL": REXEC_SESSION_TTL,
        });
        let builder = self
            .request(Method::PUT, url.clone())
            .body(body.to_string());
        let response = self.send(builder).await?;
        let created: Created = decode_json(&url, response).await?;
        Ok(created.id)
    }

    /// `PUT /v1/session/renew/<id>`: whether the session still exists.
    pub async fn rexec_session_renew(&self, id: &str) -> Result<bool, ClientError> {
        let url = self.url(&format!("/v1/session/renew/{id}"));
        let response = self
            .send_allowing(
                self.request(Method::PUT, url.clone()),
                Some(reqwest::StatusCode::NOT_FOUND),
            )
            .await?;
        Ok(response.status().is_success())
    }

    /// `PUT /v1/session/destroy/<id>`: its keys go with it (`delete` behaviour).
    pub async fn rexec_session_destroy(&self, id: &str) -> Result<bool, ClientError> {
        let url = self.url(&format!("/v1/session/destroy/{id}"));
        let response = self.send(self.request(Method::PUT, url.clone())).await?;
        decode_json(&url, response).await
    }
}
