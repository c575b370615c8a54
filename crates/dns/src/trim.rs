//! Fitting a reply to its transport (spec/dns.md §7): the non-EDNS UDP record cap, the
//! byte budget (512, the EDNS size, or 64 KiB over TCP), ADDITIONAL kept in step with
//! the SRV answers that survive.

use std::collections::HashSet;

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::BinEncodable as _;

use crate::answer::Reply;

/// Largest EDNS UDP size honoured.
const MAX_EDNS_SIZE: u16 = 65467;
/// Records answered over TCP (SRV: fewer, as each brings additional records).
const TCP_MAX_ANSWERS: usize = 4096;
const TCP_MAX_SRV_ANSWERS: usize = 1024;
/// The hard cap on answers to non-EDNS UDP questions.
const UDP_MAX_ANSWERS: usize = 8;

/// How much a reply may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest encoded message, in bytes.
    pub max_size: usize,
    /// Most answer records.
    pub max_answers: usize,
}

impl Limits {
    /// The limits for a question over UDP (`udp`) or TCP, with the client's EDNS size if
    /// it sent an OPT record.
    pub fn new(udp: bool, edns_size: Option<u16>, udp_answer_limit: usize, srv: bool) -> Self {
        if !udp {
            return Self {
                max_size: usize::from(u16::MAX),
                max_answers: if srv {
                    TCP_MAX_SRV_ANSWERS
                } else {
                    TCP_MAX_ANSWERS
                },
            };
        }
        match edns_size {
            Some(size) => Self {
                max_size: usize::from(size.clamp(512, MAX_EDNS_SIZE)),
                max_answers: usize::MAX,
            },
            None => Self {
                max_size: 512,
                max_answers: udp_answer_limit.clamp(1, UDP_MAX_ANSWERS),
            },
        }
    }
}

/// Shortens `reply` to fit `limits`; returns whether anything was left out. At least
/// one answer is always kept.
pub fn fit(reply: &mut Reply, query: &Query, edns: Option<&Edns>, limits: Limits) -> bool {
    let mut trimmed = false;
    if reply.answers.len() > limits.max_answers {
        keep_answers(reply, limits.max_answers);
        trimmed = true;
    }
    if wire_len(reply, query, edns) <= limits.max_size {
        return trimmed;
    }
    // The largest answer count that fits, by bisection (sizes are plain arithmetic).
    let (mut lo, mut hi) = (1, reply.answers.len());
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        let mut probe = reply.clone();
        keep_answers(&mut probe, mid);
        if wire_len(&probe, query, edns) <= limits.max_size {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    if lo < reply.answers.len() {
        keep_answers(reply, lo);
    }
    if wire_len(reply, query, edns) > limits.max_size {
        reply.additionals.clear();
    }
    if wire_len(reply, query, edns) > limits.max_size {
        reply.authorities.clear();
    }
    true
}

/// Keeps the first `n` answers and the additional records that still belong to a
/// surviving SRV target.
fn keep_answers(reply: &mut Reply, n: usize) {
    reply.answers.truncate(n);
    let targets: HashSet<&Name> = reply
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::SRV(srv) => Some(&srv.target),
            _ => None,
        })
        .collect();
    let has_srv = reply
        .answers
        .iter()
        .any(|r| r.record_type() == RecordType::SRV);
    if has_srv {
        let kept: Vec<_> = reply
            .additionals
            .iter()
            .filter(|r| targets.contains(&r.name))
            .cloned()
            .collect();
        reply.additionals = kept;
    }
}

/// The size of `reply` on the wire without name compression: an upper bound of what
/// is sent, which is compressed (Consul measures the same way).
pub fn wire_len(reply: &Reply, query: &Query, edns: Option<&Edns>) -> usize {
    let records = reply
        .answers
        .iter()
        .chain(&reply.authorities)
        .chain(&reply.additionals)
        .map(record_len)
        .sum::<usize>();
    let opt = edns.map_or(0, |e| {
        11 + e
            .options()
            .as_ref()
            .iter()
            .map(|(_, o)| 4 + usize::from(o.len()))
            .sum::<usize>()
    });
    12 + name_len(query.name()) + 4 + records + opt
}

