//! Typed client→server requests and their replies (Consul's `KVS.Apply`, `KVS.Get`,
//! `Catalog.*`, `Health.*` and `Status.*` endpoints), one enum each instead of method
//! names as strings.

use std::collections::BTreeMap;
use std::time::Duration;

use praetor_types::{
    AutopilotConfig, AutopilotHealth, CheckServiceNode, DeregisterRequest, HealthCheck, KvQuery,
    KvRequest, KvResult, Node, NodeServices, QueryMeta, QueryOptions, RegisterRequest, ServiceNode,
    Session, TxnOp, TxnOutcome,
};
use serde::{Deserialize, Serialize};

/// A request a server answers: writes go to the leader, reads carry their options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Request {
    /// A KV write; answers [`Response::Bool`].
    KvApply(KvRequest),
    /// A KV read; answers [`Response::Kv`].
    KvRead {
        /// What to read.
        query: KvQuery,
        /// Blocking and consistency.
        opts: QueryOptions,
    },
    /// A catalog register; answers [`Response::Bool`].
    CatalogRegister(Box<RegisterRequest>),
    /// A catalog deregister; answers [`Response::Bool`].
    CatalogDeregister(DeregisterRequest),
    /// `/catalog/nodes`; answers [`Response::Nodes`].
    CatalogNodes {
        /// Blocking and consistency.
        opts: QueryOptions,
    },
    /// `/catalog/services`; answers [`Response::Services`].
    CatalogServices {
        /// Blocking and consistency.
        opts: QueryOptions,
    },
    /// `/catalog/service/<name>`; answers [`Response::ServiceNodes`].
    CatalogService {
        /// The service name.
        name: String,
        /// Tags every instance must carry.
        tags: Vec<String>,
        /// Blocking and consistency.
        opts: QueryOptions,
    },
    /// `/catalog/node/<name>`; answers [`Response::NodeServices`].
    CatalogNode {
        /// The node name.
        name: String,
        /// Blocking and consistency.
        opts: QueryOptions,
    },
    /// `/health/node/<name>`; answers [`Response::Checks`].
    HealthNode {
        /// The node name.
        name: String,
        /// Blocking and consistency.
        opts: QueryOptions,
    },
    /// `/health/checks/<service>`; answers [`Response::Checks`].
    HealthChecks {
        /// The service name.
        service: String,
        /// Blocking and consistency.
        opts: QueryOptions,
    },
    /// `/health/service/<name>`; answers [`Response::CheckServiceNodes`].
    HealthService {
        /// The service name.
        name: String,
        /// Tags every instance must carry.
        tags: Vec<String>,
        /// Only instances whose every check passes.
        passing: bool,
        /// Blocking and consistency.
        opts: QueryOptions,
    },
    /// `/health/state/<state>`; answers [`Response::Checks`].
    HealthState {
        /// `any`, `passing`, `warning` or `critical`.
        state: String,
        /// Blocking and consistency.
        opts: QueryOptions,
    },
    /// `/status/leader`; answers [`Response::Leader`].
    StatusLeader,
    /// `/status/peers`; answers [`Response::Peers`].
    StatusPeers,
    /// Creates a session (the ID is chosen by the leader when empty); answers
    /// [`Response::SessionId`].
    SessionCreate(Box<Session>),
    /// Destroys a session; answers [`Response::Bool`].
    SessionDestroy(String),
    /// Renews a session's TTL timer on the leader; answers [`Response::Sessions`] (empty
    /// for an unknown session).
    SessionRenew(String),
    /// One session by ID; answers [`Response::Sessions`].
    SessionInfo {
        /// The session ID.
        id: String,
        /// Blocking and consistency.
        opts: QueryOptions,
    },
    /// Every session; answers [`Response::Sessions`].
    SessionList {
        /// Blocking and consistency.
        opts: QueryOptions,
    },
    /// The sessions of a node; answers [`Response::Sessions`].
    SessionNode {
        /// The node name.
        node: String,
        /// Blocking and consistency.
        opts: QueryOptions,
    },
    /// A transaction; answers [`Response::Txn`].
    Txn {
        /// The operations.
        ops: Vec<TxnOp>,
        /// Consistency, for a read-only transaction.
        opts: QueryOptions,
    },
    /// Autopilot's configuration; answers [`Response::AutopilotConfig`].
    AutopilotGetConfig {
        /// Consistency (default or stale).
        opts: QueryOptions,
    },
    /// Writes autopilot's configuration (`cas`: only over that `ModifyIndex`); answers
    /// [`Response::Bool`].
    AutopilotSetConfig {
        /// The new settings.
        config: Box<AutopilotConfig>,
        /// Check-and-set index.
        cas: Option<u64>,
    },
    /// Autopilot's view of the servers' health, computed by the leader; answers
    /// [`Response::AutopilotHealth`].
    AutopilotHealth,
    /// The leader's read index after a quorum round, for a follower to serve a
    /// linearizable read itself once it has applied that far; answers
    /// [`Response::ReadIndex`].
    ReadIndex,
}

