//! Unit tests of the catalog rules through [`Store`], and a property test over random
//! register/deregister sequences.

use std::collections::BTreeMap;

use praetor_types::{DeregisterRequest, HealthCheck, HealthStatus, NodeService, RegisterRequest};
use proptest::prelude::*;

use crate::{ApplyError, Command, CommandResponse, Store, Table};

fn node_req(node: &str, address: &str) -> RegisterRequest {
    RegisterRequest {
        node: node.into(),
        address: address.into(),
        datacenter: "dc1".into(),
        ..RegisterRequest::default()
    }
}

fn service(id: &str, name: &str, tags: &[&str]) -> NodeService {
    NodeService {
        id: id.into(),
        service: name.into(),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        port: 80,
        ..NodeService::default()
    }
}

fn check(id: &str, service_id: &str, status: HealthStatus) -> HealthCheck {
    HealthCheck {
        check_id: id.into(),
        name: id.into(),
        service_id: service_id.into(),
        status,
        ..HealthCheck::default()
    }
}

fn register(
    store: &Store,
    index: u64,
    req: RegisterRequest,
) -> Result<CommandResponse, ApplyError> {
    store.apply(index, &Command::CatalogRegister(Box::new(req)))
}

fn deregister(store: &Store, index: u64, node: &str, service_id: &str, check_id: &str) {
    let req = DeregisterRequest {
        node: node.into(),
        service_id: service_id.into(),
        check_id: check_id.into(),
        ..DeregisterRequest::default()
    };
    store
        .apply(index, &Command::CatalogDeregister(req))
        .expect("deregister");
}

/// node1 with web1 (tags v1) and a node check; node2 with web2 (v2) and db1.
fn sample() -> Store {
    let store = Store::new();
    let mut r = node_req("node1", "10.0.0.1");
    r.service = Some(service("web1", "web", &["v1"]));
    r.checks = vec![
        check("serfHealth", "", HealthStatus::Passing),
        check("service:web1", "web1", HealthStatus::Passing),
    ];
    register(&store, 1, r).expect("register node1");
    let mut r = node_req("node2", "10.0.0.2");
    r.service = Some(service("web2", "web", &["v2"]));
    r.check = Some(check("service:web2", "web2", HealthStatus::Warning));
    register(&store, 2, r).expect("register node2");
    let mut r = node_req("node2", "10.0.0.2");
    r.service = Some(service("db1", "db", &[]));
    register(&store, 3, r).expect("register db1");
    store
}

#[test]
fn register_creates_node_service_and_checks() {
    let store = sample();
    let view = store.view();
    let nodes = view.nodes();
    assert_eq!(nodes.index, 2);
    let names: Vec<_> = nodes.value.iter().map(|n| n.node.as_str()).collect();
    assert_eq!(names, ["node1", "node2"]);
    let n1 = view.node("node1").value.expect("node1");
    assert_eq!((n1.create_index, n1.modify_index), (1, 1));
    assert_eq!(n1.address, "10.0.0.1");
    let services = view.services();
    assert_eq!(services.index, 3);
    assert_eq!(
        services.value,
        BTreeMap::from([
            ("db".to_owned(), vec![]),
            ("web".to_owned(), vec!["v1".to_owned(), "v2".to_owned()]),
        ])
    );
    let checks = view.node_checks("node1");
    assert_eq!(checks.index, 2);
    assert_eq!(checks.value.len(), 2);
    let web = checks
        .value
        .iter()
        .find(|c| c.check_id == "service:web1")
        .expect("check");
    assert_eq!(
        (web.service_name.as_str(), web.service_tags.clone()),
        ("web", vec!["v1".to_owned()])
    );
    assert_eq!(
        web.node, "node1",
        "the check's node defaults to the request's"
    );
}

