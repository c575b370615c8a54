//! User events (Consul's `agent/user_event.go`): firing one into LAN gossip, receiving
//! them, keeping those whose node / service / tag filters match this agent in a ring of
//! the last [`EVENT_BUFFER_SIZE`], and listing them with `/v1/event/list`'s blocking.
//!
//! Every agent fires straight into its own LAN pool (a client agent does not forward to
//! a server first: there are no ACLs to check there, and gossip reaches every member
//! either way). On the wire an event is the gossip user event `consul:event:<name>`
//! whose payload is the msgpack [`Envelope`]. The internal `_rexec` event starts a remote
//! execution (`remote_exec`) instead of being recorded.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use praetor_gossip::Membership;
use praetor_types::event::USER_EVENT_VERSION;
use praetor_types::{NodeService, QueryOptions, UserEvent};
use regex::Regex;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::{Backend, BackendError, LocalAgent};

#[cfg(test)]
mod tests;

/// How many events an agent keeps (Consul's `eventBuf` size).
pub const EVENT_BUFFER_SIZE: usize = 256;
/// The gossip name prefix of user events (Consul's `userEventName`).
pub const GOSSIP_PREFIX: &str = "consul:event:";
/// The internal event `consul exec` fires (Consul's `remoteExecName`).
pub const REMOTE_EXEC_EVENT: &str = "_rexec";
/// Serf's default `UserEventSizeLimit`: gossip name plus encoded payload.
pub const USER_EVENT_SIZE_LIMIT: usize = 512;

/// An event as gossip carries it (Consul's msgpack `UserEvent` with its short keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Envelope {
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "n")]
    name: String,
    #[serde(rename = "p", with = "serde_bytes_compat", default)]
    payload: Vec<u8>,
    #[serde(rename = "nf", default)]
    node_filter: String,
    #[serde(rename = "sf", default)]
    service_filter: String,
    #[serde(rename = "tf", default)]
    tag_filter: String,
    #[serde(rename = "v", default)]
    version: u32,
}

/// Payload bytes as one msgpack `bin`.
mod serde_bytes_compat {
    pub(super) use praetor_types::kv::raw_bytes::{deserialize, serialize};
}

impl Envelope {
    fn from_event(ev: &UserEvent) -> Self {
        Self {
            id: ev.id.clone(),
            name: ev.name.clone(),
            payload: ev.payload.clone(),
            node_filter: ev.node_filter.clone(),
            service_filter: ev.service_filter.clone(),
            tag_filter: ev.tag_filter.clone(),
            version: ev.version,
        }
    }

    fn into_event(self, ltime: u64) -> UserEvent {
        UserEvent {
            id: self.id,
            name: self.name,
            payload: self.payload,
            node_filter: self.node_filter,
            service_filter: self.service_filter,
            tag_filter: self.tag_filter,
            version: self.version,
            ltime,
        }
    }

    pub(crate) fn encode(&self) -> Result<Vec<u8>, BackendError> {
        rmp_serde::to_vec_named(self)
            .map_err(|e| BackendError::Internal(format!("UserEvent encoding failed: {e}")))
    }

    pub(crate) fn decode(raw: &[u8]) -> Option<Self> {
        rmp_serde::from_slice(raw).ok()
    }
}

/// Consul's `validateUserEventParams`, with its texts.
pub fn validate(ev: &UserEvent) -> Result<(), BackendError> {
    let bad = |s: String| Err(BackendError::Internal(s));
    if ev.name.is_empty() {
        return bad("User event missing name".into());
    }
    if !ev.tag_filter.is_empty() && ev.service_filter.is_empty() {
        return bad("Cannot provide tag filter without service filter".into());
    }
    for (what, filter) in [
        ("node", &ev.node_filter),
        ("service", &ev.service_filter),
        ("tag", &ev.tag_filter),
    ] {
        if !filter.is_empty()
            && let Err(e) = Regex::new(filter)
        {
            return bad(format!("Invalid {what} filter: {e}"));
        }
    }
    Ok(())
}

