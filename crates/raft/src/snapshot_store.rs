//! Snapshot files: `raft/snapshots/<term>-<index>.snap`, written to `.tmp`, fsynced,
//! renamed and the directory fsynced; the newest [`SNAPSHOTS_KEPT`] are kept.
//!
//! File layout (integers little-endian): magic `PRSNAP01`, `u64` meta length, the meta
//! (msgpack: last log id and membership), `u64` state length, the state store's snapshot
//! bytes, then a `u64` FNV-1a checksum of everything before it.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::types::SnapshotMeta;

const MAGIC: &[u8; 8] = b"PRSNAP01";
const SNAPSHOTS_KEPT: usize = 2;

/// Where snapshots live: files for a data dir, memory for `-dev`.
pub(crate) enum SnapshotStore {
    /// The directory, and a lock that serialises saves (builds and installs may overlap).
    Dir(PathBuf, Mutex<()>),
    Memory(Mutex<Option<(SnapshotMeta, Arc<Vec<u8>>)>>),
}

impl SnapshotStore {
    /// Opens (creating) `dir` and removes temp files a crash left behind.
    pub(crate) fn open_dir(dir: &Path) -> io::Result<SnapshotStore> {
        fs::create_dir_all(dir)?;
        for entry in fs::read_dir(dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "tmp") {
                fs::remove_file(&path)?;
            }
        }
        Ok(SnapshotStore::Dir(dir.to_path_buf(), Mutex::new(())))
    }

    pub(crate) fn memory() -> SnapshotStore {
        SnapshotStore::Memory(Mutex::new(None))
    }

    /// Durably stores a snapshot and drops all but the newest few. Blocking I/O.
    pub(crate) fn save(&self, meta: &SnapshotMeta, state: &[u8]) -> io::Result<()> {
        match self {
            SnapshotStore::Memory(slot) => {
                let mut slot = slot.lock().unwrap_or_else(|p| p.into_inner());
                let newer = slot
                    .as_ref()
                    .is_none_or(|(m, _)| m.last_log_id <= meta.last_log_id);
                if newer {
                    *slot = Some((meta.clone(), Arc::new(state.to_vec())));
                }
                Ok(())
            }
            SnapshotStore::Dir(dir, saving) => {
                let _saving = saving.lock().unwrap_or_else(|p| p.into_inner());
                let (term, index) = meta
                    .last_log_id
                    .as_ref()
                    .map_or((0, 0), |l| (l.leader_id.term, l.index));
                let name = format!("{term}-{index}.snap");
                let tmp = dir.join(format!("{name}.tmp"));
                let bytes = encode(meta, state)?;
                {
                    let mut f = File::create(&tmp)?;
                    f.write_all(&bytes)?;
                    f.sync_all()?;
                }
                fs::rename(&tmp, dir.join(&name))?;
                File::open(dir)?.sync_all()?;
                for (_, _, old) in list(dir)?.into_iter().skip(SNAPSHOTS_KEPT) {
                    match fs::remove_file(&old) {
                        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                        _ => {}
                    }
                }
                Ok(())
            }
        }
    }

    /// The newest snapshot, if any. Blocking I/O.
    pub(crate) fn load_latest(&self) -> io::Result<Option<(SnapshotMeta, Vec<u8>)>> {
        match self {
            SnapshotStore::Memory(slot) => {
                let slot = slot.lock().unwrap_or_else(|p| p.into_inner());
                Ok(slot.as_ref().map(|(m, b)| (m.clone(), b.as_ref().clone())))
            }
            SnapshotStore::Dir(dir, _) => match list(dir)?.into_iter().next() {
                None => Ok(None),
                Some((_, _, path)) => {
                    let bytes = fs::read(&path)?;
                    decode(&bytes).map(Some).map_err(|e| {
                        io::Error::new(e.kind(), format!("snapshot {}: {e}", path.display()))
                    })
                }
            },
        }
    }
}

/// Snapshot files sorted newest first, as `(index, term, path)`.
fn list(dir: &Path) -> io::Result<Vec<(u64, u64, PathBuf)>> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(stem) = name.strip_suffix(".snap") else {
            continue;
        };
        let Some((term, index)) = stem.split_once('-') else {
            continue;
        };
        if let (Ok(term), Ok(index)) = (term.parse::<u64>(), index.parse::<u64>()) {
            found.push((index, term, path));
        }
    }
    found.sort_by_key(|f| std::cmp::Reverse((f.0, f.1)));
    Ok(found)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

pub(crate) fn encode(meta: &SnapshotMeta, state: &[u8]) -> io::Result<Vec<u8>> {
    let meta =
        rmp_serde::to_vec_named(meta).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    let mut out = Vec::with_capacity(8 + 8 + meta.len() + 8 + state.len() + 8);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(meta.len() as u64).to_le_bytes());
    out.extend_from_slice(&meta);
    out.extend_from_slice(&(state.len() as u64).to_le_bytes());
    out.extend_from_slice(state);
    let sum = fnv1a(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    Ok(out)
}

pub(crate) fn decode(bytes: &[u8]) -> io::Result<(SnapshotMeta, Vec<u8>)> {
    let bad = |what: &str| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("corrupt snapshot file: {what}"),
        )
    };
    let body_len = bytes.len().checked_sub(8).ok_or_else(|| bad("too short"))?;
    let (body, sum) = bytes.split_at(body_len);
    let sum = u64::from_le_bytes(sum.try_into().map_err(|_| bad("checksum"))?);
    if fnv1a(body) != sum {
        return Err(bad("checksum mismatch"));
    }
    let rest = body
        .strip_prefix(MAGIC.as_slice())
        .ok_or_else(|| bad("bad magic"))?;
    let (meta, rest) = take_section(rest).ok_or_else(|| bad("meta length"))?;
    let (state, rest) = take_section(rest).ok_or_else(|| bad("state length"))?;
    if !rest.is_empty() {
        return Err(bad("trailing bytes"));
    }
    let meta: SnapshotMeta =
        rmp_serde::from_slice(meta).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    Ok((meta, state.to_vec()))
}

/// Splits a `u64`-length-prefixed section off `bytes`.
fn take_section(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, rest) = bytes.split_first_chunk::<8>()?;
    let len = usize::try_from(u64::from_le_bytes(*len)).ok()?;
    (len <= rest.len()).then(|| rest.split_at(len))
}

#[cfg(test)]
mod tests;
