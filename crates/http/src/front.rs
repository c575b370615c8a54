//! The HTTP front loop: our own accept loop in front of hyper, so that an idle
//! keep-alive connection and a parked blocking query cost a few hundred bytes instead
//! of hyper's per-connection buffers.
//!
//! Each connection is a small task that reads into a buffer grown only as needed and
//! parses the request head with `httparse`. A plain `GET` (no body, no `Expect`, no
//! upgrade; HTTP/1.1 or 1.0) is answered by the task itself through the same axum
//! [`Router`] as everything else, the response written as hyper writes it. A blocking
//! KV read this agent answers from its own state first waits here, holding only the
//! request head, the parsed query and a state-store watch ([`park`]); the router runs
//! once the index has moved past the requested one, or without the index once the wait
//! is over. Any other request hands the connection, with the bytes already read, to
//! hyper's HTTP/1 connection, which serves it to its end ([`handover`]).

mod answer;
mod handover;
mod head;
mod park;
mod shared;

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use praetor_agent::KvWatch;
use praetor_types::{KvQuery, QueryOptions};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::app::App;
use head::Scan;
use park::Parked;

/// Largest request head the front loop buffers; a longer one goes to hyper (whose own
/// limit then applies).
const MAX_HEAD: usize = 16 * 1024;

/// Pause after a failed `accept` (out of file descriptors, …) before the next one.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Live figures of a front loop (for tests and diagnostics).
#[derive(Debug, Default)]
pub struct Counters {
    connections: AtomicUsize,
    parked: AtomicUsize,
    handed_over: AtomicU64,
}

impl Counters {
    /// Open connections.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }

    /// Blocking queries parked in the front loop right now.
    pub fn parked(&self) -> usize {
        self.parked.load(Ordering::Relaxed)
    }

    /// Connections handed to hyper so far.
    pub fn handed_over(&self) -> u64 {
        self.handed_over.load(Ordering::Relaxed)
    }
}

/// Decrements a gauge when dropped.
struct Gauge<'a>(&'a AtomicUsize);

impl<'a> Gauge<'a> {
    fn up(gauge: &'a AtomicUsize) -> Self {
        gauge.fetch_add(1, Ordering::Relaxed);
        Gauge(gauge)
    }
}

impl Drop for Gauge<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// What every connection task shares.
pub(crate) struct Front {
    pub(crate) router: Router,
    pub(crate) app: Arc<App>,
    pub(crate) counters: Arc<Counters>,
    /// Responses shared by identical woken reads.
    pub(crate) answers: shared::Answers,
}

/// Accepts connections until the app's shutdown token fires, then waits for every
/// connection to finish (idle ones close at once, parked queries answer at once).
pub(crate) async fn run(listener: TcpListener, front: Front) -> io::Result<()> {
    let front = Arc::new(front);
    let shutdown = front.app.shutdown.clone();
    let tracker = TaskTracker::new();
    loop {
        tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    tracker.spawn(connection(stream, front.clone()));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "http accept failed");
                    tokio::select! {
                        () = shutdown.cancelled() => break,
                        () = tokio::time::sleep(ACCEPT_BACKOFF) => {}
                    }
                }
            },
        }
    }
    drop(listener);
    tracker.close();
    tracker.wait().await;
    Ok(())
}

/// One connection, request after request.
async fn connection(mut stream: TcpStream, front: Arc<Front>) {
    let _open = Gauge::up(&front.counters.connections);
    let shutdown = &front.app.shutdown;
    // Bytes read and not yet used: empty (no allocation) while the connection idles.
    let mut pending: Vec<u8> = Vec::new();
    loop {
        let plain = match head::scan(&pending) {
            Scan::Plain(plain) => plain,
            Scan::Partial if pending.len() < MAX_HEAD => {
                if read_more(&stream, &mut pending, shutdown).await {
                    continue;
                }
                return;
            }
            Scan::Partial | Scan::Other => break,
        };
        let Some(step) = prepare(&front, &pending[..plain.len]) else {
            break;
        };
        let head: Box<[u8]> = pending.drain(..plain.len).collect();
        if pending.is_empty() {
            pending = Vec::new();
        }
        // The request, and the index a parked read was woken at.
        let (req, woken) = match step {
            Step::Answer(req) => (*req, None),
            Step::Park(query, opts, watch) => {
                let parked = park::park(&stream, &mut pending, &front, &query, &opts, watch);
                let (target, woken) = match parked.await {
                    Parked::Closed => return,
                    Parked::Now => (None, None),
                    Parked::Ready(index) => (None, Some(index)),
                    Parked::TimedOut => {
                        let target = head::target(&head).map(|t| head::without_index(&t));
                        (target, None)
                    }
                };
                let Some(req) = head::request(&head, target.as_deref()) else {
                    return;
                };
                (req, woken)
            }
        };
        let answered = Box::pin(async {
            match woken {
                Some(index) => {
                    let target = head::target(&head).unwrap_or_default();
                    let whole = front.answers.get(&front.router, &target, index, req).await;
                    match whole {
                        Some(whole) => answer::write(&whole, plain, &mut stream).await,
                        None => Ok(false),
                    }
                }
                None => answer::answer(&front.router, req, plain, &mut stream).await,
            }
        })
        .await;
        if !answered.unwrap_or(false) {
            let _ = tokio::io::AsyncWriteExt::shutdown(&mut stream).await;
            return;
        }
    }
    front.counters.handed_over.fetch_add(1, Ordering::Relaxed);
    let router = front.router.clone();
    let stop = shutdown.clone();
    Box::pin(handover::serve(stream, pending, router, stop)).await;
}

/// What to do with a plain head.
enum Step {
    /// Answer it now (boxed: a parked connection holds no request).
    Answer(Box<Request<Body>>),
    /// A blocking KV read to park first, with its query, options and watch.
    Park(KvQuery, QueryOptions, KvWatch),
}

/// What to do with a plain head; `None` when hyper must take it (the `http` crate
/// refuses its target or a header).
fn prepare(front: &Front, head: &[u8]) -> Option<Step> {
    let req = head::request(head, None)?;
    // Only a request line with `index=` in it can be a blocking read.
    let line = head.split(|b| *b == b'\n').next().unwrap_or_default();
    if !line.windows(6).any(|w| w == b"index=") {
        return Some(Step::Answer(Box::new(req)));
    }
    let Some((query, opts)) = crate::kv::blocking_read(&front.app, req.uri(), req.headers()) else {
        return Some(Step::Answer(Box::new(req)));
    };
    Some(match front.app.backend.kv_watch(&query, &opts) {
        Some(watch) => Step::Park(query, opts, watch),
        None => Step::Answer(Box::new(req)),
    })
}

/// Waits for more bytes (or, on an idle connection, for shutdown). `false` when the
/// connection is closed or the server stops.
async fn read_more(
    stream: &TcpStream,
    pending: &mut Vec<u8>,
    shutdown: &CancellationToken,
) -> bool {
    loop {
        tokio::select! {
            biased;
            () = shutdown.cancelled(), if pending.is_empty() => return false,
            ready = stream.readable() => {
                if ready.is_err() {
                    return false;
                }
            }
        }
        match try_read_into(stream, pending) {
            Ok(0) => return false,
            Ok(_) => return true,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(_) => return false,
        }
    }
}

/// Reads what is there, appending exactly that to `pending`.
fn try_read_into(stream: &TcpStream, pending: &mut Vec<u8>) -> io::Result<usize> {
    let mut chunk = [0u8; 4096];
    let n = stream.try_read(&mut chunk)?;
    pending.extend_from_slice(&chunk[..n]);
    Ok(n)
}
