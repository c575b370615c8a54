//! The embedded files, their content types and ETags.

/// One embedded static file.
#[derive(Debug, PartialEq, Eq)]
pub struct Asset {
    /// File name below `assets/` (`app.js`).
    pub name: &'static str,
    /// The `Content-Type` it is served with.
    pub content_type: &'static str,
    /// The bytes.
    pub body: &'static [u8],
    hash: u64,
}

impl Asset {
    const fn new(name: &'static str, content_type: &'static str, body: &'static [u8]) -> Self {
        Self {
            name,
            content_type,
            body,
            hash: fnv1a(body),
        }
    }

    /// A strong `ETag` (quoted) derived from the content, so a browser revalidates
    /// cheaply and never keeps a stale file after an upgrade.
    pub fn etag(&self) -> String {
        format!("\"{:016x}\"", self.hash)
    }
}

const JS: &str = "text/javascript; charset=utf-8";

macro_rules! asset {
    ($name:literal, $type:expr) => {
        Asset::new(
            $name,
            $type,
            include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/", $name)),
        )
    };
}

/// `index.html`, a template (see [`crate::index_html`]).
pub(crate) const INDEX_HTML: &[u8] =
    include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/index.html"));

/// Every file under `assets/` the UI loads.
pub static ASSETS: &[Asset] = &[
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("app.js", JS),
    asset!("api.js", JS),
    asset!("dom.js", JS),
    asset!("live.js", JS),
    asset!("services.js", JS),
    asset!("nodes.js", JS),
    asset!("kv.js", JS),
    asset!("favicon.svg", "image/svg+xml"),
];

pub(crate) fn find(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}

/// 64-bit FNV-1a: small, stable across builds, good enough to tell versions apart.
/// Computed at compile time.
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash = (hash ^ bytes[i] as u64).wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}
