//! Agent configuration: built-in defaults, then `-dev` overrides, then each config file and
//! directory in command-line order, then flags and `-hcl` fragments, merged by Consul's
//! rules (lists append, maps and nested blocks merge key by key, scalars: last present value
//! wins) and validated into a [`RuntimeConfig`] with every problem reported together.
//!
//! Mirrors Consul's `agent/config` package. Reading files, the host name, the host's
//! interfaces and the node-ID file happens in [`load`]; everything else is pure.

mod args;
mod bind;
mod duration;
mod error;
mod hcl;
mod merge;
mod node_id;
mod runtime;
mod schema;
mod source;

use std::path::PathBuf;

use serde_json::{Value, json};

pub use args::AgentArgs;
pub use bind::{detect_advertise, host_addresses, is_private_ipv4, is_public_ipv6};
pub use error::{ConfigError, Problem};
pub use node_id::{NODE_ID_FILE, load_or_create_node_id, parse_node_id};
pub use runtime::{
    DnsConfig, GossipTuning, HostFacts, ListenAddr, ListenerAddrs, LogLevel, Ports, RuntimeConfig,
};
pub use source::Format;

use runtime::NodeIdFrom;

/// Where the host name is read from when `-node` is not given.
const HOSTNAME_FILE: &str = "/proc/sys/kernel/hostname";

/// Builds the agent's configuration from defaults, config files and flags.
pub fn load(args: &AgentArgs) -> Result<RuntimeConfig, ConfigError> {
    let hostname = std::fs::read_to_string(HOSTNAME_FILE)
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty());
    load_with(
        args,
        &HostFacts {
            hostname,
            interface_addrs: &host_addresses,
        },
    )
}

/// [`load`] with the host facts given by the caller (tests, embedded agents).
pub fn load_with(args: &AgentArgs, host: &HostFacts<'_>) -> Result<RuntimeConfig, ConfigError> {
    let mut problems = Vec::new();
    let mut warnings = Vec::new();

    let forced = match args.config_format.as_deref() {
        Some(text) => match Format::from_flag(text) {
            Ok(format) => Some(format),
            Err(problem) => {
                problems.push(problem);
                None
            }
        },
        None => None,
    };
    // Consul treats -config-file and -config-dir alike (a directory is expanded); with two
    // separate flag lists the files come first, then the directories.
    let paths: Vec<PathBuf> = args
        .config_file
        .iter()
        .chain(&args.config_dir)
        .map(PathBuf::from)
        .collect();
    let files = source::find_files(&paths, forced, &mut problems, &mut warnings);

    let mut merged = Value::Object(serde_json::Map::new());
    if args.dev {
        merge::merge(&mut merged, dev_overrides());
    }
    for file in &files {
        if let Some(layer) = source::load_file(file, &mut problems) {
            merge::merge(&mut merged, layer);
        }
    }
    let flags = schema::normalize("command-line flags", args.to_source(), &mut problems);
    merge::merge(&mut merged, flags);
    for (i, fragment) in args.hcl.iter().enumerate() {
        let origin = format!("-hcl fragment #{}", i + 1);
        if let Some(layer) = source::parse_source(&origin, fragment, Format::Hcl, &mut problems) {
            merge::merge(&mut merged, layer);
        }
    }

    let (mut config, node_id_from) =
        runtime::build(args.dev, &merged, host, &mut problems, &mut warnings);
    if let (true, NodeIdFrom::DataDir(dir)) = (problems.is_empty(), node_id_from) {
        match load_or_create_node_id(&dir) {
            Ok(id) => config.node_id = id,
            Err(problem) => problems.push(problem),
        }
    }
    if !problems.is_empty() {
        return Err(ConfigError::new(problems));
    }
    for warning in &warnings {
        tracing::warn!("{warning}");
    }
    config.sources = files.into_iter().map(|f| f.path).collect();
    config.warnings = warnings;
    Ok(config)
}

/// `-dev` settings, applied over the defaults and under every file and flag.
fn dev_overrides() -> Value {
    let gossip = json!({
        "gossip_interval": "100ms",
        "probe_interval": "100ms",
        "probe_timeout": "100ms",
        "suspicion_mult": 3,
    });
    json!({
        "server": true,
        "bind_addr": "127.0.0.1",
        "client_addr": "127.0.0.1",
        "ui_config": {"enabled": true},
        "log_level": "DEBUG",
        "connect": {"enabled": true},
        "ports": {"grpc": 8502},
        "enable_debug": true,
        "disable_keyring_file": true,
        "disable_anonymous_signature": true,
        "performance": {"raft_multiplier": 1},
        "gossip_lan": gossip.clone(),
        "gossip_wan": gossip,
    })
}

#[cfg(test)]
mod tests;
