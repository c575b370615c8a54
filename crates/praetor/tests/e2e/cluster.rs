//! A real cluster: 3 servers started with `-bootstrap-expect=3` on 127.0.0.1–3 and 2
//! clients that `-join` them, every port ephemeral. Gossip runs with fast timing through
//! Consul's `gossip_lan` keys (`probe_interval = "100ms"` selects the fast profile).

use std::future::Future;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::agent::AgentProcess;
use crate::http;

/// Fast gossip, as `-dev` has it.
/// Fast gossip (a probe interval under a second selects the fast housekeeping too), a
/// little more patient than `-dev`'s so that a loaded CI machine does not fail members.
pub(crate) const FAST_GOSSIP: &str = r#"gossip_lan { probe_interval = "200ms" probe_timeout = "400ms" gossip_interval = "100ms" suspicion_mult = 4 }"#;

struct Node {
    name: String,
    agent: Option<AgentProcess>,
    /// `ip:port` of its LAN gossip.
    gossip: String,
    /// `ip:port` of its server RPC (servers).
    rpc: Option<String>,
    _dir: tempfile::TempDir,
}

impl Node {
    fn start(name: &str, ip: &str, server: bool, join: Option<&str>) -> Node {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().to_str().unwrap().to_owned();
        let mut args = vec![
            "-node",
            name,
            "-bind",
            ip,
            "-client",
            "127.0.0.1",
            "-data-dir",
            &data,
            "-hcl",
            FAST_GOSSIP,
        ];
        if server {
            args.extend(["-server", "-bootstrap-expect=3"]);
        }
        let join_arg;
        if let Some(addr) = join {
            join_arg = format!("-join={addr}");
            args.push(&join_arg);
        }
        let agent = AgentProcess::start(&args);
        let gossip = agent.log_field("network=lan", "address");
        let rpc = server.then(|| agent.log_field("Started RPC server", "address"));
        Node {
            name: name.to_owned(),
            agent: Some(agent),
            gossip,
            rpc,
            _dir: dir,
        }
    }

    /// The agent's log so far (empty once it was stopped).
    fn output(&self) -> String {
        self.agent
            .as_ref()
            .map(AgentProcess::output)
            .unwrap_or_default()
    }

    fn http(&self) -> &str {
        &self.agent.as_ref().unwrap().http
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("---- {} ----\n{}", self.name, self.output());
        }
    }
}

/// Polls `probe` until it returns `Some`, failing with `what` after `timeout`.
pub(crate) async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn get_json(url: &str) -> Option<Value> {
    let resp = http().get(url).send().await.ok()?;
    if !resp.status().is_success() {
        return None;
    }
    resp.json().await.ok()
}

async fn leader_of(node: &Node) -> Option<String> {
    let v = get_json(&format!("{}/v1/status/leader", node.http())).await?;
    v.as_str().filter(|s| !s.is_empty()).map(str::to_owned)
}

/// The leader every given server agrees on.
async fn agreed_leader(servers: &[&Node], timeout: Duration) -> String {
    eventually(timeout, "an agreed leader", || async {
        let mut leaders = Vec::new();
        for s in servers {
            leaders.push(leader_of(s).await?);
        }
        leaders.dedup();
        (leaders.len() == 1).then(|| leaders.remove(0))
    })
    .await
}

async fn serf_health(via: &Node, node: &str) -> Option<String> {
    let checks = get_json(&format!("{}/v1/health/node/{node}", via.http())).await?;
    checks
        .as_array()?
        .iter()
        .find(|c| c["CheckID"] == "serfHealth")
        .and_then(|c| c["Status"].as_str().map(str::to_owned))
}

async fn node_names(via: &Node) -> Option<Vec<String>> {
    let nodes = get_json(&format!("{}/v1/catalog/nodes", via.http())).await?;
    let mut names: Vec<String> = nodes
        .as_array()?
        .iter()
        .filter_map(|n| n["Node"].as_str().map(str::to_owned))
        .collect();
    names.sort();
    Some(names)
}

async fn kv_put(via: &Node, key: &str, value: &str) -> bool {
    let Ok(resp) = http()
        .put(format!("{}/v1/kv/{key}", via.http()))
        .body(value.to_owned())
        .send()
        .await
    else {
        return false;
    };
    resp.status().is_success() && resp.text().await.is_ok_and(|t| t.trim() == "true")
}

