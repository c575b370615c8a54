//! The front loop over real loopback sockets: keep-alive, pipelining, hand-over to
//! hyper, connection close rules, long and malformed heads, and parked blocking reads.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use praetor_http::{Counters, HttpConfig, serve_counted};
use praetor_types::KvResult;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use crate::fake::{FakeBackend, entry};

/// A server on 127.0.0.1:0 over `backend`, stopped when dropped.
struct Server {
    addr: SocketAddr,
    counters: Arc<Counters>,
    stop: CancellationToken,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn start(backend: FakeBackend) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let counters = Arc::new(Counters::default());
    let stop = CancellationToken::new();
    tokio::spawn(serve_counted(
        listener,
        Arc::new(backend),
        HttpConfig::default(),
        stop.clone(),
        counters.clone(),
    ));
    Server {
        addr,
        counters,
        stop,
    }
}

/// One parsed answer.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn index(&self) -> u64 {
        self.header("x-consul-index")
            .and_then(|v| v.parse().ok())
            .expect("X-Consul-Index")
    }

    /// Headers but `date`, lower-cased and sorted.
    fn comparable_headers(&self) -> Vec<(String, String)> {
        let mut h: Vec<_> = self
            .headers
            .iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case("date"))
            .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
            .collect();
        h.sort();
        h
    }
}

/// A raw client connection reading answers with `httparse`.
struct Client {
    tcp: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    async fn connect(addr: SocketAddr) -> Self {
        Self {
            tcp: TcpStream::connect(addr).await.expect("connect"),
            buf: Vec::new(),
        }
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.tcp.write_all(bytes).await.expect("write");
    }

    async fn get(&mut self, path: &str) -> Answer {
        self.send(format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes())
            .await;
        self.answer().await
    }

    /// Reads one answer (head and `Content-Length` body).
    async fn answer(&mut self) -> Answer {
        tokio::time::timeout(Duration::from_secs(10), self.read_answer())
            .await
            .expect("an answer within 10 s")
    }

    async fn read_answer(&mut self) -> Answer {
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut resp = httparse::Response::new(&mut headers);
            if let httparse::Status::Complete(n) = resp.parse(&self.buf).expect("valid answer") {
                let headers: Vec<(String, String)> = resp
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_owned(),
                            String::from_utf8_lossy(h.value).into_owned(),
                        )
                    })
                    .collect();
                let status = resp.code.expect("status");
                let len: usize = headers
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                    .map_or(0, |(_, v)| v.parse().expect("length"));
                while self.buf.len() < n + len {
                    self.fill().await;
                }
                let body = self.buf[n..n + len].to_vec();
                self.buf.drain(..n + len);
                return Answer {
                    status,
                    headers,
                    body,
                };
            }
            self.fill().await;
        }
    }

    async fn fill(&mut self) {
        let mut chunk = [0u8; 4096];
        let n = self.tcp.read(&mut chunk).await.expect("read");
        assert!(n > 0, "connection closed mid-answer: {:?}", self.buf);
        self.buf.extend_from_slice(&chunk[..n]);
    }

    /// Whether the server closes the connection (EOF) with nothing more to read.
    async fn closed(&mut self) -> bool {
        let mut rest = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(10), self.tcp.read_to_end(&mut rest))
            .await
            .expect("the server closes within 10 s");
        read.is_ok() && rest.is_empty() && self.buf.is_empty()
    }
}

