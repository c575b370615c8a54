//! Write batching: proposals queue here and one task packs everything queued into a
//! single log entry (`Command::Batch`; a lone command goes as itself), keeps a few
//! entries in flight, and hands each proposer its own element of the result.
//!
//! Many concurrent writes thus share one append and one fsync, as Consul's Raft layer
//! batches its `applyCh`.

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::error::RaftError;
use crate::node::{Applied, map_write_error};
use crate::state::{Command, CommandResponse};
use crate::types::{ApplyOutcome, Proposal, Raft};

/// Entries proposed but not yet applied, at most: pipelining without unbounded queues.
const MAX_IN_FLIGHT: usize = 4;
/// Commands packed into one entry, at most.
const MAX_BATCH: usize = 512;
/// Proposals waiting for the proposer before `propose` waits for room.
pub(crate) const QUEUE_DEPTH: usize = 4096;

/// One queued write and where its answer goes.
pub(crate) struct Pending {
    pub(crate) cmd: Command,
    pub(crate) reply: oneshot::Sender<Result<Applied, RaftError>>,
}

/// The proposer task: runs until `shutdown` is cancelled or every sender is gone.
pub(crate) async fn run(
    raft: Raft,
    mut queue: mpsc::Receiver<Pending>,
    shutdown: CancellationToken,
) {
    let mut in_flight = FuturesUnordered::new();
    loop {
        tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            Some((replies, result)) = in_flight.next(), if !in_flight.is_empty() => route(replies, result),
            next = queue.recv(), if in_flight.len() < MAX_IN_FLIGHT => {
                let Some(first) = next else { break };
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match queue.try_recv() {
                        Ok(p) => batch.push(p),
                        Err(_) => break,
                    }
                }
                in_flight.push(submit(raft.clone(), batch));
            }
        }
    }
    // Shutting down: nothing more is proposed. Entries already in flight resolve as
    // openraft stops; tell queued proposers plainly.
    queue.close();
    while let Ok(p) = queue.try_recv() {
        let _ = p.reply.send(Err(RaftError::ShuttingDown));
    }
    while let Some((replies, result)) = in_flight.next().await {
        route(replies, result);
    }
}

type Replies = Vec<oneshot::Sender<Result<Applied, RaftError>>>;
type WriteResult = Result<
    (u64, ApplyOutcome),
    openraft::errors::RaftError<
        crate::types::TypeConfig,
        openraft::errors::ClientWriteError<crate::types::TypeConfig>,
    >,
>;

async fn submit(raft: Raft, batch: Vec<Pending>) -> (Replies, WriteResult) {
    let (cmds, replies): (Vec<Command>, Replies) =
        batch.into_iter().map(|p| (p.cmd, p.reply)).unzip();
    let cmd = if cmds.len() == 1 {
        cmds.into_iter()
            .next()
            .expect("one command in a batch of one")
    } else {
        Command::Batch(cmds)
    };
    let result = raft
        .client_write(Proposal(cmd))
        .await
        .map(|resp| (resp.log_id.index, resp.data));
    (replies, result)
}

/// Gives each proposer its answer.
fn route(replies: Replies, result: WriteResult) {
    let (index, outcome) = match result {
        Ok(ok) => ok,
        Err(e) => {
            for reply in replies {
                let _ = reply.send(Err(map_write_error(&e)));
            }
            return;
        }
    };
    if replies.len() == 1 {
        if let Some(reply) = replies.into_iter().next() {
            let _ = reply.send(Ok(Applied {
                index,
                response: outcome,
            }));
        }
        return;
    }
    match outcome {
        Ok(CommandResponse::Batch(items)) if items.len() == replies.len() => {
            for (reply, response) in replies.into_iter().zip(items) {
                let _ = reply.send(Ok(Applied { index, response }));
            }
        }
        other => {
            // The store answers a batch of n with n results; anything else is a bug there.
            tracing::error!(index, outcome = ?other, "state store answered a batch with the wrong shape");
            for reply in replies {
                let _ = reply.send(Err(RaftError::Fatal(format!(
                    "batch at index {index} answered with the wrong shape"
                ))));
            }
        }
    }
}
