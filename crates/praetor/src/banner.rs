//! The startup banner (spec/cli.md §2, modern layout).

use std::fmt::Write as _;

use praetor_agent::config::RuntimeConfig;
use praetor_types::{CONSUL_COMPAT_VERSION, PRAETOR_VERSION};

/// Width of the right-aligned label column (`Gossip Encryption`).
const LABEL_WIDTH: usize = 17;

/// The banner printed before logs start streaming.
pub fn render(cfg: &RuntimeConfig) -> String {
    let client_addrs: Vec<String> = cfg.client_addrs.iter().map(ToString::to_string).collect();
    let lines = [
        (
            "Version",
            format!("'{PRAETOR_VERSION}' (Consul API '{CONSUL_COMPAT_VERSION}')"),
        ),
        ("Node ID", format!("'{}'", cfg.node_id)),
        ("Node name", format!("'{}'", cfg.node_name)),
        (
            "Datacenter",
            format!(
                "'{}' (Segment: '{}')",
                cfg.datacenter,
                if cfg.server { "<all>" } else { "" }
            ),
        ),
        (
            "Server",
            format!("{} (Bootstrap: {})", cfg.server, cfg.bootstrap),
        ),
        (
            "Client Addr",
            format!(
                "[{}] (HTTP: {}, HTTPS: {}, gRPC: {}, DNS: {})",
                client_addrs.join(" "),
                cfg.ports.http,
                cfg.ports.https,
                cfg.ports.grpc,
                cfg.ports.dns
            ),
        ),
        (
            "Cluster Addr",
            format!(
                "{} (LAN: {}, WAN: {})",
                cfg.advertise_addr, cfg.ports.serf_lan, cfg.ports.serf_wan
            ),
        ),
        ("Gossip Encryption", "false".to_owned()),
        ("ACLs Enabled", "false".to_owned()),
    ];
    let mut out = String::from("==> Starting Consul agent...\n");
    for (label, value) in lines {
        let _ = writeln!(out, "    {label:>LABEL_WIDTH$}: {value}");
    }
    out.push_str("\n==> Log data will now stream in as it occurs:\n");
    out
}