/// Polls `cond` every few milliseconds until it holds or 10 s pass.
async fn eventually(what: &str, cond: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn kv_backend() -> FakeBackend {
    FakeBackend::answering(KvResult::Entries(vec![entry("a", b"v", 7)]), 7)
}

#[tokio::test]
async fn keep_alive_get_after_get_on_one_connection() {
    let s = start(kv_backend()).await;
    let mut c = Client::connect(s.addr).await;
    for _ in 0..3 {
        let a = c.get("/v1/kv/a").await;
        assert_eq!(a.status, 200);
        assert_eq!(a.index(), 7);
        assert!(a.header("date").is_some());
        assert!(String::from_utf8_lossy(&a.body).contains("\"Key\":\"a\""));
    }
    assert_eq!(s.counters.connections(), 1);
    assert_eq!(s.counters.handed_over(), 0);
}

#[tokio::test]
async fn pipelined_gets_in_one_write_are_answered_in_order() {
    let s = start(kv_backend()).await;
    let mut c = Client::connect(s.addr).await;
    c.send(
        b"GET /v1/kv/a HTTP/1.1\r\nHost: t\r\n\r\nGET /v1/status/leader HTTP/1.1\r\nHost: t\r\n\r\nGET /v1/kv/a?raw HTTP/1.1\r\nHost: t\r\n\r\n",
    )
    .await;
    let first = c.answer().await;
    let second = c.answer().await;
    let third = c.answer().await;
    assert_eq!(first.status, 200);
    assert!(first.body.starts_with(b"["));
    assert_eq!(second.body, b"\"127.0.0.1:8300\"");
    assert_eq!(third.body, b"v");
    assert_eq!(s.counters.handed_over(), 0);
}

#[tokio::test]
async fn expect_continue_put_hands_the_connection_to_hyper() {
    let backend = FakeBackend {
        store: Some(praetor_state::Store::new()),
        ..FakeBackend::default()
    };
    let s = start(backend).await;
    let mut c = Client::connect(s.addr).await;
    assert_eq!(c.get("/v1/kv/k").await.status, 404);
    c.send(
        b"PUT /v1/kv/k HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n",
    )
    .await;
    let cont = c.answer().await;
    assert_eq!(cont.status, 100);
    c.send(b"abc").await;
    let put = c.answer().await;
    assert_eq!(put.status, 200);
    assert_eq!(put.body, b"true");
    assert_eq!(s.counters.handed_over(), 1);
    let got = c.get("/v1/kv/k?raw").await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body, b"abc");
}

