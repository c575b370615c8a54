use serde_json::{Value, json};

use super::*;

fn to_json<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("serialise")
}

#[test]
fn health_status_is_lowercase_and_defaults_to_critical() {
    assert_eq!(to_json(&HealthStatus::Passing), json!("passing"));
    assert_eq!(to_json(&HealthStatus::Warning), json!("warning"));
    assert_eq!(HealthStatus::default(), HealthStatus::Critical);
    let s: HealthStatus = serde_json::from_value(json!("warning")).expect("parse");
    assert_eq!(s, HealthStatus::Warning);
    assert!(serde_json::from_value::<HealthStatus>(json!("Passing")).is_err());
    assert_eq!(
        HealthStatus::parse("critical"),
        Some(HealthStatus::Critical)
    );
    assert_eq!(HealthStatus::parse("maintenance"), None);
}

#[test]
fn aggregate_status_takes_the_worst() {
    use HealthStatus::*;
    assert_eq!(HealthStatus::aggregate([]), Passing);
    assert_eq!(HealthStatus::aggregate([Passing, Warning]), Warning);
    assert_eq!(
        HealthStatus::aggregate([Warning, Critical, Passing]),
        Critical
    );
}

#[test]
fn node_json_matches_consul_shape() {
    let node = Node {
        id: "40e4a748-2192-161a-0510-9bf59fe950b5".into(),
        node: "node1".into(),
        address: "10.1.10.12".into(),
        datacenter: "dc1".into(),
        tagged_addresses: [("lan".to_owned(), "10.1.10.12".to_owned())].into(),
        meta: StringMap::new(),
        create_index: 13,
        modify_index: 14,
    };
    assert_eq!(
        to_json(&node),
        json!({"ID":"40e4a748-2192-161a-0510-9bf59fe950b5","Node":"node1","Address":"10.1.10.12",
               "Datacenter":"dc1","TaggedAddresses":{"lan":"10.1.10.12"},"Meta":{},
               "CreateIndex":13,"ModifyIndex":14})
    );
    let back: Node = serde_json::from_value(to_json(&node)).expect("parse");
    assert_eq!(back, node);
}

#[test]
fn node_service_json_has_empty_tags_and_meta_and_omits_empty_optionals() {
    let svc = NodeService {
        id: "web1".into(),
        service: "web".into(),
        port: 80,
        create_index: 20,
        modify_index: 20,
        ..NodeService::default()
    };
    assert_eq!(
        to_json(&svc),
        json!({"ID":"web1","Service":"web","Tags":[],"Address":"","Meta":{},"Port":80,
               "Weights":{"Passing":1,"Warning":1},"EnableTagOverride":false,
               "CreateIndex":20,"ModifyIndex":20})
    );
}

#[test]
fn node_service_accepts_nulls_and_missing_fields() {
    let svc: NodeService = serde_json::from_value(
        json!({"Service":"web","Tags":null,"Meta":null,"Weights":null,"TaggedAddresses":null}),
    )
    .expect("parse");
    assert_eq!(svc.service, "web");
    assert!(svc.tags.is_empty() && svc.meta.is_empty());
    assert_eq!(svc.weights, Weights::default());
}

#[test]
fn service_tagged_addresses_are_emitted_with_capitalised_fields() {
    let mut svc = NodeService {
        service: "web".into(),
        ..NodeService::default()
    };
    svc.tagged_addresses.insert(
        "lan_ipv4".into(),
        ServiceAddress {
            address: "10.0.0.1".into(),
            port: 80,
        },
    );
    assert_eq!(
        to_json(&svc)["TaggedAddresses"],
        json!({"lan_ipv4":{"Address":"10.0.0.1","Port":80}})
    );
}

