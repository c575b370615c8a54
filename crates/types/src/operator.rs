//! Operator API shapes (`/v1/operator/raft/*`, `/v1/operator/autopilot/*`).

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::duration::{format_go_duration, parse_go_duration};

/// One server of the Raft configuration (`/v1/operator/raft/configuration`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RaftServer {
    /// The server's node ID (UUID), or its address for entries of unknown origin.
    #[serde(rename = "ID")]
    pub id: String,
    /// The node name, `(unknown)` when no member carries this server.
    pub node: String,
    /// The server RPC address (`10.0.0.1:8300`).
    pub address: String,
    /// Whether this server leads.
    pub leader: bool,
    /// The Raft protocol version (`"3"`).
    pub protocol_version: String,
    /// Whether the server votes (false for a learner still catching up).
    pub voter: bool,
    /// The last log index the server is known to hold.
    pub last_index: u64,
}

/// `GET /v1/operator/raft/configuration`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RaftConfiguration {
    /// Every server of the configuration, voters and learners.
    pub servers: Vec<RaftServer>,
    /// The log index of the configuration.
    pub index: u64,
}

/// Which peer `DELETE /v1/operator/raft/peer` removes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RaftPeer {
    /// `?id=<node id>`
    Id(String),
    /// `?address=<ip:port>`
    Address(String),
}

/// Autopilot's settings (`/v1/operator/autopilot/configuration`), kept in Raft. Durations
/// are Go duration strings in JSON (`"200ms"`); a number is read as nanoseconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AutopilotConfig {
    /// Remove servers gossip reports failed from Raft (keeping a quorum).
    pub cleanup_dead_servers: bool,
    /// A server whose last contact with the leader is older than this is unhealthy.
    #[serde(with = "go_duration")]
    pub last_contact_threshold: Duration,
    /// A server more than this many entries behind the leader is unhealthy.
    pub max_trailing_logs: u64,
    /// Dead-server cleanup never leaves fewer voters than this.
    pub min_quorum: u64,
    /// How long a server must be healthy before it counts as stable.
    #[serde(with = "go_duration")]
    pub server_stabilization_time: Duration,
    /// Enterprise: redundancy zones (kept, unused).
    pub redundancy_zone_tag: String,
    /// Enterprise: upgrade migrations (kept, unused).
    pub disable_upgrade_migration: bool,
    /// Enterprise: upgrade version tag (kept, unused).
    pub upgrade_version_tag: String,
    /// Raft index of the first write of the configuration.
    pub create_index: u64,
    /// Raft index of the last write (the `?cas=` value).
    pub modify_index: u64,
}

impl Default for AutopilotConfig {
    /// Consul's defaults.
    fn default() -> Self {
        Self {
            cleanup_dead_servers: true,
            last_contact_threshold: Duration::from_millis(200),
            max_trailing_logs: 250,
            min_quorum: 0,
            server_stabilization_time: Duration::from_secs(10),
            redundancy_zone_tag: String::new(),
            disable_upgrade_migration: false,
            upgrade_version_tag: String::new(),
            create_index: 0,
            modify_index: 0,
        }
    }
}

/// One server in `/v1/operator/autopilot/health`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ServerHealth {
    /// The server's node ID.
    #[serde(rename = "ID")]
    pub id: String,
    /// Its node name.
    pub name: String,
    /// Its server RPC address.
    pub address: String,
    /// Its gossip status (`alive`, `failed`, `left`, `none`).
    pub serf_status: String,
    /// The version it runs.
    pub version: String,
    /// Whether it leads.
    pub leader: bool,
    /// Time since the leader last heard from it (`"0s"` for the leader).
    #[serde(with = "go_duration")]
    pub last_contact: Duration,
    /// The last Raft term it is known to have.
    pub last_term: u64,
    /// The last log index it is known to hold.
    pub last_index: u64,
    /// Alive, in recent contact and not trailing the leader by much.
    pub healthy: bool,
    /// Whether it votes.
    pub voter: bool,
    /// Since when it has been continuously healthy (RFC 3339).
    pub stable_since: String,
}

