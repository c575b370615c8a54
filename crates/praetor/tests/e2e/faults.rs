//! Faults on a real 3-server cluster, each server in its own network namespace (see
//! `netns`): a partitioned leader, a leader killed with SIGKILL under write load, and
//! servers paused with SIGSTOP past the election timeout. Every test prints the failover
//! times it measures (`--no-capture` shows them).
//!
//! These tests need root (`ip netns`, nftables); without it they fail, saying so.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;

use crate::agent::AgentProcess;
use crate::cluster::{FAST_GOSSIP, eventually};
use crate::netns::{Lab, NsClient};

/// How long the cluster gets to form, elect or converge before a test fails.
const LONG: Duration = Duration::from_secs(30);
/// How long a request that must not succeed is given (well past the election timeout).
const REFUSAL: Duration = Duration::from_secs(3);

/// One server in its namespace.
struct Node {
    name: String,
    agent: Option<AgentProcess>,
    /// `ip:port` of its LAN gossip.
    gossip: String,
    /// `ip:port` of its server RPC: what `/v1/status/leader` names.
    rpc: String,
    client: Arc<NsClient>,
    _dir: tempfile::TempDir,
}

impl Node {
    fn start(lab: &Lab, i: usize, join: Option<&str>) -> Node {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().to_str().unwrap().to_owned();
        let name = format!("s{i}");
        let bind = Lab::addr(i);
        let mut args = vec![
            "-node",
            &name,
            "-server",
            "-bootstrap-expect=3",
            "-bind",
            &bind,
            "-client",
            "127.0.0.1",
            "-data-dir",
            &data,
            "-hcl",
            FAST_GOSSIP,
        ];
        let join_arg;
        if let Some(addr) = join {
            join_arg = format!("-join={addr}");
            args.push(&join_arg);
        }
        let agent = AgentProcess::start_in_netns(lab.ns(i), &args);
        let gossip = agent.log_field("network=lan", "address");
        let rpc = agent.log_field("Started RPC server", "address");
        Node {
            name,
            agent: Some(agent),
            gossip,
            rpc,
            client: Arc::new(NsClient::new(lab.ns(i))),
            _dir: dir,
        }
    }

    fn agent(&self) -> &AgentProcess {
        self.agent.as_ref().expect("a running agent")
    }

    /// `method path` on this agent's HTTP API (inside its namespace), within `timeout`:
    /// the status and body, or why there was none.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<String>,
        timeout: Duration,
    ) -> Result<(u16, String), String> {
        let url = format!("{}{path}", self.agent().http);
        self.client
            .run(move |c| async move {
                let mut req = c.request(method, url).timeout(timeout);
                if let Some(body) = body {
                    req = req.body(body);
                }
                let resp = req.send().await.map_err(|e| format!("{e:?}"))?;
                let status = resp.status().as_u16();
                let text = resp.text().await.map_err(|e| format!("{e:?}"))?;
                Ok((status, text))
            })
            .await
    }

    /// A KV write: `Ok` only when the agent acknowledged it (`200` and `true`).
    async fn put(&self, key: &str, value: &str, timeout: Duration) -> Result<(), String> {
        let path = format!("/v1/kv/{key}");
        match self
            .call(reqwest::Method::PUT, &path, Some(value.to_owned()), timeout)
            .await?
        {
            (200, body) if body.trim() == "true" => Ok(()),
            (status, body) => Err(format!("{status} {}", body.trim())),
        }
    }

    /// A raw KV read with `query` (e.g. `&consistent`): the value, `None` on 404.
    async fn get(
        &self,
        key: &str,
        query: &str,
        timeout: Duration,
    ) -> Result<Option<String>, String> {
        let path = format!("/v1/kv/{key}?raw{query}");
        match self
            .call(reqwest::Method::GET, &path, None, timeout)
            .await?
        {
            (200, body) => Ok(Some(body)),
            (404, _) => Ok(None),
            (status, body) => Err(format!("{status} {}", body.trim())),
        }
    }

    /// `X-Consul-KnownLeader` of a `?stale` read of `key` on this agent.
    async fn stale_known_leader(&self, key: &str) -> Option<String> {
        let url = format!("{}/v1/kv/{key}?stale", self.agent().http);
        self.client
            .run(move |c| async move {
                let resp = c
                    .get(url)
                    .timeout(Duration::from_secs(2))
                    .send()
                    .await
                    .ok()?;
                let known = resp.headers().get("X-Consul-KnownLeader")?;
                known.to_str().ok().map(str::to_owned)
            })
            .await
    }

    /// The leader this agent reports, if any.
    async fn leader(&self) -> Option<String> {
        let (status, body) = self
            .call(
                reqwest::Method::GET,
                "/v1/status/leader",
                None,
                Duration::from_secs(2),
            )
            .await
            .ok()?;
        if status != 200 {
            return None;
        }
        let v: Value = serde_json::from_str(&body).ok()?;
        v.as_str().filter(|s| !s.is_empty()).map(str::to_owned)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if std::thread::panicking()
            && let Some(agent) = &self.agent
        {
            eprintln!("---- {} ----\n{}", self.name, agent.output());
        }
    }
}

