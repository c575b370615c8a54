//! Real pools on 127.0.0.1 port 0, fast timing: join, tags, leave vs failure, force-leave,
//! encryption, user events.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::{Duration, Instant};

use bytes::Bytes;
use praetor_gossip::{
    AgentTags, Bootstrap, EncryptKey, Encryption, Error, GossipConfig, KeyringOp, MemberEventKind,
    MemberStatus, Membership, SerfPool, ServerMeta, Timing,
};
use tokio::sync::broadcast;

/// Generous: the CI machine is small and shared.
const DEADLINE: Duration = Duration::from_secs(20);

fn config(name: &str) -> GossipConfig {
    let mut c = GossipConfig::lan(name, "127.0.0.1:0".parse().expect("loopback"));
    c.timing = Timing::fast();
    c.tags = BTreeMap::from([("role".into(), "node".into()), ("who".into(), name.into())]);
    c
}

async fn start(name: &str) -> SerfPool {
    SerfPool::start(config(name)).await.expect("pool starts")
}

fn addr_of(p: &SerfPool) -> Vec<String> {
    vec![p.local_addr().to_string()]
}

/// Polls `cond` until it holds or [`DEADLINE`] passes; returns how long it took.
async fn wait_until<F, Fut>(what: &str, mut cond: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if cond().await {
            return start.elapsed();
        }
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn status(p: &SerfPool, node: &str) -> Option<MemberStatus> {
    p.members()
        .await
        .into_iter()
        .find(|m| m.name == node)
        .map(|m| m.status)
}

async fn wait_status(p: &SerfPool, node: &str, want: MemberStatus) -> Duration {
    let what = format!("{} to see {node} {want}", p.local_name());
    wait_until(&what, || async { status(p, node).await == Some(want) }).await
}

/// Awaits the first member event of `kind` about `node`.
async fn next_member_event(
    rx: &mut broadcast::Receiver<praetor_gossip::MemberEvent>,
    kind: MemberEventKind,
    node: &str,
) {
    let found = tokio::time::timeout(DEADLINE, async {
        loop {
            let ev = rx.recv().await.expect("event stream open");
            if ev.kind == kind && ev.members.iter().any(|m| m.name == node) {
                return;
            }
        }
    })
    .await;
    assert!(found.is_ok(), "no {kind} event for {node}");
}

/// Three pools, b and c joined through a.
async fn cluster3() -> (SerfPool, SerfPool, SerfPool) {
    let (a, b, c) = (start("a").await, start("b").await, start("c").await);
    assert_eq!(b.join(&addr_of(&a)).await.expect("b joins"), 1);
    assert_eq!(c.join(&addr_of(&a)).await.expect("c joins"), 1);
    for p in [&a, &b, &c] {
        wait_until("3 alive members", || async {
            let ms = p.members().await;
            ms.len() == 3 && ms.iter().all(|m| m.status == MemberStatus::Alive)
        })
        .await;
    }
    (a, b, c)
}

async fn stop(pools: &[&SerfPool]) {
    for p in pools {
        p.shutdown().await.expect("shutdown");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pools_join_and_see_each_other_with_tags() {
    let a = start("a").await;
    assert_ne!(
        a.local_addr().port(),
        0,
        "port 0 is replaced by the bound port"
    );
    let mut a_events = a.member_events();

    // b carries a full set of Consul server tags: they must fit in gossip metadata.
    let server = AgentTags {
        server: true,
        datacenter: "dc1".into(),
        node_id: "40e4a748-2192-161a-0510-9bf59fe950b5".into(),
        build: "0.1.0:a8e2b1c3".into(),
        server_port: Some(8300),
        wan_join_port: Some(8302),
        bootstrap: Bootstrap::Expect(3),
    };
    let mut bc = config("b");
    bc.tags = server.to_tags();
    let b = SerfPool::start(bc).await.expect("b starts");
    let c = start("c").await;
    assert_eq!(b.join(&addr_of(&a)).await.expect("b joins"), 1);
    next_member_event(&mut a_events, MemberEventKind::Join, "b").await;
    assert_eq!(c.join(&addr_of(&b)).await.expect("c joins"), 1);

    for p in [&a, &b, &c] {
        wait_until("every pool sees 3 members", || async {
            p.members().await.len() == 3
        })
        .await;
    }
    let seen = c.members().await;
    let names: Vec<&str> = seen.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    let a_seen = &seen[0];
    assert_eq!(a_seen.status, MemberStatus::Alive);
    assert_eq!(a_seen.port, a.local_addr().port());
    assert_eq!(a_seen.addr, a.local_addr().ip());
    assert_eq!(a_seen.tags["who"], "a");
    assert_eq!(seen[1].tags, server.to_tags());
    let meta = ServerMeta::from_member(&seen[1]).expect("b is a server");
    assert_eq!(meta.rpc_addr.port(), 8300);
    assert_eq!(meta.bootstrap, Bootstrap::Expect(3));
    assert_eq!(c.local_member().await.name, "c");
    stop(&[&a, &b, &c]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_leave_is_seen_as_left() {
    let (a, b, c) = cluster3().await;
    let mut a_events = a.member_events();
    c.leave().await.expect("leave");
    next_member_event(&mut a_events, MemberEventKind::Leave, "c").await;
    wait_status(&a, "c", MemberStatus::Left).await;
    wait_status(&b, "c", MemberStatus::Left).await;
    c.shutdown().await.expect("shutdown");
    // A left member stays listed as left (24 h tombstone), it does not turn failed.
    assert_eq!(status(&a, "c").await, Some(MemberStatus::Left));
    stop(&[&a, &b]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopped_pool_is_seen_as_failed_then_force_leave_makes_it_left() {
    let (a, b, c) = cluster3().await;
    let mut a_events = a.member_events();
    c.shutdown().await.expect("shutdown without leave");
    next_member_event(&mut a_events, MemberEventKind::Failed, "c").await;
    let took = wait_status(&a, "c", MemberStatus::Failed).await;
    wait_status(&b, "c", MemberStatus::Failed).await;
    // Fast profile: a failure is detected within a few seconds even on a loaded machine.
    assert!(
        took < Duration::from_secs(10),
        "failure detection took {took:?}"
    );

    a.force_leave("c", false).await.expect("force-leave");
    wait_status(&a, "c", MemberStatus::Left).await;
    wait_status(&b, "c", MemberStatus::Left).await;

    let err = a.force_leave("nobody", false).await.unwrap_err();
    assert!(matches!(err, Error::NoSuchNode(_)));
    assert_eq!(err.to_string(), "agent: No node found with name 'nobody'");
    stop(&[&a, &b]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn force_leave_with_prune_removes_a_failed_member() {
    let (a, b, c) = cluster3().await;
    c.shutdown().await.expect("shutdown without leave");
    wait_status(&a, "c", MemberStatus::Failed).await;
    let mut b_events = b.member_events();
    a.force_leave("c", true).await.expect("force-leave -prune");
    wait_until("a to drop c", || async { status(&a, "c").await.is_none() }).await;
    wait_until("b to drop c", || async { status(&b, "c").await.is_none() }).await;
    next_member_event(&mut b_events, MemberEventKind::Reap, "c").await;
    stop(&[&a, &b]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tag_updates_propagate() {
    let (a, b, c) = cluster3().await;
    let mut a_events = a.member_events();
    let tags = BTreeMap::from([("role".into(), "node".into()), ("rev".into(), "2".into())]);
    b.set_tags(tags.clone()).await.expect("set tags");
    next_member_event(&mut a_events, MemberEventKind::Update, "b").await;
    for p in [&a, &c] {
        wait_until("new tags of b", || async {
            p.members()
                .await
                .iter()
                .any(|m| m.name == "b" && m.tags == tags)
        })
        .await;
    }
    assert_eq!(b.local_member().await.tags, tags);
    stop(&[&a, &b, &c]).await;
}

fn encrypted(name: &str, key: &EncryptKey) -> GossipConfig {
    let mut c = config(name);
    c.encryption = Some(Encryption::new(key.clone()));
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_pools_talk_and_others_cannot_join() {
    let key = EncryptKey::from_base64("pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s=").expect("key");
    let a = SerfPool::start(encrypted("a", &key)).await.expect("a");
    let b = SerfPool::start(encrypted("b", &key)).await.expect("b");
    assert!(a.encryption_enabled() && b.encryption_enabled());
    assert_eq!(b.join(&addr_of(&a)).await.expect("same key joins"), 1);
    wait_until("a sees b", || async {
        status(&a, "b").await == Some(MemberStatus::Alive)
    })
    .await;

    let plain = start("plain").await;
    assert!(!plain.encryption_enabled());
    assert!(
        plain.join(&addr_of(&a)).await.is_err(),
        "unencrypted join must fail"
    );

    let other = EncryptKey::from_bytes(vec![9u8; 32]).expect("key");
    let wrong = SerfPool::start(encrypted("wrong", &other))
        .await
        .expect("wrong");
    assert!(
        wrong.join(&addr_of(&a)).await.is_err(),
        "wrong-key join must fail"
    );

    // Neither got in: the encrypted pool still has exactly its two members.
    let names: Vec<String> = a.members().await.into_iter().map(|m| m.name).collect();
    assert_eq!(names, ["a", "b"]);
    stop(&[&a, &b, &plain, &wrong]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_event_reaches_every_member_once() {
    let (a, b, c) = cluster3().await;
    let mut rxs = vec![a.user_events(), b.user_events(), c.user_events()];
    b.fire("deploy", Bytes::from_static(b"v1.2.3"))
        .await
        .expect("fire");
    for rx in &mut rxs {
        let ev = tokio::time::timeout(DEADLINE, rx.recv())
            .await
            .expect("event arrives")
            .expect("stream open");
        assert_eq!(
            (ev.name.as_str(), &ev.payload[..]),
            ("deploy", &b"v1.2.3"[..])
        );
    }
    // Every member has it; a marker fired now must be the next thing each one sees: a
    // second delivery of "deploy" would come before it.
    b.fire("done", Bytes::new()).await.expect("fire");
    for rx in &mut rxs {
        let ev = tokio::time::timeout(DEADLINE, rx.recv())
            .await
            .expect("event arrives")
            .expect("stream open");
        assert_eq!(ev.name, "done", "exactly once: {ev:?}");
        assert!(rx.is_empty());
    }
    let too_big = Bytes::from(vec![b'x'; 600]);
    assert!(matches!(
        a.fire("big", too_big).await,
        Err(Error::UserEvent(_))
    ));
    stop(&[&a, &b, &c]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_errors_when_nothing_answers() {
    let a = start("a").await;
    // A port that was free a moment ago: nothing listens there.
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr");
    assert!(a.join(&[free.to_string()]).await.is_err());
    assert!(a.join(&[]).await.is_err());
    assert!(a.join(&["no-such-host.invalid".to_string()]).await.is_err());
    assert_eq!(a.members().await.len(), 1);
    stop(&[&a]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_member_is_reconnected_when_it_comes_back() {
    let (a, b, c) = cluster3().await;
    let c_addr = c.local_addr();
    c.shutdown().await.expect("shutdown without leave");
    wait_status(&a, "c", MemberStatus::Failed).await;

    // c comes back on the same address without joining anyone: the others' reconnect loop
    // finds it.
    let mut cc = config("c");
    cc.bind = c_addr;
    let c2 = SerfPool::start(cc)
        .await
        .expect("c restarts on its old address");
    wait_status(&a, "c", MemberStatus::Alive).await;
    wait_status(&b, "c", MemberStatus::Alive).await;
    wait_until("c to see the others", || async {
        c2.members().await.len() == 3
    })
    .await;
    stop(&[&a, &b, &c2]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_member_is_reaped_after_reconnect_timeout() {
    let mut ac = config("a");
    ac.timing.reconnect_timeout = Duration::from_secs(1);
    let a = SerfPool::start(ac).await.expect("a");
    let b = start("b").await;
    b.join(&addr_of(&a)).await.expect("join");
    wait_status(&a, "b", MemberStatus::Alive).await;
    let mut events = a.member_events();
    b.shutdown().await.expect("shutdown without leave");
    next_member_event(&mut events, MemberEventKind::Failed, "b").await;
    next_member_event(&mut events, MemberEventKind::Reap, "b").await;
    assert_eq!(status(&a, "b").await, None);
    stop(&[&a]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_with_snapshot_rejoins_previous_members() {
    let dir = tempfile::tempdir().expect("tempdir");
    let snapshot = dir.path().join("serf").join("local.snapshot");
    std::fs::create_dir_all(snapshot.parent().expect("parent")).expect("mkdir");
    let b = start("b").await;
    let mut ac = config("a");
    ac.snapshot_path = Some(snapshot.clone());
    let a = SerfPool::start(ac.clone()).await.expect("a");
    a.join(&addr_of(&b)).await.expect("join");
    wait_status(&a, "b", MemberStatus::Alive).await;
    a.shutdown().await.expect("stop without leaving");

    // Restarted on its address (as an agent restarts on its configured port; a new address
    // under the same name would conflict with the old one until it is declared dead) and
    // told to join nobody, a finds b again from its snapshot.
    ac.bind = a.local_addr();
    let a2 = SerfPool::start(ac).await.expect("a restarts");
    wait_status(&a2, "b", MemberStatus::Alive).await;
    wait_status(&b, "a", MemberStatus::Alive).await;
    stop(&[&a2, &b]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leave_alone_returns_quickly_in_a_wan_pool() {
    let mut wc = GossipConfig::wan("a.dc1", "127.0.0.1:0".parse().expect("loopback"));
    wc.timing = Timing::fast();
    let w = SerfPool::start(wc).await.expect("wan pool");
    assert_eq!(w.local_name(), "a.dc1");
    let started = Instant::now();
    w.leave().await.expect("leave");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(w.local_member().await.status, MemberStatus::Left);
    stop(&[&w]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyring_rotation_reaches_every_member() {
    let k1 = EncryptKey::from_bytes(vec![1u8; 32]).expect("key");
    let k2 = EncryptKey::from_bytes(vec![2u8; 16]).expect("key");
    let a = SerfPool::start(encrypted("a", &k1)).await.expect("a");
    let b = SerfPool::start(encrypted("b", &k1)).await.expect("b");
    b.join(&addr_of(&a)).await.expect("join");
    wait_status(&a, "b", MemberStatus::Alive).await;

    let listed = a.keyring(KeyringOp::List).await.expect("list");
    assert_eq!(listed.keys, BTreeMap::from([(k1.to_base64(), 2)]));
    assert_eq!(listed.primary_keys, BTreeMap::from([(k1.to_base64(), 2)]));
    assert_eq!(
        (listed.num_nodes, listed.num_resp, listed.num_err),
        (2, 2, 0)
    );

    a.keyring(KeyringOp::Install(k2.clone()))
        .await
        .expect("install");
    a.keyring(KeyringOp::Use(k2.clone())).await.expect("use");
    a.keyring(KeyringOp::Remove(k1.clone()))
        .await
        .expect("remove");
    let listed = b.keyring(KeyringOp::List).await.expect("list");
    assert_eq!(listed.keys, BTreeMap::from([(k2.to_base64(), 2)]));
    assert_eq!(listed.primary_keys, BTreeMap::from([(k2.to_base64(), 2)]));

    // Only the new key gets in now.
    let old = SerfPool::start(encrypted("old", &k1)).await.expect("old");
    assert!(old.join(&addr_of(&a)).await.is_err());
    let new = SerfPool::start(encrypted("new", &k2)).await.expect("new");
    assert_eq!(new.join(&addr_of(&a)).await.expect("new key joins"), 1);
    wait_until("3 members", || async { a.members().await.len() == 3 }).await;
    let stats = a.stats().await;
    assert_eq!(stats["encrypted"], "true");
    assert_eq!(stats["members"], "3");
    stop(&[&a, &b, &old, &new]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coordinates_are_learned_from_probes() {
    let (a, b, c) = cluster3().await;
    assert_eq!(a.coordinate().expect("own coordinate").vec.len(), 8);
    wait_until("a to learn b's coordinate", || async {
        a.cached_coordinate("b").is_some()
    })
    .await;
    let rtt = a
        .coordinate()
        .expect("own")
        .distance_to(&a.cached_coordinate("b").expect("b"));
    assert!(
        rtt < Duration::from_secs(1),
        "loopback rtt estimate {rtt:?}"
    );
    assert!(a.cached_coordinate("nobody").is_none());
    assert_eq!(a.stats().await["encrypted"], "false");
    stop(&[&a, &b, &c]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_pool_stops_it_and_frees_its_port() {
    let (a, b) = (start("a").await, start("b").await);
    b.join(&addr_of(&a)).await.expect("join");
    let b_addr = b.local_addr();
    drop(b);
    wait_status(&a, "b", MemberStatus::Failed).await;
    wait_until("b's port to be free", || async {
        std::net::TcpListener::bind(b_addr).is_ok() && std::net::UdpSocket::bind(b_addr).is_ok()
    })
    .await;
    stop(&[&a]).await;
}
