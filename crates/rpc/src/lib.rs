//! praetor-rpc: server RPC on the server port (`-server-port`, 8300) over tonic (Consul's
//! `agent/consul/rpc.go`, `agent/pool` and its leader forwarding).
//!
//! One tiny protobuf service (`proto/praetor.proto`) carries opaque frames: Raft traffic
//! as the bytes `praetor-raft` encodes, and typed [`Request`]s / [`Response`]s as msgpack.
//! Messages larger than one chunk (snapshot installs, big reads) travel as a stream of
//! chunks, never as one giant gRPC message.
//!
//! Entry points:
//! - [`serve`]: answers RPCs on a bound listener with a [`Handler`] (implemented by
//!   `praetor-server`, which this crate must not depend on) until a token is cancelled.
//! - [`RpcClient`]: a pool with one lazily connected, reconnecting HTTP/2 channel per
//!   server address and per-call deadlines; [`RpcClient::call`] for typed requests and
//!   [`RpcClient::raft_transport`] for `praetor_raft::RaftNode::start_with_transport`.
//!
//! Must not parse HTTP or know about the catalog beyond the request types.

mod client;
mod error;
mod frame;
mod request;
mod server;
mod transport;

/// The generated tonic service and messages.
#[allow(missing_docs, unreachable_pub, clippy::all)]
mod proto {
    tonic::include_proto!("praetor.rpc.v1");
}

pub use client::{ClientConfig, RpcClient};
pub use error::{RemoteError, RpcError};
pub use frame::CHUNK_SIZE;
pub use request::{Request, Response};
pub use server::{Handler, serve};
pub use transport::RpcTransport;
