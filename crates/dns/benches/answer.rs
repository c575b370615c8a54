//! Building DNS replies from in-memory catalog rows: the per-query work of the server
//! once the catalog view is read.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use hickory_proto::op::{Edns, Message, Query};
use hickory_proto::rr::{Name, RecordType};
use praetor_dns::DnsSettings;
use praetor_dns::fuzzing::{answer_packet, answer_question, sample_instances};
use praetor_dns::name::Zones;

fn query(name: &str, qtype: RecordType) -> Query {
    Query::query(
        Name::from_ascii(name).unwrap_or_else(|_| Name::root()),
        qtype,
    )
}

fn bench(c: &mut Criterion) {
    let settings = DnsSettings::default();
    let zones = Zones::new(&settings.domain, None);
    let edns = {
        let mut e = Edns::new();
        e.set_max_payload(4096);
        e
    };
    for n in [3usize, 50] {
        let instances = sample_instances(n);
        for (label, qtype) in [("a", RecordType::A), ("srv", RecordType::SRV)] {
            let q = query("web.service.consul.", qtype);
            c.bench_function(&format!("service_{label}_{n}_udp"), |b| {
                b.iter(|| answer_question(&settings, &zones, &q, None, true, black_box(&instances)))
            });
            c.bench_function(&format!("service_{label}_{n}_edns"), |b| {
                b.iter(|| {
                    answer_question(
                        &settings,
                        &zones,
                        &q,
                        Some(&edns),
                        true,
                        black_box(&instances),
                    )
                })
            });
        }
    }
    let instances = sample_instances(3);
    let q = query("node1.node.consul.", RecordType::A);
    c.bench_function("node_a", |b| {
        b.iter(|| answer_question(&settings, &zones, &q, None, true, black_box(&instances)))
    });
    let mut m = Message::query();
    m.add_query(query("rails.web.service.dc1.consul.", RecordType::SRV));
    let packet = m.to_vec().unwrap_or_default();
    c.bench_function("packet_parse_and_answer", |b| {
        b.iter(|| answer_packet(black_box(&packet)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
