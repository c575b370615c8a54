//! Query-string parsing with Go `net/url` semantics and the options every endpoint
//! shares: blocking (`?index`, `?wait`), consistency (`?stale`, `?consistent`,
//! `?leader`, `?max_stale`, `?cached`), `?dc`, `?pretty`, and the Enterprise-only
//! `?ns`/`?partition` refusals (spec/http-api.md §1.2, §1.5–§1.7, §1.10).

use std::time::Duration;

use axum::http::HeaderMap;
use praetor_types::{Consistency, QueryOptions};

use crate::duration::{DurationError, parse_go_duration};
use crate::error::HttpError;
use crate::path::{percent_decode, query_escape};

/// Decoded query parameters in request order; repeated keys keep every value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct QueryParams {
    pairs: Vec<(String, String)>,
}

impl QueryParams {
    /// Parses a raw query string as Go's `url.ParseQuery` does: `&`-separated pairs,
    /// `+` as space, pairs with bad escapes or a `;` skipped.
    pub(crate) fn parse(raw: Option<&str>) -> Self {
        let mut pairs = Vec::new();
        for part in raw.unwrap_or("").split('&') {
            if part.is_empty() || part.contains(';') {
                continue;
            }
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            let decoded = percent_decode(k, true)
                .zip(percent_decode(v, true))
                .and_then(|(k, v)| Some((String::from_utf8(k).ok()?, String::from_utf8(v).ok()?)));
            if let Some(pair) = decoded {
                pairs.push(pair);
            }
        }
        Self { pairs }
    }

    /// Whether `key` is present at all (presence flags such as `?recurse`).
    pub(crate) fn has(&self, key: &str) -> bool {
        self.pairs.iter().any(|(k, _)| k == key)
    }

