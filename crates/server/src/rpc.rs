//! The server's side of `praetor-rpc`: Raft traffic to this server's Raft node, typed
//! requests routed as if made here (forwarded to the leader when they need it).

use async_trait::async_trait;
use bytes::Bytes;
use praetor_raft::RaftError;
use praetor_rpc::{Handler, RemoteError, Request, Response};

use crate::Server;

#[async_trait]
impl Handler for Server {
    async fn raft(&self, target: u64, request: Bytes) -> Result<Vec<u8>, RemoteError> {
        let me = self.raft.config().node_id;
        if target != me {
            // A stale address (a server replaced at the same address): refuse rather
            // than let one node's Raft traffic reach another.
            return Err(RemoteError::Failed(format!(
                "raft rpc for node {target} reached node {me}"
            )));
        }
        self.raft.handle_rpc(&request).await.map_err(|e| match e {
            RaftError::ShuttingDown => RemoteError::ShuttingDown,
            other => RemoteError::Failed(other.to_string()),
        })
    }

    async fn call(&self, request: Request, hops: u8) -> Result<Response, RemoteError> {
        Ok(self.route(request, hops).await?)
    }
}
