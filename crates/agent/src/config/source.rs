//! Config sources: finding `-config-file`/`-config-dir` files, and parsing one source (a file,
//! an `-hcl` fragment) into a checked JSON tree ready to merge.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::error::Problem;
use super::{hcl, schema};

/// The syntax of a config source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One JSON object.
    Json,
    /// HCL (Consul's HCL1 forms are accepted, see [`hcl`](super::hcl)).
    Hcl,
}

impl Format {
    /// Parses a `-config-format` value.
    pub(crate) fn from_flag(text: &str) -> Result<Self, Problem> {
        match text {
            "json" => Ok(Self::Json),
            "hcl" => Ok(Self::Hcl),
            other => Err(Problem::UnknownFormat(other.to_owned())),
        }
    }

    fn from_extension(path: &Path) -> Option<Self> {
        match path.extension().and_then(|e| e.to_str()) {
            Some("json") => Some(Self::Json),
            Some("hcl") => Some(Self::Hcl),
            _ => None,
        }
    }
}

/// A config file found on disk, with the format it will be parsed as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConfigFile {
    pub(crate) path: PathBuf,
    pub(crate) format: Format,
}

/// Expands the configured paths into the files to load, in load order. Each path is a file
/// or a directory (as in Consul, `-config-file` and `-config-dir` differ only in intent):
/// a directory contributes its regular `*.json`/`*.hcl` files in byte order, not recursing.
/// Files with other extensions are skipped with a warning unless `forced` sets the format.
pub(crate) fn find_files(
    paths: &[PathBuf],
    forced: Option<Format>,
    problems: &mut Vec<Problem>,
    warnings: &mut Vec<String>,
) -> Vec<ConfigFile> {
    let mut files = Vec::new();
    for path in paths {
        let meta = match fs::metadata(path) {
            Ok(meta) => meta,
            Err(source) => {
                problems.push(Problem::Read {
                    path: path.clone(),
                    source,
                });
                continue;
            }
        };
        if !meta.is_dir() {
            push_file(path.clone(), forced, &mut files, warnings);
            continue;
        }
        let entries = match fs::read_dir(path) {
            Ok(entries) => entries,
            Err(source) => {
                problems.push(Problem::Read {
                    path: path.clone(),
                    source,
                });
                continue;
            }
        };
        let mut found = Vec::new();
        for entry in entries {
            match entry {
                Ok(entry) => {
                    let file = entry.path();
                    // Follows symlinks, as Consul's stat does; sub-directories are ignored.
                    if fs::metadata(&file).is_ok_and(|m| m.is_file()) {
                        found.push(file);
                    }
                }
                Err(source) => problems.push(Problem::Read {
                    path: path.clone(),
                    source,
                }),
            }
        }
        found.sort_by(|a, b| {
            a.file_name()
                .map(|n| n.as_encoded_bytes())
                .cmp(&b.file_name().map(|n| n.as_encoded_bytes()))
        });
        for file in found {
            push_file(file, forced, &mut files, warnings);
        }
    }
    files
}

fn push_file(
    path: PathBuf,
    forced: Option<Format>,
    files: &mut Vec<ConfigFile>,
    warnings: &mut Vec<String>,
) {
    match forced.or_else(|| Format::from_extension(&path)) {
        Some(format) => files.push(ConfigFile { path, format }),
        None => warnings.push(format!(
            "skipping file {}, extension must be .hcl or .json, or config format must be set",
            path.display()
        )),
    }
}

/// Parses and checks one source; `None` (with problems recorded) if it cannot be used at all.
pub(crate) fn parse_source(
    origin: &str,
    text: &str,
    format: Format,
    problems: &mut Vec<Problem>,
) -> Option<Value> {
    let parsed = match format {
        Format::Json => serde_json::from_str::<Value>(text).map_err(|e| e.to_string()),
        Format::Hcl => hcl::parse(text),
    };
    match parsed {
        Ok(value) => Some(schema::normalize(origin, value, problems)),
        Err(message) => {
            problems.push(Problem::Parse {
                origin: origin.to_owned(),
                message,
            });
            None
        }
    }
}

/// Reads and parses one config file.
pub(crate) fn load_file(file: &ConfigFile, problems: &mut Vec<Problem>) -> Option<Value> {
    match fs::read_to_string(&file.path) {
        Ok(text) => parse_source(
            &file.path.display().to_string(),
            &text,
            file.format,
            problems,
        ),
        Err(source) => {
            problems.push(Problem::Read {
                path: file.path.clone(),
                source,
            });
            None
        }
    }
}
