//! A semaphore of `limit` holders under a prefix, as Consul's `api.Semaphore`: each
//! contender holds `<prefix>/<session>` with its session; `<prefix>/.lock` holds
//! `{"Limit":n,"Holders":{"<session>":true}}`, changed only by check-and-set. Holders
//! whose session is gone are pruned by whoever next updates the set.

use std::collections::{BTreeMap, BTreeSet};

use praetor_client::{Client, Consistency, KvEntry, KvPut, QueryOptions};
use serde::{Deserialize, Serialize};

use super::mutex::LOCK_KEY;
use super::{LOCK_WAIT_TIME, LockError, MONITOR_RETRY_TIME, is_retryable, join_key};

/// The flags marking keys of a `consul lock` semaphore (Consul's `SemaphoreFlagValue`).
pub(crate) const SEMAPHORE_FLAG_VALUE: u64 = 0xe0f6_9a2b_aa41_4de0;

/// The holder set stored in `<prefix>/.lock`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct HolderSet {
    pub(crate) limit: i64,
    pub(crate) holders: BTreeMap<String, bool>,
}

/// The semaphore for one session.
pub(crate) struct Semaphore {
    pub(crate) client: Client,
    pub(crate) prefix: String,
    pub(crate) limit: i64,
    pub(crate) session: String,
    pub(crate) monitor_retries: u32,
}

impl Semaphore {
    fn lock_key(&self) -> String {
        join_key(&self.prefix, LOCK_KEY)
    }

    fn contender_key(&self) -> String {
        join_key(&self.prefix, &self.session)
    }

    /// The prefix listed for the contenders and the holder set.
    fn list_prefix(&self) -> String {
        join_key(&self.prefix, "")
    }

    /// Registers as a contender, then blocks until the session is in the holder set.
    pub(crate) async fn acquire(&self) -> Result<(), LockError> {
        let contender = KvPut {
            key: self.contender_key(),
            flags: SEMAPHORE_FLAG_VALUE,
            acquire: Some(self.session.clone()),
            ..KvPut::default()
        };
        let made = self
            .client
            .kv_put(&contender)
            .await
            .map_err(LockError::api("failed to make contender entry"))?;
        if !made {
            return Err(LockError::ContenderRefused);
        }
        let mut wait_index = 0;
        loop {
            let options = QueryOptions {
                min_index: wait_index,
                max_wait: Some(LOCK_WAIT_TIME),
                ..QueryOptions::default()
            };
            let (pairs, meta) = self
                .client
                .kv_list(&self.list_prefix(), &options)
                .await
                .map_err(LockError::api("failed to read prefix"))?;
            let lock_pair = self.find_lock(&pairs);
            if lock_pair.flags != SEMAPHORE_FLAG_VALUE {
                return Err(LockError::SemaphoreConflict);
            }
            let mut set = self.decode(lock_pair)?;
            if set.limit != self.limit {
                return Err(LockError::LimitConflict {
                    lock: set.limit,
                    local: self.limit,
                });
            }
            prune_dead_holders(&mut set, &pairs, Some(&self.session));
            if set.holders.contains_key(&self.session) {
                return Ok(());
            }
            if i64::try_from(set.holders.len()).unwrap_or(i64::MAX) >= set.limit {
                wait_index = meta.index;
                continue;
            }
            set.holders.insert(self.session.clone(), true);
            if !self.swap(&set, lock_pair.modify_index).await? {
                // Another contender changed the set first: read it again.
                wait_index = 0;
                continue;
            }
            return Ok(());
        }
    }

    /// Returns once the session is no longer a holder: pruned by another contender, or its
    /// contender entry gone with the session (or the prefix unreadable after the retries).
    pub(crate) async fn monitor(&self) {
        let mut wait_index = 0;
        let mut retries = self.monitor_retries;
        let contender = self.contender_key();
        loop {
            let options = QueryOptions {
                min_index: wait_index,
                consistency: Consistency::Consistent,
                ..QueryOptions::default()
            };
            match self.client.kv_list(&self.list_prefix(), &options).await {
                Ok((pairs, meta)) => {
                    let Ok(mut set) = self.decode(self.find_lock(&pairs)) else {
                        return;
                    };
                    prune_dead_holders(&mut set, &pairs, None);
                    if !set.holders.contains_key(&self.session) {
                        return;
                    }
                    let ours = pairs
                        .iter()
                        .any(|p| p.key == contender && p.session.as_deref() == Some(&self.session));
                    if !ours {
                        return;
                    }
                    wait_index = meta.index;
                    retries = self.monitor_retries;
                }
                Err(e) if retries > 0 && is_retryable(&e) => {
                    retries -= 1;
                    wait_index = 0;
                    tokio::time::sleep(MONITOR_RETRY_TIME).await;
                }
                Err(_) => return,
            }
        }
    }