/// Three servers in namespaces. The nodes drop (their agents killed) before the lab
/// (the namespaces deleted).
struct Cluster {
    nodes: Vec<Node>,
    lab: Lab,
}

impl Cluster {
    /// Starts s1–s3 with `-bootstrap-expect=3` and waits for a leader they agree on.
    async fn start() -> (Cluster, usize) {
        let lab = Lab::new(3);
        let s1 = Node::start(&lab, 1, None);
        let s2 = Node::start(&lab, 2, Some(&s1.gossip));
        let s3 = Node::start(&lab, 3, Some(&s1.gossip));
        let cluster = Cluster {
            nodes: vec![s1, s2, s3],
            lab,
        };
        let leader = cluster.agreed_leader(&[0, 1, 2], LONG).await;
        // Ready for writes once one is acknowledged.
        let node = &cluster.nodes[leader];
        eventually(LONG, "a first write", || async {
            node.put("faults/ready", "1", LONG).await.ok()
        })
        .await;
        (cluster, leader)
    }

    /// The index of the node whose RPC address is `rpc`.
    fn by_rpc(&self, rpc: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.rpc == rpc)
    }

    /// The leader (an index) that every node of `among` reports.
    async fn agreed_leader(&self, among: &[usize], timeout: Duration) -> usize {
        eventually(timeout, "an agreed leader", || async {
            let mut leaders = Vec::new();
            for &i in among {
                leaders.push(self.nodes[i].leader().await?);
            }
            leaders.dedup();
            if leaders.len() == 1 {
                self.by_rpc(&leaders[0])
            } else {
                None
            }
        })
        .await
    }

    /// Waits until the nodes of `among` agree on a leader other than `old`.
    async fn new_leader(&self, among: &[usize], old: usize) -> usize {
        eventually(LONG, "a new leader", || async {
            let mut leaders = Vec::new();
            for &i in among {
                leaders.push(self.nodes[i].leader().await?);
            }
            leaders.dedup();
            let l = self.by_rpc(leaders.first()?)?;
            (leaders.len() == 1 && l != old).then_some(l)
        })
        .await
    }

    /// Writes `key` through `node` until one write is acknowledged.
    async fn put_eventually(&self, node: usize, key: &str, value: &str) {
        let n = &self.nodes[node];
        eventually(
            LONG,
            &format!("a write of {key} through {}", n.name),
            || async { n.put(key, value, Duration::from_secs(5)).await.ok() },
        )
        .await;
    }

    /// Waits until `node`'s own state (a `?stale` read) has `key` = `value`.
    async fn caught_up(&self, node: usize, key: &str, value: &str) {
        let n = &self.nodes[node];
        eventually(
            LONG,
            &format!("{} to catch up on {key}", n.name),
            || async {
                let got = n.get(key, "&stale", Duration::from_secs(2)).await.ok()??;
                (got == value).then_some(())
            },
        )
        .await;
    }

    /// The other two nodes.
    fn others(&self, node: usize) -> Vec<usize> {
        (0..self.nodes.len()).filter(|&i| i != node).collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partitioned_leader_is_replaced_and_catches_up_after_healing() {
    let (cluster, old) = Cluster::start().await;
    let majority = cluster.others(old);
    cluster.put_eventually(old, "part/shared", "before").await;
    for &i in &majority {
        cluster.caught_up(i, "part/shared", "before").await;
    }

    let lonely = &cluster.nodes[old];
    assert_eq!(lonely.leader().await.as_deref(), Some(lonely.rpc.as_str()));
    assert_eq!(
        lonely.stale_known_leader("part/shared").await.as_deref(),
        Some("true")
    );

    let cut = Instant::now();
    cluster.lab.isolate(old + 1);
    let new = cluster.new_leader(&majority, old).await;
    let elected = cut.elapsed();
    cluster.put_eventually(new, "part/shared", "after").await;
    cluster
        .put_eventually(majority[0], "part/majority", "m")
        .await;
    let writable = cut.elapsed();
    eprintln!(
        "partition: {} elected {elected:?} after cutting off {}; majority writable after {writable:?}",
        cluster.nodes[new].name, cluster.nodes[old].name
    );

    // The old leader, alone, knows it lost its lease: it names no leader (Consul's would
    // have stepped down) and says so on stale reads.
    eventually(LONG, "the old leader to name no leader", || async {
        let no_leader = lonely.leader().await.is_none();
        let unknown = lonely.stale_known_leader("part/shared").await;
        (no_leader && unknown.as_deref() == Some("false")).then_some(())
    })
    .await;
    let lease_lost = cut.elapsed();
    // It acknowledges no write and serves no consistent read, nor a default read of a
    // value the majority has since replaced.
    // Past the 7 s `rpc_hold_timeout` a write is refused with an error, as in Consul.
    let write = lonely
        .put("part/minority", "lost", Duration::from_secs(12))
        .await;
    assert!(write.is_err(), "the minority acknowledged a write");
    let consistent = lonely.get("part/shared", "&consistent", REFUSAL).await;
    assert!(
        consistent.is_err(),
        "the minority served a consistent read: {consistent:?}"
    );
    let default = lonely.get("part/shared", "", REFUSAL).await;
    assert!(
        default.is_err(),
        "the minority served a default read: {default:?}"
    );
    let stale = lonely.get("part/shared", "&stale", REFUSAL).await;
    eprintln!(
        "partition: on the old leader: no known leader {lease_lost:?} after the cut; \
         write {write:?}, consistent {consistent:?}, default {default:?}, stale {stale:?}"
    );

    let healed = Instant::now();
    cluster.lab.heal(old + 1);
    let leader = cluster.agreed_leader(&[0, 1, 2], LONG).await;
    let agreed = healed.elapsed();
    cluster.caught_up(old, "part/majority", "m").await;
    cluster.caught_up(old, "part/shared", "after").await;
    eprintln!(
        "partition: all agreed on {} {agreed:?} and {} caught up {:?} after healing",
        cluster.nodes[leader].name,
        lonely.name,
        healed.elapsed()
    );
    for node in &cluster.nodes {
        let lost = node.get("part/minority", "&consistent", LONG).await;
        assert_eq!(lost, Ok(None), "the minority's write through {}", node.name);
        let shared = node.get("part/shared", "&consistent", LONG).await;
        assert_eq!(shared, Ok(Some("after".to_owned())), "via {}", node.name);
    }
    // The old leader serves writes again (forwarded to the leader).
    cluster.put_eventually(old, "part/healed", "yes").await;
}

/// An acknowledged write: key, value, when it was sent, when it was acknowledged.
type Acked = (String, String, Instant, Instant);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_leader_under_write_load_loses_no_acknowledged_write() {
    let (mut cluster, old) = Cluster::start().await;
    let survivors = cluster.others(old);
    let acked: Arc<std::sync::Mutex<Vec<Acked>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    // Three writers on each server; those on the leader stop at their first failure.
    for w in 0..9 {
        let node = w % 3;
        let (acked, stop) = (acked.clone(), stop.clone());
        let client = cluster.nodes[node].client.clone();
        let http = cluster.nodes[node].agent().http.clone();
        let on_leader = node == old;
        writers.push(tokio::spawn(async move {
            for i in 0.. {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let (key, value) = (format!("load/{w}/{i}"), format!("v{w}-{i}"));
                let url = format!("{http}/v1/kv/{key}");
                let body = value.clone();
                let sent = Instant::now();
                let ok = client
                    .run(move |c| async move {
                        let resp = c
                            .put(url)
                            .body(body)
                            .timeout(Duration::from_secs(10))
                            .send()
                            .await
                            .ok()?;
                        let ok = resp.status() == 200;
                        (ok && resp.text().await.ok()?.trim() == "true").then_some(())
                    })
                    .await
                    .is_some();
                if ok {
                    acked
                        .lock()
                        .unwrap()
                        .push((key, value, sent, Instant::now()));
                } else if on_leader {
                    break;
                }
            }
        }));
    }
    eventually(LONG, "200 acknowledged writes", || async {
        (acked.lock().unwrap().len() >= 200).then_some(())
    })
    .await;

    let killed = Instant::now();
    let before = acked.lock().unwrap().len();
    cluster.nodes[old].agent.take().unwrap().kill9();
    let new = cluster.new_leader(&survivors, old).await;
    let elected = killed.elapsed();
    eventually(LONG, "100 acknowledged writes after the kill", || async {
        let acked = acked.lock().unwrap();
        (acked
            .iter()
            .filter(|(_, _, sent, _)| *sent > killed)
            .count()
            >= 100)
            .then_some(())
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    // The first acknowledgement of a write sent after the kill: how long writes stalled.
    let first_after = acked
        .iter()
        .filter(|(_, _, sent, _)| *sent > killed)
        .map(|(_, _, _, at)| at.duration_since(killed))
        .min()
        .unwrap();
    eprintln!(
        "kill -9: {} elected {elected:?} after killing {}; first write sent after the kill \
         acknowledged {first_after:?} after it; {before} writes acknowledged before it, {} in all",
        cluster.nodes[new].name,
        cluster.nodes[old].name,
        acked.len()
    );
    assert!(
        elected < Duration::from_secs(10),
        "election took {elected:?}"
    );

    // Every acknowledged write is there, read through each survivor with ?consistent.
    for &i in &survivors {
        let (status, body) = cluster.nodes[i]
            .call(
                reqwest::Method::GET,
                "/v1/kv/load/?recurse&consistent",
                None,
                LONG,
            )
            .await
            .unwrap();
        assert_eq!(status, 200, "{body}");
        let entries: Vec<Value> = serde_json::from_str(&body).unwrap();
        let stored: std::collections::HashMap<String, String> = entries
            .iter()
            .map(|e| {
                let value = base64::engine::general_purpose::STANDARD
                    .decode(e["Value"].as_str().unwrap_or_default())
                    .unwrap();
                (
                    e["Key"].as_str().unwrap().to_owned(),
                    String::from_utf8(value).unwrap(),
                )
            })
            .collect();
        let missing: Vec<&String> = acked
            .iter()
            .filter(|(k, v, _, _)| stored.get(k) != Some(v))
            .map(|(k, _, _, _)| k)
            .collect();
        assert!(
            missing.is_empty(),
            "{} of {} acknowledged writes missing via {}: {:?}",
            missing.len(),
            acked.len(),
            cluster.nodes[i].name,
            &missing[..missing.len().min(10)]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_servers_rejoin_and_catch_up() {
    let (cluster, leader) = Cluster::start().await;
    // Well past the longest election timeout (2 × 500 ms).
    let pause = Duration::from_millis(2500);

    // A paused follower: the leader keeps its quorum and keeps writing.
    let follower = cluster.others(leader)[0];
    let stopped = Instant::now();
    cluster.nodes[follower].agent().signal("STOP");
    let mut written = 0;
    while stopped.elapsed() < pause {
        cluster.nodes[leader]
            .put(&format!("pause/f/{written}"), "x", Duration::from_secs(5))
            .await
            .unwrap_or_else(|e| panic!("a write while a follower is paused: {e}"));
        written += 1;
    }
    cluster.nodes[follower].agent().signal("CONT");
    let resumed = Instant::now();
    let last = format!("pause/f/{}", written - 1);
    cluster.caught_up(follower, &last, "x").await;
    let still = cluster.agreed_leader(&[0, 1, 2], LONG).await;
    eprintln!(
        "pause: {} paused {:?} ({written} writes meanwhile), caught up {:?} after resuming; \
         leader {} before, {} after",
        cluster.nodes[follower].name,
        resumed.duration_since(stopped),
        resumed.elapsed(),
        cluster.nodes[leader].name,
        cluster.nodes[still].name
    );

    // A paused leader: the others elect a new one, which writes; the old one comes back
    // as a follower and catches up.
    let old = still;
    let others = cluster.others(old);
    let stopped = Instant::now();
    cluster.nodes[old].agent().signal("STOP");
    let new = cluster.new_leader(&others, old).await;
    let elected = stopped.elapsed();
    cluster.put_eventually(new, "pause/l/after", "y").await;
    let writable = stopped.elapsed();
    // Stay paused past the election timeout even when the election was quick.
    while stopped.elapsed() < pause {
        cluster.put_eventually(others[0], "pause/l/more", "z").await;
    }
    cluster.nodes[old].agent().signal("CONT");
    let resumed = Instant::now();
    // Its lease ran out while it was paused: at once, it never serves the state from
    // before the pause as current (it refuses, or forwards to the new leader).
    let first = cluster.nodes[old]
        .get("pause/l/after", "", Duration::from_secs(10))
        .await;
    assert!(
        !matches!(first, Ok(None)),
        "the resumed leader served a stale default read"
    );
    let leader = cluster.agreed_leader(&[0, 1, 2], LONG).await;
    cluster.caught_up(old, "pause/l/after", "y").await;
    eprintln!(
        "pause: {} elected {elected:?} after pausing leader {}, writable after {writable:?}; \
         first default read on it after resuming {first:?}; \
         all agree on {} and {} caught up {:?} after resuming",
        cluster.nodes[new].name,
        cluster.nodes[old].name,
        cluster.nodes[leader].name,
        cluster.nodes[old].name,
        resumed.elapsed()
    );
    cluster.put_eventually(old, "pause/l/back", "w").await;
    for node in &cluster.nodes {
        let got = node.get("pause/l/back", "&consistent", LONG).await;
        assert_eq!(got, Ok(Some("w".to_owned())), "via {}", node.name);
    }
}