#[test]
fn register_defaults_service_id_and_check_id() {
    let store = Store::new();
    let mut r = node_req("n", "10.0.0.1");
    r.service = Some(service("", "redis", &[]));
    r.check = Some(HealthCheck {
        name: "mem".into(),
        ..HealthCheck::default()
    });
    register(&store, 5, r).expect("register");
    let view = store.view();
    let ns = view.node_services("n").value.expect("node");
    assert!(ns.services.contains_key("redis"));
    let checks = view.node_checks("n").value;
    assert_eq!(checks[0].check_id, "mem");
    assert_eq!(checks[0].status, HealthStatus::Critical);
}

#[test]
fn register_validates_like_consul() {
    let store = Store::new();
    assert_eq!(
        register(&store, 1, node_req("", "a")),
        Err(ApplyError::MissingNode)
    );
    assert_eq!(
        register(&store, 2, node_req("n", "")),
        Err(ApplyError::MissingAddress)
    );
    let mut r = node_req("n", "a");
    r.service = Some(service("x", "", &[]));
    assert_eq!(register(&store, 3, r), Err(ApplyError::MissingServiceName));
    let mut r = node_req("n", "a");
    r.check = Some(HealthCheck::default());
    assert_eq!(register(&store, 4, r), Err(ApplyError::MissingCheckId));
    let mut r = node_req("n", "a");
    r.check = Some(HealthCheck {
        node: "other".into(),
        ..check("c", "", HealthStatus::Passing)
    });
    assert!(matches!(
        register(&store, 5, r),
        Err(ApplyError::CheckNodeMismatch { .. })
    ));
    assert_eq!(ApplyError::MissingNode.to_string(), "Must provide node");
    let view = store.view();
    assert!(
        view.nodes().value.is_empty(),
        "failed registers change nothing"
    );
    assert_eq!(view.table_index(Table::Nodes), 0);
}

#[test]
fn check_naming_unknown_service_fails_and_changes_nothing() {
    let store = Store::new();
    let mut r = node_req("n", "10.0.0.1");
    r.service = Some(service("web1", "web", &[]));
    r.check = Some(check("c", "nope", HealthStatus::Passing));
    assert_eq!(
        register(&store, 1, r),
        Err(ApplyError::UnknownService {
            check: "c".into(),
            service: "nope".into()
        })
    );
    let view = store.view();
    assert!(
        view.node("n").value.is_none(),
        "the node is not half-registered"
    );
    assert!(view.service_nodes("web", None).value.is_empty());
    assert_eq!(view.applied_index(), 1);
}

#[test]
fn skip_node_update_keeps_existing_node_but_creates_missing_one() {
    let store = sample();
    let mut r = node_req("node1", "");
    r.skip_node_update = true;
    r.service = Some(service("api1", "api", &[]));
    register(&store, 10, r).expect("register");
    let n1 = store.view().node("node1").value.expect("node1");
    assert_eq!((n1.address.as_str(), n1.modify_index), ("10.0.0.1", 1));
    let mut r = node_req("fresh", "");
    r.skip_node_update = true;
    register(&store, 11, r).expect("register");
    assert!(store.view().node("fresh").value.is_some());
}

#[test]
fn identical_reregistration_keeps_indexes() {
    let store = sample();
    let before = store.view();
    let mut r = node_req("node1", "10.0.0.1");
    r.service = Some(service("web1", "web", &["v1"]));
    r.checks = vec![
        check("serfHealth", "", HealthStatus::Passing),
        check("service:web1", "web1", HealthStatus::Passing),
    ];
    register(&store, 20, r).expect("register");
    let after = store.view();
    assert_eq!(after.applied_index(), 20);
    for table in [Table::Nodes, Table::Services, Table::Checks] {
        assert_eq!(
            after.table_index(table),
            before.table_index(table),
            "{table:?}"
        );
    }
    assert_eq!(after.node_services("node1"), before.node_services("node1"));
    assert_eq!(after.node_checks("node1"), before.node_checks("node1"));
}

