//! `serve` over a real loopback socket, and graceful shutdown that ends a blocked read.

use std::sync::Arc;
use std::time::Duration;

use praetor_http::{HttpConfig, serve};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use crate::fake::FakeBackend;

/// Sends one HTTP/1.1 request with `Connection: close` and returns the raw response.
async fn raw_request(addr: std::net::SocketAddr, request_line: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let req = format!("{request_line} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(req.as_bytes()).await.expect("write");
    let mut out = String::new();
    stream.read_to_string(&mut out).await.expect("read");
    out
}

#[tokio::test]
async fn serve_answers_on_loopback_and_shuts_down_gracefully() {
    let backend = Arc::new(FakeBackend {
        block_reads: true,
        ..FakeBackend::default()
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(serve(
        listener,
        backend.clone(),
        HttpConfig::default(),
        shutdown.clone(),
    ));

    let resp = raw_request(addr, "GET /v1/status/leader").await;
    assert!(resp.starts_with("HTTP/1.1 200 OK\r\n"), "{resp}");
    assert!(resp.ends_with("\r\n\r\n\"127.0.0.1:8300\""), "{resp}");

    // A blocking read that nothing wakes is ended by shutdown, not left hanging.
    let started = backend.read_started.notified();
    let blocked = tokio::spawn(raw_request(addr, "GET /v1/kv/k?index=5"));
    started.await;
    shutdown.cancel();
    let resp = tokio::time::timeout(Duration::from_secs(10), blocked)
        .await
        .expect("blocked read ends on shutdown")
        .expect("task");
    assert!(resp.starts_with("HTTP/1.1 500"), "{resp}");
    assert!(resp.ends_with("agent is shutting down"), "{resp}");

    let result = tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("serve returns after shutdown")
        .expect("task");
    assert!(result.is_ok());
    assert!(TcpStream::connect(addr).await.is_err(), "listener closed");
}
