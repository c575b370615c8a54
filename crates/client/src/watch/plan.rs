//! The watch loop of Consul's `api/watch` plan: block on the last index, skip results that
//! did not change, start over from 0 when the index goes backwards, back off after errors.

use std::time::Duration;

use super::{Data, WatchKind};
use crate::{Client, ClientError, QueryOptions};

/// First retry delay after a failed query; the n-th consecutive failure waits n² times
/// this, at most [`MAX_BACKOFF`] (Consul's `api/watch` plan).
const RETRY_INTERVAL: Duration = Duration::from_secs(5);
const MAX_BACKOFF: Duration = Duration::from_secs(180);

/// The wait before retrying after `failures` consecutive failed queries.
pub fn backoff(failures: u32) -> Duration {
    RETRY_INTERVAL
        .saturating_mul(failures.saturating_mul(failures))
        .min(MAX_BACKOFF)
}

/// A failed query: what went wrong and how long to wait before the next [`Plan::next`]
/// (the plan itself does not sleep, so callers can log first and stay cancellable).
#[derive(Debug)]
pub struct PlanError {
    /// The query's error.
    pub error: ClientError,
    /// The back-off for this many consecutive failures.
    pub retry: Duration,
}

/// One watch being followed: the first [`Plan::next`] answers at once with the current
/// data, every later one when the data has changed.
#[derive(Debug)]
pub struct Plan {
    kind: WatchKind,
    options: QueryOptions,
    last_index: Option<u64>,
    last_result: Option<Data>,
    failures: u32,
}

impl Plan {
    /// A plan for `kind`, querying with `options` (consistency, wait; the index is the
    /// plan's).
    pub fn new(kind: WatchKind, options: QueryOptions) -> Self {
        Self {
            kind,
            options,
            last_index: None,
            last_result: None,
            failures: 0,
        }
    }

    /// What is watched.
    pub fn kind(&self) -> &WatchKind {
        &self.kind
    }

    /// The next result the handler should see, with its index.
    pub async fn next(&mut self, client: &Client) -> Result<(u64, Data), PlanError> {
        loop {
            let options = QueryOptions {
                min_index: self.last_index.unwrap_or(0),
                ..self.options
            };
            let (index, data) = match self.kind.fetch(client, &options, self.last_index).await {
                Ok(result) => result,
                Err(error) => {
                    self.failures = self.failures.saturating_add(1);
                    self.last_index = None;
                    return Err(PlanError {
                        error,
                        retry: backoff(self.failures),
                    });
                }
            };
            self.failures = 0;
            if self.last_index == Some(index) {
                continue;
            }
            let previous = self.last_index;
            // An index that went backwards (snapshot restore, tombstone reaping) restarts
            // the watch from 0, as Consul's `WaitIndexVal.Next` does.
            self.last_index = Some(match previous {
                Some(prev) if index < prev => 0,
                _ => index,
            });
            if previous.is_some() && self.last_result.as_ref() == Some(&data) {
                continue;
            }
            self.last_result = Some(data.clone());
            return Ok((index, data));
        }
    }
}
