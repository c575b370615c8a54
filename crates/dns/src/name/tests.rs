use super::*;
use proptest::prelude::*;

fn labels(name: &str) -> Vec<String> {
    name.trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

fn zones() -> Zones {
    Zones::new("consul.", Some("example.internal."))
}

fn lookup(name: &str) -> Lookup {
    lookup_as(name, false)
}

fn lookup_as(name: &str, srv: bool) -> Lookup {
    match zones().route(&labels(name), srv) {
        Route::Zone { lookup, .. } => lookup,
        other => panic!("{name} routed to {other:?}"),
    }
}

fn svc(service: &str, tag: Option<&str>, dc: Option<&str>) -> Lookup {
    Lookup::Service {
        service: service.to_owned(),
        tag: tag.map(str::to_owned),
        dc: dc.map(str::to_owned),
    }
}

#[test]
fn node_names_join_every_query_part() {
    let node = |n: &str, dc: Option<&str>| Lookup::Node {
        node: n.to_owned(),
        dc: dc.map(str::to_owned),
    };
    assert_eq!(lookup("node1.node.consul."), node("node1", None));
    assert_eq!(lookup("Node1.NODE.Consul."), node("node1", None));
    assert_eq!(lookup("node1.node.dc1.consul."), node("node1", Some("dc1")));
    assert_eq!(
        lookup("node1.node.dc1.dc.consul."),
        node("node1", Some("dc1"))
    );
    assert_eq!(lookup("a.b.node.consul."), node("a.b", None));
    assert_eq!(lookup("node.consul."), Lookup::Invalid);
    assert_eq!(lookup("node1.node.a.b.consul."), Lookup::Invalid);
}

#[test]
fn service_names_take_one_joined_tag() {
    assert_eq!(lookup("web.service.consul."), svc("web", None, None));
    assert_eq!(
        lookup("rails.web.service.consul."),
        svc("web", Some("rails"), None)
    );
    assert_eq!(
        lookup("a.b.web.service.consul."),
        svc("web", Some("a.b"), None)
    );
    assert_eq!(
        lookup("web.service.dc2.consul."),
        svc("web", None, Some("dc2"))
    );
    assert_eq!(lookup("service.consul."), Lookup::Invalid);
    // The right-most kind label wins: a service called "node".
    assert_eq!(lookup("node.service.consul."), svc("node", None, None));
}

#[test]
fn rfc2782_names() {
    assert_eq!(lookup("_web._tcp.service.consul."), svc("web", None, None));
    assert_eq!(
        lookup("_web._rails.service.consul."),
        svc("web", Some("rails"), None)
    );
    assert_eq!(lookup_as("_web._tcp.consul.", true), svc("web", None, None));
    assert_eq!(
        lookup_as("_web._tcp.dc1.consul.", true),
        svc("web", None, Some("dc1"))
    );
    // Without SRV the short form is not a name.
    assert_eq!(lookup("_web._tcp.consul."), Lookup::Invalid);
    // Only two underscore parts make the RFC 2782 form.
    assert_eq!(
        lookup("_a._b._c.service.consul."),
        svc("_c", Some("_a._b"), None)
    );
}

#[test]
fn addr_names_decode_hex() {
    assert_eq!(
        lookup("c000020a.addr.dc1.consul."),
        Lookup::Addr("192.0.2.10".parse().unwrap_or_else(|_| unreachable!()))
    );
    assert_eq!(
        lookup("20010db8000000000000000000000001.addr.consul."),
        Lookup::Addr("2001:db8::1".parse().unwrap_or_else(|_| unreachable!()))
    );
    assert_eq!(lookup("c00002zz.addr.consul."), Lookup::Invalid);
    assert_eq!(lookup("c00002.addr.consul."), Lookup::Invalid);
    assert_eq!(
        ip_hex("192.0.2.10".parse().unwrap_or_else(|_| unreachable!())),
        "c000020a"
    );
}

#[test]
fn zones_apex_and_outside() {
    assert_eq!(lookup("consul."), Lookup::Apex);
    assert_eq!(lookup("whatever.consul."), Lookup::Invalid);
    assert_eq!(lookup("web.query.consul."), Lookup::Unsupported);
    assert_eq!(lookup("web.service.p1.peer.consul."), Lookup::Unsupported);
    assert_eq!(
        zones().route(&labels("example.com."), false),
        Route::Outside
    );
    assert_eq!(zones().route(&labels("notconsul."), false), Route::Outside);
    assert!(matches!(
        zones().route(&labels("web.service.example.internal."), false),
        Route::Zone { alt: true, .. }
    ));
}

#[test]
fn reverse_names() {
    let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap_or_else(|_| unreachable!()));
    assert_eq!(
        zones().route(&labels("10.20.20.172.in-addr.arpa."), false),
        Route::Reverse(ip("172.20.20.10"))
    );
    let v6 = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.";
    assert_eq!(
        zones().route(&labels(v6), false),
        Route::Reverse(ip("2001:db8::1"))
    );
    assert_eq!(
        zones().route(&labels("1.2.in-addr.arpa."), false),
        Route::Reverse(None)
    );
    assert_eq!(
        zones().route(&labels("300.1.1.1.in-addr.arpa."), false),
        Route::Reverse(None)
    );
}

proptest! {
    #[test]
    fn routing_never_panics(parts in proptest::collection::vec("[a-z0-9_.-]{0,12}", 0..8), srv: bool) {
        let mut ls: Vec<String> = parts;
        ls.push("consul".to_owned());
        let _ = zones().route(&ls, srv);
        ls.pop();
        let _ = zones().route(&ls, srv);
    }

    #[test]
    fn addr_round_trips(v4: u32, v6: u128) {
        for ip in [IpAddr::V4(Ipv4Addr::from(v4)), IpAddr::V6(Ipv6Addr::from(v6))] {
            let name = format!("{}.addr.consul.", ip_hex(ip));
            prop_assert_eq!(lookup(&name), Lookup::Addr(ip));
        }
    }
}
