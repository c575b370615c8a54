//! What every agent does: builds the [`RuntimeConfig`](config::RuntimeConfig) from
//! defaults, files and flags, and defines the [`Backend`] trait through which the HTTP
//! and DNS interfaces reach the state (a local server today; RPC to servers in client
//! mode). Must not print. Mirrors Consul's `agent` and `agent/config` packages.

pub mod backend;
pub mod config;
pub mod definition;
mod local;

pub use backend::{AgentSelf, Backend, BackendError};
pub use local::LocalBackend;