#[test]
fn changed_reregistration_keeps_create_index_and_bumps_modify_index() {
    let store = sample();
    let mut r = node_req("node1", "10.0.0.9");
    r.service = Some(service("web1", "web", &["v1", "canary"]));
    r.check = Some(check("service:web1", "web1", HealthStatus::Critical));
    register(&store, 30, r).expect("register");
    let view = store.view();
    let n1 = view.node("node1").value.expect("node1");
    assert_eq!((n1.create_index, n1.modify_index), (1, 30));
    let ns = view.node_services("node1").value.expect("node1");
    let web1 = &ns.services["web1"];
    assert_eq!((web1.create_index, web1.modify_index), (1, 30));
    let checks = view.node_checks("node1").value;
    let c = checks
        .iter()
        .find(|c| c.check_id == "service:web1")
        .expect("check");
    assert_eq!((c.create_index, c.modify_index), (1, 30));
    assert_eq!(c.service_tags, ["v1", "canary"]);
    let serf = checks
        .iter()
        .find(|c| c.check_id == "serfHealth")
        .expect("serf");
    assert_eq!(
        serf.modify_index, 1,
        "checks not in the request stay as they were"
    );
}

#[test]
fn retagging_a_service_updates_its_checks_copies() {
    let store = sample();
    let mut r = node_req("node1", "10.0.0.1");
    r.service = Some(service("web1", "web", &["v9"]));
    register(&store, 40, r).expect("register");
    let view = store.view();
    let c = view
        .service_checks("web")
        .value
        .into_iter()
        .find(|c| c.check_id == "service:web1")
        .expect("check");
    assert_eq!(c.service_tags, ["v9"]);
    assert_eq!(c.modify_index, 1, "the check itself did not change");
    assert_eq!(
        view.table_index(Table::Checks),
        40,
        "but health reads must wake"
    );
}

#[test]
fn node_id_owned_by_another_node_is_refused() {
    let store = Store::new();
    let mut a = node_req("a", "10.0.0.1");
    a.id = "40e4a748-2192-161a-0510-9bf59fe950b5".into();
    register(&store, 1, a.clone()).expect("register a");
    register(&store, 2, a.clone()).expect("same node, same ID");
    let mut b = a;
    b.node = "b".into();
    assert!(matches!(
        register(&store, 3, b),
        Err(ApplyError::NodeIdConflict { .. })
    ));
}

#[test]
fn deregister_check_service_and_node() {
    let store = sample();
    deregister(&store, 50, "node1", "", "serfHealth");
    let view = store.view();
    assert_eq!(view.node_checks("node1").value.len(), 1);
    assert_eq!(view.table_index(Table::Checks), 50);
    assert_eq!(view.table_index(Table::Services), 3);

    deregister(&store, 51, "node2", "web2", "");
    let view = store.view();
    let ns = view.node_services("node2").value.expect("node2");
    assert_eq!(ns.services.keys().collect::<Vec<_>>(), ["db1"]);
    assert!(
        view.node_checks("node2").value.is_empty(),
        "the service's checks went with it"
    );
    assert_eq!(view.table_index(Table::Checks), 51);

    deregister(&store, 52, "node1", "", "");
    let view = store.view();
    assert!(view.node("node1").value.is_none());
    assert!(view.node_checks("node1").value.is_empty());
    assert_eq!(view.service_nodes("web", None).value.len(), 0);
    for table in [Table::Nodes, Table::Services, Table::Checks] {
        assert_eq!(view.table_index(table), 52, "{table:?}");
    }
}

#[test]
fn deregister_is_idempotent_and_requires_node() {
    let store = sample();
    let before = store.view();
    deregister(&store, 60, "ghost", "", "");
    deregister(&store, 61, "node1", "nope", "nope");
    let after = store.view();
    assert_eq!(after.nodes(), before.nodes());
    assert_eq!(
        after.table_index(Table::Checks),
        before.table_index(Table::Checks)
    );
    let err = store
        .apply(
            62,
            &Command::CatalogDeregister(DeregisterRequest::default()),
        )
        .expect_err("no node");
    assert_eq!(err, ApplyError::MissingNode);
}