#[tokio::test]
async fn connection_close_and_http10_close_after_the_answer() {
    let s = start(kv_backend()).await;

    let mut c = Client::connect(s.addr).await;
    c.send(b"GET /v1/kv/a HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await;
    let a = c.answer().await;
    assert_eq!(a.status, 200);
    assert_eq!(a.header("connection"), Some("close"));
    assert!(c.closed().await);

    let mut c = Client::connect(s.addr).await;
    c.send(b"GET /v1/kv/a HTTP/1.0\r\n\r\n").await;
    assert_eq!(c.answer().await.status, 200);
    assert!(c.closed().await);

    // As hyper does, in HTTP/1.0.
    let mut c = Client::connect(s.addr).await;
    c.send(b"GET /v1/kv/a HTTP/1.0\r\n\r\n").await;
    let mut raw = Vec::new();
    c.tcp.read_to_end(&mut raw).await.expect("read");
    assert!(raw.starts_with(b"HTTP/1.0 200 OK\r\n"), "{raw:?}");
    let mut c = Client::connect(s.addr).await;
    c.send(b"GET /v1/kv/a HTTP/1.0\r\nContent-Length: 1\r\n\r\nx")
        .await;
    let mut by_hyper = Vec::new();
    c.tcp.read_to_end(&mut by_hyper).await.expect("read");
    assert!(by_hyper.starts_with(b"HTTP/1.0 200 OK\r\n"), "{by_hyper:?}");

    // HTTP/1.0 with keep-alive asked for stays open and says so.
    let mut c = Client::connect(s.addr).await;
    for _ in 0..2 {
        c.send(b"GET /v1/kv/a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            .await;
        let a = c.answer().await;
        assert_eq!(a.status, 200);
        assert_eq!(a.header("connection"), Some("keep-alive"));
    }
    assert_eq!(s.counters.handed_over(), 1);
}

#[tokio::test]
async fn heads_longer_than_the_first_read_are_served() {
    let s = start(kv_backend()).await;
    // Over one 4 KiB read but within the front loop's head limit.
    let mut c = Client::connect(s.addr).await;
    let pad = "x".repeat(6000);
    c.send(format!("GET /v1/kv/a HTTP/1.1\r\nHost: t\r\nX-Pad: {pad}\r\n\r\n").as_bytes())
        .await;
    assert_eq!(c.answer().await.status, 200);
    assert_eq!(s.counters.handed_over(), 0);
    assert_eq!(c.get("/v1/kv/a").await.status, 200);

    // Over the front loop's limit: hyper takes it, and serves it.
    let mut c = Client::connect(s.addr).await;
    let pad = "x".repeat(20_000);
    c.send(format!("GET /v1/kv/a HTTP/1.1\r\nHost: t\r\nX-Pad: {pad}\r\n\r\n").as_bytes())
        .await;
    assert_eq!(c.answer().await.status, 200);
    assert_eq!(s.counters.handed_over(), 1);
}

#[tokio::test]
async fn malformed_request_line_is_a_400_and_the_connection_closes() {
    let s = start(kv_backend()).await;
    for junk in [
        &b"GET /v1/kv/a HTTP/9.9\r\n\r\n"[..],
        b"NOT A REQUEST\r\n\r\n",
        b"GET /\x01 HTTP/1.1\r\n\r\n",
    ] {
        let mut c = Client::connect(s.addr).await;
        c.send(junk).await;
        let a = c.answer().await;
        assert_eq!(a.status, 400, "{:?}", String::from_utf8_lossy(junk));
        assert!(c.closed().await);
    }
    // The server still serves.
    assert_eq!(
        Client::connect(s.addr).await.get("/v1/kv/a").await.status,
        200
    );
}

#[tokio::test]
async fn front_loop_and_hyper_answer_a_get_alike() {
    let s = start(kv_backend()).await;
    let mut front = Client::connect(s.addr).await;
    let mut hyper = Client::connect(s.addr).await;
    // A GET with a (chunked, empty) body goes to hyper; the next GET is hyper's too.
    hyper
        .send(b"GET /v1/kv/a HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        .await;
    assert_eq!(hyper.answer().await.status, 200);
    assert_eq!(s.counters.handed_over(), 1);
    for path in [
        "/v1/kv/a",
        "/v1/kv/a?raw",
        "/v1/kv/a?pretty",
        "/v1/kv/",
        "/v1/nope",
        "/v1/kv//a",
        "/v1/kv/a?dc=other",
        "/v1/status/leader",
    ] {
        let f = front.get(path).await;
        let h = hyper.get(path).await;
        assert_eq!(f.status, h.status, "{path}");
        assert_eq!(f.comparable_headers(), h.comparable_headers(), "{path}");
        assert_eq!(f.body, h.body, "{path}");
    }
    assert_eq!(s.counters.handed_over(), 1);
}

/// A store-backed server with `k` written once; returns it and `k`'s index.
async fn watched() -> (Server, u64) {
    let backend = FakeBackend {
        store: Some(praetor_state::Store::new()),
        ..FakeBackend::default()
    };
    let s = start(backend).await;
    let mut c = Client::connect(s.addr).await;
    c.send(b"PUT /v1/kv/k HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nv1")
        .await;
    assert_eq!(c.answer().await.status, 200);
    let index = c.get("/v1/kv/k").await.index();
    (s, index)
}

#[tokio::test]
async fn parked_query_wakes_on_a_write_to_its_key() {
    let (s, index) = watched().await;
    let mut watcher = Client::connect(s.addr).await;
    watcher
        .send(format!("GET /v1/kv/k?index={index}&wait=5m HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes())
        .await;
    eventually("the query parks", || s.counters.parked() == 1).await;

    // A write to another key does not wake it.
    let mut writer = Client::connect(s.addr).await;
    writer
        .send(b"PUT /v1/kv/other HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\nx")
        .await;
    assert_eq!(writer.answer().await.status, 200);
    writer
        .send(b"PUT /v1/kv/k HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nv2")
        .await;
    assert_eq!(writer.answer().await.status, 200);

    let a = watcher.answer().await;
    assert_eq!(a.status, 200);
    assert!(a.index() > index, "{} > {index}", a.index());
    assert!(String::from_utf8_lossy(&a.body).contains("\"Value\":\"djI=\""));
    assert_eq!(s.counters.parked(), 0);
    // The connection goes on.
    assert_eq!(watcher.get("/v1/kv/k?raw").await.body, b"v2");
}

#[tokio::test]
async fn parked_query_times_out_at_its_wait_with_the_current_index() {
    let (s, index) = watched().await;
    let mut watcher = Client::connect(s.addr).await;
    let started = tokio::time::Instant::now();
    watcher
        .send(
            format!("GET /v1/kv/k?index={index}&wait=300ms HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes(),
        )
        .await;
    let a = watcher.answer().await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(a.status, 200);
    assert_eq!(a.index(), index);
    assert_eq!(s.counters.parked(), 0);
}

#[tokio::test]
async fn parked_query_of_a_closed_connection_is_released() {
    let (s, index) = watched().await;
    let mut watchers = Vec::new();
    for _ in 0..3 {
        let mut w = Client::connect(s.addr).await;
        w.send(
            format!("GET /v1/kv/k?index={index}&wait=10m HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes(),
        )
        .await;
        watchers.push(w);
    }
    eventually("three queries park", || s.counters.parked() == 3).await;
    watchers.truncate(1);
    eventually("two are released", || s.counters.parked() == 1).await;
    eventually("their connections end", || s.counters.connections() == 1).await;
    drop(watchers);
    eventually("all are released", || {
        s.counters.parked() == 0 && s.counters.connections() == 0
    })
    .await;
}

#[tokio::test]
async fn shutdown_answers_parked_queries_and_closes_idle_connections() {
    let (s, index) = watched().await;
    let mut watcher = Client::connect(s.addr).await;
    watcher
        .send(format!("GET /v1/kv/k?index={index}&wait=10m HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes())
        .await;
    eventually("the query parks", || s.counters.parked() == 1).await;
    let mut idle = Client::connect(s.addr).await;
    assert_eq!(idle.get("/v1/kv/k").await.status, 200);
    s.stop.cancel();
    let a = watcher.answer().await;
    assert_eq!(a.status, 500);
    assert_eq!(a.body, b"agent is shutting down");
    assert!(idle.closed().await);
}

#[tokio::test]
async fn woken_reads_of_one_target_share_one_answer() {
    let backend = Arc::new(FakeBackend {
        store: Some(praetor_state::Store::new()),
        ..FakeBackend::default()
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let counters = Arc::new(Counters::default());
    let stop = CancellationToken::new();
    let _guard = stop.clone().drop_guard();
    tokio::spawn(serve_counted(
        listener,
        backend.clone(),
        HttpConfig::default(),
        stop,
        counters.clone(),
    ));
    let mut writer = Client::connect(addr).await;
    writer
        .send(b"PUT /v1/kv/k HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nv1")
        .await;
    assert_eq!(writer.answer().await.status, 200);
    let index = writer.get("/v1/kv/k").await.index();

    let mut watchers = Vec::new();
    for _ in 0..20 {
        let mut w = Client::connect(addr).await;
        w.send(
            format!("GET /v1/kv/k?index={index}&wait=5m HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes(),
        )
        .await;
        watchers.push(w);
    }
    eventually("twenty queries park", || counters.parked() == 20).await;
    writer
        .send(b"PUT /v1/kv/k HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nv2")
        .await;
    assert_eq!(writer.answer().await.status, 200);
    let mut bodies = Vec::new();
    for w in &mut watchers {
        let a = w.answer().await;
        assert_eq!(a.status, 200);
        assert!(a.index() > index);
        bodies.push(a.body);
    }
    bodies.dedup();
    assert_eq!(bodies.len(), 1, "one answer for all");
    let blocking_reads = backend
        .reads()
        .iter()
        .filter(|(_, opts)| opts.min_index == index)
        .count();
    assert_eq!(blocking_reads, 1, "the read ran once for twenty watchers");
}
