//! What every agent does: builds the [`RuntimeConfig`](config::RuntimeConfig) from
//! defaults, files and flags; keeps its own services and checks ([`LocalAgent`]: service
//! and check [`definition`]s, check runners, maintenance, persistence, reload) and syncs
//! them to the catalog ([`AntiEntropy`]); and defines the [`Backend`] trait through which
//! the HTTP and DNS interfaces reach the state (a local server today; RPC to servers in
//! client mode). Must not print. Mirrors Consul's `agent`, `agent/local`, `agent/ae` and
//! `agent/config` packages.

pub mod anti_entropy;
pub mod backend;
pub mod cluster;
pub mod config;
pub mod definition;
mod local;
pub mod local_agent;
pub mod remote;
pub mod remote_exec;
pub mod user_event;
pub mod watches;

pub use anti_entropy::{AntiEntropy, AntiEntropyConfig, CatalogApi, ServerCatalog};
pub use backend::{AgentSelf, Backend, BackendError, KvWatch};
pub use cluster::Cluster;
pub use local::LocalBackend;
pub use local_agent::{LocalAgent, LocalAgentConfig, LocalAgentTask};
pub use remote::{NO_KNOWN_SERVERS, RemoteServers};
pub use user_event::{UserEvents, UserEventsConfig, UserEventsTask};
pub use watches::ConfigWatches;
