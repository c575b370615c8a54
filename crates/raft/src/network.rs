//! Raft traffic between servers, behind a byte-level seam.
//!
//! openraft's RPCs are encoded here (msgpack) and carried by a [`RaftTransport`], which
//! sees only node ids, addresses and opaque bytes: tonic in production
//! (`praetor_rpc::RpcTransport`, which streams large requests such as snapshot installs in
//! chunks), an in-process router in tests ([`crate::InProcessNetwork`]), or [`NoTransport`]
//! for a lone server. The receiving side hands the bytes to [`crate::RaftNode::handle_rpc`].

use std::fmt;
use std::io;
use std::sync::Arc;

use async_trait::async_trait;
use openraft::errors::{NetworkError, RPCError, ReplicationClosed, StreamingError, Unreachable};
use openraft::network::RPCOption;
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse, VoteRequest, VoteResponse,
};
use openraft::{BasicNode, OptionalSend, RaftNetworkFactory, RaftNetworkV2};
use serde::{Deserialize, Serialize};

use crate::types::{Snapshot, SnapshotData, SnapshotMeta, TypeConfig, Vote};

/// Carries encoded Raft RPCs to other servers. Implementations must be cancel-safe.
#[async_trait]
pub trait RaftTransport: Send + Sync + 'static {
    /// Sends `request` to server `target` at `addr` and returns its reply bytes, which
    /// the target produced with [`crate::RaftNode::handle_rpc`].
    async fn call(&self, target: u64, addr: &str, request: Vec<u8>) -> io::Result<Vec<u8>>;
}

/// The transport of a server with no peers: every peer is unreachable.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTransport;

#[async_trait]
impl RaftTransport for NoTransport {
    async fn call(&self, target: u64, addr: &str, _request: Vec<u8>) -> io::Result<Vec<u8>> {
        Err(io::Error::new(
            io::ErrorKind::NotConnected,
            format!("no raft transport to node {target} at {addr}"),
        ))
    }
}

/// Bytes that msgpack stores as one binary blob rather than an array of integers.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Blob(pub(crate) Vec<u8>);

impl fmt::Debug for Blob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Blob({} bytes)", self.0.len())
    }
}

impl Serialize for Blob {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Blob;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Blob, E> {
                Ok(Blob(v.to_vec()))
            }
            fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Blob, E> {
                Ok(Blob(v))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Blob, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 20));
                while let Some(b) = seq.next_element::<u8>()? {
                    out.push(b);
                }
                Ok(Blob(out))
            }
        }
        d.deserialize_byte_buf(V)
    }
}

/// One Raft RPC on the wire.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum RpcRequest {
    AppendEntries(AppendEntriesRequest<TypeConfig>),
    Vote(VoteRequest<TypeConfig>),
    PreVote(VoteRequest<TypeConfig>),
    InstallSnapshot {
        vote: Vote,
        meta: SnapshotMeta,
        state: Blob,
    },
}

/// The reply to an [`RpcRequest`]; `Err` carries the remote's error text.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum RpcResponse {
    AppendEntries(Result<AppendEntriesResponse<TypeConfig>, String>),
    Vote(Result<VoteResponse<TypeConfig>, String>),
    InstallSnapshot(Result<SnapshotResponse<TypeConfig>, String>),
}

