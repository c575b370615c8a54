//! The `/v1/…` HTTP API: one route table, Consul's query options (`index`, `wait`,
//! `stale`, `consistent`, `dc`, `cas`, `recurse`, …), the `X-Consul-*` headers, and one
//! error → status mapping with Consul's plain-text bodies. It reaches the agent only
//! through [`praetor_agent::Backend`] and never touches the state store; blocking is the
//! backend's job. Mirrors Consul's `agent/http.go` and the `agent/*_endpoint.go` handlers.
//!
//! Entry points: [`router`] (an [`axum::Router`], for tests and embedding) and [`serve`]
//! (listen until a cancellation token fires, then drain).

mod agent;
mod agent_health;
mod agent_local;
mod app;
mod autopilot;
mod catalog;
mod cluster;
mod decode;
pub use praetor_types::duration;
mod error;
mod event;
mod front;
mod health;
mod kv;
mod params;
mod path;
mod response;
mod route;
mod session;
mod status;
mod txn;
mod ui;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use praetor_agent::Backend;
use tokio_util::sync::CancellationToken;

pub use error::HttpError;
pub use front::Counters;
pub use params::ParseUintError;

/// Consul's default `limits.kv_max_value_size`: 512 KiB.
pub const DEFAULT_KV_MAX_VALUE_SIZE: u64 = 512 * 1024;

/// What the HTTP interface needs from the agent's runtime configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// This agent's datacenter; `?dc=` naming another one answers `No path to datacenter`.
    pub datacenter: String,
    /// Pretty-print every JSON response (`-dev`), not only with `?pretty`.
    pub pretty_default: bool,
    /// Largest KV value accepted by `PUT /v1/kv/…`, in bytes.
    pub kv_max_value_size: u64,
    /// Accept every KV key, including path traversal and edge spaces.
    pub disable_kv_key_validation: bool,
    /// Whether the web UI is served; `GET /` redirects to it when on.
    pub ui_enabled: bool,
    /// `ui_config.content_path`: where the UI is served (`/ui/`).
    pub ui_content_path: String,
    /// `http_config.response_headers`: added to every response.
    pub response_headers: Vec<(String, String)>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            datacenter: "dc1".to_owned(),
            pretty_default: false,
            kv_max_value_size: DEFAULT_KV_MAX_VALUE_SIZE,
            disable_kv_key_validation: false,
            ui_enabled: false,
            ui_content_path: "/ui/".to_owned(),
            response_headers: Vec::new(),
        }
    }
}

/// The API as an axum router (no listener). In-flight requests are not tied to any
/// shutdown signal; [`serve`] adds that.
pub fn router(backend: Arc<dyn Backend>, cfg: HttpConfig) -> Router {
    build(backend, cfg, CancellationToken::new())
}

/// Serves the API on `listener` until `shutdown` is cancelled, then stops accepting,
/// ends in-flight blocking reads at once (they answer `500 agent is shutting down`)
/// and returns when every connection has finished.
pub async fn serve(
    listener: tokio::net::TcpListener,
    backend: Arc<dyn Backend>,
    cfg: HttpConfig,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    serve_counted(listener, backend, cfg, shutdown, Arc::default()).await
}

/// [`serve`], keeping its live figures (open connections, parked blocking queries,
/// connections handed to hyper) in `counters`.
pub async fn serve_counted(
    listener: tokio::net::TcpListener,
    backend: Arc<dyn Backend>,
    cfg: HttpConfig,
    shutdown: CancellationToken,
    counters: Arc<Counters>,
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    let app = app(backend, cfg, shutdown);
    let router = Router::new()
        .fallback(app::dispatch)
        .with_state(app.clone());
    tracing::info!(%addr, "http api listening");
    front::run(
        listener,
        front::Front {
            router,
            app,
            counters,
            answers: Default::default(),
        },
    )
    .await?;
    tracing::info!(%addr, "http api stopped");
    Ok(())
}

fn build(backend: Arc<dyn Backend>, cfg: HttpConfig, shutdown: CancellationToken) -> Router {
    Router::new()
        .fallback(app::dispatch)
        .with_state(app(backend, cfg, shutdown))
}

fn app(backend: Arc<dyn Backend>, cfg: HttpConfig, shutdown: CancellationToken) -> Arc<app::App> {
    let common_headers = common_headers(&cfg.response_headers);
    Arc::new(app::App {
        backend,
        cfg,
        common_headers,
        shutdown,
    })
}

/// `X-Consul-Default-ACL-Policy` (ACLs are off, so `allow`) and the operator's headers;
/// invalid operator headers are skipped with a warning rather than failing start-up.
fn common_headers(extra: &[(String, String)]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        response::X_CONSUL_DEFAULT_ACL_POLICY,
        HeaderValue::from_static("allow"),
    );
    for (name, value) in extra {
        match (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) {
            (Ok(n), Ok(v)) => {
                headers.insert(n, v);
            }
            _ => {
                tracing::warn!(header = %name, "ignoring invalid http_config.response_headers entry")
            }
        }
    }
    headers
}
