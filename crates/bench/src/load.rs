//! The closed-loop load generator: `clients` tasks, each on its own keep-alive HTTP/1.1
//! connection, send the next request as soon as the previous answer is read, for a fixed
//! time after a warm-up. Latencies go into one HDR histogram per task, merged at the end.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Serialize;

/// Number of distinct keys every KV scenario cycles through.
pub const KEYS: usize = 1_000;
/// Size of every value written.
pub const VALUE_LEN: usize = 256;

/// Which API a target speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Flavor {
    /// Praetor's (Consul's) `/v1/kv/…`.
    Praetor,
    /// etcd's v3 JSON gateway (`/v3/kv/put`, `/v3/kv/range`).
    Etcd,
}

/// A server to drive.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// The API it speaks.
    pub flavor: Flavor,
    /// Its HTTP address.
    pub addr: SocketAddr,
}

/// Read consistency, in Consul's words; etcd maps `Default` and `Consistent` to a
/// linearizable range and `Stale` to a serializable one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Consistency {
    /// Consul's default mode (leader lease) / etcd linearizable.
    Default,
    /// `?stale` / etcd `serializable: true`.
    Stale,
    /// `?consistent` / etcd linearizable.
    Consistent,
}

/// What each request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Op {
    /// Write a 256-byte value.
    Put,
    /// Read one key.
    Get(Consistency),
}

/// One request, pre-built so the clients spend little CPU.
#[derive(Clone)]
struct Prepared {
    method: Method,
    path: String,
    body: Bytes,
}

/// The key of index `i` (`bench/k0042`).
pub fn key(i: usize) -> String {
    format!("bench/k{i:04}")
}

fn value() -> Vec<u8> {
    (0..VALUE_LEN).map(|i| b'a' + (i % 26) as u8).collect()
}

/// The requests for `op` against `flavor`, one per key.
fn prepare(flavor: Flavor, op: Op, keys: usize) -> Vec<Prepared> {
    let value = value();
    (0..keys)
        .map(|i| {
            let key = key(i);
            match (flavor, op) {
                (Flavor::Praetor, Op::Put) => Prepared {
                    method: Method::PUT,
                    path: format!("/v1/kv/{key}"),
                    body: Bytes::from(value.clone()),
                },
                (Flavor::Praetor, Op::Get(c)) => Prepared {
                    method: Method::GET,
                    path: match c {
                        Consistency::Default => format!("/v1/kv/{key}"),
                        Consistency::Stale => format!("/v1/kv/{key}?stale"),
                        Consistency::Consistent => format!("/v1/kv/{key}?consistent"),
                    },
                    body: Bytes::new(),
                },
                (Flavor::Etcd, Op::Put) => Prepared {
                    method: Method::POST,
                    path: "/v3/kv/put".to_owned(),
                    body: Bytes::from(
                        serde_json::json!({"key": B64.encode(&key), "value": B64.encode(&value)})
                            .to_string(),
                    ),
                },
                (Flavor::Etcd, Op::Get(c)) => Prepared {
                    method: Method::POST,
                    path: "/v3/kv/range".to_owned(),
                    body: Bytes::from(
                        serde_json::json!({
                            "key": B64.encode(&key),
                            "serializable": c == Consistency::Stale,
                        })
                        .to_string(),
                    ),
                },
            }
        })
        .collect()
}

/// An HTTP/1.1 keep-alive connection; its driver task ends with the connection.
pub struct Conn {
    send: SendRequest<Full<Bytes>>,
    host: String,
}

impl Conn {
    /// Connects to `addr`.
    pub async fn open(addr: SocketAddr) -> anyhow::Result<Self> {
        let tcp = tokio::net::TcpStream::connect(addr)
            .await
            .with_context(|| format!("connect {addr}"))?;
        tcp.set_nodelay(true)?;
        let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Self {
            send,
            host: addr.to_string(),
        })
    }

    /// Sends one request and reads the whole answer: status, headers, body.
    pub async fn call(
        &mut self,
        method: Method,
        path: &str,
        body: Bytes,
    ) -> anyhow::Result<(StatusCode, hyper::HeaderMap, Bytes)> {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, &self.host)
            .body(Full::new(body))?;
        self.send.ready().await?;
        let resp = self.send.send_request(req).await?;
        let (parts, body) = resp.into_parts();
        let body = body.collect().await?.to_bytes();
        Ok((parts.status, parts.headers, body))
    }
}

