//! Members of a pool in Consul's shape: the types live in `praetor-types` (the HTTP API
//! and the CLI read them); this module fills them in from serf.

pub use praetor_types::member::{CONSUL_PROTOCOL, Member, MemberStatus, ProtocolVersions};

/// Our status for serf's.
pub(crate) fn status_from_serf(s: serf::types::MemberStatus) -> MemberStatus {
    use serf::types::MemberStatus as S;
    match s {
        S::Alive => MemberStatus::Alive,
        S::Leaving => MemberStatus::Leaving,
        S::Left => MemberStatus::Left,
        S::Failed => MemberStatus::Failed,
        _ => MemberStatus::None,
    }
}

/// Our member for serf's.
pub(crate) fn member_from_serf(
    m: &serf::types::Member<serf::net::NodeId, std::net::SocketAddr>,
) -> Member {
    let addr = *m.node().address();
    Member {
        name: m.node().id().to_string(),
        addr: addr.ip(),
        port: addr.port(),
        tags: m
            .tags()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        status: status_from_serf(*m.status()),
        protocol: CONSUL_PROTOCOL,
    }
}
