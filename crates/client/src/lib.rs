//! praetor-client: a small typed async client of the agent's HTTP API (Consul's Go `api`
//! package, the parts the CLI, e2e tests and benches need).
//!
//! Entry types: [`ClientConfig`] (address and token from flags or `CONSUL_HTTP_*` /
//! `PRAETOR_HTTP_*`), [`Client`] (KV, catalog, status and agent endpoints), [`KvPut`],
//! [`CatalogQuery`], [`HealthServiceQuery`], [`SessionCreate`], [`AgentServiceRegistration`]
//! and [`ClientError`]; [`Client::get_json`] reads endpoints without a typed method.
//! [`watch`] holds Consul's watch plans (`api/watch`), shared by `praetor watch` and the
//! agent's configured watches.
//! Depends only on `praetor-types`; never prints. Plain http needs no TLS setup; the rustls
//! ring provider is installed only when an https address is used.
//!
//! With the `testing` feature, `testing::FakeAgent` serves an in-memory KV, catalog and
//! agent API on loopback for other crates' tests.
#![warn(missing_docs)]

mod agent;
mod catalog;
mod client;
mod cluster;
mod config;
mod error;
mod event;
mod exec_session;
mod health;
mod kv;
mod raw;
mod session;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod watch;

pub use agent::{
    AgentCheck, AgentServiceCheck, AgentServiceRegistration, NODE_MAINTENANCE_CHECK_ID,
    SERVICE_MAINTENANCE_CHECK_PREFIX,
};
pub use catalog::CatalogQuery;
pub use client::{Client, TOKEN_HEADER, query_meta_from_headers};
pub use cluster::{ALL_SEGMENTS, MembersQuery};
pub use config::{ClientConfig, DEFAULT_HTTP_ADDR, parse_go_bool, parse_http_addr};
pub use error::{ClientError, UrlParseError};
pub use event::EventFire;
pub use exec_session::REXEC_SESSION_TTL;
pub use health::HealthServiceQuery;
pub use kv::KvPut;
pub use praetor_types::{
    Consistency, KvEntry, QueryMeta, QueryOptions, Session, SessionBehavior, UserEvent,
};
pub use session::SessionCreate;

#[cfg(test)]
mod tests;