impl Request {
    /// Whether the request changes state (and so must reach the leader).
    pub fn is_write(&self) -> bool {
        matches!(
            self,
            Request::KvApply(_)
                | Request::CatalogRegister(_)
                | Request::CatalogDeregister(_)
                | Request::SessionCreate(_)
                | Request::SessionDestroy(_)
                | Request::SessionRenew(_)
                | Request::AutopilotSetConfig { .. }
        ) || matches!(self, Request::Txn { ops, .. } if ops.iter().any(|op| !op.is_read()))
    }

    /// The read's options, `None` for writes and status requests.
    pub fn query_options(&self) -> Option<&QueryOptions> {
        match self {
            Request::KvRead { opts, .. }
            | Request::CatalogNodes { opts }
            | Request::CatalogServices { opts }
            | Request::CatalogService { opts, .. }
            | Request::CatalogNode { opts, .. }
            | Request::HealthNode { opts, .. }
            | Request::HealthChecks { opts, .. }
            | Request::HealthService { opts, .. }
            | Request::HealthState { opts, .. }
            | Request::SessionInfo { opts, .. }
            | Request::SessionList { opts }
            | Request::SessionNode { opts, .. }
            | Request::Txn { opts, .. }
            | Request::AutopilotGetConfig { opts } => Some(opts),
            Request::KvApply(_)
            | Request::CatalogRegister(_)
            | Request::CatalogDeregister(_)
            | Request::StatusLeader
            | Request::StatusPeers
            | Request::SessionCreate(_)
            | Request::SessionDestroy(_)
            | Request::SessionRenew(_)
            | Request::AutopilotSetConfig { .. }
            | Request::AutopilotHealth
            | Request::ReadIndex => None,
        }
    }

    /// The read's options, to adjust before routing (`max_stale`, follower reads).
    pub fn query_options_mut(&mut self) -> Option<&mut QueryOptions> {
        match self {
            Request::KvRead { opts, .. }
            | Request::CatalogNodes { opts }
            | Request::CatalogServices { opts }
            | Request::CatalogService { opts, .. }
            | Request::CatalogNode { opts, .. }
            | Request::HealthNode { opts, .. }
            | Request::HealthChecks { opts, .. }
            | Request::HealthService { opts, .. }
            | Request::HealthState { opts, .. }
            | Request::SessionInfo { opts, .. }
            | Request::SessionList { opts }
            | Request::SessionNode { opts, .. }
            | Request::Txn { opts, .. }
            | Request::AutopilotGetConfig { opts } => Some(opts),
            _ => None,
        }
    }

    /// How long a caller should give the request: `base` plus, for a blocking read, the
    /// longest it may block (`max_query_time` caps it) with its jitter (1/16).
    pub fn deadline(&self, base: Duration, max_query_time: Duration) -> Duration {
        match self.query_options() {
            Some(opts) if opts.min_index > 0 => {
                let wait = opts
                    .max_wait
                    .filter(|w| !w.is_zero())
                    .unwrap_or(max_query_time)
                    .min(max_query_time);
                base + wait + wait / 16
            }
            _ => base,
        }
    }
}

/// A successful answer to a [`Request`]. Reads carry the answering server's query meta,
/// which a forwarding server passes back unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Response {
    /// A write's outcome (`false`: its condition did not hold).
    Bool(bool),
    /// A KV read.
    Kv(QueryMeta, KvResult),
    /// Nodes.
    Nodes(QueryMeta, Vec<Node>),
    /// Service names with their tags.
    Services(QueryMeta, BTreeMap<String, Vec<String>>),
    /// Catalog service rows.
    ServiceNodes(QueryMeta, Vec<ServiceNode>),
    /// One node with its services, `None` for an unknown node.
    NodeServices(QueryMeta, Option<NodeServices>),
    /// Health checks.
    Checks(QueryMeta, Vec<HealthCheck>),
    /// Service instances with their node and checks.
    CheckServiceNodes(QueryMeta, Vec<CheckServiceNode>),
    /// The leader's server address, `""` when none is known.
    Leader(String),
    /// The voters' server addresses.
    Peers(Vec<String>),
    /// A new session's ID.
    SessionId(String),
    /// Sessions.
    Sessions(QueryMeta, Vec<Session>),
    /// A transaction's outcome; the query meta of a read-only one.
    Txn(Option<QueryMeta>, TxnOutcome),
    /// Autopilot's configuration.
    AutopilotConfig(Box<AutopilotConfig>),
    /// Autopilot's view of the servers.
    AutopilotHealth(AutopilotHealth),
    /// The leader's read index.
    ReadIndex(u64),
}