#[test]
fn service_nodes_filter_by_tag_case_insensitively() {
    let view = sample().view();
    let all = view.service_nodes("web", None);
    assert_eq!(all.index, 3);
    let ids: Vec<_> = all.value.iter().map(|r| r.service_id.as_str()).collect();
    assert_eq!(ids, ["web1", "web2"]);
    assert_eq!(all.value[0].address, "10.0.0.1");
    let v2 = view.service_nodes("web", Some("V2")).value;
    assert_eq!(v2.len(), 1);
    assert_eq!(v2[0].node, "node2");
    assert!(view.service_nodes("unknown", None).value.is_empty());
}

#[test]
fn health_reads_and_passing_filter() {
    let view = sample().view();
    let csn = view.check_service_nodes("web", None, false);
    assert_eq!(csn.index, 3);
    assert_eq!(csn.value.len(), 2);
    let ids: Vec<_> = csn.value[0]
        .checks
        .iter()
        .map(|c| c.check_id.as_str())
        .collect();
    assert_eq!(
        ids,
        ["serfHealth", "service:web1"],
        "node checks, then the instance's"
    );
    assert_eq!(csn.value[1].aggregate_status(), HealthStatus::Warning);
    let passing = view.check_service_nodes("web", None, true).value;
    assert_eq!(passing.len(), 1, "warning is not passing");
    assert_eq!(passing[0].service.id, "web1");
    let db = view.check_service_nodes("db", None, true).value;
    assert_eq!(db.len(), 1, "no checks at all counts as passing");
    assert_eq!(view.service_checks("web").value.len(), 2);
    assert_eq!(view.checks_in_state(None).value.len(), 3);
    assert_eq!(
        view.checks_in_state(Some(HealthStatus::Warning))
            .value
            .len(),
        1
    );
    assert!(
        view.checks_in_state(Some(HealthStatus::Critical))
            .value
            .is_empty()
    );
    assert!(view.node_services("ghost").value.is_none());
}

#[tokio::test]
async fn table_watches_wake_only_for_their_table() {
    let store = sample();
    let mut nodes = store.watch_table(Table::Nodes);
    let mut checks = store.watch_table(Table::Checks);
    let mut services = store.watch_table(Table::Services);
    let mut r = node_req("node1", "10.0.0.1");
    r.check = Some(check("serfHealth", "", HealthStatus::Critical));
    register(&store, 70, r).expect("register");
    checks.changed().await;
    assert!(!nodes.has_changed());
    assert!(!services.has_changed());
    deregister(&store, 71, "node2", "", "");
    nodes.changed().await;
    services.changed().await;
    checks.changed().await;
    assert_eq!(store.table_slot_count(), 3);
    drop((nodes, checks, services));
    assert_eq!(
        store.table_slot_count(),
        0,
        "the last watch removes its slot"
    );
}

#[tokio::test]
async fn restore_wakes_table_watches() {
    let store = sample();
    let bytes = store.snapshot().expect("snapshot");
    let mut w = store.watch_table(Table::Services);
    store.restore(&bytes).expect("restore");
    w.changed().await;
}

#[test]
fn snapshot_round_trips_the_catalog() {
    let store = sample();
    deregister(&store, 80, "node1", "", "serfHealth");
    let bytes = store.snapshot().expect("snapshot");
    let restored = Store::new();
    restored.restore(&bytes).expect("restore");
    assert_eq!(restored.view().tables(), store.view().tables());
    assert_eq!(restored.view().table_index(Table::Checks), 80);
}

// ---- property test ------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Op {
    Register {
        node: usize,
        address: usize,
        service: Option<(usize, usize, bool)>,
        checks: Vec<(usize, Option<usize>, u8)>,
        skip: bool,
    },
    Deregister {
        node: usize,
        service: Option<usize>,
        check: Option<usize>,
    },
}

