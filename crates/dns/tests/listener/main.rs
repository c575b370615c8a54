//! The DNS interface over its real UDP and TCP listeners on 127.0.0.1, answering from a
//! single in-memory server's catalog, asked with hand-built hickory-proto messages and
//! hickory-resolver.
#![allow(clippy::unwrap_used)] // a test crate: a failed unwrap is a failed test

mod bad_input;
mod health;
mod limits;
mod lookups;
mod recursors;
mod support;
mod udp;
