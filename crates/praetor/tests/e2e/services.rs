//! The tutorials' service and health-check steps against the real binary: config-dir
//! services, agent API registration (the seed's redis.json), script and TTL checks going
//! critical, SIGHUP registering a new file, an HTTP check following its target, and API
//! registrations surviving a restart.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

use crate::agent::AgentProcess;
use crate::{get_json, http};

/// Polls `GET url` until `cond` holds on its JSON body (30s at most).
async fn wait_json(url: &str, what: &str, cond: impl Fn(&Value) -> bool) -> Value {
    let c = http();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let last = match c.get(url).send().await {
            Ok(resp) => resp.json::<Value>().await.unwrap_or(Value::Null),
            Err(_) => Value::Null,
        };
        if cond(&last) {
            return last;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}; last answer of {url}: {last}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn write(dir: &Path, name: &str, body: &Value) {
    std::fs::write(dir.join(name), body.to_string()).unwrap();
}

fn has_check(list: &Value, id: &str) -> bool {
    list.as_array()
        .is_some_and(|l| l.iter().any(|c| c["CheckID"] == id))
}

#[tokio::test]
async fn config_dir_service_shows_in_catalog_and_passing_health() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "web.json",
        &json!({"service": {"name": "web", "tags": ["rails"], "port": 80}}),
    );
    let agent = AgentProcess::start(&["-dev", "-config-dir", dir.path().to_str().unwrap()]);
    let rows = wait_json(
        &format!("{}/v1/catalog/service/web", agent.http),
        "web in the catalog",
        |v| v.as_array().is_some_and(|a| a.len() == 1),
    )
    .await;
    assert_eq!(rows[0]["ServiceTags"], json!(["rails"]));
    assert_eq!(rows[0]["ServicePort"], 80);
    let healthy = wait_json(
        &format!("{}/v1/health/service/web?passing", agent.http),
        "web passing",
        |v| v.as_array().is_some_and(|a| a.len() == 1),
    )
    .await;
    assert_eq!(healthy[0]["Service"]["Service"], "web");
    let local: Value = get_json(format!("{}/v1/agent/services", agent.http)).await;
    assert_eq!(local["web"]["Tags"], json!(["rails"]));
    let out = agent.output();
    assert!(out.contains("Synced node info"), "{out}");
    assert!(out.contains("Synced service: service=web"), "{out}");
}

#[tokio::test]
async fn redis_registered_through_the_agent_api_comes_and_goes() {
    let agent = AgentProcess::dev();
    let c = http();
    // The seed's redis.json, legacy `Script` and all.
    let redis = json!({
        "ID": "redis1", "Name": "redis", "Tags": ["primary", "v1"],
        "Address": "127.0.0.1", "Port": 8000, "Meta": {"redis_version": "4.0"},
        "EnableTagOverride": false,
        "Check": {
            "DeregisterCriticalServiceAfter": "90m",
            "Script": "/usr/local/bin/check_redis.py",
            "HTTP": "http://localhost:5000/health",
            "Interval": "10s",
            "TTL": "15s"
        }
    });
    let resp = c
        .put(format!("{}/v1/agent/service/register", agent.http))
        .json(&redis)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let rows = wait_json(
        &format!("{}/v1/catalog/service/redis", agent.http),
        "redis in the catalog",
        |v| v.as_array().is_some_and(|a| a.len() == 1),
    )
    .await;
    assert_eq!(rows[0]["ServiceID"], "redis1");
    assert_eq!(rows[0]["ServiceMeta"]["redis_version"], "4.0");
    // Its TTL check starts critical.
    wait_json(
        &format!("{}/v1/health/state/critical", agent.http),
        "redis check critical",
        |v| has_check(v, "service:redis1"),
    )
    .await;

    let dereg = format!("{}/v1/agent/service/deregister/redis1", agent.http);
    assert_eq!(c.put(&dereg).send().await.unwrap().status(), 200);
    wait_json(
        &format!("{}/v1/catalog/service/redis", agent.http),
        "redis gone",
        |v| v.as_array().is_some_and(Vec::is_empty),
    )
    .await;
    let again = c.put(&dereg).send().await.unwrap();
    assert_eq!(again.status(), 404);
    assert_eq!(
        again.text().await.unwrap(),
        "Unknown service ID \"redis1\". Ensure that the service ID is passed, not the service name."
    );
}

