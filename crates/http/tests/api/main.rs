//! Router-level tests of the HTTP API against a fake backend (no sockets), plus one
//! test over a real loopback listener.

mod agent_local;
mod catalog;
mod cluster;
mod event;
mod fake;
mod front;
mod kv;
mod routing;
mod serve;
mod ui;
