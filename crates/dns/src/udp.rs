//! UDP without a task per datagram: a few receive loops share the socket and answer
//! inline (parse, answer, encode, send). A question whose answer is not ready at the
//! first poll (a recursor, a read that waits on the leader) continues in a task of its
//! own, so one slow question never holds up the others.

use std::future::{Future as _, poll_fn};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::Poll;

use hickory_proto::op::{Header, Message, MessageType, Metadata, OpCode, ResponseCode};
use hickory_proto::op::{HeaderCounts, emit_message_parts};
use hickory_proto::serialize::binary::{BinDecodable as _, BinDecoder, BinEncoder};
use tokio::net::UdpSocket;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::debug;

use crate::cache::AnswerCache;
use crate::handler::{DnsHandler, Response};

/// Largest datagram read (the EDNS maximum; anything longer is cut and fails to parse).
const MAX_DATAGRAM: usize = 65535;

/// Starts `loops` receive loops on `socket`, stopped by `stop`.
pub(crate) fn spawn(
    socket: Arc<UdpSocket>,
    handler: DnsHandler,
    loops: usize,
    stop: CancellationToken,
) -> JoinSet<()> {
    let mut set = JoinSet::new();
    for _ in 0..loops.max(1) {
        set.spawn(receive_loop(socket.clone(), handler.clone(), stop.clone()));
    }
    set
}

async fn receive_loop(socket: Arc<UdpSocket>, handler: DnsHandler, stop: CancellationToken) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut out = Vec::with_capacity(512);
    let mut cache = AnswerCache::default();
    loop {
        let (len, src) = tokio::select! {
            () = stop.cancelled() => return,
            r = socket.recv_from(&mut buf) => match r {
                Ok(r) => r,
                Err(e) => {
                    // ICMP errors of earlier sends and the like: keep serving.
                    debug!(error = %e, "DNS UDP receive failed");
                    continue;
                }
            },
        };
        let request = &buf[..len];
        let cache_at = handler.cache_key_index();
        if let Some((index, max_age)) = cache_at
            && cache.answer(request, index, max_age, &mut out)
        {
            send(&socket, &out, src).await;
            continue;
        }
        // Answer inline when the answer is ready at once (the usual case: stale reads of
        // the local state); otherwise the same future finishes in a task of its own.
        let mut answer = Box::pin({
            let (handler, request) = (handler.clone(), request.to_vec());
            async move {
                let mut out = Vec::with_capacity(512);
                let complete = handler.answer_datagram_cacheable(&request, &mut out).await;
                complete.map(|c| (c, out))
            }
        });
        match poll_fn(|cx| Poll::Ready(answer.as_mut().poll(cx))).await {
            Poll::Ready(Some((complete, bytes))) => {
                if complete && let Some((index, _)) = cache_at {
                    cache.insert(request, index, &bytes);
                }
                send(&socket, &bytes, src).await;
            }
            Poll::Ready(None) => {}
            Poll::Pending => {
                let socket = socket.clone();
                tokio::spawn(async move {
                    if let Some((_, bytes)) = answer.await {
                        send(&socket, &bytes, src).await;
                    }
                });
            }
        }
    }
}

async fn send(socket: &UdpSocket, bytes: &[u8], to: SocketAddr) {
    // Try without waiting first: the socket is nearly always writable.
    let sent = match socket.try_send_to(bytes, to) {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => socket.send_to(bytes, to).await,
        other => other,
    };
    if let Err(e) = sent {
        debug!(error = %e, to = %to, "failed to send DNS response");
    }
}

impl DnsHandler {
    /// Answers one UDP datagram into `out`; `false` when nothing is to be sent (shorter
    /// than a header, or a response). A header followed by something unreadable is
    /// answered FORMERR.
    pub async fn answer_datagram(&self, request: &[u8], out: &mut Vec<u8>) -> bool {
        self.answer_datagram_cacheable(request, out).await.is_some()
    }

    /// [`Self::answer_datagram`], saying for an answer whether it is complete (see
    /// [`Response::complete`]); `None` when nothing is to be sent.
    async fn answer_datagram_cacheable(&self, request: &[u8], out: &mut Vec<u8>) -> Option<bool> {
        out.clear();
        let mut decoder = BinDecoder::new(request);
        let Ok(header) = Header::read(&mut decoder) else {
            return None;
        };
        if header.metadata.message_type == MessageType::Response {
            // Never answer responses: no reflection.
            return None;
        }
        let message = match Message::from_vec(request) {
            Ok(m) => m,
            Err(e) => {
                debug!(error = %e, id = header.metadata.id, "malformed DNS request");
                let mut meta = Metadata::response_from_request(&header.metadata);
                meta.response_code = ResponseCode::FormErr;
                encode(&Response::empty(meta), &[], out, 512);
                return Some(false);
            }
        };
        let reply = self
            .respond(
                &message.metadata,
                &message.queries,
                message.edns.as_ref(),
                request,
                true,
            )
            .await;
        let max = reply.edns.as_ref().map_or(512, |e| e.max_payload());
        let encoded = encode(&reply, &message.queries, out, max);
        Some(encoded && reply.complete)
    }
}

/// Encodes `reply` with `queries` echoed; a reply that does not encode within `max`
/// bytes becomes a bare SERVFAIL (and `false` is returned).
fn encode(
    reply: &Response,
    queries: &[hickory_proto::op::Query],
    out: &mut Vec<u8>,
    max: u16,
) -> bool {
    let result = {
        let mut encoder = BinEncoder::new(out);
        encoder.set_max_size(max);
        emit_message_parts(
            &reply.meta,
            &mut queries.iter(),
            &mut reply.answers.iter(),
            &mut reply.authorities.iter(),
            &mut reply.additionals.iter(),
            reply.edns.as_ref(),
            None,
            &mut encoder,
        )
    };
    let Err(e) = result else { return true };
    {
        debug!(error = %e, "failed to encode DNS response");
        out.clear();
        let mut meta = Metadata::new(reply.meta.id, MessageType::Response, OpCode::Query);
        meta.response_code = ResponseCode::ServFail;
        let header = Header {
            metadata: meta,
            counts: HeaderCounts::default(),
        };
        let mut encoder = BinEncoder::new(out);
        if let Err(e) = hickory_proto::serialize::binary::BinEncodable::emit(&header, &mut encoder)
        {
            debug!(error = %e, "failed to encode SERVFAIL");
            out.clear();
        }
    }
    false
}
