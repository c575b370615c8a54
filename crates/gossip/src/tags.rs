//! The tags a Praetor agent gossips, as Consul's agents do (`agent/metadata` in Consul), and
//! reading a server's tags back.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use crate::Member;

/// Tag `role` of a server.
pub const ROLE_SERVER: &str = "consul";
/// Tag `role` of a client agent.
pub const ROLE_CLIENT: &str = "node";

/// How a server was told to bootstrap Raft; gossiped so servers agree before bootstrapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Bootstrap {
    /// Neither `-bootstrap` nor `-bootstrap-expect`.
    #[default]
    None,
    /// `-bootstrap`: tag `bootstrap=1`.
    Single,
    /// `-bootstrap-expect N`: tag `expect=N`.
    Expect(u32),
}

/// What an agent says about itself in gossip; [`to_tags`](Self::to_tags) gives the tag map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentTags {
    /// Server (`role=consul`) or client (`role=node`).
    pub server: bool,
    /// The datacenter (`dc`).
    pub datacenter: String,
    /// The node id, a UUID (`id`).
    pub node_id: String,
    /// `<version>:<short sha>` (`build`), e.g. `0.1.0:a8e2b1c3`.
    pub build: String,
    /// Servers: the server RPC port (`port`, 8300).
    pub server_port: Option<u16>,
    /// Servers: the WAN gossip port (`wan_join_port`, 8302).
    pub wan_join_port: Option<u16>,
    /// Servers: `-bootstrap` / `-bootstrap-expect`.
    pub bootstrap: Bootstrap,
}

impl AgentTags {
    /// The LAN tag map, with Consul's protocol tags (`vsn=2`, `vsn_min=2`, `vsn_max=3`, and on
    /// servers `raft_vsn=3`, `acls=0`, `ft_fs=1`, `ft_si=1`) and an empty `segment`.
    pub fn to_tags(&self) -> BTreeMap<String, String> {
        let mut t = BTreeMap::new();
        let role = if self.server {
            ROLE_SERVER
        } else {
            ROLE_CLIENT
        };
        t.insert("role".into(), role.into());
        t.insert("dc".into(), self.datacenter.clone());
        t.insert("segment".into(), String::new());
        t.insert("id".into(), self.node_id.clone());
        t.insert("build".into(), self.build.clone());
        t.insert("vsn".into(), "2".into());
        t.insert("vsn_min".into(), "2".into());
        t.insert("vsn_max".into(), "3".into());
        if self.server {
            t.insert("raft_vsn".into(), "3".into());
            t.insert("acls".into(), "0".into());
            t.insert("ft_fs".into(), "1".into());
            t.insert("ft_si".into(), "1".into());
            if let Some(p) = self.server_port {
                t.insert("port".into(), p.to_string());
            }
            if let Some(p) = self.wan_join_port {
                t.insert("wan_join_port".into(), p.to_string());
            }
            match self.bootstrap {
                Bootstrap::None => {}
                Bootstrap::Single => {
                    t.insert("bootstrap".into(), "1".into());
                }
                Bootstrap::Expect(n) => {
                    t.insert("expect".into(), n.to_string());
                }
            }
        }
        t
    }

    /// The WAN tag map: the server's LAN tags without `segment` (Consul's WAN members carry
    /// no segment).
    pub fn to_wan_tags(&self) -> BTreeMap<String, String> {
        let mut t = self.to_tags();
        t.remove("segment");
        t
    }
}

/// A server as seen through its gossip tags (Consul's `metadata.IsConsulServer`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerMeta {
    /// The member name (WAN: `<node>.<dc>`).
    pub name: String,
    /// The node id (`id`).
    pub node_id: String,
    /// The datacenter (`dc`).
    pub datacenter: String,
    /// The server RPC address: the gossip IP with the `port` tag.
    pub rpc_addr: SocketAddr,
    /// `-bootstrap` / `-bootstrap-expect` as gossiped.
    pub bootstrap: Bootstrap,
    /// The version part of `build` (before `:`).
    pub version: String,
}

impl ServerMeta {
    /// Reads a member's tags; `None` unless it is a server (`role=consul`) with a valid `port`.
    pub fn from_member(m: &Member) -> Option<Self> {
        if m.tags.get("role").map(String::as_str) != Some(ROLE_SERVER) {
            return None;
        }
        let port: u16 = m.tags.get("port")?.parse().ok()?;
        let bootstrap = if m.tags.get("bootstrap").map(String::as_str) == Some("1") {
            Bootstrap::Single
        } else if let Some(n) = m.tags.get("expect").and_then(|v| v.parse().ok()) {
            Bootstrap::Expect(n)
        } else {
            Bootstrap::None
        };
        let tag = |k: &str| m.tags.get(k).cloned().unwrap_or_default();
        let build = tag("build");
        Some(Self {
            name: m.name.clone(),
            node_id: tag("id"),
            datacenter: tag("dc"),
            rpc_addr: SocketAddr::new(m.addr, port),
            bootstrap,
            version: build.split(':').next().unwrap_or_default().to_string(),
        })
    }
}

/// The WAN pool member name of a server: `<node>.<dc>`, as Consul names it.
pub fn wan_member_name(node: &str, datacenter: &str) -> String {
    format!("{node}.{datacenter}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CONSUL_PROTOCOL, MemberStatus};

    fn server_tags() -> AgentTags {
        AgentTags {
            server: true,
            datacenter: "dc1".into(),
            node_id: "40e4a748-2192-161a-0510-9bf59fe950b5".into(),
            build: "0.1.0:a8e2b1c3".into(),
            server_port: Some(8300),
            wan_join_port: Some(8302),
            bootstrap: Bootstrap::Expect(3),
        }
    }

    #[test]
    fn server_tags_carry_consuls_keys() {
        let t = server_tags().to_tags();
        let keys: Vec<&str> = t.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "acls",
                "build",
                "dc",
                "expect",
                "ft_fs",
                "ft_si",
                "id",
                "port",
                "raft_vsn",
                "role",
                "segment",
                "vsn",
                "vsn_max",
                "vsn_min",
                "wan_join_port"
            ]
        );
        assert_eq!(t["role"], "consul");
        assert_eq!(t["expect"], "3");
        assert!(!server_tags().to_wan_tags().contains_key("segment"));
    }

    #[test]
    fn client_tags_have_no_server_keys() {
        let mut a = server_tags();
        a.server = false;
        let t = a.to_tags();
        assert_eq!(t["role"], "node");
        for k in ["port", "expect", "bootstrap", "raft_vsn", "wan_join_port"] {
            assert!(!t.contains_key(k), "{k}");
        }
    }

    #[test]
    fn server_meta_reads_back_what_to_tags_wrote() {
        let m = Member {
            name: "s1".into(),
            addr: "127.0.0.1".parse().expect("ip"),
            port: 8301,
            tags: server_tags().to_tags(),
            status: MemberStatus::Alive,
            protocol: CONSUL_PROTOCOL,
        };
        let s = ServerMeta::from_member(&m).expect("a server");
        assert_eq!(s.rpc_addr, "127.0.0.1:8300".parse().expect("addr"));
        assert_eq!(s.bootstrap, Bootstrap::Expect(3));
        assert_eq!(s.version, "0.1.0");
        assert_eq!(s.datacenter, "dc1");

        let mut client = m.clone();
        client.tags.insert("role".into(), "node".into());
        assert_eq!(ServerMeta::from_member(&client), None);
        let mut no_port = m;
        no_port.tags.insert("port".into(), "x".into());
        assert_eq!(ServerMeta::from_member(&no_port), None);
    }
}
