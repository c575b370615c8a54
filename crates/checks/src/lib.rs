//! praetor-checks: the agent's health check runners.
//!
//! Each runner turns a [`CheckSpec`] into a stream of [`CheckUpdate`]s on a tokio mpsc channel,
//! the way Consul's agent runs its checks:
//!
//! * **script**: runs `args` (or a legacy shell string through `/bin/sh -c`, see
//!   [`CheckKind::shell`]); exit 0 is passing, 1 warning, anything else critical;
//! * **HTTP**: 2xx is passing, 429 warning, anything else (or no answer) critical;
//! * **TCP**: a successful connect is passing;
//! * **UDP**: a datagram without an error back (a reply or silence) is passing;
//! * **gRPC**: a `grpc.health.v1.Health/Check` answered `SERVING` is passing, anything else
//!   (another status, an error, no answer) critical;
//! * **TTL**: the status is pushed through [`CheckHandle`]; expiry turns it critical.
//!
//! Interval checks go through Consul's status handler (`success_before_passing`,
//! `failures_before_warning`, `failures_before_critical`), never run beside themselves (the next
//! run is scheduled one interval after the previous one finishes) and start after a random
//! stagger within one interval.
//!
//! This crate owns running checks; it does not own the agent's check registry, persistence of
//! TTL state or syncing to the catalog: the agent consumes the updates and does that.

mod error;
mod grpc;
mod http;
mod output;
mod runner;
mod script;
mod socket;
mod spec;
mod status_handler;
mod tls;

pub use error::Error;
pub use output::MAX_OUTPUT_SIZE;
/// Check states are the catalog's: one type from the runner to the HTTP API.
pub use praetor_types::HealthStatus;
pub use runner::{CheckHandle, CheckRunner, CheckUpdate};
pub use spec::{
    CheckKind, CheckSpec, DEFAULT_SCRIPT_TIMEOUT, DEFAULT_TIMEOUT, HttpCheck, MIN_INTERVAL,
};
