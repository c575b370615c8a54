//! KV reads and writes (Consul's `KVS` endpoint).

use std::time::Duration;

use praetor_state::{Command, CommandResponse, StateView, Store, Watch};
use praetor_types::{Consistency, KvQuery, KvRequest, KvResult, QueryMeta, QueryOptions};

use crate::{Server, ServerError};

impl Server {
    /// Applies a KV write through Raft: `Ok(false)` when its condition did not hold.
    pub(crate) async fn local_kv_apply(&self, req: KvRequest) -> Result<bool, ServerError> {
        let applied = self
            .raft
            .propose(crate::session::stamped(Command::Kv(req)))
            .await?;
        match applied.response? {
            CommandResponse::Bool(ok) => Ok(ok),
            _ => Err(ServerError::UnexpectedResponse("kv write")),
        }
    }

    /// A KV read. The index is, as in Consul: the entry's `ModifyIndex` for a present
    /// key; for a missing key the KV table index; for a listing the highest
    /// `ModifyIndex` or tombstone under the prefix, else the table index.
    pub(crate) async fn local_kv_read(
        &self,
        query: KvQuery,
        opts: QueryOptions,
    ) -> Result<(QueryMeta, KvResult), ServerError> {
        let store = &self.store;
        match query {
            KvQuery::Get { key } => {
                self.blocking_query(
                    opts,
                    || store.watch_key(&key),
                    |view| match view.kv_get(&key) {
                        Some(entry) => (entry.modify_index, KvResult::Entries(vec![entry.clone()])),
                        None => (key_index(view, &key), KvResult::Entries(Vec::new())),
                    },
                )
                .await
            }
            KvQuery::List { prefix } => {
                self.blocking_query(
                    opts,
                    || store.watch_prefix(&prefix),
                    |view| {
                        let index = prefix_index(view, &prefix);
                        (index, KvResult::Entries(view.kv_list(&prefix)))
                    },
                )
                .await
            }
            KvQuery::Keys { prefix, separator } => {
                self.blocking_query(
                    opts,
                    || store.watch_prefix(&prefix),
                    |view| {
                        let index = prefix_index(view, &prefix);
                        (
                            index,
                            KvResult::Keys(view.kv_keys(&prefix, separator.as_deref())),
                        )
                    },
                )
                .await
            }
        }
    }
}

impl Server {
    /// For a blocking KV read (`opts.min_index > 0`) that this server answers from its
    /// own state: a watch on what the read covers (taken before the index is computed,
    /// so no write is missed), the index [`Server::kv_read`] would answer with now, and
    /// how long the read may block (the requested wait, capped, with jitter). A caller
    /// may wait on the watch until the index passes `opts.min_index` (or the wait ends)
    /// and only then run the read, which then answers at once.
    ///
    /// `None` when the read is not answered here without forwarding or a quorum round:
    /// `?consistent`, default reads on a non-leader, `?max_stale` on a follower.
    pub fn kv_watch(&self, query: &KvQuery, opts: &QueryOptions) -> Option<(Watch, u64, Duration)> {
        if opts.min_index == 0 {
            return None;
        }
        let local = match opts.consistency {
            Consistency::Stale => opts.max_stale.is_none() || self.raft.status().is_leader,
            Consistency::Default => {
                let status = self.raft.status();
                status.is_leader && !status.lease_lost
            }
            Consistency::Consistent => false,
        };
        if !local {
            return None;
        }
        let watch = kv_watch_of(&self.store, query);
        let index = kv_index(&self.store.view(), query).max(1);
        Some((watch, index, self.blocking_wait(opts.max_wait)))
    }

    /// The index a KV read of `query` answers with now (never 0); after a watch from
    /// [`Server::kv_watch`] fired, the same watch goes on covering the read.
    pub fn kv_index(&self, query: &KvQuery) -> u64 {
        kv_index(&self.store.view(), query).max(1)
    }
}

/// The watch covering `query`: its key, or its prefix.
fn kv_watch_of(store: &Store, query: &KvQuery) -> Watch {
    match query {
        KvQuery::Get { key } => store.watch_key(key),
        KvQuery::List { prefix } | KvQuery::Keys { prefix, .. } => store.watch_prefix(prefix),
    }
}

/// The index a read of `query` answers with (see [`Server::local_kv_read`]).
fn kv_index(view: &StateView, query: &KvQuery) -> u64 {
    match query {
        KvQuery::Get { key } => view
            .kv_get(key)
            .map_or_else(|| key_index(view, key), |e| e.modify_index),
        KvQuery::List { prefix } | KvQuery::Keys { prefix, .. } => prefix_index(view, prefix),
    }
}

/// The index of a missing key: the KV table's.
fn key_index(view: &StateView, _key: &str) -> u64 {
    view.kv_table_index()
}

fn prefix_index(view: &praetor_state::StateView, prefix: &str) -> u64 {
    match view.kv_prefix_index(prefix) {
        0 => view.kv_table_index(),
        index => index,
    }
}