fn name_len(name: &Name) -> usize {
    name.iter().map(|l| l.len() + 1).sum::<usize>() + 1
}

fn record_len(record: &Record) -> usize {
    let rdata = match &record.data {
        RData::A(_) => 4,
        RData::AAAA(_) => 16,
        RData::SRV(srv) => 6 + name_len(&srv.target),
        RData::CNAME(n) => name_len(&n.0),
        RData::NS(n) => name_len(&n.0),
        RData::PTR(n) => name_len(&n.0),
        RData::TXT(txt) => txt.txt_data.iter().map(|t| 1 + t.len()).sum(),
        RData::SOA(soa) => name_len(&soa.mname) + name_len(&soa.rname) + 20,
        other => other.to_bytes().map_or(usize::from(u16::MAX), |b| b.len()),
    };
    name_len(&record.name) + 10 + rdata
}

/// The size of `reply` on the wire as hickory encodes it (compressed, with its
/// question and OPT record).
pub fn encoded_len(reply: &Reply, query: &Query, edns: Option<&Edns>) -> usize {
    let mut msg = Message::new(0, MessageType::Response, OpCode::Query);
    msg.queries.push(query.clone());
    msg.answers.clone_from(&reply.answers);
    msg.authorities.clone_from(&reply.authorities);
    msg.additionals.clone_from(&reply.additionals);
    msg.edns = edns.cloned();
    msg.to_vec().map_or(usize::MAX, |v| v.len())
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use hickory_proto::op::ResponseCode;

    use super::*;
    use crate::records;

    fn question() -> Query {
        Query::query(
            records::fqdn("web.service.consul").unwrap_or_else(Name::root),
            RecordType::SRV,
        )
    }

    fn srv_reply(n: u8) -> Reply {
        let name = records::fqdn("web.service.consul").unwrap_or_else(Name::root);
        let mut reply = Reply::empty(ResponseCode::NoError, true);
        for i in 0..n {
            let target = records::fqdn(&format!("node-with-a-longish-name-{i}.node.dc1.consul"))
                .unwrap_or_else(Name::root);
            reply
                .answers
                .push(records::srv(&name, 0, 1, 80, target.clone()));
            reply.additionals.push(records::address(
                &target,
                0,
                IpAddr::V4(Ipv4Addr::new(10, 0, 0, i)),
            ));
        }
        reply
    }

    #[test]
    fn non_edns_udp_caps_the_count_and_resyncs_additionals() {
        let mut reply = srv_reply(5);
        let limits = Limits::new(true, None, 3, true);
        assert!(fit(&mut reply, &question(), None, limits));
        assert_eq!(reply.answers.len(), 3);
        assert_eq!(reply.additionals.len(), 3);
        for (a, x) in reply.answers.iter().zip(&reply.additionals) {
            let RData::SRV(srv) = &a.data else {
                panic!("not srv")
            };
            assert_eq!(srv.target, x.name);
        }
    }

    #[test]
    fn bytes_limit_keeps_at_least_one_answer_and_fits() {
        let mut reply = srv_reply(40);
        let limits = Limits::new(true, None, 8, true);
        assert!(fit(&mut reply, &question(), None, limits));
        assert!(!reply.answers.is_empty());
        assert!(encoded_len(&reply, &question(), None) <= 512);
        assert!(wire_len(&reply, &question(), None) <= 512);
        assert!(wire_len(&reply, &question(), None) >= encoded_len(&reply, &question(), None));
        let mut big = srv_reply(40);
        let edns = Edns::new();
        assert!(fit(
            &mut big,
            &question(),
            Some(&edns),
            Limits::new(true, Some(4096), 3, true)
        ));
        assert!(big.answers.len() > 8);
        assert!(encoded_len(&big, &question(), Some(&edns)) <= 4096);
    }

    #[test]
    fn tcp_and_small_replies_are_left_alone() {
        let mut reply = srv_reply(40);
        assert!(!fit(
            &mut reply,
            &question(),
            None,
            Limits::new(false, None, 3, true)
        ));
        assert_eq!(reply.answers.len(), 40);
        let mut small = srv_reply(2);
        assert!(!fit(
            &mut small,
            &question(),
            None,
            Limits::new(true, None, 3, true)
        ));
    }
}
