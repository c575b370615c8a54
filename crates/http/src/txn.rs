//! `PUT /v1/txn`: atomic KV, catalog and session operations, as Consul's
//! `agent/txn_endpoint.go` answers them (spec/http-api.md §3).

use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use praetor_types::decode::from_value;
use praetor_types::{
    HealthCheck, Node, NodeService, TxnCatalogVerb, TxnError, TxnKvOp, TxnKvVerb, TxnOp,
};
use serde_json::{Value, json as json_value};

use crate::app::{App, Call};
use crate::error::HttpError;
use crate::params::{check_datacenter, query_options};
use crate::response::{X_CONSUL_INDEX, json, set_meta};

/// Consul's limit on operations per transaction (since 1.14).
pub(crate) const MAX_OPS: usize = 128;
/// `limits.txn_max_req_len`'s default.
const MAX_BODY: usize = 512 * 1024;

/// `PUT /v1/txn`: 200 with the results, 409 with the errors of a rolled-back one.
pub(crate) async fn handle(app: &App, call: &Call, body: Body) -> Result<Response, HttpError> {
    check_datacenter(&call.params, &app.cfg.datacenter)?;
    let opts = query_options(&call.params)?;
    let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return Ok(plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("Request body too large, max size: {MAX_BODY} bytes"),
            ));
        }
    };
    let raw: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => {
            return Ok(plain(
                StatusCode::BAD_REQUEST,
                format!("Failed to parse body: {e}"),
            ));
        }
    };
    let Value::Array(items) = raw else {
        return Ok(plain(
            StatusCode::BAD_REQUEST,
            "Failed to parse body: expected an array of operations".into(),
        ));
    };
    if items.len() > MAX_OPS {
        return Ok(plain(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "Transaction contains too many operations ({} > {MAX_OPS})",
                items.len()
            ),
        ));
    }
    let mut ops = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    for (op_index, item) in items.iter().enumerate() {
        match parse_op(item) {
            Ok(op) => ops.push(op),
            Err(ParseError::Body(e)) => {
                return Ok(plain(
                    StatusCode::BAD_REQUEST,
                    format!("Failed to parse body: {e}"),
                ));
            }
            Err(ParseError::Op(what)) => errors.push(TxnError { op_index, what }),
        }
    }
    if !errors.is_empty() {
        return Ok(rolled_back(&errors, call.pretty));
    }
    let (meta, outcome) = app.backend.txn(ops, opts).await?;
    Ok(match outcome {
        Ok(results) => {
            let mut body = json_value!({ "Results": results, "Errors": null });
            if let Some(meta) = &meta {
                body["Index"] = meta.index.into();
                body["LastContact"] = (meta.last_contact.as_millis() as u64).into();
                body["KnownLeader"] = meta.known_leader.into();
            }
            let mut resp = json(&body, call.pretty);
            if let Some(meta) = &meta {
                set_meta(resp.headers_mut(), meta);
                resp.headers_mut().remove(X_CONSUL_INDEX);
            }
            resp
        }
        Err(errors) => rolled_back(&errors, call.pretty),
    })
}

fn rolled_back(errors: &[TxnError], pretty: bool) -> Response {
    let mut resp = json(&json_value!({ "Results": null, "Errors": errors }), pretty);
    *resp.status_mut() = StatusCode::CONFLICT;
    resp
}

fn plain(status: StatusCode, text: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response()
}

enum ParseError {
    /// The body is malformed (400).
    Body(String),
    /// The operation is well-formed JSON but not a valid operation (409 entry).
    Op(String),
}

/// A field of `obj` by name, in any case.
fn field<'a>(obj: &'a Value, name: &str) -> Option<&'a Value> {
    obj.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
        .filter(|v| !v.is_null())
}

fn str_field(obj: &Value, name: &str) -> Result<String, ParseError> {
    match field(obj, name) {
        None => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(ParseError::Body(format!(
            "{name}: expected a string, got {other}"
        ))),
    }
}

fn u64_field(obj: &Value, name: &str) -> Result<u64, ParseError> {
    match field(obj, name) {
        None => Ok(0),
        Some(v) => v.as_u64().ok_or_else(|| {
            ParseError::Body(format!("{name}: expected an unsigned integer, got {v}"))
        }),
    }
}