    /// Leaves the holder set (check-and-set, retried on races) and deletes the contender
    /// entry.
    pub(crate) async fn release(&self) -> Result<(), LockError> {
        let key = self.lock_key();
        loop {
            let (pair, _) = self
                .client
                .kv_get(&key, &QueryOptions::default())
                .await
                .map_err(LockError::api("failed to read lock"))?;
            let pair = pair.unwrap_or_default();
            let mut set = self.decode(&pair)?;
            if set.holders.remove(&self.session).is_none() {
                break;
            }
            if self.swap(&set, pair.modify_index).await? {
                break;
            }
        }
        self.client
            .kv_delete(&self.contender_key(), false, None)
            .await
            .map_err(LockError::api("failed to remove contender entry"))?;
        Ok(())
    }

    /// Deletes the holder set once nobody holds the semaphore ([`LockError::InUse`]
    /// otherwise).
    pub(crate) async fn cleanup(&self) -> Result<(), LockError> {
        let (pairs, _) = self
            .client
            .kv_list(&self.list_prefix(), &QueryOptions::default())
            .await
            .map_err(LockError::api("failed to read prefix"))?;
        let lock_pair = self.find_lock(&pairs);
        if lock_pair.modify_index == 0 {
            return Ok(());
        }
        if lock_pair.flags != SEMAPHORE_FLAG_VALUE {
            return Err(LockError::SemaphoreConflict);
        }
        let mut set = self.decode(lock_pair)?;
        prune_dead_holders(&mut set, &pairs, None);
        if !set.holders.is_empty() {
            return Err(LockError::InUse);
        }
        let removed = self
            .client
            .kv_delete(&self.lock_key(), false, Some(lock_pair.modify_index))
            .await
            .map_err(LockError::api("failed to remove semaphore"))?;
        if removed {
            Ok(())
        } else {
            Err(LockError::InUse)
        }
    }

    /// The holder-set entry among `pairs`, or an empty one (index 0: create with CAS 0).
    fn find_lock<'a>(&self, pairs: &'a [KvEntry]) -> &'a KvEntry {
        static EMPTY: KvEntry = KvEntry {
            lock_index: 0,
            key: String::new(),
            flags: SEMAPHORE_FLAG_VALUE,
            value: Vec::new(),
            session: None,
            create_index: 0,
            modify_index: 0,
        };
        let key = self.lock_key();
        pairs.iter().find(|p| p.key == key).unwrap_or(&EMPTY)
    }

    /// The holder set stored in `pair`; a new one at our limit when the value is empty.
    fn decode(&self, pair: &KvEntry) -> Result<HolderSet, LockError> {
        if pair.value.is_empty() {
            return Ok(HolderSet {
                limit: self.limit,
                holders: BTreeMap::new(),
            });
        }
        serde_json::from_slice(&pair.value).map_err(LockError::Decode)
    }

    /// Writes `set` if `.lock` is still at `modify_index`; `false` when it changed.
    async fn swap(&self, set: &HolderSet, modify_index: u64) -> Result<bool, LockError> {
        let value = serde_json::to_vec(set).map_err(LockError::Decode)?;
        let put = KvPut {
            key: self.lock_key(),
            value,
            flags: SEMAPHORE_FLAG_VALUE,
            cas: Some(modify_index),
            ..KvPut::default()
        };
        self.client
            .kv_put(&put)
            .await
            .map_err(LockError::api("failed to update lock"))
    }
}

/// Drops holders with no live contender entry (an entry still held by its session) under
/// the prefix; `ours`, when given, counts as alive.
pub(crate) fn prune_dead_holders(set: &mut HolderSet, pairs: &[KvEntry], ours: Option<&str>) {
    let alive: BTreeSet<&str> = pairs
        .iter()
        .filter_map(|p| p.session.as_deref())
        .chain(ours)
        .collect();
    set.holders
        .retain(|holder, _| alive.contains(holder.as_str()));
}
