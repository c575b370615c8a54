//! Parking a blocking KV read compactly: until the data's index passes the requested
//! one, the connection task holds only the request head, the parsed query, a state
//! store watch and a timer, and no router or handler future.

use praetor_agent::KvWatch;
use praetor_types::{KvQuery, QueryOptions};
use tokio::net::TcpStream;

use super::{Front, Gauge, MAX_HEAD, try_read_into};

/// How a parked read ended.
pub(super) enum Parked {
    /// The index moved past the requested one, to this one: run it now, as asked.
    Ready(u64),
    /// The agent stops, or no longer answers the read itself: run it now, as asked.
    Now,
    /// The wait is over: answer at once with the current result.
    TimedOut,
    /// The client closed the connection.
    Closed,
}

/// Waits until the read is ready, its wait is over or the client goes away. Bytes the
/// client sends meanwhile (pipelined requests) are kept in `pending`.
pub(super) async fn park(
    stream: &TcpStream,
    pending: &mut Vec<u8>,
    front: &Front,
    query: &KvQuery,
    opts: &QueryOptions,
    mut watch: KvWatch,
) -> Parked {
    let _parked = Gauge::up(&front.counters.parked);
    let deadline = tokio::time::sleep(watch.wait);
    tokio::pin!(deadline);
    // Stop listening once a pipelined head is as long as the front loop reads.
    let mut listen = pending.len() < MAX_HEAD;
    loop {
        if watch.index > opts.min_index {
            return Parked::Ready(watch.index);
        }
        tokio::select! {
            () = watch.watch.changed() => {
                // The watch goes on: only writes after this point wake it again.
                match front.app.backend.kv_index(query) {
                    Some(index) => watch.index = index,
                    None => return Parked::Now,
                }
            }
            () = &mut deadline => return Parked::TimedOut,
            () = front.app.shutdown.cancelled() => return Parked::Now,
            ready = stream.readable(), if listen => {
                if ready.is_err() {
                    return Parked::Closed;
                }
                match try_read_into(stream, pending) {
                    Ok(0) => return Parked::Closed,
                    Ok(_) => listen = pending.len() < MAX_HEAD,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(_) => return Parked::Closed,
                }
            }
        }
    }
}
