use praetor_types::{
    HealthCheck, HealthStatus, KvOp, KvRequest, RegisterRequest, Session, SessionBehavior, TxnKvOp,
    TxnKvVerb, TxnOp, TxnResult,
};
use proptest::prelude::*;

use crate::{ApplyError, Command, CommandResponse, Store};

const SECOND_NS: u64 = 1_000_000_000;

fn at(now: u64, cmd: Command) -> Command {
    Command::At {
        now,
        cmd: Box::new(cmd),
    }
}

fn register(store: &Store, index: u64, status: HealthStatus) {
    let req = RegisterRequest {
        node: "n1".into(),
        address: "127.0.0.1".into(),
        checks: vec![HealthCheck {
            node: "n1".into(),
            check_id: "serfHealth".into(),
            name: "Serf Health Status".into(),
            status,
            ..Default::default()
        }],
        ..Default::default()
    };
    store
        .apply(index, &at(0, Command::CatalogRegister(Box::new(req))))
        .expect("register");
}

fn session(id: &str, checks: Option<Vec<String>>, behavior: SessionBehavior) -> Session {
    Session {
        id: id.into(),
        node: "n1".into(),
        lock_delay: 15 * SECOND_NS,
        behavior,
        node_checks: checks,
        ..Default::default()
    }
}

fn create(store: &Store, index: u64, s: Session) -> Result<CommandResponse, ApplyError> {
    store.apply(index, &Command::SessionCreate(Box::new(s)))
}

fn acquire(store: &Store, index: u64, now: u64, key: &str, id: &str) -> bool {
    let mut req = KvRequest::new(KvOp::Lock, key);
    req.session = Some(id.into());
    match store.apply(index, &at(now, Command::Kv(req))) {
        Ok(CommandResponse::Bool(ok)) => ok,
        other => panic!("acquire: {other:?}"),
    }
}

#[test]
fn create_needs_a_registered_node_and_healthy_checks() {
    let store = Store::new();
    assert_eq!(
        create(&store, 1, session("s1", None, SessionBehavior::Release)),
        Err(ApplyError::SessionMissingNode)
    );
    register(&store, 2, HealthStatus::Critical);
    assert_eq!(
        create(
            &store,
            3,
            session(
                "s1",
                Some(vec!["serfHealth".into()]),
                SessionBehavior::Release
            )
        ),
        Err(ApplyError::SessionCriticalCheck("serfHealth".into()))
    );
    assert_eq!(
        create(
            &store,
            4,
            session("s1", Some(vec!["nope".into()]), SessionBehavior::Release)
        ),
        Err(ApplyError::SessionMissingCheck("nope".into()))
    );
    // No checks at all ("Checks": []) survives a critical node.
    create(
        &store,
        5,
        session("s1", Some(vec![]), SessionBehavior::Release),
    )
    .expect("create");
    let view = store.view();
    let s = view.session("s1").value.expect("stored");
    assert_eq!((s.create_index, s.modify_index), (5, 5));
    assert_eq!(view.sessions().index, 5);
    assert_eq!(view.node_sessions("n1").value.len(), 1);
    assert!(view.node_sessions("n2").value.is_empty());
}

#[test]
fn unknown_session_cannot_lock() {
    let store = Store::new();
    let mut req = KvRequest::new(KvOp::Lock, "k");
    req.session = Some("nope".into());
    assert_eq!(
        store.apply(1, &Command::Kv(req)),
        Err(ApplyError::InvalidSession("nope".into()))
    );
}

#[test]
fn two_sessions_contend_and_destroy_releases_with_lock_delay() {
    let store = Store::new();
    register(&store, 1, HealthStatus::Passing);
    create(&store, 2, session("a", None, SessionBehavior::Release)).expect("a");
    create(&store, 3, session("b", None, SessionBehavior::Release)).expect("b");
    assert!(acquire(&store, 4, 1_000, "k", "a"));
    assert!(!acquire(&store, 5, 1_000, "k", "b"));
    assert!(
        acquire(&store, 6, 1_000, "k", "a"),
        "re-acquire by the holder"
    );
    assert_eq!(store.view().kv_get("k").expect("k").lock_index, 1);
    // A plain set keeps the lock.
    store
        .apply(7, &Command::Kv(KvRequest::set("k", "v")))
        .expect("set");
    assert_eq!(
        store.view().kv_get("k").expect("k").session.as_deref(),
        Some("a")
    );

    store
        .apply(8, &at(10_000, Command::SessionDestroy { id: "a".into() }))
        .expect("destroy");
    let entry = store.view().kv_get("k").expect("kept").clone();
    assert_eq!((entry.session, entry.modify_index), (None, 8));
    // Within the 15 s lock-delay the key cannot be acquired; after it, it can.
    assert!(!acquire(&store, 9, 24_999, "k", "b"));
    assert!(acquire(&store, 10, 25_000, "k", "b"));
    assert_eq!(store.view().kv_get("k").expect("k").lock_index, 2);
}

#[test]
fn explicit_release_arms_no_lock_delay() {
    let store = Store::new();
    register(&store, 1, HealthStatus::Passing);
    create(&store, 2, session("a", None, SessionBehavior::Release)).expect("a");
    create(&store, 3, session("b", None, SessionBehavior::Release)).expect("b");
    assert!(acquire(&store, 4, 1_000, "k", "a"));
    let mut release = KvRequest::new(KvOp::Unlock, "k");
    release.session = Some("a".into());
    assert_eq!(
        store.apply(5, &at(1_000, Command::Kv(release))),
        Ok(CommandResponse::Bool(true))
    );
    assert!(acquire(&store, 6, 1_001, "k", "b"));
}

