//! Operator API shapes (`/v1/operator/raft/*`).

use serde::{Deserialize, Serialize};

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

#[cfg(test)]
mod tests {
    use super::*;

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