    /// The first value of `key` (`""` when present without a value).
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `key` when present and non-empty, as Go's `Get(k) != ""`.
    pub(crate) fn non_empty(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|v| !v.is_empty())
    }

    /// Every value of `key`, in request order (repeatable parameters such as `?tag`).
    pub(crate) fn all(&self, key: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Re-encodes like Go's `url.Values.Encode`: keys sorted, values in request order.
    pub(crate) fn encode(&self) -> String {
        let mut sorted: Vec<&(String, String)> = self.pairs.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0)); // stable: values keep their order
        sorted
            .iter()
            .map(|(k, v)| format!("{}={}", query_escape(k), query_escape(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// 400 when more than one of `flags` is present.
    pub(crate) fn reject_conflicting(&self, flags: &[&str]) -> Result<(), HttpError> {
        if flags.iter().filter(|f| self.has(f)).count() > 1 {
            return Err(HttpError::ConflictingFlags(self.encode()));
        }
        Ok(())
    }
}

/// Blocking and consistency options, in Consul's order: consistency first, then
/// `?wait`, then `?index`.
pub(crate) fn query_options(params: &QueryParams) -> Result<QueryOptions, HttpError> {
    let (consistency, max_stale) = consistency(params)?;
    let max_wait = match params.non_empty("wait") {
        None => None,
        Some(w) => match parse_go_duration(w) {
            Ok(d) if d.is_zero() => None,
            Ok(d) => Some(d),
            // Consul accepts a negative wait and then uses the default.
            Err(DurationError::Negative(_)) => None,
            Err(_) => return Err(HttpError::InvalidWait),
        },
    };
    let min_index = match params.non_empty("index") {
        None => 0,
        Some(i) => parse_uint(i).map_err(|_| HttpError::InvalidIndex)?,
    };
    Ok(QueryOptions {
        min_index,
        max_wait,
        consistency,
        max_stale,
    })
}

/// The consistency mode and, for `?max_stale=<d>` (d > 0, as Consul's
/// `MaxStaleDuration > 0`), the staleness bound; `?leader` overrides both.
fn consistency(params: &QueryParams) -> Result<(Consistency, Option<Duration>), HttpError> {
    let stale = params.has("stale");
    let consistent = params.has("consistent");
    if stale && consistent {
        return Err(HttpError::StaleWithConsistent);
    }
    if params.has("cached") && consistent {
        return Err(HttpError::CachedWithConsistent);
    }
    let mut mode = if stale {
        Consistency::Stale
    } else if consistent {
        Consistency::Consistent
    } else {
        Consistency::Default
    };
    let mut max_stale = None;
    if let Some(v) = params.non_empty("max_stale") {
        match parse_go_duration(v) {
            Ok(d) if !consistent && !d.is_zero() => {
                mode = Consistency::Stale;
                max_stale = Some(d);
            }
            Ok(_) => {}
            Err(_) => return Err(HttpError::InvalidMaxStale(v.to_owned())),
        }
    }
    if params.has("leader") {
        mode = Consistency::Default;
        max_stale = None;
    }
    Ok((mode, max_stale))
}

/// `?passing`: absent is false, present without a value is true, else a Go boolean
/// (`strconv.ParseBool`: `1 t T TRUE true True`, `0 f F FALSE false False`).
pub(crate) fn passing(params: &QueryParams) -> Result<bool, HttpError> {
    match params.get("passing") {
        None | Some("") => Ok(params.has("passing")),
        Some("1" | "t" | "T" | "TRUE" | "true" | "True") => Ok(true),
        Some("0" | "f" | "F" | "FALSE" | "false" | "False") => Ok(false),
        Some(_) => Err(HttpError::InvalidPassing),
    }
}

/// `?filter`: the compiled expression when present and non-empty.
pub(crate) fn filter(params: &QueryParams) -> Result<Option<praetor_filter::Filter>, HttpError> {
    Ok(params
        .non_empty("filter")
        .map(praetor_filter::Filter::parse)
        .transpose()?)
}

/// `?node-meta=key:value` pairs (repeatable, all must hold); a value without `:` asks
/// for an empty value, as Consul's `parseMetaFilter` reads it.
pub(crate) fn node_meta(params: &QueryParams) -> Vec<(String, String)> {
    params
        .all("node-meta")
        .into_iter()
        .map(|kv| match kv.split_once(':') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (kv, String::new()),
        })
        .collect()
}

/// Whether `meta` has every `key:value` pair of `wanted`.
pub(crate) fn meta_matches(
    meta: &std::collections::BTreeMap<String, String>,
    wanted: &[(String, String)],
) -> bool {
    wanted.iter().all(|(k, v)| meta.get(k) == Some(v))
}

/// `?dc`: empty or our own datacenter, else Consul's "No path to datacenter".
pub(crate) fn check_datacenter(params: &QueryParams, ours: &str) -> Result<(), HttpError> {
    match params.non_empty("dc") {
        Some(dc) if dc != ours => Err(HttpError::UnknownDatacenter),
        _ => Ok(()),
    }
}

/// Namespaces and admin partitions are Enterprise features; this build refuses them as
/// Consul's community edition does.
pub(crate) fn reject_enterprise_meta(
    params: &QueryParams,
    headers: &HeaderMap,
) -> Result<(), HttpError> {
    const NS: &str = "Namespaces";
    const AP: &str = "Partitions";
    let header_set = |name: &str| headers.get(name).is_some_and(|v| !v.is_empty());
    if header_set("x-consul-namespace") {
        return Err(HttpError::EnterpriseHeader {
            header: "X-Consul-Namespace",
            feature: NS,
        });
    }
    if params.non_empty("ns").is_some() {
        return Err(HttpError::EnterpriseParam {
            param: "ns",
            feature: NS,
        });
    }
    if header_set("x-consul-partition") {
        return Err(HttpError::EnterpriseHeader {
            header: "X-Consul-Partition",
            feature: AP,
        });
    }
    if params.non_empty("partition").is_some() {
        return Err(HttpError::EnterpriseParam {
            param: "partition",
            feature: AP,
        });
    }
    Ok(())
}

/// Why a `?flags` or `?cas` value was refused; the text is Go's `strconv.ParseUint` error,
/// which Consul returns verbatim for `?flags` and `?cas`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseUintError {
    /// Not a plain decimal number.
    #[error("strconv.ParseUint: parsing {0:?}: invalid syntax")]
    Syntax(String),
    /// Larger than `u64::MAX`.
    #[error("strconv.ParseUint: parsing {0:?}: value out of range")]
    Range(String),
}

/// Go's `strconv.ParseUint(s, 10, 64)`: ASCII digits only, no sign, no spaces.
pub(crate) fn parse_uint(s: &str) -> Result<u64, ParseUintError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseUintError::Syntax(s.to_owned()));
    }
    s.parse().map_err(|_| ParseUintError::Range(s.to_owned()))
}

#[cfg(test)]
mod tests;
