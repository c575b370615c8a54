//! A lean watcher: one `TcpStream`, the request written as bytes, the answer read with
//! `httparse` until its head and `Content-Length` body are in. Ten thousand of these
//! cost the load generator far less CPU than hyper clients, so the scenario's figures
//! measure the server.

use std::net::SocketAddr;

use anyhow::{Context as _, bail};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// Largest answer head accepted.
const MAX_HEAD: usize = 16 * 1024;

/// One keep-alive HTTP/1.1 connection.
pub struct Watcher {
    tcp: TcpStream,
    buf: Vec<u8>,
}

/// What the scenario checks of an answer.
#[derive(Debug)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// `X-Consul-Index`, when present.
    pub index: Option<u64>,
    /// The body's length.
    pub body_len: usize,
}

impl Watcher {
    /// Connects to `addr`.
    pub async fn open(addr: SocketAddr) -> anyhow::Result<Self> {
        let tcp = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connect {addr}"))?;
        tcp.set_nodelay(true)?;
        Ok(Self {
            tcp,
            buf: Vec::new(),
        })
    }

    /// Sends `GET path` and reads the whole answer.
    pub async fn get(&mut self, path: &str) -> anyhow::Result<Answer> {
        let req = format!("GET {path} HTTP/1.1\r\nhost: praetor\r\n\r\n");
        self.tcp.write_all(req.as_bytes()).await?;
        self.buf.clear();
        let (status, index, head_len, body_len) = loop {
            if self.buf.len() > MAX_HEAD {
                bail!("answer head over {MAX_HEAD} bytes");
            }
            if self.read_more().await? == 0 {
                bail!("connection closed before the answer's head");
            }
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut resp = httparse::Response::new(&mut headers);
            if let httparse::Status::Complete(n) = resp.parse(&self.buf)? {
                let mut index = None;
                let mut len = None;
                for h in resp.headers.iter() {
                    let value = || {
                        std::str::from_utf8(h.value)
                            .ok()?
                            .trim()
                            .parse::<u64>()
                            .ok()
                    };
                    if h.name.eq_ignore_ascii_case("content-length") {
                        len = value();
                    } else if h.name.eq_ignore_ascii_case("x-consul-index") {
                        index = value();
                    }
                }
                let len = len.context("answer without Content-Length")? as usize;
                break (resp.code.unwrap_or(0), index, n, len);
            }
        };
        while self.buf.len() < head_len + body_len {
            if self.read_more().await? == 0 {
                bail!("connection closed inside the answer's body");
            }
        }
        Ok(Answer {
            status,
            index,
            body_len,
        })
    }

    async fn read_more(&mut self) -> std::io::Result<usize> {
        self.buf.reserve(4096);
        self.tcp.read_buf(&mut self.buf).await
    }
}
