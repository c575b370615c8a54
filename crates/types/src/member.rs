//! A member of a gossip pool, in Consul's shape (`GET /v1/agent/members`).
//!
//! The gossip layer fills these in; the HTTP API and the CLI read them.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// A member's state in the pool. The numbers are Consul's (`Status` in `/v1/agent/members`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MemberStatus {
    /// Unknown to the pool (0).
    #[default]
    None,
    /// Answering probes (1).
    Alive,
    /// Announced a graceful leave that is still propagating (2).
    Leaving,
    /// Left gracefully, or was force-left (3).
    Left,
    /// Stopped answering probes (4); reconnected to until `reconnect_timeout`, then reaped.
    Failed,
}

impl MemberStatus {
    /// Consul's numeric code: 0 none, 1 alive, 2 leaving, 3 left, 4 failed.
    pub fn code(self) -> u8 {
        match self {
            Self::None => 0,
            Self::Alive => 1,
            Self::Leaving => 2,
            Self::Left => 3,
            Self::Failed => 4,
        }
    }

    /// The inverse of [`code`](Self::code); unknown numbers are `None`.
    pub fn from_code(code: u8) -> Self {
        match code {
            1 => Self::Alive,
            2 => Self::Leaving,
            3 => Self::Left,
            4 => Self::Failed,
            _ => Self::None,
        }
    }

    /// The word `consul members` prints: `alive`, `leaving`, `left`, `failed` or `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Alive => "alive",
            Self::Leaving => "leaving",
            Self::Left => "left",
            Self::Failed => "failed",
        }
    }
}

impl std::fmt::Display for MemberStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for MemberStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.code())
    }
}

impl<'de> Deserialize<'de> for MemberStatus {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self::from_code(u8::deserialize(d)?))
    }
}

/// The protocol range Consul reports for every member (`ProtocolMin` … `DelegateCur`).
///
/// Our gossip is not wire-compatible with Go's memberlist, so these numbers describe nothing
/// on the wire; they are the values a Consul 1.x agent reports, kept so clients that read
/// them (and `members -detailed` users) see familiar values.
pub const CONSUL_PROTOCOL: ProtocolVersions = ProtocolVersions {
    protocol_min: 1,
    protocol_max: 5,
    protocol_cur: 2,
    delegate_min: 2,
    delegate_max: 5,
    delegate_cur: 4,
};

/// Memberlist protocol and delegate (serf) protocol ranges of a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProtocolVersions {
    /// Lowest memberlist protocol understood.
    pub protocol_min: u8,
    /// Highest memberlist protocol understood.
    pub protocol_max: u8,
    /// Memberlist protocol spoken.
    pub protocol_cur: u8,
    /// Lowest delegate (serf) protocol understood.
    pub delegate_min: u8,
    /// Highest delegate (serf) protocol understood.
    pub delegate_max: u8,
    /// Delegate (serf) protocol spoken.
    pub delegate_cur: u8,
}

/// One member of a pool; serializes to exactly one entry of Consul's `/v1/agent/members`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Member {
    /// The node name (WAN pool: `<node>.<dc>`).
    pub name: String,
    /// The gossip address.
    pub addr: IpAddr,
    /// The gossip port.
    pub port: u16,
    /// The node's tags (`role`, `dc`, `id`, `port`, `build`, `vsn` …), sorted by key.
    pub tags: BTreeMap<String, String>,
    /// Alive, leaving, left or failed; serialized as Consul's number.
    pub status: MemberStatus,
    /// Protocol ranges, flattened into the member as Consul does.
    #[serde(flatten)]
    pub protocol: ProtocolVersions,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_are_consuls() {
        let all = [
            MemberStatus::None,
            MemberStatus::Alive,
            MemberStatus::Leaving,
            MemberStatus::Left,
            MemberStatus::Failed,
        ];
        for (i, s) in all.into_iter().enumerate() {
            assert_eq!(usize::from(s.code()), i);
            assert_eq!(MemberStatus::from_code(s.code()), s);
        }
        assert_eq!(MemberStatus::from_code(99), MemberStatus::None);
        assert_eq!(MemberStatus::Failed.to_string(), "failed");
    }

    #[test]
    fn member_serializes_in_consul_shape() {
        let m = Member {
            name: "node1".into(),
            addr: "10.1.10.12".parse().expect("ip"),
            port: 8301,
            tags: [("role".to_string(), "consul".to_string())].into(),
            status: MemberStatus::Alive,
            protocol: CONSUL_PROTOCOL,
        };
        let json = serde_json::to_string(&m).expect("serializes");
        assert_eq!(
            json,
            r#"{"Name":"node1","Addr":"10.1.10.12","Port":8301,"Tags":{"role":"consul"},"Status":1,"ProtocolMin":1,"ProtocolMax":5,"ProtocolCur":2,"DelegateMin":2,"DelegateMax":5,"DelegateCur":4}"#
        );
        let back: Member = serde_json::from_str(&json).expect("deserializes");
        assert_eq!(back, m);
    }
}
