//! An in-process [`RaftTransport`] for tests: servers in one process call each other's
//! [`RaftNode::handle_rpc`] directly, and links can be cut to simulate partitions.

use std::collections::{HashMap, HashSet};
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;

use crate::RaftNode;
use crate::network::RaftTransport;

#[derive(Default)]
struct Routes {
    nodes: HashMap<u64, RaftNode>,
    isolated: HashSet<u64>,
}

/// A shared in-process network. Give each server `transport_for(id)` and register the
/// started node with [`InProcessNetwork::register`].
#[derive(Clone, Default)]
pub struct InProcessNetwork {
    routes: Arc<Mutex<Routes>>,
}

impl InProcessNetwork {
    /// An empty network.
    pub fn new() -> InProcessNetwork {
        InProcessNetwork::default()
    }

    fn routes(&self) -> MutexGuard<'_, Routes> {
        self.routes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The transport server `from` uses to reach the others.
    pub fn transport_for(&self, from: u64) -> Arc<dyn RaftTransport> {
        Arc::new(Link {
            net: self.clone(),
            from,
        })
    }

    /// Makes `node` reachable as `node_id`.
    pub fn register(&self, node_id: u64, node: RaftNode) {
        self.routes().nodes.insert(node_id, node);
    }

    /// Removes `node_id` (e.g. stopped).
    pub fn unregister(&self, node_id: u64) {
        self.routes().nodes.remove(&node_id);
    }

    /// Cuts `node_id` off from every other server, both directions.
    pub fn isolate(&self, node_id: u64) {
        self.routes().isolated.insert(node_id);
    }

    /// Reconnects `node_id`.
    pub fn heal(&self, node_id: u64) {
        self.routes().isolated.remove(&node_id);
    }
}

struct Link {
    net: InProcessNetwork,
    from: u64,
}

#[async_trait]
impl RaftTransport for Link {
    async fn call(&self, target: u64, addr: &str, request: Vec<u8>) -> io::Result<Vec<u8>> {
        let node = {
            let routes = self.net.routes();
            if routes.isolated.contains(&self.from) || routes.isolated.contains(&target) {
                return Err(io::Error::new(
                    io::ErrorKind::NotConnected,
                    format!("partitioned from node {target}"),
                ));
            }
            routes.nodes.get(&target).cloned()
        };
        let node = node.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::ConnectionRefused,
                format!("no node {target} at {addr}"),
            )
        })?;
        node.handle_rpc(&request)
            .await
            .map_err(|e| io::Error::new(io::ErrorKind::ConnectionAborted, e.to_string()))
    }
}
