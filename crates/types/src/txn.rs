//! Transactions (`PUT /v1/txn`, Consul's `structs.TxnOps` and `TxnResults`).

use serde::{Deserialize, Serialize};

use crate::{HealthCheck, KvEntry, Node, NodeService};

/// A KV verb of a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TxnKvVerb {
    /// `set`
    Set,
    /// `cas`
    Cas,
    /// `lock`
    Lock,
    /// `unlock`
    Unlock,
    /// `get`
    Get,
    /// `get-or-empty`
    GetOrEmpty,
    /// `get-tree`
    GetTree,
    /// `check-index`
    CheckIndex,
    /// `check-session`
    CheckSession,
    /// `check-not-exists`
    CheckNotExists,
    /// `delete`
    Delete,
    /// `delete-tree`
    DeleteTree,
    /// `delete-cas`
    DeleteCas,
}

impl TxnKvVerb {
    /// Parses Consul's verb name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "set" => Self::Set,
            "cas" => Self::Cas,
            "lock" => Self::Lock,
            "unlock" => Self::Unlock,
            "get" => Self::Get,
            "get-or-empty" => Self::GetOrEmpty,
            "get-tree" => Self::GetTree,
            "check-index" => Self::CheckIndex,
            "check-session" => Self::CheckSession,
            "check-not-exists" => Self::CheckNotExists,
            "delete" => Self::Delete,
            "delete-tree" => Self::DeleteTree,
            "delete-cas" => Self::DeleteCas,
            _ => return None,
        })
    }

    /// Whether the verb only reads.
    pub fn is_read(self) -> bool {
        matches!(
            self,
            Self::Get
                | Self::GetOrEmpty
                | Self::GetTree
                | Self::CheckIndex
                | Self::CheckSession
                | Self::CheckNotExists
        )
    }
}

/// A catalog verb of a transaction (nodes, services, checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TxnCatalogVerb {
    /// `set`
    Set,
    /// `cas`
    Cas,
    /// `get`
    Get,
    /// `delete`
    Delete,
    /// `delete-cas`
    DeleteCas,
}

impl TxnCatalogVerb {
    /// Parses Consul's verb name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "set" => Self::Set,
            "cas" => Self::Cas,
            "get" => Self::Get,
            "delete" => Self::Delete,
            "delete-cas" => Self::DeleteCas,
            _ => return None,
        })
    }
}

/// One KV operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnKvOp {
    /// The verb.
    pub verb: TxnKvVerb,
    /// The key (a prefix for the tree verbs).
    pub key: String,
    /// The value.
    #[serde(with = "crate::kv::raw_bytes")]
    pub value: Vec<u8>,
    /// Flags.
    pub flags: u64,
    /// The index for `cas`, `check-index`, `delete-cas`.
    pub index: u64,
    /// The session for `lock`, `unlock`, `check-session`.
    pub session: Option<String>,
}

/// One operation of a transaction.
#[allow(clippy::large_enum_variant)] // short-lived, at most 128 per request
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TxnOp {
    /// A KV operation.
    Kv(TxnKvOp),
    /// A node operation (`Index` in the node's `ModifyIndex` for the cas verbs).
    Node(TxnCatalogVerb, Node),
    /// A service operation on the named node.
    Service(TxnCatalogVerb, String, NodeService),
    /// A check operation.
    Check(TxnCatalogVerb, HealthCheck),
    /// A session `delete` (Consul's only session verb), by session ID.
    SessionDelete(String),
}

impl TxnOp {
    /// Whether the operation only reads.
    pub fn is_read(&self) -> bool {
        match self {
            TxnOp::Kv(op) => op.verb.is_read(),
            TxnOp::Node(v, _) | TxnOp::Service(v, _, _) | TxnOp::Check(v, _) => {
                *v == TxnCatalogVerb::Get
            }
            TxnOp::SessionDelete(_) => false,
        }
    }
}

#[allow(clippy::large_enum_variant)] // short-lived, at most 128 per request
/// One result entry: `{"KV":{…}}`, `{"Node":{…}}`, `{"Service":{…}}`, `{"Check":{…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TxnResult {
    /// A KV entry.
    #[serde(rename = "KV")]
    Kv(KvEntry),
    /// A node.
    Node(Node),
    /// A service.
    Service(NodeService),
    /// A check.
    Check(HealthCheck),
}

/// Why an operation failed: `{"OpIndex":n,"What":"…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TxnError {
    /// The 0-based position of the failing operation.
    pub op_index: usize,
    /// Why it failed.
    pub what: String,
}

/// A transaction's outcome: the results when committed, the errors when rolled back.
pub type TxnOutcome = Result<Vec<TxnResult>, Vec<TxnError>>;