/// Whether an event's filters select this agent (Consul's `shouldProcessUserEvent`): the
/// node filter must match the node name; the service filter some local service's name
/// or ID, and then the tag filter one of that service's tags. A filter that does not
/// compile selects nothing.
pub fn should_process(ev: &UserEvent, node_name: &str, services: &[NodeService]) -> bool {
    let compile = |f: &str| Regex::new(f).ok();
    if !ev.node_filter.is_empty() {
        match compile(&ev.node_filter) {
            Some(re) if re.is_match(node_name) => {}
            _ => return false,
        }
    }
    if ev.service_filter.is_empty() {
        return true;
    }
    let Some(service_re) = compile(&ev.service_filter) else {
        return false;
    };
    let tag_re = if ev.tag_filter.is_empty() {
        None
    } else {
        match compile(&ev.tag_filter) {
            Some(re) => Some(re),
            None => return false,
        }
    };
    services.iter().any(|s| {
        (service_re.is_match(&s.service) || service_re.is_match(&s.id))
            && tag_re
                .as_ref()
                .is_none_or(|re| s.tags.iter().any(|t| re.is_match(t)))
    })
}

/// The index `/v1/event/list` reports for `events`: from the newest one's ID, 1 when
/// there are none (never 0).
pub fn list_index(events: &[UserEvent]) -> u64 {
    events.last().and_then(UserEvent::index).unwrap_or(1).max(1)
}

/// How long event list reads may block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserEventsConfig {
    /// The wait without `?wait` (`default_query_time`).
    pub default_query_time: Duration,
    /// The longest wait (`max_query_time`).
    pub max_query_time: Duration,
}

impl Default for UserEventsConfig {
    fn default() -> Self {
        Self {
            default_query_time: Duration::from_secs(300),
            max_query_time: Duration::from_secs(600),
        }
    }
}

/// This agent's user events: fire, record, list. Cheap to clone.
#[derive(Clone)]
pub struct UserEvents {
    lan: Arc<dyn Membership>,
    buffer: Arc<Mutex<VecDeque<UserEvent>>>,
    /// Bumped on every recorded event; blocked lists wait on it.
    generation: watch::Sender<u64>,
    cfg: UserEventsConfig,
}

/// The task that receives events from gossip; see [`UserEventsTask::run`].
pub struct UserEventsTask {
    events: UserEvents,
    incoming: broadcast::Receiver<praetor_gossip::UserEvent>,
}

impl UserEvents {
    /// Events over the LAN pool `lan`. Subscribes at once, so events arriving before the
    /// task runs are not lost.
    pub fn new(lan: Arc<dyn Membership>, cfg: UserEventsConfig) -> (Self, UserEventsTask) {
        let incoming = lan.user_events();
        let events = Self {
            lan,
            buffer: Arc::default(),
            generation: watch::channel(0).0,
            cfg,
        };
        (
            events.clone(),
            UserEventsTask {
                events: events.clone(),
                incoming,
            },
        )
    }

    /// Fires `event` (name, payload, filters) into LAN gossip; answers it with its new
    /// ID and version, as `PUT /v1/event/fire` does.
    pub async fn fire(&self, mut event: UserEvent) -> Result<UserEvent, BackendError> {
        validate(&event)?;
        event.id = uuid::Uuid::new_v4().to_string();
        event.version = USER_EVENT_VERSION;
        event.ltime = 0;
        let gossip_name = format!("{GOSSIP_PREFIX}{}", event.name);
        let raw = Envelope::from_event(&event).encode()?;
        if gossip_name.len() + raw.len() > USER_EVENT_SIZE_LIMIT {
            return Err(BackendError::Internal(format!(
                "user event exceeds configured limit of {USER_EVENT_SIZE_LIMIT} bytes before encoding"
            )));
        }
        self.lan
            .fire(&gossip_name, Bytes::from(raw))
            .await
            .map_err(|e| BackendError::Internal(e.to_string()))?;
        debug!(event_name = %event.name, event_id = %event.id, "fired user event");
        Ok(event)
    }

