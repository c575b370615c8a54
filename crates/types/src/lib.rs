//! Consul-shaped domain and wire types shared by every layer.
//!
//! No I/O. JSON encodings follow Consul's HTTP API (`spec/http-api.md`); the same
//! types travel inside Raft entries and RPC frames. Mirrors Consul's `agent/structs`
//! and `api` packages.
#![warn(missing_docs)]

pub mod catalog;
pub mod decode;
pub mod duration;
pub mod event;
pub mod gojson;
pub mod kv;
pub mod member;
pub mod operator;
pub mod query;
pub mod session;
pub mod txn;

pub use catalog::{
    CheckServiceNode, DeregisterRequest, HealthCheck, HealthCheckDefinition, HealthStatus, Node,
    NodeService, NodeServices, RegisterRequest, ServiceAddress, ServiceNode, Weights,
};
pub use event::UserEvent;
pub use kv::{KvEntry, KvOp, KvRequest};
pub use operator::{
    AutopilotConfig, AutopilotHealth, AutopilotServerState, AutopilotState, RaftConfiguration,
    RaftPeer, RaftServer, ServerHealth,
};
pub use query::{Consistency, KvQuery, KvResult, QueryMeta, QueryOptions};
pub use session::{ServiceCheckRef, Session, SessionBehavior};
pub use txn::{TxnCatalogVerb, TxnError, TxnKvOp, TxnKvVerb, TxnOp, TxnOutcome, TxnResult};

/// Consul API version this build is compatible with (`/v1/agent/self` `Config.Version`).
pub const CONSUL_COMPAT_VERSION: &str = "1.22.0";
/// Praetor's own version.
pub const PRAETOR_VERSION: &str = env!("CARGO_PKG_VERSION");
