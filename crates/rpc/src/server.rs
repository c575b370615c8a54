//! The RPC listener: decodes frames and hands them to a [`Handler`].

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::Stream;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::transport::server::TcpIncoming;
use tonic::{Status, Streaming};
use tracing::{debug, info, warn};

use crate::error::{RemoteError, RpcError};
use crate::frame::{self, MAX_FRAME_SIZE};
use crate::proto::Frame;
use crate::proto::praetor_server::{Praetor, PraetorServer};
use crate::request::{Envelope, Request, Response};

/// How long a stopping listener waits for connections to wind down before giving up on
/// them (in-flight calls are cancelled at once, so this is only for slow peers).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// What answers RPCs on a server: `praetor-server` implements it (this crate must not
/// depend on it).
#[async_trait]
pub trait Handler: Send + Sync + 'static {
    /// Handles a Raft RPC that its sender meant for Raft node `target`, encoded by
    /// `praetor-raft`; returns the encoded reply.
    async fn raft(&self, target: u64, request: Bytes) -> Result<Vec<u8>, RemoteError>;

    /// Answers a typed request that `hops` servers have already forwarded (0 when it
    /// comes straight from its sender).
    async fn call(&self, request: Request, hops: u8) -> Result<Response, RemoteError>;
}

/// Serves RPCs arriving on `listener` with `handler` until `shutdown` is cancelled; then
/// stops accepting, cancels in-flight calls (they answer `Unavailable`) and returns.
pub async fn serve(
    listener: TcpListener,
    handler: Arc<dyn Handler>,
    shutdown: CancellationToken,
) -> Result<(), RpcError> {
    let addr = listener.local_addr().ok();
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    let service = PraetorServer::new(Service {
        handler,
        shutdown: shutdown.clone(),
    })
    .max_decoding_message_size(MAX_FRAME_SIZE)
    .max_encoding_message_size(MAX_FRAME_SIZE);
    info!(addr = ?addr, "rpc server started");
    let server = tonic::transport::Server::builder()
        .http2_keepalive_interval(Some(Duration::from_secs(10)))
        .add_service(service)
        .serve_with_incoming_shutdown(incoming, shutdown.clone().cancelled_owned());
    let grace = async {
        shutdown.cancelled().await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    let result = tokio::select! {
        r = server => r.map_err(RpcError::Serve),
        () = grace => {
            warn!("rpc connections still open after the shutdown grace period");
            Ok(())
        }
    };
    info!(addr = ?addr, "rpc server stopped");
    result
}

struct Service {
    handler: Arc<dyn Handler>,
    shutdown: CancellationToken,
}

impl Service {
    /// Runs `work` unless the server stops first.
    async fn guarded<T>(&self, work: impl Future<Output = T>) -> Result<T, Status> {
        tokio::select! {
            biased;
            () = self.shutdown.cancelled() => Err(Status::unavailable("rpc server shutting down")),
            out = work => Ok(out),
        }
    }

    async fn raft_reply(&self, target: u64, payload: Bytes) -> Result<Frame, Status> {
        let reply = self
            .guarded(self.handler.raft(target, payload))
            .await?
            .map_err(|e| Status::unavailable(e.to_string()))?;
        Ok(Frame {
            payload: reply.into(),
            target: 0,
        })
    }
}

type FrameStream = Pin<Box<dyn Stream<Item = Result<Frame, Status>> + Send>>;

#[async_trait]
impl Praetor for Service {
    async fn raft(&self, req: tonic::Request<Frame>) -> Result<tonic::Response<Frame>, Status> {
        let frame = req.into_inner();
        self.raft_reply(frame.target, frame.payload)
            .await
            .map(tonic::Response::new)
    }

    async fn raft_stream(
        &self,
        req: tonic::Request<Streaming<Frame>>,
    ) -> Result<tonic::Response<Frame>, Status> {
        let (target, payload) = self.guarded(frame::collect(req.into_inner())).await??;
        debug!(target, bytes = payload.len(), "streamed raft rpc received");
        self.raft_reply(target, payload)
            .await
            .map(tonic::Response::new)
    }

    type CallStream = FrameStream;

    async fn call(
        &self,
        req: tonic::Request<Streaming<Frame>>,
    ) -> Result<tonic::Response<FrameStream>, Status> {
        let (_, payload) = self.guarded(frame::collect(req.into_inner())).await??;
        let envelope: Envelope = frame::decode(&payload)
            .map_err(|e| Status::invalid_argument(format!("invalid rpc request: {e}")))?;
        let answer = self
            .guarded(self.handler.call(envelope.request, envelope.hops))
            .await?;
        let payload = frame::encode(&answer)
            .map_err(|e| Status::internal(format!("encoding rpc reply: {e}")))?;
        let frames = frame::chunks(payload, 0).into_iter().map(Ok);
        Ok(tonic::Response::new(Box::pin(futures::stream::iter(
            frames,
        ))))
    }
}
