//! The cluster endpoints: gossip members, join, leave and force-leave
//! (`/v1/agent/members|join|leave|force-leave`, agent-local, never `?dc`) and the Raft
//! configuration (`/v1/operator/raft/*`, server-side, `?dc` when configured), as Consul's
//! Go `api.Agent` and `api.Operator` call them.

use praetor_types::member::Member;
use praetor_types::{AutopilotConfig, AutopilotState, RaftConfiguration, RaftPeer};
use reqwest::Method;

use crate::catalog::encode_segment;
use crate::client::decode_json;
use crate::{Client, ClientError};

/// The `?segment` value asking for the members of every network segment.
pub const ALL_SEGMENTS: &str = "_all";

/// What `GET /v1/agent/members` lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MembersQuery {
    /// The WAN pool (servers only) instead of the LAN pool.
    pub wan: bool,
    /// `?segment` (`_all` for every segment); `None` sends none.
    pub segment: Option<String>,
    /// `?filter`: a filter expression over the members.
    pub filter: Option<String>,
}

impl Client {
    /// `GET /v1/agent/members`: the members of the agent's LAN (or WAN) gossip pool.
    pub async fn agent_members(&self, query: &MembersQuery) -> Result<Vec<Member>, ClientError> {
        let url = self.url("/v1/agent/members");
        let mut params: Vec<(&str, &str)> = Vec::new();
        if query.wan {
            params.push(("wan", "1"));
        }
        if let Some(segment) = &query.segment {
            params.push(("segment", segment));
        }
        if let Some(filter) = query.filter.as_deref().filter(|f| !f.is_empty()) {
            params.push(("filter", filter));
        }
        let builder = self.local(Method::GET, url.clone()).query(&params);
        let response = self.send(builder).await?;
        // Consul answers `null` for an empty pool (a client asked for the WAN).
        let members: Option<Vec<Member>> = decode_json(&url, response).await?;
        Ok(members.unwrap_or_default())
    }

    /// `PUT /v1/agent/join/<addr>` (`wan`: join the WAN pool).
    pub async fn agent_join(&self, addr: &str, wan: bool) -> Result<(), ClientError> {
        let path = format!("/v1/agent/join/{}", encode_segment(addr));
        let params: &[(&str, &str)] = if wan { &[("wan", "1")] } else { &[] };
        let builder = self.local(Method::PUT, self.url(&path)).query(params);
        self.send(builder).await?;
        Ok(())
    }

    /// `PUT /v1/agent/leave`: the agent leaves gracefully, then shuts down.
    pub async fn agent_leave(&self) -> Result<(), ClientError> {
        let builder = self.local(Method::PUT, self.url("/v1/agent/leave"));
        self.send(builder).await?;
        Ok(())
    }

    /// `PUT /v1/agent/force-leave/<node>` (`prune`: drop it from the member list; `wan`: the
    /// WAN pool).
    pub async fn agent_force_leave(
        &self,
        node: &str,
        prune: bool,
        wan: bool,
    ) -> Result<(), ClientError> {
        let path = format!("/v1/agent/force-leave/{}", encode_segment(node));
        let mut params: Vec<(&str, &str)> = Vec::new();
        if prune {
            params.push(("prune", "1"));
        }
        if wan {
            params.push(("wan", "1"));
        }
        let builder = self.local(Method::PUT, self.url(&path)).query(&params);
        self.send(builder).await?;
        Ok(())
    }

    /// `GET /v1/operator/raft/configuration` (`stale`: any server may answer).
    pub async fn operator_raft_configuration(
        &self,
        stale: bool,
    ) -> Result<RaftConfiguration, ClientError> {
        let url = self.url("/v1/operator/raft/configuration");
        let mut builder = self.request(Method::GET, url.clone());
        if stale {
            builder = builder.query(&[("stale", "")]);
        }
        let response = self.send(builder).await?;
        decode_json(&url, response).await
    }

    /// `DELETE /v1/operator/raft/peer?id=|address=`: removes a server from the Raft
    /// configuration.
    pub async fn operator_raft_remove_peer(&self, peer: &RaftPeer) -> Result<(), ClientError> {
        let url = self.url("/v1/operator/raft/peer");
        let param = match peer {
            RaftPeer::Id(id) => ("id", id.as_str()),
            RaftPeer::Address(address) => ("address", address.as_str()),
        };
        let builder = self.request(Method::DELETE, url).query(&[param]);
        self.send(builder).await?;
        Ok(())
    }

    /// `GET /v1/operator/autopilot/configuration` (`stale`: any server may answer).
    pub async fn operator_autopilot_get_configuration(
        &self,
        stale: bool,
    ) -> Result<AutopilotConfig, ClientError> {
        let url = self.url("/v1/operator/autopilot/configuration");
        let mut builder = self.request(Method::GET, url.clone());
        if stale {
            builder = builder.query(&[("stale", "")]);
        }
        let response = self.send(builder).await?;
        decode_json(&url, response).await
    }

    /// `GET /v1/operator/autopilot/state` (`stale`: any server may answer).
    pub async fn operator_autopilot_state(
        &self,
        stale: bool,
    ) -> Result<AutopilotState, ClientError> {
        let url = self.url("/v1/operator/autopilot/state");
        let mut builder = self.request(Method::GET, url.clone());
        if stale {
            builder = builder.query(&[("stale", "")]);
        }
        let response = self.send(builder).await?;
        decode_json(&url, response).await
    }

    /// `PUT /v1/operator/autopilot/configuration[?cas=]`: whether it was written (always
    /// `true` without `cas`).
    pub async fn operator_autopilot_set_configuration(
        &self,
        config: &AutopilotConfig,
        cas: Option<u64>,
    ) -> Result<bool, ClientError> {
        let url = self.url("/v1/operator/autopilot/configuration");
        let body = serde_json::to_vec(config).map_err(|source| ClientError::Decode {
            url: url.to_string(),
            source,
        })?;
        let mut builder = self.request(Method::PUT, url.clone()).body(body);
        if let Some(cas) = cas {
            builder = builder.query(&[("cas", cas.to_string())]);
        }
        let response = self.send(builder).await?;
        decode_json(&url, response).await
    }
}
