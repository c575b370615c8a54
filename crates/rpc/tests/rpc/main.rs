//! praetor-rpc over real loopback sockets with a scripted handler: typed calls, chunked
//! Raft traffic, errors, dead peers, reconnects and shutdown.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use praetor_rpc::{
    CHUNK_SIZE, ClientConfig, Handler, RemoteError, Request, Response, RpcClient, RpcError, serve,
};
use praetor_types::{KvEntry, KvQuery, KvRequest, KvResult, QueryMeta, QueryOptions};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

const TIMEOUT: Duration = Duration::from_secs(10);

/// Answers from a script: KV writes succeed unless the key is "fail", reads return
/// `size` bytes of value, `hang` never answers; Raft requests are echoed reversed.
struct Scripted;

#[async_trait]
impl Handler for Scripted {
    async fn raft(&self, target: u64, request: Bytes) -> Result<Vec<u8>, RemoteError> {
        if target != 7 {
            return Err(RemoteError::Failed(format!("wrong node {target}")));
        }
        let mut reply = request.to_vec();
        reply.truncate(16);
        reply.extend_from_slice(&(request.len() as u64).to_be_bytes());
        Ok(reply)
    }

    async fn call(&self, request: Request, hops: u8) -> Result<Response, RemoteError> {
        match request {
            Request::KvApply(req) if req.key == "fail" => Err(RemoteError::NoLeader),
            Request::KvApply(req) if req.key == "hang" => {
                std::future::pending::<()>().await;
                unreachable!()
            }
            Request::KvApply(_) => Ok(Response::Bool(hops == 0)),
            Request::KvRead {
                query: KvQuery::Get { key },
                opts,
            } => {
                let size: usize = key.parse().unwrap();
                let meta = QueryMeta {
                    index: opts.min_index + 1,
                    ..QueryMeta::default()
                };
                Ok(Response::Kv(
                    meta,
                    KvResult::Entries(vec![KvEntry {
                        key,
                        value: vec![b'x'; size],
                        ..KvEntry::default()
                    }]),
                ))
            }
            _ => Err(RemoteError::Failed("unsupported".into())),
        }
    }
}

struct Running {
    addr: String,
    stop: CancellationToken,
    task: JoinHandle<Result<(), RpcError>>,
}

async fn start_on(listener: TcpListener) -> Running {
    let addr = listener.local_addr().unwrap().to_string();
    let stop = CancellationToken::new();
    let task = tokio::spawn(serve(listener, Arc::new(Scripted), stop.clone()));
    Running { addr, stop, task }
}

async fn start() -> Running {
    start_on(TcpListener::bind("127.0.0.1:0").await.unwrap()).await
}

impl Running {
    async fn stop(self) {
        self.stop.cancel();
        tokio::time::timeout(TIMEOUT, self.task)
            .await
            .expect("rpc server stops promptly")
            .unwrap()
            .unwrap();
    }
}

fn client() -> RpcClient {
    RpcClient::new(ClientConfig {
        connect_timeout: Duration::from_secs(2),
        ..ClientConfig::default()
    })
}

fn get(size: usize) -> Request {
    Request::KvRead {
        query: KvQuery::Get {
            key: size.to_string(),
        },
        opts: QueryOptions {
            min_index: 41,
            ..QueryOptions::default()
        },
    }
}

#[tokio::test]
async fn typed_calls_round_trip_with_remote_errors_intact() {
    let server = start().await;
    let client = client();
    let ok = client
        .call(
            &server.addr,
            Request::KvApply(KvRequest::set("a", "1")),
            TIMEOUT,
        )
        .await
        .unwrap();
    assert_eq!(ok, Response::Bool(true));
    let forwarded = client
        .forward(
            &server.addr,
            Request::KvApply(KvRequest::set("a", "1")),
            1,
            TIMEOUT,
        )
        .await
        .unwrap();
    assert_eq!(forwarded, Response::Bool(false), "hops reach the handler");

    match client
        .call(
            &server.addr,
            Request::KvApply(KvRequest::set("fail", "")),
            TIMEOUT,
        )
        .await
    {
        Err(RpcError::Remote(RemoteError::NoLeader)) => {}
        other => panic!("expected the remote NoLeader, got {other:?}"),
    }
    let err = client
        .call(
            &server.addr,
            Request::KvApply(KvRequest::set("fail", "")),
            TIMEOUT,
        )
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "No cluster leader");
    server.stop().await;
}

#[tokio::test]
async fn replies_larger_than_a_chunk_are_streamed_back_whole() {
    let server = start().await;
    let client = client();
    let size = 3 * CHUNK_SIZE + 11;
    match client.call(&server.addr, get(size), TIMEOUT).await.unwrap() {
        Response::Kv(meta, KvResult::Entries(entries)) => {
            assert_eq!(meta.index, 42);
            assert_eq!(entries[0].value.len(), size);
        }
        other => panic!("unexpected {other:?}"),
    }
    server.stop().await;
}

