//! `praetor catalog …` and `praetor validate` with the real binary against `agent -dev`.

use serde_json::json;

use crate::agent::{AgentProcess, cli};
use crate::http;

#[tokio::test]
async fn catalog_commands_show_registered_nodes_and_services() {
    let agent = AgentProcess::dev();
    let api = agent.http.clone();
    let body = json!({
        "Node": "e2e-node", "ID": "1b662d97-8b5c-3cc2-0ac0-96f55ad423b5",
        "Address": "10.4.5.31", "NodeMeta": {"env": "e2e"},
        "Service": {"ID": "web1", "Service": "web", "Tags": ["v2", "rails"], "Port": 80}
    });
    let resp = http()
        .put(format!("{api}/v1/catalog/register"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());

    let (code, out, err) = cli(&api, &["catalog", "datacenters"]);
    assert_eq!((code, out.as_str()), (0, "dc1\n"), "{err}");

    let (code, out, err) = cli(&api, &["catalog", "nodes", "-node-meta", "env=e2e"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "Node      ID        Address    DC\ne2e-node  1b662d97  10.4.5.31  dc1\n"
    );

    let (code, out, err) = cli(&api, &["catalog", "nodes", "-service=web", "-detailed"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("e2e-node  1b662d97-8b5c-3cc2-0ac0-96f55ad423b5  10.4.5.31")),
        "{out}"
    );

    let (code, out, err) = cli(&api, &["catalog", "services", "-tags"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("web ") && l.ends_with("rails,v2")),
        "{out}"
    );

    let (code, out, err) = cli(&api, &["catalog", "services", "-node=e2e-node"]);
    assert_eq!((code, out.as_str()), (0, "web\n"), "{err}");

    let (code, out, err) = cli(&api, &["catalog", "nodes", "-node-meta=env=none"]);
    assert_eq!((code, out.as_str()), (0, ""));
    assert_eq!(
        err,
        "No nodes match the given query - try expanding your search.\n"
    );
}

#[test]
fn validate_uses_the_agents_loader() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good");
    std::fs::create_dir(&good).unwrap();
    std::fs::write(
        good.join("agent.hcl"),
        format!(
            "data_dir = {:?}\nbind_addr = \"127.0.0.1\"\nnode_id = \"adf4238a-882b-9ddc-4a9d-5b6758e4159e\"\n",
            dir.path().join("data")
        ),
    )
    .unwrap();
    std::fs::write(
        good.join("web.json"),
        r#"{"service": {"name": "web", "tags": ["rails"], "port": 80}}"#,
    )
    .unwrap();
    let good = good.to_str().unwrap();
    let (code, out, err) = cli("127.0.0.1:1", &["validate", good]);
    assert_eq!(
        (code, out.as_str()),
        (0, "Configuration is valid!\n"),
        "{err}"
    );

    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"data_dir": "/tmp/x", "bind_addr": "127.0.0.1", "portz": {}}"#,
    )
    .unwrap();
    let (code, out, err) = cli("127.0.0.1:1", &["validate", bad.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert_eq!(
        err,
        format!(
            "Config validation failed: {}: invalid config key portz\n",
            bad.display()
        )
    );
}
