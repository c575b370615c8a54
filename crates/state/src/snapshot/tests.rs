use praetor_types::{KvEntry, KvOp, KvRequest};
use serde::Serialize;

use super::*;
use crate::{Command, Store};

fn sample_store() -> Store {
    let store = Store::new();
    let mut with_flags = KvRequest::set("web/key1", vec![0u8, 255, 1]);
    with_flags.flags = 42;
    store.apply(1, &Command::Kv(with_flags)).expect("set");
    store
        .apply(
            2,
            &Command::Kv(KvRequest::set("web/empty", Vec::<u8>::new())),
        )
        .expect("set");
    store
        .apply(3, &Command::Kv(KvRequest::set("gone", "x")))
        .expect("set");
    store
        .apply(4, &Command::Kv(KvRequest::new(KvOp::Delete, "gone")))
        .expect("delete");
    store
}

#[test]
fn restore_reproduces_entries_tombstones_and_indexes() {
    let store = sample_store();
    let bytes = store.snapshot().expect("snapshot");
    let restored = Store::new();
    restored.restore(&bytes).expect("restore");
    let view = restored.view();
    assert_eq!(view.applied_index(), 4);
    assert_eq!(view.kv_table_index(), 4);
    assert_eq!(
        view.kv_prefix_index("gone"),
        4,
        "tombstones survive a restore"
    );
    let e = view.kv_get("web/key1").expect("entry");
    assert_eq!(
        (e.flags, e.value.as_slice(), e.create_index),
        (42, &[0u8, 255, 1][..], 1)
    );
    assert_eq!(view.kv_get("web/empty").expect("entry").value, b"");
    assert_eq!(restored.snapshot().expect("snapshot"), bytes);
}

#[test]
fn restore_replaces_the_previous_state() {
    let store = Store::new();
    store
        .apply(9, &Command::Kv(KvRequest::set("other", "x")))
        .expect("set");
    store
        .restore(&sample_store().snapshot().expect("snapshot"))
        .expect("restore");
    let view = store.view();
    assert!(view.kv_get("other").is_none());
    assert_eq!(view.applied_index(), 4);
}

#[test]
fn garbage_is_rejected_and_leaves_state_unchanged() {
    let store = sample_store();
    let err = store.restore(b"\xc1not msgpack").expect_err("garbage");
    assert!(matches!(err, SnapshotError::Decode(_)), "{err:?}");
    assert!(store.view().kv_get("web/key1").is_some());
}

/// A hand-built document, for the checks `decode` makes beyond parsing.
#[derive(Serialize)]
struct Doc<'a> {
    version: u32,
    applied_index: u64,
    kv_index: u64,
    kvs: Vec<EntryOut<'a>>,
    tombstones: Vec<TombstoneOut<'a>>,
}

fn entry(key: &str) -> EntryOut<'_> {
    EntryOut {
        key,
        value: b"v",
        flags: 0,
        session: None,
        lock_index: 0,
        create_index: 1,
        modify_index: 1,
    }
}

#[test]
fn unknown_version_is_rejected() {
    let doc = Doc {
        version: 99,
        applied_index: 1,
        kv_index: 1,
        kvs: vec![],
        tombstones: vec![],
    };
    let bytes = rmp_serde::to_vec_named(&doc).expect("encode");
    assert!(matches!(
        decode(&bytes),
        Err(SnapshotError::UnsupportedVersion(99))
    ));
}

#[test]
fn duplicate_keys_are_rejected() {
    let doc = Doc {
        version: 1,
        applied_index: 1,
        kv_index: 1,
        kvs: vec![entry("k"), entry("k")],
        tombstones: vec![],
    };
    let bytes = rmp_serde::to_vec_named(&doc).expect("encode");
    assert!(matches!(decode(&bytes), Err(SnapshotError::DuplicateKey(k)) if k == "k"));

    let doc = Doc {
        version: 1,
        applied_index: 1,
        kv_index: 1,
        kvs: vec![entry("k")],
        tombstones: vec![TombstoneOut { key: "k", index: 1 }],
    };
    let bytes = rmp_serde::to_vec_named(&doc).expect("encode");
    assert!(matches!(decode(&bytes), Err(SnapshotError::DuplicateKey(k)) if k == "k"));
}

#[test]
fn locked_entries_keep_session_and_lock_index() {
    let mut tables = Tables::default();
    let mut touches = Vec::new();
    let locked = KvEntry {
        key: "locks/a".into(),
        session: Some("s1".into()),
        lock_index: 3,
        create_index: 2,
        modify_index: 5,
        ..KvEntry::default()
    };
    tables.kv.put(5, locked, &mut touches);
    let back = decode(&encode(&tables).expect("encode")).expect("decode");
    assert_eq!(back, tables);
}

#[test]
fn version_1_snapshot_restores_with_an_empty_catalog() {
    let doc = Doc {
        version: 1,
        applied_index: 3,
        kv_index: 3,
        kvs: vec![entry("k")],
        tombstones: vec![],
    };
    let bytes = rmp_serde::to_vec_named(&doc).expect("encode");
    let tables = decode(&bytes).expect("a version 1 snapshot still restores");
    assert_eq!(tables.kv.entries.len(), 1);
    assert_eq!(tables.catalog, CatalogTable::default());
}

#[test]
fn service_of_a_missing_node_is_rejected() {
    let service = praetor_types::NodeService {
        id: "web1".into(),
        service: "web".into(),
        ..Default::default()
    };
    let doc = SnapshotOut {
        version: FORMAT_VERSION,
        applied_index: 1,
        kv_index: 0,
        kvs: vec![],
        tombstones: vec![],
        catalog: CatalogOut {
            nodes_index: 0,
            services_index: 1,
            checks_index: 0,
            nodes: vec![],
            services: vec![ServiceOut {
                node: "ghost",
                service: &service,
            }],
            checks: vec![],
        },
        sessions_index: 0,
        sessions: vec![],
        autopilot: None,
    };
    let bytes = rmp_serde::to_vec_named(&doc).expect("encode");
    assert!(matches!(
        decode(&bytes),
        Err(SnapshotError::InconsistentCatalog(_))
    ));
}

#[test]
fn autopilot_config_is_cas_written_and_survives_a_snapshot() {
    use crate::CommandResponse;
    use praetor_types::AutopilotConfig;
    let store = sample_store();
    let set = |cas, trailing| Command::AutopilotSetConfig {
        config: Box::new(AutopilotConfig {
            max_trailing_logs: trailing,
            ..AutopilotConfig::default()
        }),
        cas,
    };
    assert_eq!(
        store.apply(5, &set(Some(0), 10)),
        Ok(CommandResponse::Bool(true))
    );
    // `cas=0` writes only when none is stored; a stale index loses.
    assert_eq!(
        store.apply(6, &set(Some(0), 11)),
        Ok(CommandResponse::Bool(false))
    );
    assert_eq!(
        store.apply(7, &set(Some(5), 12)),
        Ok(CommandResponse::Bool(true))
    );
    assert_eq!(
        store.apply(8, &set(None, 13)),
        Ok(CommandResponse::Bool(true))
    );
    let view = store.view();
    let stored = view.autopilot_config().expect("stored");
    assert_eq!(
        (
            stored.max_trailing_logs,
            stored.create_index,
            stored.modify_index
        ),
        (13, 5, 8)
    );
    let restored = Store::new();
    restored
        .restore(&store.snapshot().expect("snapshot"))
        .expect("restore");
    assert_eq!(restored.view().autopilot_config(), Some(stored));
}
