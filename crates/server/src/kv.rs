//! KV reads and writes (Consul's `KVS` endpoint).

use praetor_state::{Command, CommandResponse};
use praetor_types::{KvQuery, KvRequest, KvResult, QueryMeta, QueryOptions};

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
                        None => (view.kv_table_index(), KvResult::Entries(Vec::new())),
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

fn prefix_index(view: &praetor_state::StateView, prefix: &str) -> u64 {
    match view.kv_prefix_index(prefix) {
        0 => view.kv_table_index(),
        index => index,
    }
}
