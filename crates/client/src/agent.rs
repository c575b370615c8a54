//! The local agent's endpoints (`/v1/agent/*`): reload, maintenance, services and checks, as
//! Consul's Go `api.Agent` calls them. None of them is forwarded to another datacenter, so
//! none carries `?dc`.

mod registration;

use std::collections::BTreeMap;

use praetor_types::NodeService;
use reqwest::Method;
use serde::{Deserialize, Serialize};

pub use registration::{AgentServiceCheck, AgentServiceRegistration};

use crate::catalog::encode_segment;
use crate::client::decode_json;
use crate::{Client, ClientError};

/// The check ID of node maintenance mode.
pub const NODE_MAINTENANCE_CHECK_ID: &str = "_node_maintenance";
/// The check ID prefix of service maintenance mode (`_service_maintenance:<service-id>`).
pub const SERVICE_MAINTENANCE_CHECK_PREFIX: &str = "_service_maintenance:";

/// A check as the local agent reports it (`/v1/agent/checks` values): the fields callers
/// use; others are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AgentCheck {
    /// The node the check runs on.
    pub node: String,
    /// The check ID.
    #[serde(rename = "CheckID")]
    pub check_id: String,
    /// The check name.
    pub name: String,
    /// Current status (`passing`, `warning`, `critical`).
    pub status: String,
    /// Free-form notes (the reason, for maintenance checks).
    pub notes: String,
    /// Output of the last run.
    pub output: String,
    /// The service instance the check belongs to; empty for node checks.
    #[serde(rename = "ServiceID")]
    pub service_id: String,
    /// That instance's service name.
    pub service_name: String,
    /// The check type (`ttl`, `http`, `maintenance` …).
    #[serde(rename = "Type")]
    pub check_type: String,
}

impl Client {
    /// `PUT /v1/agent/reload`: asks the agent to re-read its configuration files.
    pub async fn agent_reload(&self) -> Result<(), ClientError> {
        self.agent_put("/v1/agent/reload", &[], None).await
    }

    /// `PUT /v1/agent/maintenance?enable=&reason=`: node maintenance mode on or off.
    pub async fn agent_node_maintenance(
        &self,
        enable: bool,
        reason: &str,
    ) -> Result<(), ClientError> {
        let params = maintenance_params(enable, reason);
        self.agent_put("/v1/agent/maintenance", &params, None).await
    }

    /// `PUT /v1/agent/service/maintenance/<id>?enable=&reason=`: maintenance mode for one
    /// service instance.
    pub async fn agent_service_maintenance(
        &self,
        service_id: &str,
        enable: bool,
        reason: &str,
    ) -> Result<(), ClientError> {
        let path = format!(
            "/v1/agent/service/maintenance/{}",
            encode_segment(service_id)
        );
        let params = maintenance_params(enable, reason);
        self.agent_put(&path, &params, None).await
    }

    /// `GET /v1/agent/services`: the agent's service instances by ID.
    pub async fn agent_services(&self) -> Result<BTreeMap<String, NodeService>, ClientError> {
        self.agent_get("/v1/agent/services").await
    }

    /// `GET /v1/agent/checks`: the agent's checks by check ID.
    pub async fn agent_checks(&self) -> Result<BTreeMap<String, AgentCheck>, ClientError> {
        self.agent_get("/v1/agent/checks").await
    }

    /// `PUT /v1/agent/service/register`: adds or replaces a service instance on the agent.
    pub async fn agent_service_register(
        &self,
        service: &AgentServiceRegistration,
    ) -> Result<(), ClientError> {
        let body = serde_json::to_vec(service).map_err(|source| ClientError::Decode {
            url: self.url("/v1/agent/service/register").to_string(),
            source,
        })?;
        self.agent_put("/v1/agent/service/register", &[], Some(body))
            .await
    }

    /// `PUT /v1/agent/service/deregister/<id>`: removes a service instance and its checks.
    pub async fn agent_service_deregister(&self, service_id: &str) -> Result<(), ClientError> {
        let path = format!(
            "/v1/agent/service/deregister/{}",
            encode_segment(service_id)
        );
        self.agent_put(&path, &[], None).await
    }

    /// The agent's node name (`Config.NodeName` of `/v1/agent/self`).
    pub async fn agent_node_name(&self) -> Result<String, ClientError> {
        let url = self.url("/v1/agent/self");
        let value = self.agent_self().await?;
        match value.pointer("/Config/NodeName").and_then(|n| n.as_str()) {
            Some(name) => Ok(name.to_owned()),
            None => Err(ClientError::Decode {
                url: url.to_string(),
                source: serde::de::Error::missing_field("Config.NodeName"),
            }),
        }
    }

    async fn agent_get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<T, ClientError> {
        let url = self.url(path);
        let response = self.send(self.local(Method::GET, url.clone())).await?;
        decode_json(&url, response).await
    }

    async fn agent_put(
        &self,
        path: &str,
        params: &[(&str, String)],
        body: Option<Vec<u8>>,
    ) -> Result<(), ClientError> {
        let url = self.url(path);
        let mut builder = self.local(Method::PUT, url).query(params);
        if let Some(body) = body {
            builder = builder
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        self.send(builder).await?;
        Ok(())
    }
}

fn maintenance_params(enable: bool, reason: &str) -> Vec<(&'static str, String)> {
    let mut params = vec![("enable", enable.to_string())];
    if !reason.is_empty() {
        params.push(("reason", reason.to_owned()));
    }
    params
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_check_decodes_with_unknown_and_missing_fields() {
        let check: AgentCheck = serde_json::from_str(
            r#"{"Node":"n1","CheckID":"_node_maintenance","Name":"Node Maintenance Mode",
                "Status":"critical","Notes":"broken","Definition":{"Interval":"10s"},
                "ExposedPort":0}"#,
        )
        .unwrap();
        assert_eq!(check.check_id, NODE_MAINTENANCE_CHECK_ID);
        assert_eq!(check.status, "critical");
        assert_eq!(check.notes, "broken");
        assert!(check.service_id.is_empty());
    }

    #[test]
    fn maintenance_params_send_reason_only_when_given() {
        assert_eq!(
            maintenance_params(true, ""),
            vec![("enable", "true".to_owned())]
        );
        assert_eq!(
            maintenance_params(false, "r"),
            vec![("enable", "false".to_owned()), ("reason", "r".to_owned())]
        );
    }
}
