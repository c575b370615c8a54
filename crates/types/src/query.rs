//! Read-side request options and response metadata shared by every blocking-capable read
//! (Consul's `QueryOptions` / `QueryMeta`), and the KV read queries.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::KvEntry;

/// How fresh a read must be (spec/http-api.md §1.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Consistency {
    /// Answered by the leader while its lease holds.
    #[default]
    Default,
    /// Any server answers from its own replica.
    Stale,
    /// The leader confirms leadership with a quorum first.
    Consistent,
}

impl Consistency {
    /// The `X-Consul-Effective-Consistency` header value.
    pub fn header_value(self) -> &'static str {
        match self {
            Self::Default => "leader",
            Self::Stale => "stale",
            Self::Consistent => "consistent",
        }
    }
}

/// Options of a read: blocking and consistency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct QueryOptions {
    /// `?index`: block until the result's index is above this (0: answer at once).
    pub min_index: u64,
    /// `?wait`: the longest to block; `None` means the server default (5 minutes).
    pub max_wait: Option<Duration>,
    /// `?stale` / `?consistent`.
    pub consistency: Consistency,
    /// `?max_stale`: a stale read on a server whose last contact with the leader is
    /// older than this is answered by the leader instead (`None`: no bound).
    #[serde(default)]
    pub max_stale: Option<Duration>,
}

/// What a read's answer says about itself (the `X-Consul-*` headers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct QueryMeta {
    /// The result's index; never 0.
    pub index: u64,
    /// Whether the answering server knows a leader.
    pub known_leader: bool,
    /// Time since the answering server last heard from the leader (zero on the leader).
    pub last_contact: Duration,
    /// The consistency the read was served with.
    pub consistency: Consistency,
}

/// A KV read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum KvQuery {
    /// One exact key.
    Get {
        /// The key.
        key: String,
    },
    /// Every entry whose key starts with `prefix` (`?recurse`).
    List {
        /// Byte-wise prefix; empty means the whole store.
        prefix: String,
    },
    /// Key names under `prefix`, rolled up at `separator` (`?keys`).
    Keys {
        /// Byte-wise prefix.
        prefix: String,
        /// Roll up keys at the first occurrence of this after the prefix.
        separator: Option<String>,
    },
}

/// The answer to a [`KvQuery`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum KvResult {
    /// Entries (sorted by key) for `Get` and `List`; empty when nothing matched.
    Entries(Vec<KvEntry>),
    /// Keys (sorted) for `Keys`.
    Keys(Vec<String>),
}
