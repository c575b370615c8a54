//! What the local agent takes from the runtime configuration.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use praetor_types::Node;

use crate::config::RuntimeConfig;
use crate::definition::ScriptPolicy;

/// What the local agent needs from the runtime configuration.
#[derive(Debug, Clone)]
pub struct LocalAgentConfig {
    /// Node name.
    pub node_name: String,
    /// Node ID.
    pub node_id: String,
    /// Datacenter.
    pub datacenter: String,
    /// Advertised LAN address.
    pub advertise_addr: String,
    /// Advertised WAN address.
    pub advertise_addr_wan: String,
    /// Node metadata.
    pub node_meta: BTreeMap<String, String>,
    /// Which script checks are allowed.
    pub scripts: ScriptPolicy,
    /// Largest check output kept.
    pub check_output_max_size: usize,
    /// Output-only changes sync at most this often.
    pub check_update_interval: Duration,
    /// Keep no check output.
    pub discard_check_output: bool,
    /// Where registrations persist (`None`: nowhere, as in `-dev`).
    pub data_dir: Option<PathBuf>,
    /// How often critical services are reaped (Consul: 30s).
    pub reap_interval: Duration,
    /// Lower bound of `deregister_critical_service_after` (Consul: 1m).
    pub deregister_min: Duration,
}

impl LocalAgentConfig {
    /// The settings of `cfg`, with Consul's reaper timing.
    pub fn from_runtime(cfg: &RuntimeConfig) -> Self {
        LocalAgentConfig {
            node_name: cfg.node_name.clone(),
            node_id: cfg.node_id.to_string(),
            datacenter: cfg.datacenter.clone(),
            advertise_addr: cfg.advertise_addr.to_string(),
            advertise_addr_wan: cfg.advertise_addr_wan.to_string(),
            node_meta: cfg.node_meta.clone(),
            scripts: ScriptPolicy {
                enable_script_checks: cfg.enable_script_checks,
                enable_local_script_checks: cfg.enable_local_script_checks,
            },
            check_output_max_size: cfg.check_output_max_size,
            check_update_interval: cfg.check_update_interval,
            discard_check_output: cfg.discard_check_output,
            data_dir: if cfg.dev { None } else { cfg.data_dir.clone() },
            reap_interval: Duration::from_secs(30),
            deregister_min: Duration::from_secs(60),
        }
    }

    /// The node as this agent registers it.
    pub fn node(&self) -> Node {
        let mut tagged = BTreeMap::new();
        for (key, addr) in [
            ("lan", &self.advertise_addr),
            ("wan", &self.advertise_addr_wan),
        ] {
            tagged.insert(key.to_owned(), addr.clone());
            let family = if addr.contains(':') { "ipv6" } else { "ipv4" };
            tagged.insert(format!("{key}_{family}"), addr.clone());
        }
        Node {
            id: self.node_id.clone(),
            node: self.node_name.clone(),
            address: self.advertise_addr.clone(),
            datacenter: self.datacenter.clone(),
            tagged_addresses: tagged,
            meta: self.node_meta.clone(),
            ..Node::default()
        }
    }
}
