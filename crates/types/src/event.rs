//! User events as `/v1/event/fire` answers them and `/v1/event/list` lists them (Consul's
//! `api.UserEvent`), plus the index `/v1/event/list` derives from an event ID.

use serde::{Deserialize, Serialize};

/// The event protocol version this build fires and understands (Consul's
/// `userEventMaxVersion`).
pub const USER_EVENT_VERSION: u32 = 1;

/// One user event: its ID, name, opaque payload, the filters that pick the agents that
/// record it, and its Lamport time in the LAN pool.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserEvent {
    /// A random UUID given by the agent that fired it.
    #[serde(rename = "ID")]
    pub id: String,
    /// The event name.
    pub name: String,
    /// The opaque payload: base64 in JSON, `null` when empty.
    #[serde(with = "crate::kv::value_base64", default)]
    pub payload: Vec<u8>,
    /// A regexp over node names (empty: every node).
    #[serde(default)]
    pub node_filter: String,
    /// A regexp over the names of the node's services (empty: any node).
    #[serde(default)]
    pub service_filter: String,
    /// A regexp over the tags of the services `service_filter` matched.
    #[serde(default)]
    pub tag_filter: String,
    /// The event protocol version.
    #[serde(default)]
    pub version: u32,
    /// The Lamport time gossip delivered it at (0 in the fire answer).
    #[serde(rename = "LTime", default)]
    pub ltime: u64,
}

impl UserEvent {
    /// The blocking index `/v1/event/list` reports when this is the newest event listed:
    /// the UUID's high and low 64 bits XORed, as Consul's `uuidToUint64`. `None` when the
    /// ID is not a UUID.
    pub fn index(&self) -> Option<u64> {
        let hex: String = self.id.chars().filter(|c| *c != '-').collect();
        if hex.len() != 32 {
            return None;
        }
        let high = u64::from_str_radix(hex.get(..16)?, 16).ok()?;
        let low = u64::from_str_radix(hex.get(16..)?, 16).ok()?;
        Some(high ^ low)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_json_has_consuls_field_names_and_null_payload() {
        let ev = UserEvent {
            id: "b54fe110-7af5-cafc-d1fb-afc8ba432b1c".into(),
            name: "deploy".into(),
            version: 1,
            ..UserEvent::default()
        };
        assert_eq!(
            serde_json::to_string(&ev).expect("encode"),
            r#"{"ID":"b54fe110-7af5-cafc-d1fb-afc8ba432b1c","Name":"deploy","Payload":null,"NodeFilter":"","ServiceFilter":"","TagFilter":"","Version":1,"LTime":0}"#
        );
        let with_payload = UserEvent {
            payload: b"hi".to_vec(),
            ..ev
        };
        let json = serde_json::to_string(&with_payload).expect("encode");
        assert!(json.contains(r#""Payload":"aGk=""#), "{json}");
        let back: UserEvent = serde_json::from_str(&json).expect("decode");
        assert_eq!(back, with_payload);
    }

    #[test]
    fn index_xors_the_uuid_halves() {
        let ev = UserEvent {
            id: "00000000-0000-0001-0000-000000000003".into(),
            ..UserEvent::default()
        };
        assert_eq!(ev.index(), Some(1 ^ 3));
        let bad = UserEvent {
            id: "nope".into(),
            ..UserEvent::default()
        };
        assert_eq!(bad.index(), None);
    }
}