    /// Records an event that passed the filters (oldest dropped past the buffer size).
    pub fn ingest(&self, event: UserEvent) {
        debug!(event_name = %event.name, event_id = %event.id, "new event");
        if let Ok(mut buf) = self.buffer.lock() {
            buf.push_back(event);
            while buf.len() > EVENT_BUFFER_SIZE {
                buf.pop_front();
            }
        }
        self.generation.send_modify(|g| *g += 1);
    }

    /// The recorded events, oldest first, only those named `name` when given.
    pub fn recorded(&self, name: Option<&str>) -> Vec<UserEvent> {
        self.buffer
            .lock()
            .map(|buf| {
                buf.iter()
                    .filter(|e| name.is_none_or(|n| e.name == n))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `GET /v1/event/list`: the index and the events. With `opts.min_index` set, waits
    /// while the index still equals it (the index is not ordered, so only "different"
    /// counts), up to `?wait` (default `default_query_time`, at most `max_query_time`).
    pub async fn list(&self, name: Option<&str>, opts: QueryOptions) -> (u64, Vec<UserEvent>) {
        let wait = opts
            .max_wait
            .unwrap_or(self.cfg.default_query_time)
            .min(self.cfg.max_query_time);
        let deadline = tokio::time::Instant::now() + wait;
        let mut changed = self.generation.subscribe();
        loop {
            changed.borrow_and_update();
            let events = self.recorded(name);
            let index = list_index(&events);
            if opts.min_index == 0 || index != opts.min_index {
                return (index, events);
            }
            match tokio::time::timeout_at(deadline, changed.changed()).await {
                Ok(Ok(())) => {}
                _ => return (index, events),
            }
        }
    }
}

impl UserEventsTask {
    /// Receives gossip user events until `shutdown`: decodes `consul:event:` ones, keeps
    /// those whose filters select this agent (its node name and `local`'s services), and
    /// hands `_rexec` to remote execution when `remote_exec` (a backend for its KV reads
    /// and writes) is given, ignoring it otherwise (`disable_remote_exec`).
    pub async fn run(
        mut self,
        node_name: String,
        local: LocalAgent,
        remote_exec: Option<Arc<dyn Backend>>,
        shutdown: CancellationToken,
    ) {
        let mut execs = tokio::task::JoinSet::new();
        loop {
            let received = tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                Some(_) = execs.join_next(), if !execs.is_empty() => continue,
                r = self.incoming.recv() => r,
            };
            let raw = match received {
                Ok(raw) => raw,
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    warn!(missed = n, "user events dropped: receiver lagged");
                    continue;
                }
                Err(broadcast::error::RecvError::Closed) => break,
            };
            let Some(event) = self.decode(&raw) else {
                continue;
            };
            if !should_process(&event, &node_name, &local.services()) {
                continue;
            }
            if event.name == REMOTE_EXEC_EVENT {
                match &remote_exec {
                    Some(backend) => {
                        let (backend, node) = (backend.clone(), node_name.clone());
                        let stop = shutdown.clone();
                        execs.spawn(async move {
                            tokio::select! {
                                biased;
                                () = stop.cancelled() => {}
                                () = crate::remote_exec::handle(backend, node, event) => {}
                            }
                        });
                    }
                    None => info!(
                        event_name = %event.name,
                        event_id = %event.id,
                        "ignoring remote exec event, disabled."
                    ),
                }
                continue;
            }
            self.events.ingest(event);
        }
        execs.shutdown().await;
    }

    fn decode(&self, raw: &praetor_gossip::UserEvent) -> Option<UserEvent> {
        let name = raw.name.strip_prefix(GOSSIP_PREFIX)?;
        let Some(envelope) = Envelope::decode(&raw.payload) else {
            warn!(event_name = name, "Failed to decode event");
            return None;
        };
        if envelope.version > USER_EVENT_VERSION {
            warn!(version = envelope.version, event = %envelope.name,
                "Event version may have unsupported features");
        }
        Some(envelope.into_event(raw.ltime))
    }
}
