//! The cluster's HTTP surface (spec/http-api.md §7.1, §7.3, §10), as Consul's
//! `agent/agent_endpoint.go` and `agent/operator_endpoint.go` answer it: the gossip
//! members, join, leave and force-leave, and the Raft configuration and peer removal.

use axum::response::{IntoResponse, Response};
use praetor_types::member::{Member, MemberStatus};
use praetor_types::{Consistency, QueryOptions, RaftPeer};
use serde_json::{Value, json};

use crate::app::{App, Call};
use crate::error::HttpError;
use crate::params::{check_datacenter, filter, query_options};
use crate::response::json;

/// The `?segment` value that asks for the members of every network segment.
const ALL_SEGMENTS: &str = "_all";

/// `GET /v1/agent/members` (`?wan`, `?segment`, `?filter`). `wan` needs a value, as
/// Consul's `Get("wan") != ""`; a segment with `wan` is a 400.
pub(crate) async fn members(app: &App, call: &Call) -> Result<Response, HttpError> {
    let wan = call.params.non_empty("wan").is_some();
    let segment = call.params.get("segment").unwrap_or("");
    if wan && !segment.is_empty() && segment != ALL_SEGMENTS {
        return Err(HttpError::SegmentWithWan);
    }
    if !wan && !segment.is_empty() && segment != ALL_SEGMENTS {
        // Community edition: the one (default) segment is named "".
        return Err(HttpError::SegmentsNotSupported);
    }
    let filter = filter(&call.params)?;
    let members = app.backend.agent_members(wan).await?;
    let members = match filter {
        Some(f) => f.apply(members)?,
        None => members,
    };
    Ok(json(&members, call.pretty))
}

/// `PUT /v1/agent/join/<addr>` (`?wan` with a value joins the WAN pool): `200` empty,
/// or `500` with the join error.
pub(crate) async fn join(app: &App, call: &Call) -> Result<Response, HttpError> {
    let wan = call.params.non_empty("wan").is_some();
    if call.arg.is_empty() {
        return Err(HttpError::MissingJoinAddress);
    }
    app.backend.agent_join(&call.arg, wan).await?;
    Ok(().into_response())
}

/// `PUT /v1/agent/leave`: answers `200` once the graceful leave is done; the agent's
/// shutdown follows on its own (dispatch does not race this handler against it).
pub(crate) async fn leave(app: &App) -> Result<Response, HttpError> {
    app.backend.agent_leave().await?;
    Ok(().into_response())
}

/// `PUT /v1/agent/force-leave/<node>` (`?prune`, `?wan`: presence flags, as Consul reads
/// them here).
pub(crate) async fn force_leave(app: &App, call: &Call) -> Result<Response, HttpError> {
    if call.arg.is_empty() {
        return Err(HttpError::MissingNodeName);
    }
    let prune = call.params.has("prune");
    let wan = call.params.has("wan");
    app.backend.agent_force_leave(&call.arg, prune, wan).await?;
    Ok(().into_response())
}

/// `GET /v1/operator/raft/configuration` (`?stale`, `?dc`).
pub(crate) async fn raft_configuration(app: &App, call: &Call) -> Result<Response, HttpError> {
    check_datacenter(&call.params, &app.cfg.datacenter)?;
    let opts = query_options(&call.params)?;
    let config = app.backend.operator_raft_configuration(opts).await?;
    Ok(json(&config, call.pretty))
}

/// `DELETE /v1/operator/raft/peer?id=|address=`: exactly one of them, by presence.
pub(crate) async fn raft_remove_peer(app: &App, call: &Call) -> Result<Response, HttpError> {
    check_datacenter(&call.params, &app.cfg.datacenter)?;
    let peer = match (call.params.get("id"), call.params.get("address")) {
        (None, None) => return Err(HttpError::MissingRaftPeer),
        (Some(_), Some(_)) => return Err(HttpError::AmbiguousRaftPeer),
        (Some(id), None) => RaftPeer::Id(id.to_owned()),
        (None, Some(address)) => RaftPeer::Address(address.to_owned()),
    };
    app.backend.operator_raft_remove_peer(peer).await?;
    Ok(().into_response())
}

/// Fills `/v1/agent/self`'s `Member` and the `serf_lan`, `serf_wan`, `raft` and
/// `consul.known_servers` stats from what the backend knows; a backend without a gossip
/// pool or Raft leaves the synthesized `Member` and omits those sections.
pub(crate) async fn self_stats(app: &App, node_name: &str, server: bool, doc: &mut Value) {
    if let Ok(lan) = app.backend.agent_members(false).await {
        if let Some(me) = lan.iter().find(|m| m.name == node_name)
            && let Ok(member) = serde_json::to_value(me)
        {
            doc["Member"] = member;
        }
        doc["Stats"]["serf_lan"] = pool_stats(&lan);
        if !server {
            let known = lan
                .iter()
                .filter(|m| m.status == MemberStatus::Alive)
                .filter(|m| m.tags.get("role").map(String::as_str) == Some("consul"))
                .count();
            doc["Stats"]["consul"]["known_servers"] = json!(known.to_string());
        }
    }
    if !server {
        // A client's `consul` section is `acl`, `known_servers` and `server`, as Consul's.
        if let Some(consul) = doc["Stats"]["consul"].as_object_mut() {
            for key in ["bootstrap", "known_datacenters", "leader", "leader_addr"] {
                consul.remove(key);
            }
        }
        return;
    }
    if let Ok(wan) = app.backend.agent_members(true).await {
        doc["Stats"]["serf_wan"] = pool_stats(&wan);
    }
    let stale = QueryOptions {
        consistency: Consistency::Stale,
        ..QueryOptions::default()
    };
    if let Ok(config) = app.backend.operator_raft_configuration(stale).await {
        let me = config.servers.iter().find(|s| s.node == node_name);
        let state = match me {
            Some(s) if s.leader => "Leader",
            Some(s) if !s.voter => "Learner",
            Some(_) => "Follower",
            None => "Candidate",
        };
        let voters = config.servers.iter().filter(|s| s.voter).count();
        doc["Stats"]["raft"] = json!({
            "state": state,
            "num_peers": voters.saturating_sub(1).to_string(),
            "latest_configuration_index": config.index.to_string(),
            "last_log_index": me.map_or(0, |s| s.last_index).to_string(),
            "protocol_version": "3",
        });
    }
}

/// A pool's member counts, as strings like every `Stats` value.
fn pool_stats(members: &[Member]) -> Value {
    let count = |status: MemberStatus| {
        members
            .iter()
            .filter(|m| m.status == status)
            .count()
            .to_string()
    };
    json!({
        "members": members.len().to_string(),
        "failed": count(MemberStatus::Failed),
        "left": count(MemberStatus::Left),
        "encrypted": "false",
    })
}