fn parse_op(item: &Value) -> Result<TxnOp, ParseError> {
    if let Some(kv) = field(item, "KV") {
        let verb_name = str_field(kv, "Verb")?;
        let verb = TxnKvVerb::parse(&verb_name)
            .ok_or_else(|| ParseError::Op(format!("unknown KV verb {verb_name:?}")))?;
        let value = match str_field(kv, "Value")? {
            s if s.is_empty() => Vec::new(),
            s => STANDARD
                .decode(s.as_bytes())
                .map_err(|e| ParseError::Body(format!("Value: {e}")))?,
        };
        let session = Some(str_field(kv, "Session")?).filter(|s| !s.is_empty());
        return Ok(TxnOp::Kv(TxnKvOp {
            verb,
            key: str_field(kv, "Key")?,
            value,
            flags: u64_field(kv, "Flags")?,
            index: u64_field(kv, "Index")?,
            session,
        }));
    }
    let catalog_verb = |obj: &Value| -> Result<TxnCatalogVerb, ParseError> {
        let name = str_field(obj, "Verb")?;
        TxnCatalogVerb::parse(&name).ok_or_else(|| ParseError::Op(format!("unknown verb {name:?}")))
    };
    let decode = |v: Option<&Value>, what: &str| -> Result<Value, ParseError> {
        v.cloned()
            .ok_or_else(|| ParseError::Op(format!("missing {what}")))
    };
    if let Some(op) = field(item, "Node") {
        let verb = catalog_verb(op)?;
        let node: Node = from_value(&decode(field(op, "Node"), "Node")?)
            .map_err(|e| ParseError::Body(e.to_string()))?;
        return Ok(TxnOp::Node(verb, node));
    }
    if let Some(op) = field(item, "Service") {
        let verb = catalog_verb(op)?;
        let node = str_field(op, "Node")?;
        let service: NodeService = from_value(&decode(field(op, "Service"), "Service")?)
            .map_err(|e| ParseError::Body(e.to_string()))?;
        return Ok(TxnOp::Service(verb, node, service));
    }
    if let Some(op) = field(item, "Check") {
        let verb = catalog_verb(op)?;
        let check: HealthCheck = from_value(&decode(field(op, "Check"), "Check")?)
            .map_err(|e| ParseError::Body(e.to_string()))?;
        return Ok(TxnOp::Check(verb, check));
    }
    if let Some(op) = field(item, "Session") {
        let verb = str_field(op, "Verb")?;
        if verb != "delete" {
            return Err(ParseError::Op(format!("unknown session verb {verb:?}")));
        }
        let session = decode(field(op, "Session"), "Session")?;
        return Ok(TxnOp::SessionDelete(str_field(&session, "ID")?));
    }
    Err(ParseError::Op("unknown operation type".into()))
}

#[cfg(test)]
mod tests {
    use praetor_types::{KvEntry, TxnResult};

    use super::*;

    /// The JSON of one result entry (for tests and docs): `{"KV":{…}}` etc.
    fn result_json(r: &TxnResult) -> Value {
        serde_json::to_value(r).unwrap_or(Value::Null)
    }

    #[test]
    fn result_entries_are_keyed_by_kind() {
        let r = TxnResult::Kv(KvEntry {
            key: "a".into(),
            create_index: 8,
            modify_index: 8,
            ..KvEntry::default()
        });
        assert_eq!(
            result_json(&r),
            serde_json::json!({"KV":{"LockIndex":0,"Key":"a","Flags":0,"Value":null,"CreateIndex":8,"ModifyIndex":8}})
        );
    }

    #[test]
    fn kv_ops_parse_in_any_case() {
        let op = parse_op(
            &serde_json::json!({"kv":{"verb":"lock","key":"k","value":"dg==","session":"s"}}),
        );
        let Ok(TxnOp::Kv(kv)) = op else {
            panic!("not a kv op")
        };
        assert_eq!(
            (kv.verb, kv.value, kv.session.as_deref()),
            (TxnKvVerb::Lock, b"v".to_vec(), Some("s"))
        );
    }
}
