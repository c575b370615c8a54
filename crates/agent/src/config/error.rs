//! Everything that can be wrong with an agent's configuration.

use std::fmt;
use std::path::PathBuf;

/// Every problem found while loading the configuration, reported together.
///
/// `Display` prints one problem per line, in the order they were found.
#[derive(Debug)]
pub struct ConfigError {
    problems: Vec<Problem>,
}

impl ConfigError {
    /// Wraps a non-empty list of problems.
    pub(crate) fn new(problems: Vec<Problem>) -> Self {
        Self { problems }
    }

    /// The individual problems, in the order they were found.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

impl From<Problem> for ConfigError {
    fn from(problem: Problem) -> Self {
        Self::new(vec![problem])
    }
}

/// One thing wrong with the configuration. Messages follow Consul's where Consul has one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// A config file or directory could not be read.
    #[error("failed to read {path}: {source}")]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// Why reading failed.
        #[source]
        source: std::io::Error,
    },
    /// A config source is not valid JSON or HCL.
    #[error("failed to parse {origin}: {message}")]
    Parse {
        /// The file (or `-hcl` fragment) that failed to parse.
        origin: String,
        /// The parser's description of the problem.
        message: String,
    },
    /// `-config-format` named a format other than `json` or `hcl`.
    #[error("invalid config format {0:?}: must be one of json or hcl")]
    UnknownFormat(String),
    /// A config source used a key Consul does not know.
    #[error("{origin}: invalid config key {key}")]
    UnknownKey {
        /// The file (or flag) holding the key.
        origin: String,
        /// The dotted path of the key, e.g. `ports.htp`.
        key: String,
    },
    /// A config value has the wrong type or cannot be parsed.
    #[error("{origin}: invalid value for {key}: {message}")]
    InvalidValue {
        /// The file (or flag) holding the value; `runtime` after merging.
        origin: String,
        /// The dotted path of the key.
        key: String,
        /// What was expected.
        message: String,
    },
    /// Neither `-dev` nor a data directory was given.
    #[error("data_dir cannot be empty")]
    DataDirRequired,
    /// `bootstrap` and `bootstrap_expect` were both set.
    #[error("'bootstrap_expect > 0' and 'bootstrap = true' are mutually exclusive")]
    BootstrapModesExclusive,
    /// `bootstrap_expect` was set on a client.
    #[error("'bootstrap_expect > 0' requires 'server = true'")]
    BootstrapExpectRequiresServer,
    /// `bootstrap` was set on a client.
    #[error("'bootstrap = true' requires 'server = true'")]
    BootstrapRequiresServer,
    /// `bootstrap_expect` was set together with `-dev`.
    #[error("'bootstrap_expect > 0' not allowed in dev mode")]
    BootstrapExpectInDev,
    /// The datacenter name has characters outside `[a-z0-9_-]`.
    #[error("datacenter can only contain lowercase alphanumeric, - or _ characters: {0:?}")]
    InvalidDatacenter(String),
    /// The node name is empty or has whitespace or quotes.
    #[error("node_name {0:?} is invalid: it must be non-empty and contain no whitespace or quotes")]
    InvalidNodeName(String),
    /// The node ID is not a UUID.
    #[error("node_id {0:?} is not a valid UUID")]
    InvalidNodeId(String),
    /// A `watches` entry cannot be run (its type, parameters or handler).
    #[error("{0}")]
    InvalidWatch(String),
    /// A go-sockaddr template was used; Praetor does not evaluate them yet.
    #[error("{key}: go-sockaddr templates are not supported: {value:?}")]
    TemplateUnsupported {
        /// The dotted key holding the template.
        key: String,
        /// The template text.
        value: String,
    },
    /// An address setting does not hold exactly one IP address.
    #[error("{key}: {message}")]
    InvalidAddress {
        /// The dotted key holding the address.
        key: String,
        /// What is wrong with it.
        message: String,
    },
    /// `bind_addr` is the unspecified address and no private IPv4 address was found.
    #[error("No private IPv4 address found")]
    NoPrivateIpv4,
    /// `bind_addr` is the unspecified address and several private IPv4 addresses were found.
    #[error(
        "Multiple private IPv4 addresses found. Please configure one with 'bind' and/or 'advertise'."
    )]
    MultiplePrivateIpv4,
    /// `bind_addr` is `::` and no public IPv6 address was found.
    #[error("No public IPv6 address found")]
    NoPublicIpv6,
    /// `bind_addr` is `::` and several public IPv6 addresses were found.
    #[error(
        "Multiple public IPv6 addresses found. Please configure one with 'bind' and/or 'advertise'."
    )]
    MultiplePublicIpv6,
    /// The host's interfaces could not be listed for advertise detection.
    #[error("failed to list network interfaces: {0}")]
    Interfaces(#[source] std::io::Error),
    /// A node-meta entry breaks Consul's limits.
    #[error("node_meta: {0}")]
    InvalidNodeMeta(String),
    /// The persisted node ID could not be read, parsed or written.
    #[error("node ID file {path}: {message}")]
    NodeIdFile {
        /// `<data_dir>/node-id`.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}
