//! The session endpoints (`/v1/session/*`), as Consul's Go `api.Session` calls them.

use std::time::Duration;

use praetor_types::{QueryMeta, QueryOptions, Session, SessionBehavior};
use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};

use crate::catalog::encode_segment;
use crate::client::{decode_json, query_meta_from_headers, query_params};
use crate::{Client, ClientError};

/// The body of `PUT /v1/session/create`; unset fields take the agent's defaults (the
/// agent's node, `serfHealth`, a 15 s lock-delay, `release`, no TTL).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SessionCreate {
    /// A human-readable name.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// The node the session belongs to (default: the agent's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// Lock-delay, sent as a Go duration string.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_lock_delay"
    )]
    pub lock_delay: Option<Duration>,
    /// What invalidation does to held keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub behavior: Option<SessionBehavior>,
    /// The TTL as a Go duration (`"15s"`); `None` for none.
    #[serde(rename = "TTL", skip_serializing_if = "Option::is_none")]
    pub ttl: Option<String>,
    /// Node checks to bind to; `Some(vec![])` means no checks at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_checks: Option<Vec<String>>,
}

fn serialize_lock_delay<S: serde::Serializer>(
    delay: &Option<Duration>,
    s: S,
) -> Result<S::Ok, S::Error> {
    // `Some` is guaranteed by skip_serializing_if; an exact nanosecond count keeps it lossless.
    let nanos = delay.map_or(0, |d| d.as_nanos());
    s.serialize_str(&format!("{nanos}ns"))
}

#[derive(Deserialize)]
struct CreatedSession {
    #[serde(rename = "ID")]
    id: String,
}

impl Client {
    /// `PUT /v1/session/create`: the new session's ID.
    pub async fn session_create(&self, spec: &SessionCreate) -> Result<String, ClientError> {
        let url = self.url("/v1/session/create");
        let response = self
            .send(self.request(Method::PUT, url.clone()).json(spec))
            .await?;
        let created: CreatedSession = decode_json(&url, response).await?;
        Ok(created.id)
    }

    /// `PUT /v1/session/destroy/<id>`: invalidates the session, releasing (or deleting) its
    /// keys; destroying an unknown session is not an error.
    pub async fn session_destroy(&self, id: &str) -> Result<(), ClientError> {
        let url = self.url(&format!("/v1/session/destroy/{}", encode_segment(id)));
        let response = self.send(self.request(Method::PUT, url.clone())).await?;
        let _destroyed: bool = decode_json(&url, response).await?;
        Ok(())
    }

    /// `PUT /v1/session/renew/<id>`: the renewed session, or `None` when it no longer
    /// exists (the agent's 404).
    pub async fn session_renew(&self, id: &str) -> Result<Option<Session>, ClientError> {
        let url = self.url(&format!("/v1/session/renew/{}", encode_segment(id)));
        let response = self
            .send_allowing(
                self.request(Method::PUT, url.clone()),
                Some(StatusCode::NOT_FOUND),
            )
            .await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let sessions: Option<Vec<Session>> = decode_json(&url, response).await?;
        Ok(sessions.unwrap_or_default().into_iter().next())
    }

    /// `GET /v1/session/info/<id>`: the session, or `None` when it does not exist.
    pub async fn session_info(
        &self,
        id: &str,
        options: &QueryOptions,
    ) -> Result<(Option<Session>, QueryMeta), ClientError> {
        let path = format!("/v1/session/info/{}", encode_segment(id));
        let (sessions, meta) = self.session_read(&path, options).await?;
        Ok((sessions.into_iter().next(), meta))
    }

    /// `GET /v1/session/list`: every session.
    pub async fn session_list(
        &self,
        options: &QueryOptions,
    ) -> Result<(Vec<Session>, QueryMeta), ClientError> {
        self.session_read("/v1/session/list", options).await
    }

    async fn session_read(
        &self,
        path: &str,
        options: &QueryOptions,
    ) -> Result<(Vec<Session>, QueryMeta), ClientError> {
        let url = self.url(path);
        let builder = self
            .request(Method::GET, url.clone())
            .query(&query_params(options));
        let response = self.send(builder).await?;
        let meta = query_meta_from_headers(response.headers())?;
        let sessions: Option<Vec<Session>> = decode_json(&url, response).await?;
        Ok((sessions.unwrap_or_default(), meta))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_body_sends_only_what_is_set() {
        let spec = SessionCreate {
            name: "lock".into(),
            ttl: Some("15s".into()),
            behavior: Some(SessionBehavior::Delete),
            lock_delay: Some(Duration::from_millis(1)),
            ..SessionCreate::default()
        };
        assert_eq!(
            serde_json::to_value(&spec).unwrap(),
            serde_json::json!({"Name":"lock","TTL":"15s","Behavior":"delete","LockDelay":"1000000ns"})
        );
        assert_eq!(
            serde_json::to_value(SessionCreate::default()).unwrap(),
            serde_json::json!({})
        );
    }
}
