//! Raft traffic over the pool: `praetor_raft::RaftTransport` on [`RpcClient`].

use std::io;

use async_trait::async_trait;
use bytes::Bytes;

use crate::client::RpcClient;

/// The production [`praetor_raft::RaftTransport`]: each Raft RPC is one frame, or a
/// stream of chunks when larger than [`crate::CHUNK_SIZE`] (snapshot installs).
#[derive(Debug, Clone)]
pub struct RpcTransport {
    client: RpcClient,
}

impl RpcTransport {
    /// A transport over `client`'s connections.
    pub fn new(client: RpcClient) -> RpcTransport {
        RpcTransport { client }
    }
}

#[async_trait]
impl praetor_raft::RaftTransport for RpcTransport {
    async fn call(&self, target: u64, addr: &str, request: Vec<u8>) -> io::Result<Vec<u8>> {
        self.client
            .raft(addr, target, Bytes::from(request))
            .await
            .map(Vec::from)
            .map_err(crate::RpcError::into_io)
    }
}
