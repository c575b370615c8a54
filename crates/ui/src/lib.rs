//! The web UI: a single-page application in plain JavaScript and CSS (no npm step),
//! embedded in the binary with `include_bytes!` and served by `praetor-http` under
//! `ui_config.content_path` (default `/ui/`).
//!
//! This crate knows nothing about HTTP servers: it maps a path below the content path to
//! what should be answered ([`resolve`]), gives each asset its content type and a strong
//! `ETag`, and renders `index.html` with the agent's settings injected ([`index_html`]),
//! as Consul's UI server does. Any path that is not an asset is a route of the app
//! (`dc1/services/web`, `dc1/kv/web/`), answered with the index so a reload works.

mod assets;

pub use assets::{ASSETS, Asset};

/// What to answer for a path below the UI's content path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `index.html`, rendered with [`index_html`]: the app's entry point and every route
    /// of the app (deep links).
    Index,
    /// A static file.
    Asset(&'static Asset),
    /// Nothing: a missing file under `assets/` (answering HTML there would hide the
    /// mistake behind a script or style parse error).
    NotFound,
}

/// Where the assets live, below the content path.
pub const ASSET_DIR: &str = "assets/";

/// What to answer for `rel`, the request path with the content path stripped
/// (`""`, `"dc1/services/web"`, `"assets/app.js"`).
pub fn resolve(rel: &str) -> Target {
    match rel.strip_prefix(ASSET_DIR) {
        Some(name) => assets::find(name).map_or(Target::NotFound, Target::Asset),
        // `index.html` itself, and every route of the app.
        None => Target::Index,
    }
}

/// Settings injected into `index.html` for the app to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Where the UI is served, with leading and trailing `/` (`/ui/`).
    pub content_path: String,
    /// This agent's datacenter: the one shown first.
    pub datacenter: String,
}

/// The content type of `index.html`.
pub const INDEX_CONTENT_TYPE: &str = "text/html; charset=utf-8";

/// `index.html` with `settings` filled in (HTML-escaped).
pub fn index_html(settings: &Settings) -> String {
    let template = std::str::from_utf8(assets::INDEX_HTML).unwrap_or_default();
    template
        .replace("{{CONTENT_PATH}}", &html_escape(&settings.content_path))
        .replace("{{DATACENTER}}", &html_escape(&settings.datacenter))
        .replace("{{VERSION}}", env!("CARGO_PKG_VERSION"))
}

/// The `Content-Security-Policy` the UI is served with: nothing from outside the agent,
/// no inline script or style.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
     object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests;
