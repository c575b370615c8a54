//! The node ID: given with `-node-id`/`node_id`, random in `-dev`, otherwise read from
//! `<data_dir>/node-id` or created there on first start.

use std::fs;
use std::io::Write;
use std::path::Path;

use uuid::Uuid;

use super::error::Problem;

/// Name of the file under the data directory that holds the node ID.
pub const NODE_ID_FILE: &str = "node-id";

/// Parses a node ID the way Consul accepts it: a 36-character hyphenated hex UUID.
/// The result is lower-case.
pub fn parse_node_id(text: &str) -> Option<Uuid> {
    let text = text.trim();
    if text.len() != 36 {
        return None;
    }
    Uuid::try_parse(text).ok()
}

/// Returns the node ID persisted in `data_dir`, creating the directory and a fresh random ID
/// if there is none yet.
pub fn load_or_create_node_id(data_dir: &Path) -> Result<Uuid, Problem> {
    let path = data_dir.join(NODE_ID_FILE);
    let problem = |message: String| Problem::NodeIdFile {
        path: path.clone(),
        message,
    };
    match fs::read_to_string(&path) {
        Ok(text) => {
            return parse_node_id(&text)
                .ok_or_else(|| problem(format!("{:?} is not a valid UUID", text.trim())));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(problem(format!("cannot read: {e}"))),
    }
    let id = Uuid::new_v4();
    fs::create_dir_all(data_dir).map_err(|e| problem(format!("cannot create data dir: {e}")))?;
    // Write to a temporary name and rename, so a crash never leaves a half-written ID.
    let tmp = data_dir.join(format!("{NODE_ID_FILE}.tmp"));
    let write = || -> std::io::Result<()> {
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp)?;
        file.write_all(id.hyphenated().to_string().as_bytes())?;
        file.sync_all()?;
        fs::rename(&tmp, &path)
    };
    write().map_err(|e| problem(format!("cannot write: {e}")))?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_id_is_created_once_and_reused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data_dir = dir.path().join("data");
        let first = load_or_create_node_id(&data_dir).expect("created");
        let on_disk = fs::read_to_string(data_dir.join(NODE_ID_FILE)).expect("file written");
        assert_eq!(on_disk, first.hyphenated().to_string());
        let second = load_or_create_node_id(&data_dir).expect("read back");
        assert_eq!(first, second);
    }

    #[test]
    fn existing_node_id_file_is_used_even_with_whitespace() {
        let dir = tempfile::tempdir().expect("tempdir");
        let id = "ADF4238A-882B-9DDC-4A9D-5B6758E4159E";
        fs::write(dir.path().join(NODE_ID_FILE), format!("{id}\n")).expect("write");
        let got = load_or_create_node_id(dir.path()).expect("read");
        assert_eq!(got.to_string(), id.to_ascii_lowercase());
    }

    #[test]
    fn corrupt_node_id_file_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::write(dir.path().join(NODE_ID_FILE), "not-a-uuid").expect("write");
        let err = load_or_create_node_id(dir.path()).expect_err("corrupt");
        assert!(err.to_string().contains("not a valid UUID"), "{err}");
    }

    #[test]
    fn node_id_syntax_is_checked() {
        assert!(parse_node_id("adf4238a-882b-9ddc-4a9d-5b6758e4159e").is_some());
        assert!(parse_node_id("adf4238a882b9ddc4a9d5b6758e4159e").is_none());
        assert!(parse_node_id("xyz").is_none());
        assert!(parse_node_id("").is_none());
    }
}