pub(crate) fn encode<T: Serialize>(v: &T) -> io::Result<Vec<u8>> {
    rmp_serde::to_vec_named(v).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

pub(crate) fn decode<T: serde::de::DeserializeOwned>(b: &[u8]) -> io::Result<T> {
    rmp_serde::from_slice(b).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// openraft's network factory over a [`RaftTransport`].
#[derive(Clone)]
pub(crate) struct Network {
    transport: Arc<dyn RaftTransport>,
}

impl Network {
    pub(crate) fn new(transport: Arc<dyn RaftTransport>) -> Network {
        Network { transport }
    }
}

impl RaftNetworkFactory<TypeConfig> for Network {
    type Network = PeerClient;

    async fn new_client(&mut self, target: u64, node: &BasicNode) -> PeerClient {
        PeerClient {
            transport: Arc::clone(&self.transport),
            target,
            addr: node.addr.clone(),
        }
    }
}

/// Sends RPCs to one peer.
pub(crate) struct PeerClient {
    transport: Arc<dyn RaftTransport>,
    target: u64,
    addr: String,
}

/// Why a round trip failed, before it is shaped into openraft's error types.
enum CallError {
    /// Retry soon (timeout, transient I/O).
    Network(io::Error),
    /// Back off (peer down, refused, bad reply).
    Unreachable(io::Error),
}

impl CallError {
    fn into_rpc(self) -> RPCError<TypeConfig> {
        match self {
            CallError::Network(e) => RPCError::Network(NetworkError::new(&e)),
            CallError::Unreachable(e) => RPCError::Unreachable(Unreachable::new(&e)),
        }
    }

    fn into_streaming(self) -> StreamingError<TypeConfig> {
        match self {
            CallError::Network(e) => StreamingError::Network(NetworkError::new(&e)),
            CallError::Unreachable(e) => StreamingError::Unreachable(Unreachable::new(&e)),
        }
    }
}

impl PeerClient {
    async fn call(&self, req: &RpcRequest, option: &RPCOption) -> Result<RpcResponse, CallError> {
        let bytes = encode(req).map_err(CallError::Unreachable)?;
        let reply = tokio::time::timeout(
            option.hard_ttl(),
            self.transport.call(self.target, &self.addr, bytes),
        )
        .await
        .map_err(|_| {
            CallError::Network(io::Error::new(
                io::ErrorKind::TimedOut,
                "raft rpc timed out",
            ))
        })?;
        let reply = reply.map_err(|e| match e.kind() {
            io::ErrorKind::TimedOut | io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock => {
                CallError::Network(e)
            }
            _ => CallError::Unreachable(e),
        })?;
        decode(&reply).map_err(CallError::Unreachable)
    }
}

fn remote_error(target: u64, msg: String) -> io::Error {
    io::Error::other(format!("node {target}: {msg}"))
}

fn unexpected(target: u64) -> CallError {
    CallError::Unreachable(io::Error::new(
        io::ErrorKind::InvalidData,
        format!("node {target}: mismatched rpc reply"),
    ))
}

impl RaftNetworkV2<TypeConfig> for PeerClient {
    type SnapshotData = SnapshotData;

    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<TypeConfig>, RPCError<TypeConfig>> {
        match self
            .call(&RpcRequest::AppendEntries(rpc), &option)
            .await
            .map_err(CallError::into_rpc)?
        {
            RpcResponse::AppendEntries(r) => {
                r.map_err(|m| CallError::Unreachable(remote_error(self.target, m)).into_rpc())
            }
            _ => Err(unexpected(self.target).into_rpc()),
        }
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        match self
            .call(&RpcRequest::Vote(rpc), &option)
            .await
            .map_err(CallError::into_rpc)?
        {
            RpcResponse::Vote(r) => {
                r.map_err(|m| CallError::Unreachable(remote_error(self.target, m)).into_rpc())
            }
            _ => Err(unexpected(self.target).into_rpc()),
        }
    }

    async fn pre_vote(
        &mut self,
        rpc: VoteRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        match self
            .call(&RpcRequest::PreVote(rpc), &option)
            .await
            .map_err(CallError::into_rpc)?
        {
            RpcResponse::Vote(r) => {
                r.map_err(|m| CallError::Unreachable(remote_error(self.target, m)).into_rpc())
            }
            _ => Err(unexpected(self.target).into_rpc()),
        }
    }

    async fn full_snapshot(
        &mut self,
        vote: Vote,
        snapshot: Snapshot,
        cancel: impl std::future::Future<Output = ReplicationClosed> + OptionalSend + 'static,
        option: RPCOption,
    ) -> Result<SnapshotResponse<TypeConfig>, StreamingError<TypeConfig>> {
        let req = RpcRequest::InstallSnapshot {
            vote,
            meta: snapshot.meta,
            state: Blob(snapshot.snapshot.into_inner()),
        };
        let reply = tokio::select! {
            closed = cancel => return Err(StreamingError::Closed(closed)),
            reply = self.call(&req, &option) => reply.map_err(CallError::into_streaming)?,
        };
        match reply {
            RpcResponse::InstallSnapshot(r) => {
                r.map_err(|m| CallError::Unreachable(remote_error(self.target, m)).into_streaming())
            }
            _ => Err(unexpected(self.target).into_streaming()),
        }
    }
}
