//! The event endpoints (`/v1/event/fire/<name>`, `/v1/event/list`), as Consul's Go
//! `api.Event` calls them.

use praetor_types::{QueryMeta, QueryOptions, UserEvent};
use reqwest::Method;

use crate::catalog::encode_segment;
use crate::client::{decode_json, query_meta_from_headers, query_params};
use crate::{Client, ClientError};

/// One event to fire: its name, payload and the regexps that pick the agents recording it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFire {
    /// The event name.
    pub name: String,
    /// The opaque payload (keep it small: gossip carries at most 512 bytes).
    pub payload: Vec<u8>,
    /// `?node=`: a regexp over node names.
    pub node_filter: String,
    /// `?service=`: a regexp over service names.
    pub service_filter: String,
    /// `?tag=`: a regexp over the tags of matching services.
    pub tag_filter: String,
}

impl Client {
    /// `PUT /v1/event/fire/<name>`: the fired event, with its ID.
    pub async fn event_fire(&self, fire: &EventFire) -> Result<UserEvent, ClientError> {
        let url = self.url(&format!("/v1/event/fire/{}", encode_segment(&fire.name)));
        let params: Vec<(&str, &str)> = [
            ("node", fire.node_filter.as_str()),
            ("service", fire.service_filter.as_str()),
            ("tag", fire.tag_filter.as_str()),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect();
        let builder = self
            .request(Method::PUT, url.clone())
            .query(&params)
            .body(fire.payload.clone());
        let response = self.send(builder).await?;
        decode_json(&url, response).await
    }

    /// `GET /v1/event/list[?name=]`: the events the agent recorded, oldest first, and the
    /// agent-local index (blocking with `options.min_index`).
    pub async fn event_list(
        &self,
        name: Option<&str>,
        options: &QueryOptions,
    ) -> Result<(Vec<UserEvent>, QueryMeta), ClientError> {
        let url = self.url("/v1/event/list");
        let mut builder = self
            .local(Method::GET, url.clone())
            .query(&query_params(options));
        if let Some(name) = name.filter(|n| !n.is_empty()) {
            builder = builder.query(&[("name", name)]);
        }
        let response = self.send(builder).await?;
        let meta = query_meta_from_headers(response.headers())?;
        let events: Option<Vec<UserEvent>> = decode_json(&url, response).await?;
        Ok((events.unwrap_or_default(), meta))
    }
}

#[cfg(test)]
mod tests {
    use crate::catalog::encode_segment;

    #[test]
    fn event_names_are_escaped_in_the_path() {
        assert_eq!(encode_segment("deploy"), "deploy");
        assert_eq!(encode_segment("a b/c"), "a%20b%2Fc");
        assert_eq!(encode_segment("_rexec"), "_rexec");
    }
}