/// `GET /v1/operator/autopilot/health` (200 when healthy, 429 when not).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AutopilotHealth {
    /// Every server is healthy.
    pub healthy: bool,
    /// How many voters could fail without losing the quorum.
    pub failure_tolerance: u64,
    /// Every server of the Raft configuration.
    pub servers: Vec<ServerHealth>,
}

/// One server in `GET /v1/operator/autopilot/state`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AutopilotServerState {
    /// The server's node ID.
    #[serde(rename = "ID")]
    pub id: String,
    /// Its node name.
    pub name: String,
    /// Its server RPC address.
    pub address: String,
    /// Its gossip status (`alive`, `failed`, `left`, `none`).
    pub node_status: String,
    /// The version it runs.
    pub version: String,
    /// Time since the leader last heard from it.
    #[serde(with = "go_duration")]
    pub last_contact: Duration,
    /// The last Raft term it is known to have.
    pub last_term: u64,
    /// The last log index it is known to hold.
    pub last_index: u64,
    /// Alive, in recent contact and not trailing the leader by much.
    pub healthy: bool,
    /// Since when it has been continuously healthy (RFC 3339).
    pub stable_since: String,
    /// Always false: there are no read replicas.
    pub read_replica: bool,
    /// `leader`, `voter` or `non-voter` (a server still being added).
    pub status: String,
    /// The server's metadata.
    pub meta: std::collections::BTreeMap<String, String>,
    /// `voter`: every server is meant to vote.
    pub node_type: String,
}

/// `GET /v1/operator/autopilot/state`: autopilot's view of the servers.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AutopilotState {
    /// Every server is healthy.
    pub healthy: bool,
    /// How many voters could fail without losing the quorum.
    pub failure_tolerance: u64,
    /// The same without redundancy zones: how many could fail one after another.
    pub optimistic_failure_tolerance: u64,
    /// Every server of the Raft configuration, by ID.
    pub servers: std::collections::BTreeMap<String, AutopilotServerState>,
    /// The leader's ID (empty without one).
    pub leader: String,
    /// The voters' IDs.
    pub voters: Vec<String>,
}

impl From<&AutopilotHealth> for AutopilotState {
    fn from(health: &AutopilotHealth) -> Self {
        let servers = health
            .servers
            .iter()
            .map(|s| {
                let status = match (s.leader, s.voter) {
                    (true, _) => "leader",
                    (false, true) => "voter",
                    (false, false) => "non-voter",
                };
                let state = AutopilotServerState {
                    id: s.id.clone(),
                    name: s.name.clone(),
                    address: s.address.clone(),
                    node_status: s.serf_status.clone(),
                    version: s.version.clone(),
                    last_contact: s.last_contact,
                    last_term: s.last_term,
                    last_index: s.last_index,
                    healthy: s.healthy,
                    stable_since: s.stable_since.clone(),
                    read_replica: false,
                    status: status.to_owned(),
                    meta: std::collections::BTreeMap::new(),
                    node_type: "voter".to_owned(),
                };
                (s.id.clone(), state)
            })
            .collect();
        Self {
            healthy: health.healthy,
            failure_tolerance: health.failure_tolerance,
            optimistic_failure_tolerance: health.failure_tolerance,
            servers,
            leader: health
                .servers
                .iter()
                .find(|s| s.leader)
                .map(|s| s.id.clone())
                .unwrap_or_default(),
            voters: health
                .servers
                .iter()
                .filter(|s| s.voter)
                .map(|s| s.id.clone())
                .collect(),
        }
    }
}

