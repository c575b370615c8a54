//! Persistence of API-registered services and checks, TTL check state and maintenance
//! under the data dir (`services/`, `checks/`, `checks/state/`), so they survive a
//! restart as in Consul. One JSON file per ID, named by a hash of the ID (IDs may hold
//! any character); the ID is inside. Writes go to a temporary file renamed into place.

use std::path::{Path, PathBuf};

use praetor_types::HealthStatus;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::definition::Source;

/// A persisted service registration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PersistedService {
    #[serde(rename = "ID")]
    pub(crate) id: String,
    pub(crate) source: Source,
    pub(crate) definition: Value,
}

/// A persisted check: a definition from the API, or a maintenance check.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PersistedCheck {
    #[serde(rename = "CheckID")]
    pub(crate) check_id: String,
    pub(crate) source: Source,
    #[serde(default)]
    pub(crate) definition: Option<Value>,
    /// `Some(reason)` for a maintenance check.
    #[serde(default)]
    pub(crate) maintenance: Option<Maintenance>,
}

/// What a maintenance check needs to be rebuilt.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Maintenance {
    /// Empty for node maintenance.
    #[serde(rename = "ServiceID")]
    pub(crate) service_id: String,
    pub(crate) reason: String,
}

/// The last state of a TTL check (Consul's `checks/state/`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PersistedTtl {
    #[serde(rename = "CheckID")]
    pub(crate) check_id: String,
    pub(crate) status: HealthStatus,
    pub(crate) output: String,
    /// Unix time (seconds) after which the state is stale.
    pub(crate) expires: u64,
}

/// The data dir's persistence area; `None` (`-dev`) persists nothing.
#[derive(Debug, Clone)]
pub(crate) struct Store {
    root: Option<PathBuf>,
}

/// FNV-1a, 64 bits: a stable file name for an ID.
fn file_name(id: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}.json")
}

impl Store {
    pub(crate) fn new(data_dir: Option<&Path>) -> Self {
        Store {
            root: data_dir.map(Path::to_path_buf),
        }
    }

    fn dir(&self, sub: &str) -> Option<PathBuf> {
        self.root.as_ref().map(|r| r.join(sub))
    }

    fn write<T: Serialize>(&self, sub: &str, id: &str, value: &T) {
        let Some(dir) = self.dir(sub) else { return };
        let result = (|| -> std::io::Result<()> {
            std::fs::create_dir_all(&dir)?;
            let path = dir.join(file_name(id));
            let tmp = path.with_extension("tmp");
            let bytes = serde_json::to_vec(value).map_err(std::io::Error::other)?;
            std::fs::write(&tmp, bytes)?;
            std::fs::rename(&tmp, &path)
        })();
        if let Err(error) = result {
            tracing::error!(%error, id, "failed to persist {sub}");
        }
    }

    fn remove(&self, sub: &str, id: &str) {
        let Some(dir) = self.dir(sub) else { return };
        match std::fs::remove_file(dir.join(file_name(id))) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => tracing::error!(%error, id, "failed to remove persisted {sub}"),
        }
    }

    fn read_all<T: for<'de> Deserialize<'de>>(&self, sub: &str) -> Vec<T> {
        let Some(dir) = self.dir(sub) else {
            return Vec::new();
        };
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Vec::new();
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        paths
            .into_iter()
            .filter_map(|path| {
                let parsed = std::fs::read(&path)
                    .map_err(|e| e.to_string())
                    .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()));
                match parsed {
                    Ok(v) => Some(v),
                    Err(error) => {
                        tracing::warn!(%error, path = %path.display(), "ignoring unreadable persisted file");
                        None
                    }
                }
            })
            .collect()
    }

    fn read_one<T: for<'de> Deserialize<'de>>(&self, sub: &str, id: &str) -> Option<T> {
        let path = self.dir(sub)?.join(file_name(id));
        let bytes = std::fs::read(path).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    pub(crate) fn save_service(&self, s: &PersistedService) {
        self.write("services", &s.id, s);
    }

    pub(crate) fn remove_service(&self, id: &str) {
        self.remove("services", id);
    }

    pub(crate) fn services(&self) -> Vec<PersistedService> {
        self.read_all("services")
    }

    pub(crate) fn save_check(&self, c: &PersistedCheck) {
        self.write("checks", &c.check_id, c);
    }

    pub(crate) fn remove_check(&self, id: &str) {
        self.remove("checks", id);
        self.remove("checks/state", id);
    }

    pub(crate) fn checks(&self) -> Vec<PersistedCheck> {
        self.read_all("checks")
    }

    pub(crate) fn save_ttl(&self, t: &PersistedTtl) {
        self.write("checks/state", &t.check_id, t);
    }

    pub(crate) fn ttl(&self, id: &str) -> Option<PersistedTtl> {
        self.read_one("checks/state", id)
            .filter(|t: &PersistedTtl| t.check_id == id && t.expires > unix_now())
    }
}

/// Seconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