#[test]
fn delete_behavior_deletes_held_keys() {
    let store = Store::new();
    register(&store, 1, HealthStatus::Passing);
    create(&store, 2, session("a", None, SessionBehavior::Delete)).expect("a");
    assert!(acquire(&store, 3, 0, "k", "a"));
    store
        .apply(4, &at(0, Command::SessionDestroy { id: "a".into() }))
        .expect("destroy");
    assert!(store.view().kv_get("k").is_none());
    assert_eq!(store.view().kv_prefix_index("k"), 4, "tombstone left");
}

#[test]
fn critical_bound_check_or_node_removal_invalidates() {
    let store = Store::new();
    register(&store, 1, HealthStatus::Passing);
    create(
        &store,
        2,
        session(
            "bound",
            Some(vec!["serfHealth".into()]),
            SessionBehavior::Release,
        ),
    )
    .expect("bound");
    create(
        &store,
        3,
        session("free", Some(vec![]), SessionBehavior::Release),
    )
    .expect("free");
    assert!(acquire(&store, 4, 0, "k", "bound"));
    register(&store, 5, HealthStatus::Critical);
    let view = store.view();
    assert!(view.session("bound").value.is_none());
    assert!(view.session("free").value.is_some(), "no checks: survives");
    assert_eq!(view.kv_get("k").expect("k").session, None);
    store
        .apply(
            6,
            &Command::CatalogDeregister(praetor_types::DeregisterRequest {
                node: "n1".into(),
                ..Default::default()
            }),
        )
        .expect("deregister");
    assert!(store.view().session("free").value.is_none(), "node gone");
}

#[test]
fn sessions_survive_snapshot_restore() {
    let store = Store::new();
    register(&store, 1, HealthStatus::Passing);
    create(&store, 2, session("a", None, SessionBehavior::Release)).expect("a");
    let bytes = store.snapshot().expect("snapshot");
    let restored = Store::new();
    restored.restore(&bytes).expect("restore");
    assert_eq!(restored.view().sessions(), store.view().sessions());
}

fn kv(verb: TxnKvVerb, key: &str) -> TxnOp {
    TxnOp::Kv(TxnKvOp {
        verb,
        key: key.into(),
        value: b"v".to_vec(),
        flags: 0,
        index: 0,
        session: None,
    })
}

#[test]
fn txn_rolls_back_on_any_failure_and_lists_every_error() {
    let store = Store::new();
    let mut check = kv(TxnKvVerb::CheckIndex, "a");
    if let TxnOp::Kv(op) = &mut check {
        op.index = 99;
    }
    let ops = vec![
        kv(TxnKvVerb::Set, "a"),
        check,
        kv(TxnKvVerb::Get, "missing"),
    ];
    let Ok(CommandResponse::Txn(Err(errors))) = store.apply(1, &Command::Txn(ops)) else {
        panic!("expected a rollback");
    };
    assert_eq!(
        errors.iter().map(|e| e.op_index).collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert_eq!(
        errors[0].what,
        r#"failed to check index for key "a", current modify index 1 != 99"#
    );
    assert!(store.view().kv_get("a").is_none(), "nothing written");

    let ops = vec![kv(TxnKvVerb::Set, "a"), kv(TxnKvVerb::Get, "a")];
    let Ok(CommandResponse::Txn(Ok(results))) = store.apply(2, &Command::Txn(ops)) else {
        panic!("expected a commit");
    };
    let values: Vec<Vec<u8>> = results
        .iter()
        .map(|r| match r {
            TxnResult::Kv(e) => e.value.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        values,
        vec![Vec::new(), b"v".to_vec()],
        "only get returns the value"
    );
    assert!(store.view().txn_read(&[kv(TxnKvVerb::Get, "a")]).is_ok());
}

#[test]
fn txn_lock_with_unknown_session_uses_consul_text() {
    let store = Store::new();
    let mut lock = kv(TxnKvVerb::Lock, "b");
    if let TxnOp::Kv(op) = &mut lock {
        op.session = Some("s".into());
    }
    let Ok(CommandResponse::Txn(Err(errors))) = store.apply(1, &Command::Txn(vec![lock])) else {
        panic!("expected a rollback");
    };
    assert_eq!(
        errors[0].what,
        r#"failed to lock key "b": session "s" does not exist"#
    );
}

proptest! {
    /// Whatever the interleaving of acquires, releases and destroys, a key is held by at
    /// most one live session, and LockIndex never decreases.
    #[test]
    fn a_key_is_held_by_at_most_one_live_session(
        ops in proptest::collection::vec((0u8..4, 0usize..3, 0u64..40_000), 1..40)
    ) {
        let store = Store::new();
        register(&store, 1, HealthStatus::Passing);
        let ids = ["s0", "s1", "s2"];
        for (i, id) in ids.iter().enumerate() {
            create(&store, 2 + i as u64, session(id, None, SessionBehavior::Release)).expect("create");
        }
        let mut index = 10;
        let mut last_lock_index = 0;
        for (kind, who, now) in ops {
            index += 1;
            let id = ids[who];
            let cmd = match kind {
                0 | 1 => {
                    let mut r = KvRequest::new(if kind == 0 { KvOp::Lock } else { KvOp::Unlock }, "k");
                    r.session = Some(id.into());
                    Command::Kv(r)
                }
                2 => Command::SessionDestroy { id: id.into() },
                _ => Command::Kv(KvRequest::set("k", "x")),
            };
            let _ = store.apply(index, &at(now, cmd));
            let view = store.view();
            if let Some(e) = view.kv_get("k") {
                if let Some(holder) = &e.session {
                    prop_assert!(view.session(holder).value.is_some());
                }
                prop_assert!(e.lock_index >= last_lock_index);
                last_lock_index = e.lock_index;
            }
        }
    }
}