/// Go duration strings (`"200ms"`) in JSON and msgpack; numbers are read as nanoseconds.
mod go_duration {
    use super::*;

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_go_duration(*d))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Nanos(u64),
        }
        match Raw::deserialize(d)? {
            Raw::Text(t) => parse_go_duration(&t).map_err(serde::de::Error::custom),
            Raw::Nanos(n) => Ok(Duration::from_nanos(n)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn autopilot_config_json_matches_consul_shape() {
        let cfg = AutopilotConfig {
            create_index: 4,
            modify_index: 4,
            ..AutopilotConfig::default()
        };
        let json = serde_json::to_value(&cfg).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"CleanupDeadServers":true,"LastContactThreshold":"200ms",
                "MaxTrailingLogs":250,"MinQuorum":0,"ServerStabilizationTime":"10s",
                "RedundancyZoneTag":"","DisableUpgradeMigration":false,"UpgradeVersionTag":"",
                "CreateIndex":4,"ModifyIndex":4})
        );
        let back: AutopilotConfig = crate::decode::from_slice(
            br#"{"cleanupdeadservers":false,"LastContactThreshold":"1s","MaxTrailingLogs":9}"#,
        )
        .unwrap();
        assert!(!back.cleanup_dead_servers);
        assert_eq!(back.last_contact_threshold, Duration::from_secs(1));
        assert_eq!(back.max_trailing_logs, 9);
        assert_eq!(back.server_stabilization_time, Duration::from_secs(10));
        let bytes = rmp_serde_roundtrip_free(&cfg);
        assert_eq!(bytes, cfg);
    }

    /// Durations survive a JSON round trip as strings.
    fn rmp_serde_roundtrip_free(cfg: &AutopilotConfig) -> AutopilotConfig {
        serde_json::from_str(&serde_json::to_string(cfg).unwrap()).unwrap()
    }

    #[test]
    fn autopilot_state_is_derived_from_health() {
        let server = |id: &str, leader: bool, voter: bool| ServerHealth {
            id: id.to_owned(),
            name: format!("n-{id}"),
            address: format!("{id}:8300"),
            serf_status: "alive".to_owned(),
            version: "1.22.0".to_owned(),
            leader,
            last_contact: Duration::from_millis(if leader { 0 } else { 12 }),
            last_term: 3,
            last_index: 40,
            healthy: true,
            voter,
            stable_since: "2026-12-01T00:00:00Z".to_owned(),
        };
        let health = AutopilotHealth {
            healthy: true,
            failure_tolerance: 1,
            servers: vec![
                server("a", true, true),
                server("b", false, true),
                server("c", false, true),
                server("d", false, false),
            ],
        };
        let state = AutopilotState::from(&health);
        assert_eq!(state.leader, "a");
        assert_eq!(state.voters, ["a", "b", "c"]);
        assert_eq!(state.servers["d"].status, "non-voter");
        let json = serde_json::to_value(&state).unwrap();
        assert_eq!(json["OptimisticFailureTolerance"], 1);
        assert_eq!(
            json["Servers"]["b"],
            serde_json::json!({"ID":"b","Name":"n-b","Address":"b:8300","NodeStatus":"alive",
                "Version":"1.22.0","LastContact":"12ms","LastTerm":3,"LastIndex":40,
                "Healthy":true,"StableSince":"2026-12-01T00:00:00Z","ReadReplica":false,
                "Status":"voter","Meta":{},"NodeType":"voter"})
        );
    }

    #[test]
    fn configuration_json_matches_consul_shape() {
        let cfg = RaftConfiguration {
            servers: vec![RaftServer {
                id: "id1".into(),
                node: "alice".into(),
                address: "10.0.0.1:8300".into(),
                leader: true,
                protocol_version: "3".into(),
                voter: true,
                last_index: 22,
            }],
            index: 22,
        };
        assert_eq!(
            serde_json::to_value(&cfg).unwrap(),
            serde_json::json!({"Servers":[{"ID":"id1","Node":"alice","Address":"10.0.0.1:8300",
                "Leader":true,"ProtocolVersion":"3","Voter":true,"LastIndex":22}],"Index":22})
        );
    }
}