#[tokio::test]
async fn failing_script_and_expired_ttl_show_as_critical() {
    let agent = AgentProcess::start(&["-dev", "-enable-script-checks"]);
    let c = http();
    let body = json!({"Name": "web", "Port": 80, "Checks": [
        {"CheckID": "script", "Args": ["/bin/sh", "-c", "echo broken; exit 2"], "Interval": "1s"},
        {"CheckID": "ttl", "TTL": "1s"}
    ]});
    let resp = c
        .put(format!("{}/v1/agent/service/register", agent.http))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let pass = c
        .put(format!("{}/v1/agent/check/pass/ttl?note=alive", agent.http))
        .send()
        .await
        .unwrap();
    assert_eq!(pass.status(), 200);
    wait_json(
        &format!("{}/v1/health/state/passing", agent.http),
        "ttl passing",
        |v| has_check(v, "ttl"),
    )
    .await;
    let critical = wait_json(
        &format!("{}/v1/health/state/critical", agent.http),
        "script failed and ttl expired",
        |v| has_check(v, "ttl") && has_check(v, "script"),
    )
    .await;
    // The script's output is the agent's at once; the catalog gets output-only changes
    // every check_update_interval, as in Consul.
    let local = wait_json(
        &format!("{}/v1/agent/checks", agent.http),
        "script output",
        |v| {
            v["script"]["Output"]
                .as_str()
                .unwrap_or("")
                .contains("broken")
        },
    )
    .await;
    assert_eq!(local["script"]["Status"], "critical");
    let ttl = critical
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["CheckID"] == "ttl")
        .unwrap();
    assert!(
        ttl["Output"].as_str().unwrap().starts_with("TTL expired"),
        "{ttl}"
    );
    let out = agent.output();
    assert!(out.contains("Check is now critical: check=script"), "{out}");
}

#[tokio::test]
async fn script_checks_from_the_api_are_refused_without_the_flag() {
    let agent = AgentProcess::dev();
    let resp = http()
        .put(format!("{}/v1/agent/check/register", agent.http))
        .json(&json!({"Name": "s", "Args": ["/bin/true"], "Interval": "1s"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 500);
    assert_eq!(
        resp.text().await.unwrap(),
        "Scripts are disabled on this agent from remote calls; to enable, configure 'enable_script_checks' to true"
    );
}

#[tokio::test]
async fn new_config_file_and_sighup_register_a_service() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "web.json",
        &json!({"service": {"name": "web", "port": 80}}),
    );
    let agent = AgentProcess::start(&["-dev", "-config-dir", dir.path().to_str().unwrap()]);
    wait_json(
        &format!("{}/v1/catalog/service/web", agent.http),
        "web",
        |v| v.as_array().is_some_and(|a| a.len() == 1),
    )
    .await;
    write(
        dir.path(),
        "api.json",
        &json!({"service": {"name": "api", "port": 81, "check": {"ttl": "30s"}}}),
    );
    agent.signal("HUP");
    wait_json(
        &format!("{}/v1/catalog/service/api", agent.http),
        "api after SIGHUP",
        |v| v.as_array().is_some_and(|a| a.len() == 1),
    )
    .await;
    let out = agent.output();
    assert!(out.contains("Caught signal: hangup"), "{out}");
    assert!(out.contains("Reloading configuration..."), "{out}");

    // A bad file: the reload fails with the reason and nothing changes.
    write(
        dir.path(),
        "bad.json",
        &json!({"service": {"name": "bad", "check": {"args": ["/bin/true"], "interval": "1s"}}}),
    );
    let resp = http()
        .put(format!("{}/v1/agent/reload", agent.http))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 500);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("Failed to register service \"bad\": Scripts are disabled on this agent")
    );
    std::fs::remove_file(dir.path().join("api.json")).unwrap();
    std::fs::remove_file(dir.path().join("bad.json")).unwrap();
    let resp = http()
        .put(format!("{}/v1/agent/reload", agent.http))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    wait_json(
        &format!("{}/v1/catalog/service/api", agent.http),
        "api removed by reload",
        |v| v.as_array().is_some_and(Vec::is_empty),
    )
    .await;
}