impl Response {
    /// The query meta a read carries, to adjust (follower reads report the consistency
    /// asked for).
    pub fn query_meta_mut(&mut self) -> Option<&mut QueryMeta> {
        match self {
            Response::Kv(meta, _)
            | Response::Nodes(meta, _)
            | Response::Services(meta, _)
            | Response::ServiceNodes(meta, _)
            | Response::NodeServices(meta, _)
            | Response::Checks(meta, _)
            | Response::CheckServiceNodes(meta, _)
            | Response::Sessions(meta, _) => Some(meta),
            Response::Txn(meta, _) => meta.as_mut(),
            _ => None,
        }
    }
}

/// A [`Request`] as sent: with how many servers already forwarded it, so a request is
/// forwarded at most once between servers (no loops while leadership moves).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Envelope {
    pub(crate) hops: u8,
    pub(crate) request: Request,
}

#[cfg(test)]
mod tests {
    use praetor_types::{Consistency, HealthCheck, HealthStatus, KvEntry};

    use super::*;
    use crate::RemoteError;
    use crate::frame::{decode, encode};

    fn round_trip<T: Serialize + serde::de::DeserializeOwned>(v: &T) -> T {
        decode(&encode(v).expect("encode")).expect("decode")
    }

    #[test]
    fn requests_and_replies_survive_msgpack() {
        let opts = QueryOptions {
            min_index: 7,
            max_wait: Some(Duration::from_millis(1500)),
            consistency: Consistency::Consistent,
            max_stale: Some(Duration::from_secs(3)),
        };
        let requests = vec![
            Request::KvApply(KvRequest::set("web/a", vec![0, 1, 2, 255])),
            Request::KvRead {
                query: KvQuery::Keys {
                    prefix: "web/".into(),
                    separator: Some("/".into()),
                },
                opts,
            },
            Request::CatalogRegister(Box::new(RegisterRequest {
                node: "n1".into(),
                address: "10.0.0.1".into(),
                ..RegisterRequest::default()
            })),
            Request::HealthService {
                name: "web".into(),
                tags: vec!["v1".into()],
                passing: true,
                opts,
            },
            Request::StatusPeers,
            Request::SessionDestroy("s".into()),
            Request::Txn {
                ops: vec![TxnOp::SessionDelete("s".into())],
                opts,
            },
            Request::AutopilotSetConfig {
                config: Box::default(),
                cas: Some(4),
            },
            Request::AutopilotHealth,
            Request::ReadIndex,
        ];
        for r in &requests {
            assert_eq!(&round_trip(r), r);
        }
        let meta = QueryMeta {
            index: 42,
            known_leader: true,
            last_contact: Duration::from_millis(3),
            consistency: Consistency::Stale,
        };
        let replies = vec![
            Response::Kv(
                meta,
                KvResult::Entries(vec![KvEntry {
                    key: "k".into(),
                    value: b"v".to_vec(),
                    session: Some("s".into()),
                    ..KvEntry::default()
                }]),
            ),
            Response::Kv(meta, KvResult::Entries(vec![KvEntry::default()])),
            Response::Checks(
                meta,
                vec![HealthCheck {
                    node: "n1".into(),
                    check_id: "serfHealth".into(),
                    status: HealthStatus::Critical,
                    ..HealthCheck::default()
                }],
            ),
            Response::NodeServices(meta, None),
            Response::Leader(String::new()),
            Response::AutopilotConfig(Box::default()),
            Response::ReadIndex(9),
        ];
        for r in &replies {
            assert_eq!(&round_trip(r), r);
        }
        let errors = vec![
            RemoteError::NoLeader,
            RemoteError::NotLeader {
                leader_addr: "127.0.0.1:8300".into(),
            },
            RemoteError::Apply(praetor_state::ApplyError::InvalidSession("s".into())),
        ];
        for e in &errors {
            assert_eq!(&round_trip(e), e);
        }
    }

    #[test]
    fn blocking_reads_get_their_wait_on_top_of_the_base_deadline() {
        let base = Duration::from_secs(10);
        let max = Duration::from_secs(600);
        let mut opts = QueryOptions::default();
        let read = |opts| Request::CatalogNodes { opts };
        assert_eq!(read(opts).deadline(base, max), base);
        opts.min_index = 3;
        opts.max_wait = Some(Duration::from_secs(16));
        assert_eq!(read(opts).deadline(base, max), Duration::from_secs(27));
        opts.max_wait = Some(Duration::from_secs(6000));
        assert_eq!(
            read(opts).deadline(base, max),
            base + max + max / 16,
            "capped"
        );
        assert_eq!(Request::StatusLeader.deadline(base, max), base);
    }
}
