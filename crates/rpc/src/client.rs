//! `RpcClient`: the connection pool (Consul's `agent/pool`): one HTTP/2 channel per server
//! address, connected on first use and reconnected after failures, every call bounded by
//! a deadline.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tonic::transport::{Channel, Endpoint};

use crate::error::{RemoteError, RpcError};
use crate::frame::{self, CHUNK_SIZE, MAX_FRAME_SIZE};
use crate::proto::Frame;
use crate::proto::praetor_client::PraetorClient;
use crate::request::{Envelope, Request, Response};
use crate::transport::RpcTransport;

/// How the pool connects and how long calls may take.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The longest a TCP connect may take (Consul's dial timeout is 10 s).
    pub connect_timeout: Duration,
    /// The deadline of a non-blocking request (blocking reads add their wait, see
    /// [`Request::deadline`]).
    pub call_timeout: Duration,
    /// The backstop deadline of one Raft RPC; openraft usually cancels much sooner.
    pub raft_timeout: Duration,
    /// HTTP/2 keepalive pings on every connection, so a dead peer or a cut link is
    /// noticed.
    pub keepalive_interval: Duration,
    /// A ping unanswered this long closes the connection; the next call reconnects.
    pub keepalive_timeout: Duration,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(1),
            call_timeout: Duration::from_secs(10),
            raft_timeout: Duration::from_secs(60),
            keepalive_interval: Duration::from_secs(1),
            keepalive_timeout: Duration::from_secs(3),
        }
    }
}

struct Inner {
    cfg: ClientConfig,
    channels: Mutex<HashMap<String, Channel>>,
    /// Raft RPCs too large for one frame, sent as a stream of chunks (diagnostics).
    streamed_raft_calls: AtomicU64,
}

/// A pool of connections to servers. Cheap to clone; clones share the connections.
/// Must be created inside a tokio runtime.
#[derive(Clone)]
pub struct RpcClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for RpcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RpcClient")
            .field("cfg", &self.inner.cfg)
            .finish_non_exhaustive()
    }
}

impl RpcClient {
    /// An empty pool.
    pub fn new(cfg: ClientConfig) -> RpcClient {
        RpcClient {
            inner: Arc::new(Inner {
                cfg,
                channels: Mutex::default(),
                streamed_raft_calls: AtomicU64::new(0),
            }),
        }
    }

    /// The pool's settings.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.cfg
    }

    /// A Raft transport over this pool, for `RaftNode::start_with_transport`.
    pub fn raft_transport(&self) -> Arc<dyn praetor_raft::RaftTransport> {
        Arc::new(RpcTransport::new(self.clone()))
    }

    /// Sends `request` to the server at `addr` and waits at most `timeout` for its answer.
    pub async fn call(
        &self,
        addr: &str,
        request: Request,
        timeout: Duration,
    ) -> Result<Response, RpcError> {
        self.forward(addr, request, 0, timeout).await
    }

    /// Like [`RpcClient::call`], for a server passing on a request it received after
    /// `hops` servers already had.
    pub async fn forward(
        &self,
        addr: &str,
        request: Request,
        hops: u8,
        timeout: Duration,
    ) -> Result<Response, RpcError> {
        let payload =
            frame::encode(&Envelope { hops, request }).map_err(|message| RpcError::Protocol {
                addr: addr.to_owned(),
                message,
            })?;
        let mut client = self.client(addr)?;
        let exchange = async {
            let mut req = tonic::Request::new(futures::stream::iter(frame::chunks(payload, 0)));
            req.set_timeout(timeout);
            let status = |s: tonic::Status| RpcError::from_status(addr, timeout, &s);
            let reply = client.call(req).await.map_err(status)?.into_inner();
            let (_, bytes) = frame::collect(reply).await.map_err(status)?;
            let answer: Result<Response, RemoteError> =
                frame::decode(&bytes).map_err(|message| RpcError::Protocol {
                    addr: addr.to_owned(),
                    message,
                })?;
            Ok(answer?)
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| RpcError::Timeout {
                addr: addr.to_owned(),
                timeout,
            })?
    }

    /// Sends an encoded Raft RPC for node `target` to `addr`; returns the reply bytes.
    pub(crate) async fn raft(
        &self,
        addr: &str,
        target: u64,
        payload: Bytes,
    ) -> Result<Bytes, RpcError> {
        let timeout = self.inner.cfg.raft_timeout;
        let mut client = self.client(addr)?;
        let exchange = async {
            let reply = if payload.len() <= CHUNK_SIZE {
                let mut req = tonic::Request::new(Frame { payload, target });
                req.set_timeout(timeout);
                client.raft(req).await
            } else {
                self.inner
                    .streamed_raft_calls
                    .fetch_add(1, Ordering::Relaxed);
                let frames = frame::chunks(payload, target);
                let mut req = tonic::Request::new(futures::stream::iter(frames));
                req.set_timeout(timeout);
                client.raft_stream(req).await
            };
            reply
                .map(|r| r.into_inner().payload)
                .map_err(|s| RpcError::from_status(addr, timeout, &s))
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| RpcError::Timeout {
                addr: addr.to_owned(),
                timeout,
            })?
    }

    /// How many Raft RPCs were large enough to be streamed in chunks (snapshot installs).
    #[doc(hidden)]
    pub fn streamed_raft_calls(&self) -> u64 {
        self.inner.streamed_raft_calls.load(Ordering::Relaxed)
    }

    /// Drops the pooled connection to `addr` (e.g. a server that left); the next call
    /// connects afresh.
    pub fn forget(&self, addr: &str) {
        self.channels().remove(addr);
    }

    fn channels(&self) -> std::sync::MutexGuard<'_, HashMap<String, Channel>> {
        self.inner
            .channels
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// The pooled channel to `addr`, created (not yet connected) on first use. A lazy
    /// channel connects on its first request and reconnects after the connection breaks.
    fn client(&self, addr: &str) -> Result<PraetorClient<Channel>, RpcError> {
        let mut channels = self.channels();
        let channel = match channels.get(addr) {
            Some(channel) => channel.clone(),
            None => {
                let cfg = &self.inner.cfg;
                let invalid = |message: String| RpcError::InvalidAddress {
                    addr: addr.to_owned(),
                    message,
                };
                if addr.is_empty() || addr.contains('/') {
                    return Err(invalid("expected host:port".to_owned()));
                }
                let channel = Endpoint::from_shared(format!("http://{addr}"))
                    .map_err(|e| invalid(e.to_string()))?
                    .connect_timeout(cfg.connect_timeout)
                    .tcp_nodelay(true)
                    .http2_keep_alive_interval(cfg.keepalive_interval)
                    .keep_alive_timeout(cfg.keepalive_timeout)
                    .keep_alive_while_idle(true)
                    .connect_lazy();
                channels.insert(addr.to_owned(), channel.clone());
                channel
            }
        };
        Ok(PraetorClient::new(channel)
            .max_decoding_message_size(MAX_FRAME_SIZE)
            .max_encoding_message_size(MAX_FRAME_SIZE))
    }
}