const NODES: &[&str] = &["n0", "n1", "n2"];
const SERVICE_IDS: &[&str] = &["s0", "s1", "s2"];
const SERVICE_NAMES: &[&str] = &["web", "db"];
const CHECK_IDS: &[&str] = &["c0", "c1", "c2", "c3"];
const STATUSES: &[HealthStatus] = &[
    HealthStatus::Passing,
    HealthStatus::Warning,
    HealthStatus::Critical,
];

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (
            0..NODES.len(),
            0..2usize,
            proptest::option::of((0..SERVICE_IDS.len(), 0..SERVICE_NAMES.len(), any::<bool>())),
            proptest::collection::vec(
                (0..CHECK_IDS.len(), proptest::option::of(0..SERVICE_IDS.len()), 0..3u8),
                0..3
            ),
            any::<bool>(),
        )
            .prop_map(|(node, address, service, checks, skip)| Op::Register {
                node,
                address,
                service,
                checks,
                skip,
            }),
        1 => (
            0..NODES.len(),
            proptest::option::of(0..SERVICE_IDS.len()),
            proptest::option::of(0..CHECK_IDS.len()),
        )
            .prop_map(|(node, service, check)| Op::Deregister { node, service, check }),
    ]
}

fn command(op: &Op) -> Command {
    match op {
        Op::Register {
            node,
            address,
            service,
            checks,
            skip,
        } => {
            let mut r = node_req(NODES[*node], ["10.0.0.1", "10.0.0.2"][*address]);
            r.skip_node_update = *skip;
            r.service = service.map(|(id, name, tagged)| {
                service_fn(
                    SERVICE_IDS[id],
                    SERVICE_NAMES[name],
                    if tagged { &["t"] } else { &[] },
                )
            });
            r.checks = checks
                .iter()
                .map(|(id, svc, status)| {
                    check(
                        CHECK_IDS[*id],
                        svc.map_or("", |s| SERVICE_IDS[s]),
                        STATUSES[usize::from(*status)],
                    )
                })
                .collect();
            Command::CatalogRegister(Box::new(r))
        }
        Op::Deregister {
            node,
            service,
            check,
        } => Command::CatalogDeregister(DeregisterRequest {
            node: NODES[*node].into(),
            service_id: service.map_or("", |s| SERVICE_IDS[s]).into(),
            check_id: check.map_or("", |c| CHECK_IDS[c]).into(),
            ..DeregisterRequest::default()
        }),
    }
}

/// `service` under another name, so `command` can use it inside a closure.
fn service_fn(id: &str, name: &str, tags: &[&str]) -> NodeService {
    service(id, name, tags)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_catalog_writes_keep_invariants(ops in proptest::collection::vec(op(), 1..40)) {
        let store = Store::new();
        let mut last = [0u64; 3];
        for (i, op) in ops.iter().enumerate() {
            let index = i as u64 + 1;
            let before = store.view();
            let result = store.apply(index, &command(op));
            let view = store.view();
            if result.is_err() {
                prop_assert_eq!(&view.tables().catalog, &before.tables().catalog, "a failed write changes nothing");
            }
            let c = &view.tables().catalog;
            for ((node, id), svc) in &c.services {
                prop_assert!(c.nodes.contains_key(node), "service {} on missing node {}", id, node);
                prop_assert!(svc.modify_index <= c.services_index);
            }
            for ((node, id), hc) in &c.checks {
                prop_assert!(c.nodes.contains_key(node), "check {} on missing node {}", id, node);
                prop_assert_eq!(&hc.node, node);
                prop_assert!(hc.modify_index <= c.checks_index);
                if !hc.service_id.is_empty() {
                    let svc = c.services.get(&(node.clone(), hc.service_id.clone()));
                    prop_assert!(svc.is_some(), "check {} of missing service {}", id, hc.service_id);
                    let svc = svc.expect("checked above");
                    prop_assert_eq!(&hc.service_name, &svc.service);
                    prop_assert_eq!(&hc.service_tags, &svc.tags);
                }
            }
            for n in c.nodes.values() {
                prop_assert!(n.modify_index <= c.nodes_index);
            }
            let now = [c.nodes_index, c.services_index, c.checks_index];
            for (t, (old, new)) in last.iter().zip(now).enumerate() {
                prop_assert!(new >= *old, "table {} index went back", t);
                prop_assert!(new <= index);
            }
            last = now;
        }
        let restored = Store::new();
        restored.restore(&store.snapshot().expect("snapshot")).expect("restore");
        let (got, want) = (restored.view(), store.view());
        prop_assert_eq!(got.tables(), want.tables());
    }
}
