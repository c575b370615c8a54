//! The DNS interface (spec/dns.md): Consul's names answered from the catalog.
//!
//! A [`DnsHandler`] is a hickory-server request handler that reads the catalog through
//! the agent's [`Backend`](praetor_agent::Backend) with stale reads, so it never waits
//! on the leader; [`DnsListeners`] binds UDP and TCP on one port and serves it.
//! The name grammar ([`name`]) and the reply building ([`answer`], [`trim`]) are pure.

pub mod answer;
mod cache;
mod config;
#[doc(hidden)]
pub mod fuzzing;
mod handler;
pub mod name;
pub mod records;
mod recursor;
mod server;
pub mod trim;
mod udp;

pub use config::{DnsSettings, parse_recursor};
pub use handler::{DnsHandler, Outcome};
pub use server::{DnsListeners, DnsServer};
