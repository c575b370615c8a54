//! The sessions table (Consul's `agent/consul/state/session.go`): create, destroy,
//! invalidation (destroy, TTL lapse, node gone, a bound check critical) with its effect
//! on held locks, and lock-delay.
//!
//! Time is never read here: `now` (Unix milliseconds) comes with the Raft entry, stamped
//! by the leader, so every replica decides lock-delays alike.

use std::sync::Arc;

use imbl::OrdMap;
use praetor_types::{HealthStatus, KvEntry, Session, SessionBehavior};

use crate::command::ApplyError;
use crate::kv::Key;
use crate::store::Tables;
use crate::watch::{Table, Touch};

/// The sessions table, its index and the lock-delays armed by invalidations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SessionTable {
    /// Live sessions by ID.
    pub(crate) sessions: OrdMap<String, Arc<Session>>,
    /// Raft index of the last change to the table.
    pub(crate) index: u64,
    /// Keys under lock-delay and the Unix millisecond until which no session may acquire
    /// them. Not snapshotted (nor is it in Consul): a delay lasts at most 60 s.
    pub(crate) lock_delays: OrdMap<Key, u64>,
}

impl SessionTable {
    /// Whether `id` names a live session.
    pub(crate) fn exists(&self, id: &str) -> bool {
        self.sessions.contains_key(id)
    }

    /// Whether `key` is under a lock-delay at `now`.
    pub(crate) fn delayed(&self, key: &str, now: u64) -> bool {
        self.lock_delays.get(key).is_some_and(|&until| until > now)
    }
}

impl Tables {
    /// Creates `session` at `index`: its node must be registered and every bound check
    /// must exist and not be critical (Consul's texts).
    pub(crate) fn session_create(
        &mut self,
        index: u64,
        session: &Session,
        touches: &mut Vec<Touch>,
    ) -> Result<(), ApplyError> {
        if session.id.is_empty() {
            return Err(ApplyError::MissingSessionId);
        }
        if self.sessions.exists(&session.id) {
            return Err(ApplyError::SessionExists);
        }
        if !self.catalog.nodes.contains_key(&session.node) {
            return Err(ApplyError::SessionMissingNode);
        }
        for check in session.bound_checks() {
            match self
                .catalog
                .checks
                .get(&(session.node.clone(), check.to_owned()))
            {
                None => return Err(ApplyError::SessionMissingCheck(check.to_owned())),
                Some(c) if c.status == HealthStatus::Critical => {
                    return Err(ApplyError::SessionCriticalCheck(check.to_owned()));
                }
                Some(_) => {}
            }
        }
        let stored = Session {
            create_index: index,
            modify_index: index,
            ..session.clone()
        };
        self.sessions
            .sessions
            .insert(stored.id.clone(), Arc::new(stored));
        self.sessions.index = self.sessions.index.max(index);
        touches.push(Touch::Table(Table::Sessions));
        Ok(())
    }

    /// Invalidates session `id` (destroy, TTL lapse, health): releases or deletes the
    /// keys it holds and arms their lock-delay until `now` + `LockDelay`. A missing
    /// session changes nothing.
    pub(crate) fn session_invalidate(
        &mut self,
        index: u64,
        now: u64,
        id: &str,
        touches: &mut Vec<Touch>,
    ) {
        let Some(session) = self.sessions.sessions.remove(id) else {
            return;
        };
        self.sessions.index = self.sessions.index.max(index);
        touches.push(Touch::Table(Table::Sessions));
        let held: Vec<Arc<KvEntry>> = self
            .kv
            .entries
            .values()
            .filter(|e| e.session.as_deref() == Some(id))
            .cloned()
            .collect();
        let until = now.saturating_add(session.lock_delay / 1_000_000);
        for entry in held {
            if session.lock_delay > 0 {
                self.sessions
                    .lock_delays
                    .insert(Arc::from(entry.key.as_str()), until);
            }
            match session.behavior {
                SessionBehavior::Release => {
                    let released = KvEntry {
                        session: None,
                        modify_index: index,
                        ..KvEntry::clone(&entry)
                    };
                    self.kv.put(index, released, touches);
                }
                SessionBehavior::Delete => self.kv.delete(index, &entry.key, touches),
            }
        }
        // Expired delays are dropped as new ones are armed, so the map stays small.
        let expired: Vec<Key> = self
            .sessions
            .lock_delays
            .iter()
            .filter(|(_, until)| **until <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for key in expired {
            self.sessions.lock_delays.remove(&*key);
        }
    }

    /// Invalidates every session whose node is gone or one of whose bound checks is
    /// gone or critical (run after each catalog change).
    pub(crate) fn invalidate_unhealthy_sessions(
        &mut self,
        index: u64,
        now: u64,
        touches: &mut Vec<Touch>,
    ) {
        let doomed: Vec<String> = self
            .sessions
            .sessions
            .values()
            .filter(|s| !self.session_healthy(s))
            .map(|s| s.id.clone())
            .collect();
        for id in doomed {
            self.session_invalidate(index, now, &id, touches);
        }
    }

    fn session_healthy(&self, s: &Session) -> bool {
        self.catalog.nodes.contains_key(&s.node)
            && s.bound_checks().all(|check| {
                self.catalog
                    .checks
                    .get(&(s.node.clone(), check.to_owned()))
                    .is_some_and(|c| c.status != HealthStatus::Critical)
            })
    }
}

#[cfg(test)]
mod tests;
