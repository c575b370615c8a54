//! `/v1/session/*`: create, destroy, renew, info, node and list, as Consul's
//! `agent/session_endpoint.go` answers them (spec/http-api.md §6).

use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use praetor_agent::BackendError;
use praetor_types::duration::{format_go_duration, parse_go_duration};
use praetor_types::{ServiceCheckRef, Session, SessionBehavior};
use serde_json::{Map, Value};

use crate::app::{App, Call};
use crate::catalog::{answer, read_options};
use crate::decode::json_value;
use crate::error::HttpError;
use crate::params::check_datacenter;
use crate::response::json;

/// Largest session body read.
const MAX_BODY: usize = 64 * 1024;
/// Consul's default lock-delay.
const DEFAULT_LOCK_DELAY: Duration = Duration::from_secs(15);
/// Consul's cap on lock-delay.
const MAX_LOCK_DELAY: Duration = Duration::from_secs(60);
/// `session_ttl_min`'s default.
const MIN_TTL: Duration = Duration::from_secs(10);
/// The longest TTL.
const MAX_TTL: Duration = Duration::from_secs(24 * 3600);
/// The node check every session is bound to by default.
const SERF_HEALTH: &str = "serfHealth";

/// `PUT /v1/session/create`: `{"ID":"<uuid>"}`.
pub(crate) async fn create(app: &App, call: &Call, body: Body) -> Result<Response, HttpError> {
    check_datacenter(&call.params, &app.cfg.datacenter)?;
    let bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(HttpError::BodyRead)?;
    let body = if bytes.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Map::new())
    } else {
        json_value(&bytes)?
    };
    let session = parse_create(&body, &app.backend.agent_self().node_name)?;
    let id = app.backend.session_create(session).await?;
    Ok(json(&serde_json::json!({ "ID": id }), call.pretty))
}

/// The session a create body asks for, with Consul's defaults and validation. Field
/// names match in any case (Patroni sends `name`, `ttl`, `lockdelay`, `checks` …).
pub(crate) fn parse_create(body: &Value, agent_node: &str) -> Result<Session, BackendError> {
    let Value::Object(fields) = body else {
        return Err(BackendError::BadRequest(
            "Request decode failed: expected a JSON object".into(),
        ));
    };
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    };
    let string = |name: &str| -> Result<Option<String>, BackendError> {
        match field(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(BackendError::BadRequest(format!(
                "Request decode failed: {name}: expected a string, got {other}"
            ))),
        }
    };
    let strings = |name: &str| -> Result<Option<Option<Vec<String>>>, BackendError> {
        match field(name) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(BackendError::BadRequest(format!(
                        "Request decode failed: {name}: expected strings, got {other}"
                    ))),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(|v| Some(Some(v))),
            Some(other) => Err(BackendError::BadRequest(format!(
                "Request decode failed: {name}: expected an array, got {other}"
            ))),
        }
    };

    let lock_delay = match field("LockDelay") {
        None | Some(Value::Null) => DEFAULT_LOCK_DELAY,
        Some(Value::Number(n)) => Duration::from_nanos(n.as_f64().map_or(0, |f| f.max(0.0) as u64)),
        Some(Value::String(s)) => parse_go_duration(s).map_err(|e| {
            BackendError::BadRequest(format!("Request decode failed: LockDelay: {e}"))
        })?,
        Some(other) => {
            return Err(BackendError::BadRequest(format!(
                "Request decode failed: LockDelay: unexpected {other}"
            )));
        }
    };
    // Below 1000ns the number is taken as seconds (Consul's compatibility rule).
    let lock_delay = if lock_delay < Duration::from_nanos(1000) {
        Duration::from_secs(lock_delay.as_nanos() as u64)
    } else {
        lock_delay
    }
    .min(MAX_LOCK_DELAY);

    let behavior = match string("Behavior")?.as_deref() {
        None | Some("") | Some("release") => SessionBehavior::Release,
        Some("delete") => SessionBehavior::Delete,
        Some(other) => {
            return Err(BackendError::Internal(format!(
                "Invalid Behavior setting '{other}'"
            )));
        }
    };

    let ttl = string("TTL")?.unwrap_or_default();
    let ttl = match ttl.as_str() {
        "" => String::new(),
        given => {
            let d = parse_go_duration(given).map_err(|e| {
                BackendError::Internal(format!("Session TTL '{given}' invalid: {e}"))
            })?;
            if d.is_zero() {
                String::new()
            } else if d < MIN_TTL || d > MAX_TTL {
                return Err(BackendError::Internal(format!(
                    "Invalid Session TTL '{}', must be between [{}={}]",
                    d.as_nanos(),
                    format_go_duration(MIN_TTL),
                    format_go_duration(MAX_TTL)
                )));
            } else {
                given.to_owned()
            }
        }
    };

    // `Checks` (the old name): `[]` means none at all; a lone `serfHealth` defers to
    // `NodeChecks`; anything else is the node check list.
    let node_checks_given = strings("NodeChecks")?;
    let node_checks = match strings("Checks")? {
        Some(Some(checks)) if checks != [SERF_HEALTH] => {
            let mut all = node_checks_given.flatten().unwrap_or_default();
            for c in checks {
                if !all.contains(&c) {
                    all.push(c);
                }
            }
            Some(all)
        }
        Some(None) if node_checks_given.is_none() => None,
        _ => node_checks_given.unwrap_or_else(|| Some(vec![SERF_HEALTH.to_owned()])),
    };
    let service_checks = match field("ServiceChecks") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            praetor_types::decode::from_value::<Vec<ServiceCheckRef>>(v).map_err(|e| {
                BackendError::BadRequest(format!("Request decode failed: ServiceChecks: {e}"))
            })?,
        ),
    };

    Ok(Session {
        id: String::new(),
        name: string("Name")?.unwrap_or_default(),
        node: string("Node")?
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| agent_node.to_owned()),
        lock_delay: lock_delay.as_nanos() as u64,
        behavior,
        ttl,
        node_checks: node_checks.filter(|c| !c.is_empty()),
        service_checks: service_checks.filter(|c| !c.is_empty()),
        create_index: 0,
        modify_index: 0,
    })
}