/// The result of one run.
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    /// Successful requests in the measured window.
    pub ops: u64,
    /// Failed requests (non-2xx or I/O) in the measured window.
    pub errors: u64,
    /// Requests per second.
    pub throughput: f64,
    /// Latency percentiles, µs.
    pub p50_us: u64,
    /// 99th percentile, µs.
    pub p99_us: u64,
    /// 99.9th percentile, µs.
    pub p999_us: u64,
}

/// One closed-loop run of `op` with `clients` connections: `warmup`, then `measure`.
pub async fn run(
    target: Target,
    op: Op,
    clients: usize,
    warmup: Duration,
    measure: Duration,
) -> anyhow::Result<Stats> {
    let requests = std::sync::Arc::new(prepare(target.flavor, op, KEYS));
    let start = Instant::now() + warmup;
    let end = start + measure;
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..clients {
        let requests = requests.clone();
        tasks.spawn(async move {
            let mut conn = Conn::open(target.addr).await?;
            let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
            let (mut ops, mut errors) = (0u64, 0u64);
            // Spread clients over the key space.
            let mut i = c * KEYS / clients.max(1);
            loop {
                let r = &requests[i % requests.len()];
                i += 1;
                let sent = Instant::now();
                if sent >= end {
                    break;
                }
                let ok = match conn.call(r.method.clone(), &r.path, r.body.clone()).await {
                    Ok((status, _, _)) => status.is_success(),
                    Err(_) => {
                        // The connection is gone: count it and reconnect.
                        conn = Conn::open(target.addr).await?;
                        false
                    }
                };
                let done = Instant::now();
                if sent >= start {
                    if ok {
                        ops += 1;
                        let us = u64::try_from(done.duration_since(sent).as_micros())
                            .unwrap_or(u64::MAX);
                        hist.saturating_record(us.max(1));
                    } else {
                        errors += 1;
                    }
                }
            }
            anyhow::Ok((hist, ops, errors))
        });
    }
    let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let (mut ops, mut errors) = (0u64, 0u64);
    while let Some(joined) = tasks.join_next().await {
        let (h, o, e) = joined??;
        hist.add(&h)?;
        ops += o;
        errors += e;
    }
    if ops == 0 {
        bail!("no successful request to {:?} {op:?}", target.flavor);
    }
    Ok(Stats {
        ops,
        errors,
        throughput: ops as f64 / measure.as_secs_f64(),
        p50_us: hist.value_at_quantile(0.50),
        p99_us: hist.value_at_quantile(0.99),
        p999_us: hist.value_at_quantile(0.999),
    })
}

/// Writes every key once (16 connections), so reads find values.
pub async fn preload(target: Target, keys: usize) -> anyhow::Result<()> {
    let requests = std::sync::Arc::new(prepare(target.flavor, Op::Put, keys));
    let conns = 16.min(keys.max(1));
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..conns {
        let requests = requests.clone();
        tasks.spawn(async move {
            let mut conn = Conn::open(target.addr).await?;
            for r in requests.iter().skip(c).step_by(conns) {
                let (status, _, body) =
                    conn.call(r.method.clone(), &r.path, r.body.clone()).await?;
                if !status.is_success() {
                    bail!("preload {}: {status} {body:?}", r.path);
                }
            }
            anyhow::Ok(())
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined??;
    }
    Ok(())
}

/// `n` keys `fill/k…` with 256-byte values, written by `conns` connections (the 100k-key
/// memory scenario).
pub async fn fill(target: Target, n: usize, conns: usize) -> anyhow::Result<()> {
    let value = Bytes::from(value());
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..conns {
        let value = value.clone();
        tasks.spawn(async move {
            let mut conn = Conn::open(target.addr).await?;
            for i in (c..n).step_by(conns) {
                let key = format!("fill/k{i:06}");
                let (method, path, body) = match target.flavor {
                    Flavor::Praetor => (Method::PUT, format!("/v1/kv/{key}"), value.clone()),
                    Flavor::Etcd => (
                        Method::POST,
                        "/v3/kv/put".to_owned(),
                        Bytes::from(
                            serde_json::json!({"key": B64.encode(&key), "value": B64.encode(&value)})
                                .to_string(),
                        ),
                    ),
                };
                let (status, _, _) = conn.call(method, &path, body).await?;
                if !status.is_success() {
                    bail!("fill {key}: {status}");
                }
            }
            anyhow::Ok(())
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined??;
    }
    Ok(())
}
