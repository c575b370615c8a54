//! `/v1/agent/self` (spec/http-api.md §7.2): the agent's identity in Consul's shape.
//! Prometheus' `consul_sd` reads `Config.Datacenter`, consul-template `Config.NodeName`.

use axum::response::Response;
use praetor_agent::AgentSelf;
use praetor_types::{CONSUL_COMPAT_VERSION, PRAETOR_VERSION};
use serde_json::{Value, json};

use crate::HttpConfig;
use crate::app::{App, Call};
use crate::error::HttpError;

/// Agent-local: `?dc` is ignored, as in Consul.
pub(crate) async fn agent_self(app: &App, call: &Call) -> Result<Response, HttpError> {
    let me = app.backend.agent_self();
    // Stats are informational; a missing leader must not fail the whole answer.
    let leader = app.backend.status_leader().await.unwrap_or_default();
    let mut doc = document(&me, &app.cfg, &leader);
    // Local counts as `consul info` shows them (strings); none without local state.
    let services = app.backend.agent_services().await.unwrap_or_default();
    let checks = app.backend.agent_checks().await.unwrap_or_default();
    let count = |kind: &str| {
        checks
            .iter()
            .filter(|c| c.r#type == kind)
            .count()
            .to_string()
    };
    doc["Stats"]["agent"] = json!({
        "check_monitors": count("script"),
        "check_ttls": count("ttl"),
        "checks": checks.len().to_string(),
        "services": services.len().to_string(),
    });
    crate::cluster::self_stats(app, &me.node_name, me.server, &mut doc).await;
    Ok(crate::response::json(&doc, call.pretty))
}

fn document(me: &AgentSelf, cfg: &HttpConfig, leader: &str) -> Value {
    let revision = "";
    let build = format!("{CONSUL_COMPAT_VERSION}:{revision}");
    let mut tags = json!({
        "acls": "0",
        "build": build,
        "dc": me.datacenter,
        "id": me.node_id,
        "role": if me.server { "consul" } else { "node" },
        "segment": "",
        "vsn": "2",
        "vsn_max": "3",
        "vsn_min": "2",
    });
    if me.server {
        tags["port"] = json!(me.server_port.to_string());
        tags["raft_vsn"] = json!("3");
        tags["wan_join_port"] = json!("8302");
        if me.dev {
            tags["bootstrap"] = json!("1");
        }
    }
    json!({
        "Config": {
            "Datacenter": me.datacenter,
            "PrimaryDatacenter": me.datacenter,
            "NodeName": me.node_name,
            "NodeID": me.node_id,
            "Revision": revision,
            "Server": me.server,
            "Version": CONSUL_COMPAT_VERSION,
            "BuildDate": "",
            "PraetorVersion": PRAETOR_VERSION,
        },
        "DebugConfig": {
            "Datacenter": me.datacenter,
            "NodeName": me.node_name,
            "NodeID": me.node_id,
            "ServerMode": me.server,
            "DevMode": me.dev,
            "AdvertiseAddrLAN": me.advertise_addr,
            "BindAddr": me.bind_addr,
            "ClientAddrs": [me.client_addr],
            "ServerPort": me.server_port,
            "SerfPortLAN": me.serf_lan_port,
            "HTTPPort": me.http_port,
            "DNSPort": me.dns_port,
            "KVMaxValueSize": cfg.kv_max_value_size,
            "DisableKVKeyValidation": cfg.disable_kv_key_validation,
            "UIConfig": { "Enabled": cfg.ui_enabled },
            "HTTPResponseHeaders": cfg.response_headers.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
        },
        "Coord": { "Vec": [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], "Error": 1.5, "Adjustment": 0.0, "Height": 1e-05 },
        "Member": {
            "Name": me.node_name,
            "Addr": me.advertise_addr,
            "Port": me.serf_lan_port,
            "Tags": tags,
            "Status": 1,
            "ProtocolMin": 1,
            "ProtocolMax": 5,
            "ProtocolCur": 2,
            "DelegateMin": 2,
            "DelegateMax": 5,
            "DelegateCur": 4,
        },
        "Stats": {
            "build": {
                "prerelease": "",
                "revision": revision,
                "version": CONSUL_COMPAT_VERSION,
                "version_metadata": "",
            },
            "consul": {
                "acl": "disabled",
                "bootstrap": me.dev.to_string(),
                "known_datacenters": "1",
                "leader": (me.server && !leader.is_empty() && leader.starts_with(&me.advertise_addr)).to_string(),
                "leader_addr": leader,
                "server": me.server.to_string(),
            },
        },
        "Meta": { "consul-network-segment": "" },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_has_consul_shape() {
        let me = AgentSelf {
            datacenter: "dc1".into(),
            node_name: "n1".into(),
            node_id: "id-1".into(),
            server: true,
            advertise_addr: "127.0.0.1".into(),
            server_port: 8300,
            dev: true,
            ..AgentSelf::default()
        };
        let doc = document(&me, &HttpConfig::default(), "127.0.0.1:8300");
        assert_eq!(doc["Config"]["Datacenter"], "dc1");
        assert_eq!(doc["Config"]["NodeName"], "n1");
        assert_eq!(doc["Config"]["Version"], CONSUL_COMPAT_VERSION);
        assert_eq!(doc["Config"]["PraetorVersion"], PRAETOR_VERSION);
        assert_eq!(doc["Member"]["Tags"]["role"], "consul");
        assert_eq!(doc["Member"]["Tags"]["port"], "8300");
        assert_eq!(doc["Stats"]["consul"]["leader"], "true");
        assert_eq!(doc["Stats"]["consul"]["server"], "true");
        assert!(doc["Meta"].is_object());
    }
}