/// `PUT /v1/session/destroy/<id>`: `true`, also for an unknown session.
pub(crate) async fn destroy(app: &App, call: &Call) -> Result<Response, HttpError> {
    check_datacenter(&call.params, &app.cfg.datacenter)?;
    let id = session_id(call)?;
    let done = app.backend.session_destroy(id).await?;
    Ok(json(&done, call.pretty))
}

/// `PUT /v1/session/renew/<id>`: `[Session]`, or 404 for an unknown session.
pub(crate) async fn renew(app: &App, call: &Call) -> Result<Response, HttpError> {
    check_datacenter(&call.params, &app.cfg.datacenter)?;
    let id = session_id(call)?;
    let sessions = app.backend.session_renew(id).await?;
    if sessions.is_empty() {
        return Err(BackendError::NotFound(format!("Session id '{id}' not found")).into());
    }
    Ok(json(&sessions, call.pretty))
}

/// `GET /v1/session/info/<id>`: `[Session]` or `[]`.
pub(crate) async fn info(app: &App, call: &Call) -> Result<Response, HttpError> {
    let (opts, _) = read_options(app, call)?;
    let id = session_id(call)?;
    let (meta, sessions) = app.backend.session_info(id, opts).await?;
    answer(call, &meta, &sessions)
}

/// `GET /v1/session/node/<node>`.
pub(crate) async fn node(app: &App, call: &Call) -> Result<Response, HttpError> {
    let (opts, _) = read_options(app, call)?;
    if call.arg.is_empty() {
        return Err(HttpError::MissingNodeName);
    }
    let (meta, sessions) = app.backend.session_node(&call.arg, opts).await?;
    answer(call, &meta, &sessions)
}

/// `GET /v1/session/list`.
pub(crate) async fn list(app: &App, call: &Call) -> Result<Response, HttpError> {
    let (opts, _) = read_options(app, call)?;
    let (meta, sessions) = app.backend.session_list(opts).await?;
    answer(call, &meta, &sessions)
}

fn session_id(call: &Call) -> Result<&str, HttpError> {
    if call.arg.is_empty() {
        return Err(BackendError::BadRequest("Missing session".into()).into());
    }
    Ok(&call.arg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Session {
        parse_create(&serde_json::from_str(body).unwrap(), "agent1").unwrap()
    }

    #[test]
    fn defaults_are_consuls() {
        let s = parse("{}");
        assert_eq!(s.node, "agent1");
        assert_eq!(s.lock_delay, 15_000_000_000);
        assert_eq!(s.behavior, SessionBehavior::Release);
        assert_eq!(s.node_checks, Some(vec!["serfHealth".to_owned()]));
        assert_eq!(s.ttl, "");
    }

    #[test]
    fn patroni_shape_has_no_checks() {
        let s = parse(
            r#"{"name":"p","checks":[],"lockdelay":"0.001s","behavior":"delete","ttl":"10.0s"}"#,
        );
        assert_eq!(s.name, "p");
        assert_eq!(s.node_checks, None);
        assert_eq!(s.lock_delay, 1_000_000);
        assert_eq!(s.behavior, SessionBehavior::Delete);
        assert_eq!(s.ttl, "10.0s");
    }

    #[test]
    fn small_lock_delays_are_seconds_and_capped() {
        assert_eq!(parse(r#"{"LockDelay":15}"#).lock_delay, 15_000_000_000);
        assert_eq!(parse(r#"{"LockDelay":"500ns"}"#).lock_delay, 60_000_000_000);
        assert_eq!(parse(r#"{"LockDelay":"2s"}"#).lock_delay, 2_000_000_000);
        assert_eq!(parse(r#"{"LockDelay":0}"#).lock_delay, 0);
    }

    #[test]
    fn ttl_out_of_range_is_consuls_error() {
        let err = parse_create(&serde_json::json!({"TTL": "5s"}), "a").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Invalid Session TTL '5000000000', must be between [10s=24h0m0s]"
        );
        assert_eq!(parse(r#"{"TTL":"0s"}"#).ttl, "");
    }

    #[test]
    fn lone_serf_health_in_checks_defers_to_node_checks() {
        let s = parse(r#"{"Checks":["serfHealth"],"NodeChecks":["a"]}"#);
        assert_eq!(s.node_checks, Some(vec!["a".to_owned()]));
        let s = parse(r#"{"ServiceChecks":[{"ID":"svc"}],"NodeChecks":[]}"#);
        assert_eq!(s.node_checks, None);
        assert_eq!(s.service_checks.unwrap()[0].id, "svc");
    }
}