/// A loopback HTTP server answering `200 ok` to everything until aborted.
async fn serve_ok(listener: TcpListener) {
    loop {
        let Ok((mut conn, _)) = listener.accept().await else {
            return;
        };
        tokio::spawn(async move {
            let mut buf = [0u8; 2048];
            let _ = conn.read(&mut buf).await;
            let _ = conn
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
                .await;
        });
    }
}

#[tokio::test]
async fn http_check_follows_its_target() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let server = tokio::spawn(serve_ok(listener));
    let agent = AgentProcess::dev();
    let resp = http()
        .put(format!("{}/v1/agent/check/register", agent.http))
        .json(&json!({"Name": "target", "HTTP": format!("http://{addr}/health"), "Interval": "1s"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let health = format!("{}/v1/health/node/", agent.http);
    let node: Value = get_json(format!("{}/v1/agent/self", agent.http)).await;
    let url = format!("{health}{}", node["Config"]["NodeName"].as_str().unwrap());
    let status = |v: &Value| -> Option<String> {
        v.as_array()?
            .iter()
            .find(|c| c["CheckID"] == "target")
            .map(|c| c["Status"].as_str().unwrap_or("").to_owned())
    };
    wait_json(&url, "passing while the target answers", |v| {
        status(v).as_deref() == Some("passing")
    })
    .await;
    server.abort();
    let _ = server.await;
    wait_json(&url, "critical once the target stops", |v| {
        status(v).as_deref() == Some("critical")
    })
    .await;
    let listener = TcpListener::bind(addr).await.unwrap();
    let server = tokio::spawn(serve_ok(listener));
    wait_json(&url, "passing again", |v| {
        status(v).as_deref() == Some("passing")
    })
    .await;
    server.abort();
}

#[tokio::test]
async fn api_registrations_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let agent = AgentProcess::server(dir.path());
    let c = http();
    let register = format!("{}/v1/agent/service/register", agent.http);
    let body = json!({"Name": "db", "Port": 5432, "Check": {"TTL": "1h"}});
    // The first registration may race the election; anti-entropy catches up anyway.
    assert_eq!(
        c.put(&register).json(&body).send().await.unwrap().status(),
        200
    );
    let maint = format!(
        "{}/v1/agent/maintenance?enable=true&reason=rack",
        agent.http
    );
    assert_eq!(c.put(&maint).send().await.unwrap().status(), 200);
    agent.signal("TERM");
    agent.wait(Duration::from_secs(30));

    let agent = AgentProcess::server(dir.path());
    let services = wait_json(
        &format!("{}/v1/agent/services", agent.http),
        "db restored",
        |v| v.get("db").is_some(),
    )
    .await;
    assert_eq!(services["db"]["Port"], 5432);
    let checks: Value = c
        .get(format!("{}/v1/agent/checks", agent.http))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(checks["_node_maintenance"]["Notes"], "rack");
    wait_json(
        &format!("{}/v1/catalog/service/db", agent.http),
        "db synced after restart",
        |v| v.as_array().is_some_and(|a| a.len() == 1),
    )
    .await;
}

#[test]
fn a_config_script_check_without_the_flag_fails_the_start() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "web.json",
        &json!({"service": {"name": "web", "check": {"args": ["/bin/true"], "interval": "10s"}}}),
    );
    let out = std::process::Command::new(crate::agent::bin())
        .args(["agent", "-dev", "-config-dir", dir.path().to_str().unwrap()])
        .args(["-http-port", "0", "-dns-port", "0", "-server-port", "0"])
        .args(["-serf-lan-port", "0", "-serf-wan-port", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "Failed to register service \"web\": Scripts are disabled on this agent; to enable, configure 'enable_script_checks' or 'enable_local_script_checks' to true"
        ),
        "{stderr}"
    );
}