async fn kv_get(via: &Node, key: &str) -> Option<String> {
    let resp = http()
        .get(format!("{}/v1/kv/{key}?raw", via.http()))
        .send()
        .await
        .ok()?;
    if !resp.status().is_success() {
        return None;
    }
    resp.text().await.ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_servers_and_two_clients_form_a_cluster() {
    let long = Duration::from_secs(30);
    let s1 = Node::start("s1", "127.0.0.1", true, None);
    let s2 = Node::start("s2", "127.0.0.2", true, Some(&s1.gossip));
    let s3 = Node::start("s3", "127.0.0.3", true, Some(&s1.gossip));
    let mut servers = vec![s1, s2, s3];
    {
        let refs: Vec<&Node> = servers.iter().collect();
        let leader = agreed_leader(&refs, long).await;
        assert!(
            servers
                .iter()
                .any(|s| s.rpc.as_deref() == Some(leader.as_str()))
        );
        let peers = get_json(&format!("{}/v1/status/peers", servers[0].http()))
            .await
            .unwrap();
        assert_eq!(peers.as_array().unwrap().len(), 3, "{peers}");
    }

    let c1 = Node::start("c1", "127.0.0.4", false, Some(&servers[0].gossip));
    let mut c2 = Node::start("c2", "127.0.0.5", false, Some(&servers[1].gossip));

    // A write through a client is readable from every agent.
    eventually(long, "a KV write through c1", || async {
        kv_put(&c1, "cluster/greeting", "hello").await.then_some(())
    })
    .await;
    for node in servers.iter().chain([&c1, &c2]) {
        let value = eventually(long, "the key on every agent", || async {
            kv_get(node, "cluster/greeting").await
        })
        .await;
        assert_eq!(value, "hello", "read through {}", node.name);
    }

    // Every agent is a catalog node with serfHealth passing.
    let all = ["c1", "c2", "s1", "s2", "s3"];
    eventually(long, "all five nodes passing", || async {
        let names = node_names(&c2).await?;
        if names != all {
            return None;
        }
        for name in all {
            if serf_health(&servers[0], name).await.as_deref() != Some("passing") {
                return None;
            }
        }
        Some(())
    })
    .await;

    // A client's service reaches the catalog through anti-entropy over RPC.
    let resp = http()
        .put(format!("{}/v1/agent/service/register", c1.http()))
        .json(&json!({"Name": "web", "Port": 8080}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    eventually(long, "c1's web service in the catalog", || async {
        let rows = get_json(&format!("{}/v1/catalog/service/web", servers[1].http())).await?;
        rows.as_array()?
            .iter()
            .any(|r| r["Node"] == "c1" && r["ServicePort"] == 8080)
            .then_some(())
    })
    .await;

    // A crashed client: serfHealth critical, node kept.
    c2.agent.take().unwrap().kill9();
    eventually(long, "c2's serfHealth critical", || async {
        (serf_health(&servers[0], "c2").await.as_deref() == Some("critical")).then_some(())
    })
    .await;

    // A graceful leave (Ctrl-C on a client): exit 0, node deregistered.
    let c1_agent = {
        let mut c1 = c1;
        c1.agent.take().unwrap()
    };
    c1_agent.signal("INT");
    assert_eq!(c1_agent.wait(long), Some(0));
    let deregistered = tokio::time::timeout(long, async {
        loop {
            if let Some(names) = node_names(&servers[2]).await
                && !names.iter().any(|n| n == "c1")
                && names.iter().any(|n| n == "c2")
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    if deregistered.is_err() {
        panic!(
            "c1 was not deregistered: {:?}",
            node_names(&servers[2]).await
        );
    }

    // Killing the leader elects a new one; acknowledged writes survive and new ones work.
    let leader = {
        let refs: Vec<&Node> = servers.iter().collect();
        agreed_leader(&refs, long).await
    };
    let at = servers
        .iter()
        .position(|s| s.rpc.as_deref() == Some(leader.as_str()))
        .unwrap();
    let mut old = servers.remove(at);
    let killed = Instant::now();
    old.agent.take().unwrap().kill9();
    let new_leader = eventually(long, "a new leader", || async {
        let l = leader_of(&servers[0]).await?;
        (l != leader && leader_of(&servers[1]).await.as_deref() == Some(l.as_str())).then_some(l)
    })
    .await;
    let elected_in = killed.elapsed();
    eprintln!("new leader {new_leader} elected {elected_in:?} after killing {leader}");
    assert!(
        elected_in < Duration::from_secs(10),
        "election took {elected_in:?}"
    );
    eventually(long, "a write after the failover", || async {
        kv_put(&servers[0], "cluster/after", "still")
            .await
            .then_some(())
    })
    .await;
    for s in &servers {
        assert_eq!(
            kv_get(s, "cluster/greeting").await.as_deref(),
            Some("hello")
        );
        assert_eq!(kv_get(s, "cluster/after").await.as_deref(), Some("still"));
    }
}

/// A loopback address nothing listens on.
fn dead_addr() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().to_string()
}

#[test]
fn join_failures_stop_the_agent() {
    let dead = dead_addr();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();

    // -join: nobody to join fails the start.
    let join = format!("-join={dead}");
    let agent = AgentProcess::start(&[
        "-node",
        "j1",
        "-bind",
        "127.0.0.1",
        "-data-dir",
        data,
        &join,
    ]);
    let out = agent.output.clone();
    assert_eq!(agent.wait(Duration::from_secs(30)), Some(1));
    let out = out.lock().unwrap().clone();
    assert!(out.contains("Error starting agent"), "{out}");

    // -retry-join gives up after -retry-max failed attempts, with Consul's words.
    let retry = format!("-retry-join={dead}");
    let agent = AgentProcess::start(&[
        "-node",
        "j2",
        "-bind",
        "127.0.0.1",
        "-data-dir",
        data,
        &retry,
        "-retry-interval=100ms",
        "-retry-max=2",
    ]);
    let out = agent.output.clone();
    assert_eq!(agent.wait(Duration::from_secs(30)), Some(1));
    let out = out.lock().unwrap().clone();
    assert_eq!(
        out.matches("Join cluster failed, will retry").count(),
        2,
        "{out}"
    );
    assert!(out.contains("max join retry exhausted, exiting"), "{out}");
}