#[tokio::test]
async fn large_raft_rpcs_are_sent_in_chunks() {
    let server = start().await;
    let client = client();
    let transport = client.raft_transport();

    let small = transport
        .call(7, &server.addr, vec![1, 2, 3])
        .await
        .unwrap();
    assert_eq!(&small[..3], &[1, 2, 3]);
    assert_eq!(client.streamed_raft_calls(), 0);

    // Bigger than one frame may be (the server decodes at most ~1 MiB per message).
    let big: Vec<u8> = (0..5 * CHUNK_SIZE + 3).map(|i| (i % 253) as u8).collect();
    let reply = transport.call(7, &server.addr, big.clone()).await.unwrap();
    assert_eq!(&reply[..16], &big[..16]);
    assert_eq!(reply[16..], (big.len() as u64).to_be_bytes());
    assert_eq!(client.streamed_raft_calls(), 1);

    // The handler's refusal reaches openraft's side as an error, not a reply.
    let wrong = transport.call(8, &server.addr, vec![1]).await.unwrap_err();
    assert!(wrong.to_string().contains("wrong node 8"), "{wrong}");
    server.stop().await;
}

#[tokio::test]
async fn a_dead_address_fails_fast_with_a_clear_error() {
    let dead = {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap().to_string()
    };
    let client = client();
    let started = tokio::time::Instant::now();
    let err = client
        .call(&dead, Request::StatusLeader, TIMEOUT)
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(err, RpcError::ConnectFailed { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains(&dead), "{text}");
    assert!(text.to_lowercase().contains("refused"), "{text}");

    let raft = client
        .raft_transport()
        .call(3, &dead, vec![0])
        .await
        .unwrap_err();
    assert_eq!(raft.kind(), std::io::ErrorKind::ConnectionRefused, "{raft}");

    let invalid = client
        .call("not an address", Request::StatusLeader, TIMEOUT)
        .await
        .unwrap_err();
    assert!(
        matches!(invalid, RpcError::InvalidAddress { .. }),
        "{invalid:?}"
    );
}

#[tokio::test]
async fn a_peer_that_never_answers_times_out_at_the_deadline() {
    // Accepts TCP (the kernel completes the handshake) but never speaks HTTP/2.
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap().to_string();
    let client = client();
    let deadline = Duration::from_millis(300);
    let started = tokio::time::Instant::now();
    let err = client
        .call(&addr, Request::StatusLeader, deadline)
        .await
        .unwrap_err();
    assert!(matches!(err, RpcError::Timeout { .. }), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );

    // A handler that never answers: same, through a live connection.
    let server = start().await;
    let err = client
        .call(
            &server.addr,
            Request::KvApply(KvRequest::set("hang", "")),
            deadline,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, RpcError::Timeout { .. }), "{err:?}");
    drop(silent);
    server.stop().await;
}

#[tokio::test]
async fn shutdown_cancels_in_flight_calls_and_the_pool_reconnects_after_a_restart() {
    let server = start().await;
    let addr = server.addr.clone();
    let client = client();
    assert_eq!(
        client
            .call(&addr, Request::KvApply(KvRequest::set("a", "")), TIMEOUT)
            .await
            .unwrap(),
        Response::Bool(true)
    );

    let hanging = tokio::spawn({
        let client = client.clone();
        let addr = addr.clone();
        async move {
            client
                .call(&addr, Request::KvApply(KvRequest::set("hang", "")), TIMEOUT)
                .await
        }
    });
    // Let the call reach the server: a second call on the same connection answers
    // after the first was sent.
    client.call(&addr, get(1), TIMEOUT).await.unwrap();
    server.stop().await;
    let err = tokio::time::timeout(TIMEOUT, hanging)
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, RpcError::Unavailable { .. }), "{err:?}");

    // Down: calls fail rather than hang.
    assert!(client.call(&addr, get(1), TIMEOUT).await.is_err());

    // Back on the same address: the pooled channel reconnects by itself.
    let listener = TcpListener::bind(&addr).await.unwrap();
    let server = start_on(listener).await;
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        match client.call(&addr, get(1), TIMEOUT).await {
            Ok(_) => break,
            Err(e) if tokio::time::Instant::now() < deadline => {
                // The first call after a broken connection may see the old failure.
                tracing::debug!(error = %e, "retrying");
                tokio::task::yield_now().await;
            }
            Err(e) => panic!("no reconnect: {e}"),
        }
    }
    server.stop().await;
}