#[test]
fn service_node_flattens_node_and_service() {
    let node = Node {
        node: "node1".into(),
        address: "10.0.0.5".into(),
        meta: [("env".to_owned(), "prod".to_owned())].into(),
        ..Node::default()
    };
    let svc = NodeService {
        id: "web1".into(),
        service: "web".into(),
        tags: vec!["v1".into()],
        port: 80,
        create_index: 7,
        modify_index: 9,
        ..NodeService::default()
    };
    let row = to_json(&ServiceNode::new(&node, &svc));
    assert_eq!(row["Node"], json!("node1"));
    assert_eq!(row["NodeMeta"], json!({"env":"prod"}));
    assert_eq!(row["ServiceID"], json!("web1"));
    assert_eq!(row["ServiceName"], json!("web"));
    assert_eq!(row["ServiceTags"], json!(["v1"]));
    assert_eq!(row["ServiceMeta"], json!({}));
    assert_eq!(row["ServiceWeights"], json!({"Passing":1,"Warning":1}));
    assert_eq!(row["ServicePort"], json!(80));
    assert_eq!(row["ServiceKind"], json!(""));
    assert_eq!(
        (row["CreateIndex"].clone(), row["ModifyIndex"].clone()),
        (json!(7), json!(9))
    );
    assert!(row.get("ServiceTaggedAddresses").is_none());
}

#[test]
fn health_check_json_matches_consul_shape() {
    let check = HealthCheck {
        node: "node1".into(),
        check_id: "serfHealth".into(),
        name: "Serf Health Status".into(),
        status: HealthStatus::Passing,
        create_index: 3,
        modify_index: 4,
        ..HealthCheck::default()
    };
    let v = to_json(&check);
    assert_eq!(v["CheckID"], json!("serfHealth"));
    assert_eq!(v["Status"], json!("passing"));
    assert_eq!(v["ServiceID"], json!(""));
    assert_eq!(v["ServiceTags"], json!([]));
    assert_eq!(v["Type"], json!(""));
    assert_eq!(v["Definition"]["Interval"], json!("0s"));
    assert_eq!(v["Definition"]["Header"], Value::Null);
    assert_eq!(v["Definition"]["TLSSkipVerify"], json!(false));
    let back: HealthCheck = serde_json::from_value(v).expect("parse");
    assert_eq!(back, check);
}

#[test]
fn check_without_status_is_critical() {
    let c: HealthCheck = serde_json::from_value(json!({"Name":"mem"})).expect("parse");
    assert_eq!(c.status, HealthStatus::Critical);
}

#[test]
fn register_request_decodes_consul_body() {
    let req: RegisterRequest = serde_json::from_value(json!({
        "Datacenter": "dc1",
        "ID": "40e4a748-2192-161a-0510-9bf59fe950b5",
        "Node": "foobar",
        "Address": "192.168.10.10",
        "TaggedAddresses": {"lan": "192.168.10.10"},
        "NodeMeta": {"somekey": "somevalue"},
        "Service": {"ID": "redis1", "Service": "redis", "Tags": ["primary"], "Port": 8000},
        "Check": {"Node": "foobar", "CheckID": "service:redis1", "Name": "Redis health check",
                  "Status": "passing", "ServiceID": "redis1",
                  "Definition": {"TCP": "localhost:8888", "Interval": "5s"}},
        "SkipNodeUpdate": false
    }))
    .expect("parse");
    assert_eq!(req.node, "foobar");
    let svc = req.service.as_ref().expect("service");
    assert_eq!((svc.id.as_str(), svc.port), ("redis1", 8000));
    let check = req.check.as_ref().expect("check");
    assert_eq!(check.definition.tcp, "localhost:8888");
    assert_eq!(check.definition.timeout, "0s");
    assert!(req.checks.is_empty());
    let back: RegisterRequest = serde_json::from_value(to_json(&req)).expect("round trip");
    assert_eq!(back, req);
}

#[test]
fn deregister_request_decodes_consul_body() {
    let req: DeregisterRequest =
        serde_json::from_value(json!({"Datacenter":"dc1","Node":"foobar","ServiceID":"redis1"}))
            .expect("parse");
    assert_eq!(req.node, "foobar");
    assert_eq!(req.service_id, "redis1");
    assert_eq!(req.check_id, "");
}

#[test]
fn check_service_node_and_node_services_shapes() {
    let csn = CheckServiceNode {
        node: Node::default(),
        service: NodeService::default(),
        checks: vec![],
    };
    let v = to_json(&csn);
    assert!(v.get("Node").is_some() && v.get("Service").is_some());
    assert_eq!(v["Checks"], json!([]));
    assert_eq!(csn.aggregate_status(), HealthStatus::Passing);
    let ns = NodeServices::default();
    assert_eq!(to_json(&ns)["Services"], json!({}));
}
