//! `/v1/operator/autopilot/*` and `praetor operator autopilot` against a real `agent -dev`.

use serde_json::Value;

use crate::agent::{AgentProcess, cli};
use crate::{get_json, http};

#[tokio::test]
async fn autopilot_configuration_health_and_cli() {
    let agent = AgentProcess::dev();
    let api = agent.http.clone();
    let url = format!("{api}/v1/operator/autopilot/configuration");

    let cfg: Value = get_json(&url).await;
    assert_eq!(cfg["CleanupDeadServers"], true);
    assert_eq!(cfg["LastContactThreshold"], "200ms");
    assert_eq!(cfg["ServerStabilizationTime"], "10s");
    let index = cfg["ModifyIndex"].as_u64().unwrap();

    // A CAS over a wrong index loses, over the one read wins.
    let body = serde_json::json!({"CleanupDeadServers": false, "MinQuorum": 1});
    let put = |cas: u64| http().put(format!("{url}?cas={cas}")).json(&body).send();
    assert_eq!(
        put(index + 1000)
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
            .trim(),
        "false"
    );
    assert_eq!(
        put(index).await.unwrap().text().await.unwrap().trim(),
        "true"
    );
    let cfg: Value = get_json(&url).await;
    assert_eq!(cfg["CleanupDeadServers"], false);
    assert_eq!(cfg["MinQuorum"], 1);
    assert!(cfg["ModifyIndex"].as_u64().unwrap() > index);

    let (code, out, err) = cli(
        &api,
        &["operator", "autopilot", "set-config", "-min-quorum=2"],
    );
    assert_eq!(
        (code, out.as_str()),
        (0, "Configuration updated!\n"),
        "{err}"
    );
    let (code, out, err) = cli(&api, &["operator", "autopilot", "get-config"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("CleanupDeadServers = false\n"), "{out}");
    assert!(out.contains("\nMinQuorum = 2\n"), "{out}");

    let resp = http()
        .get(format!("{api}/v1/operator/autopilot/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let health: Value = resp.json().await.unwrap();
    assert_eq!(health["Healthy"], true);
    assert_eq!(health["FailureTolerance"], 0);
    let servers = health["Servers"].as_array().unwrap();
    assert_eq!(servers.len(), 1);
    assert_eq!(servers[0]["Leader"], true);
    assert_eq!(servers[0]["Voter"], true);
    assert_eq!(servers[0]["LastContact"], "0s");
    let id = servers[0]["ID"].as_str().unwrap().to_owned();

    // The state keys the same server by its ID, as the leader and the only voter.
    let state: Value = get_json(format!("{api}/v1/operator/autopilot/state")).await;
    assert_eq!(state["Leader"], id.as_str());
    assert_eq!(state["Voters"], serde_json::json!([id]));
    assert_eq!(state["Servers"][&id]["Status"], "leader");
    let (code, out, err) = cli(&api, &["operator", "autopilot", "state"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("Healthy:                      true\n"),
        "{out}"
    );
    assert!(
        out.contains(&format!("\nLeader:                       {id}\n")),
        "{out}"
    );
    assert!(out.contains("      Status:         leader\n"), "{out}");
    let (code, out, err) = cli(&api, &["operator", "autopilot", "state", "-format=json"]);
    assert_eq!(code, 0, "{err}");
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["Leader"], id.as_str());
}
