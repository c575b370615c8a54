//! [`Command`]: every write that goes through Raft, and its deterministic application
//! (Consul's `agent/consul/fsm` command dispatch).

use praetor_types::{
    AutopilotConfig, DeregisterRequest, KvOp, KvRequest, RegisterRequest, Session, TxnOp,
    TxnOutcome,
};
use serde::{Deserialize, Serialize};

use crate::store::Tables;
use crate::watch::Touch;

/// A write to the state store, as stored in the Raft log (rmp-serde encoded).
///
/// The same commands applied in the same order, at the same indexes, give the same state
/// on every server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Command {
    /// A KV write (Consul's `KVSRequest`).
    Kv(KvRequest),
    /// Removes the tombstones left by deletes at or below `upto_index` (the leader's
    /// periodic tombstone GC).
    TombstoneReap {
        /// Tombstones whose delete index is `<= upto_index` are removed.
        upto_index: u64,
    },
    /// A catalog register (Consul's `RegisterRequest`): upserts the node, then the
    /// service, then the checks, all or nothing. Boxed: it is much larger than the other
    /// commands.
    CatalogRegister(Box<RegisterRequest>),
    /// A catalog deregister (Consul's `DeregisterRequest`): removes a check, a service
    /// with its checks, or a node with everything on it.
    CatalogDeregister(DeregisterRequest),
    /// Several commands packed into one Raft entry: each is applied in order, at the same
    /// index, and answers on its own.
    Batch(Vec<Command>),
    /// `cmd` stamped with the leader's clock (`now`, Unix milliseconds) when proposed:
    /// lock-delays are armed and checked against it, never against a replica's clock.
    At {
        /// Unix milliseconds at the leader.
        now: u64,
        /// The stamped command.
        cmd: Box<Command>,
    },
    /// Creates a session (its ID chosen by the proposer).
    SessionCreate(Box<Session>),
    /// Destroys (invalidates) a session: its locks are released or its keys deleted, and
    /// lock-delay is armed. A missing session is not an error.
    SessionDestroy {
        /// The session ID.
        id: String,
    },
    /// A transaction: every operation or none (Consul's `TxnRequest`).
    Txn(Vec<TxnOp>),
    /// Writes autopilot's configuration (Consul's `AutopilotRequest`). With `cas`, only
    /// when the stored `ModifyIndex` equals it (0: only when none is stored); answers
    /// `Bool` whether it was written.
    AutopilotSetConfig {
        /// The new settings (their indexes are ignored).
        config: Box<AutopilotConfig>,
        /// Check-and-set index.
        cas: Option<u64>,
    },
}

/// What applying a [`Command`] answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum CommandResponse {
    /// The outcome of a conditional write (`false`: a CAS or lock condition did not
    /// hold). Unconditional writes answer `true`.
    Bool(bool),
    /// One answer per command of a [`Command::Batch`], in order.
    Batch(Vec<Result<CommandResponse, ApplyError>>),
    /// The command has no answer (e.g. [`Command::TombstoneReap`]).
    None,
    /// A transaction's results, or its errors when it was rolled back.
    Txn(TxnOutcome),
}

/// Why the state store rejected a write. A rejected write changes nothing.
///
/// An expected outcome is not an error: a losing CAS answers `Ok(Bool(false))`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[non_exhaustive]
pub enum ApplyError {
    /// A lock or unlock named a session that does not exist (Consul's text, which the
    /// HTTP API returns with status 500).
    #[error("invalid session \"{0}\"")]
    InvalidSession(String),
    /// A lock or unlock carried no session.
    #[error("missing session")]
    MissingSession,
    /// A session create named a node that is not registered (Consul's text).
    #[error("Missing node registration")]
    SessionMissingNode,
    /// A session create named a check that is not registered (Consul's text).
    #[error("Missing check '{0}' registration")]
    SessionMissingCheck(String),
    /// A session create named a critical check (Consul's text).
    #[error("Check '{0}' is in critical state")]
    SessionCriticalCheck(String),
    /// A session create without an ID.
    #[error("Missing session ID")]
    MissingSessionId,
    /// A session create with the ID of a live session.
    #[error("Session ID already exists")]
    SessionExists,
    /// A KV write other than a delete-tree had an empty key.
    #[error("missing key name")]
    MissingKey,
    /// A catalog write named no node (Consul's text).
    #[error("Must provide node")]
    MissingNode,
    /// A register without `SkipNodeUpdate` had no node address (Consul's text).
    #[error("Must provide address if SkipNodeUpdate is not set")]
    MissingAddress,
    /// A registered service had no name (Consul's text).
    #[error("Must provide service name")]
    MissingServiceName,
    /// A registered check had neither `CheckID` nor `Name`.
    #[error("Must provide check ID or name")]
    MissingCheckId,
    /// A registered check named another node than the request.
    #[error("check node {check_node:?} does not match node {node:?}")]
    CheckNodeMismatch {
        /// The check's `Node`.
        check_node: String,
        /// The request's `Node`.
        node: String,
    },
    /// A registered check named a service that is not registered on its node.
    #[error("check {check:?} refers to unknown service {service:?}")]
    UnknownService {
        /// The check's ID.
        check: String,
        /// The `ServiceID` it named.
        service: String,
    },
    /// A register gave a node ID that another node already has.
    #[error(
        "failed inserting node: node ID {id:?} for node {node:?} aliases existing node {existing:?}"
    )]
    NodeIdConflict {
        /// The node ID.
        id: String,
        /// The node being registered.
        node: String,
        /// The node already holding the ID.
        existing: String,
    },
}

