//! A mutex on `<prefix>/.lock`, as Consul's `api.Lock`: acquire with the session, block on
//! the key while another session holds it, and watch it (consistently) while held.

use praetor_client::{Client, Consistency, KvPut, QueryOptions};

use super::{LOCK_RETRY_TIME, LOCK_WAIT_TIME, LockError, MONITOR_RETRY_TIME, is_retryable};

/// The key under the prefix that holds the lock (Consul's `DefaultSemaphoreKey`, which
/// `consul lock` uses for mutexes too).
pub(crate) const LOCK_KEY: &str = ".lock";
/// The flags marking a key as a `consul lock` mutex (Consul's `LockFlagValue`).
pub(crate) const LOCK_FLAG_VALUE: u64 = 0x2ddc_cbc0_58a5_0c18;

/// The mutex for one session.
pub(crate) struct Mutex {
    pub(crate) client: Client,
    pub(crate) key: String,
    pub(crate) session: String,
    pub(crate) monitor_retries: u32,
}

impl Mutex {
    fn entry(&self) -> KvPut {
        KvPut {
            key: self.key.clone(),
            flags: LOCK_FLAG_VALUE,
            ..KvPut::default()
        }
    }

    /// Blocks until the session holds the lock.
    pub(crate) async fn acquire(&self) -> Result<(), LockError> {
        let mut wait_index = 0;
        loop {
            let options = QueryOptions {
                min_index: wait_index,
                max_wait: Some(LOCK_WAIT_TIME),
                ..QueryOptions::default()
            };
            let (pair, meta) = self
                .client
                .kv_get(&self.key, &options)
                .await
                .map_err(LockError::api("failed to read lock"))?;
            if let Some(pair) = &pair {
                if pair.flags != LOCK_FLAG_VALUE {
                    return Err(LockError::LockConflict);
                }
                match pair.session.as_deref() {
                    Some(holder) if holder == self.session => return Ok(()),
                    Some(_) => {
                        wait_index = meta.index;
                        continue;
                    }
                    None => {}
                }
            }
            let acquire = KvPut {
                acquire: Some(self.session.clone()),
                ..self.entry()
            };
            let locked = self
                .client
                .kv_put(&acquire)
                .await
                .map_err(LockError::api("failed to acquire lock"))?;
            if locked {
                return Ok(());
            }
            // Held by someone else (block on the key), or a lock-delay (retry later).
            let (pair, meta) = self
                .client
                .kv_get(&self.key, &QueryOptions::default())
                .await
                .map_err(LockError::api("failed to read lock"))?;
            if pair.is_some_and(|p| p.session.is_some()) {
                wait_index = meta.index;
            } else {
                tokio::time::sleep(LOCK_RETRY_TIME).await;
                wait_index = 0;
            }
        }
    }

    /// Returns once the key is no longer held by the session (or cannot be read after the
    /// allowed retries).
    pub(crate) async fn monitor(&self) {
        let mut wait_index = 0;
        let mut retries = self.monitor_retries;
        loop {
            let options = QueryOptions {
                min_index: wait_index,
                consistency: Consistency::Consistent,
                ..QueryOptions::default()
            };
            match self.client.kv_get(&self.key, &options).await {
                Ok((Some(pair), meta)) if pair.session.as_deref() == Some(&self.session) => {
                    wait_index = meta.index;
                    retries = self.monitor_retries;
                }
                Ok(_) => return,
                Err(e) if retries > 0 && is_retryable(&e) => {
                    retries -= 1;
                    wait_index = 0;
                    tokio::time::sleep(MONITOR_RETRY_TIME).await;
                }
                Err(_) => return,
            }
        }
    }

    /// Releases the lock (no lock-delay); releasing a lock no longer held is a no-op.
    pub(crate) async fn release(&self) -> Result<(), LockError> {
        let release = KvPut {
            release: Some(self.session.clone()),
            ..self.entry()
        };
        self.client
            .kv_put(&release)
            .await
            .map_err(LockError::api("failed to release lock"))?;
        Ok(())
    }

    /// Deletes the lock key unless another session holds it ([`LockError::InUse`]).
    pub(crate) async fn cleanup(&self) -> Result<(), LockError> {
        let (pair, _) = self
            .client
            .kv_get(&self.key, &QueryOptions::default())
            .await
            .map_err(LockError::api("failed to read lock"))?;
        let Some(pair) = pair else {
            return Ok(());
        };
        if pair.flags != LOCK_FLAG_VALUE {
            return Err(LockError::LockConflict);
        }
        if pair.session.is_some() {
            return Err(LockError::InUse);
        }
        let removed = self
            .client
            .kv_delete(&self.key, false, Some(pair.modify_index))
            .await
            .map_err(LockError::api("failed to remove lock"))?;
        if removed {
            Ok(())
        } else {
            Err(LockError::InUse)
        }
    }
}