impl Tables {
    /// Applies `cmd` at Raft `index` to this working copy, recording what it touched.
    /// `now` is the leader's stamp (Unix milliseconds; 0 when unstamped).
    ///
    /// # Invariants
    /// A command that answers `Err` has not changed anything.
    pub(crate) fn apply_command(
        &mut self,
        index: u64,
        now: u64,
        cmd: &Command,
        touches: &mut Vec<Touch>,
    ) -> Result<CommandResponse, ApplyError> {
        match cmd {
            Command::Kv(req) => self
                .kv_apply(index, now, req, touches)
                .map(CommandResponse::Bool),
            Command::TombstoneReap { upto_index } => {
                self.kv.reap_tombstones(*upto_index, touches);
                Ok(CommandResponse::None)
            }
            Command::CatalogRegister(req) => {
                self.catalog.register(index, req, touches)?;
                self.invalidate_unhealthy_sessions(index, now, touches);
                Ok(CommandResponse::Bool(true))
            }
            Command::CatalogDeregister(req) => {
                self.catalog.deregister(index, req, touches)?;
                self.invalidate_unhealthy_sessions(index, now, touches);
                Ok(CommandResponse::Bool(true))
            }
            Command::Batch(cmds) => Ok(CommandResponse::Batch(
                cmds.iter()
                    .map(|c| self.apply_command(index, now, c, touches))
                    .collect(),
            )),
            Command::At { now, cmd } => self.apply_command(index, *now, cmd, touches),
            Command::SessionCreate(session) => self
                .session_create(index, session, touches)
                .map(|()| CommandResponse::Bool(true)),
            Command::SessionDestroy { id } => {
                self.session_invalidate(index, now, id, touches);
                Ok(CommandResponse::Bool(true))
            }
            Command::Txn(ops) => Ok(CommandResponse::Txn(
                self.apply_txn(index, now, ops, touches),
            )),
            Command::AutopilotSetConfig { config, cas } => {
                let stored = self.autopilot.as_ref().map_or(0, |c| c.modify_index);
                if cas.is_some_and(|cas| cas != stored) {
                    return Ok(CommandResponse::Bool(false));
                }
                let create_index = self.autopilot.as_ref().map_or(index, |c| c.create_index);
                self.autopilot = Some(AutopilotConfig {
                    create_index,
                    modify_index: index,
                    ..AutopilotConfig::clone(config)
                });
                Ok(CommandResponse::Bool(true))
            }
        }
    }

    /// A KV write, with lock-delay and the sessions table behind `?acquire`/`?release`:
    /// an acquire by a live session of a key under lock-delay answers `false`.
    pub(crate) fn kv_apply(
        &mut self,
        index: u64,
        now: u64,
        req: &KvRequest,
        touches: &mut Vec<Touch>,
    ) -> Result<bool, ApplyError> {
        let Tables { kv, sessions, .. } = self;
        if req.op == KvOp::Lock
            && req.session.as_deref().is_some_and(|s| sessions.exists(s))
            && sessions.delayed(&req.key, now)
        {
            return Ok(false);
        }
        kv.apply_with(index, req, touches, &|id| sessions.exists(id))
    }
}

#[cfg(test)]
mod tests {
    use praetor_types::KvOp;

    use super::*;

    #[test]
    fn command_round_trips_through_msgpack() {
        let mut lock = KvRequest::new(KvOp::Lock, "locks/a");
        lock.session = Some("adf4238a-882b-9ddc-4a9d-5b6758e4159e".into());
        lock.value = vec![0, 159, 146, 150];
        let cmd = Command::Batch(vec![
            Command::Kv(KvRequest::set("web/key1", "v")),
            Command::Kv(lock),
            Command::TombstoneReap { upto_index: 9 },
            Command::Batch(vec![]),
            Command::CatalogRegister(Box::new(praetor_types::RegisterRequest {
                node: "node1".into(),
                address: "10.0.0.1".into(),
                service: Some(praetor_types::NodeService {
                    service: "web".into(),
                    tags: vec!["v1".into()],
                    ..Default::default()
                }),
                checks: vec![praetor_types::HealthCheck {
                    name: "mem".into(),
                    ..Default::default()
                }],
                ..Default::default()
            })),
            Command::CatalogDeregister(praetor_types::DeregisterRequest {
                node: "node1".into(),
                service_id: "web".into(),
                ..Default::default()
            }),
        ]);
        let bytes = rmp_serde::to_vec_named(&cmd).expect("encode");
        let back: Command = rmp_serde::from_slice(&bytes).expect("decode");
        assert_eq!(back, cmd);
    }

    #[test]
    fn response_round_trips_through_msgpack() {
        let resp = CommandResponse::Batch(vec![
            Ok(CommandResponse::Bool(true)),
            Err(ApplyError::InvalidSession("s1".into())),
            Ok(CommandResponse::None),
        ]);
        let bytes = rmp_serde::to_vec_named(&resp).expect("encode");
        let back: CommandResponse = rmp_serde::from_slice(&bytes).expect("decode");
        assert_eq!(back, resp);
    }

    #[test]
    fn invalid_session_text_matches_consul() {
        assert_eq!(
            ApplyError::InvalidSession("abc".into()).to_string(),
            r#"invalid session "abc""#
        );
    }
}
