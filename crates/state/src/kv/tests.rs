use praetor_types::{KvEntry, KvOp, KvRequest};

use crate::{ApplyError, Command, CommandResponse, Store};

fn req(op: KvOp, key: &str, value: &str, cas_index: u64) -> Command {
    let mut r = KvRequest::new(op, key);
    r.value = value.as_bytes().to_vec();
    r.cas_index = cas_index;
    Command::Kv(r)
}

fn set(store: &Store, index: u64, key: &str, value: &str) {
    let answer = store.apply(index, &req(KvOp::Set, key, value, 0));
    assert_eq!(answer, Ok(CommandResponse::Bool(true)));
}

fn ok(answer: bool) -> Result<CommandResponse, ApplyError> {
    Ok(CommandResponse::Bool(answer))
}

#[test]
fn set_creates_entry_with_create_index_equal_to_modify_index() {
    let store = Store::new();
    set(&store, 5, "web/key1", "test");
    let view = store.view();
    let e = view.kv_get("web/key1").expect("entry");
    assert_eq!((e.create_index, e.modify_index, e.lock_index), (5, 5, 0));
    assert_eq!(e.value, b"test");
    assert_eq!(e.session, None);
    assert_eq!(view.kv_table_index(), 5);
    assert_eq!(view.applied_index(), 5);
}

#[test]
fn set_on_existing_key_keeps_create_index_and_resets_flags() {
    let store = Store::new();
    let mut first = KvRequest::set("k", "a");
    first.flags = 42;
    store.apply(3, &Command::Kv(first)).expect("apply");
    set(&store, 7, "k", "b");
    let view = store.view();
    let e = view.kv_get("k").expect("entry");
    assert_eq!((e.create_index, e.modify_index, e.flags), (3, 7, 0));
    assert_eq!(e.value, b"b");
}

#[test]
fn set_on_locked_key_keeps_session_and_lock_index() {
    // No session can exist yet, so plant a locked entry directly in the table.
    let mut table = super::KvTable::default();
    let locked = KvEntry {
        key: "locks/a".into(),
        value: b"me".to_vec(),
        session: Some("s1".into()),
        lock_index: 2,
        create_index: 4,
        modify_index: 4,
        ..KvEntry::default()
    };
    let mut touches = Vec::new();
    table.put(4, locked, &mut touches);
    let answer = table.apply(9, &KvRequest::set("locks/a", "other"), &mut touches);
    assert_eq!(answer, Ok(true));
    let e = table.entries.get("locks/a").expect("entry");
    assert_eq!(e.session.as_deref(), Some("s1"));
    assert_eq!((e.lock_index, e.create_index, e.modify_index), (2, 4, 9));
    assert_eq!(e.value, b"other");
}

#[test]
fn cas_zero_creates_only_when_absent() {
    let store = Store::new();
    assert_eq!(store.apply(1, &req(KvOp::Cas, "k", "a", 0)), ok(true));
    assert_eq!(store.apply(2, &req(KvOp::Cas, "k", "b", 0)), ok(false));
    let view = store.view();
    assert_eq!(view.kv_get("k").expect("entry").value, b"a");
    assert_eq!(view.kv_table_index(), 1, "a failed cas changes nothing");
}

#[test]
fn cas_put_fails_on_stale_index() {
    let store = Store::new();
    set(&store, 10, "k", "a");
    // The first CAS at the current ModifyIndex wins; the same CAS again is stale.
    assert_eq!(store.apply(11, &req(KvOp::Cas, "k", "b", 10)), ok(true));
    assert_eq!(store.apply(12, &req(KvOp::Cas, "k", "c", 10)), ok(false));
    let view = store.view();
    let e = view.kv_get("k").expect("entry");
    assert_eq!(
        (e.value.as_slice(), e.modify_index, e.create_index),
        (&b"b"[..], 11, 10)
    );
}

#[test]
fn cas_on_missing_key_with_index_fails() {
    let store = Store::new();
    assert_eq!(store.apply(1, &req(KvOp::Cas, "k", "a", 7)), ok(false));
    assert!(store.view().kv_get("k").is_none());
}

#[test]
fn delete_missing_key_answers_true_and_changes_nothing() {
    let store = Store::new();
    set(&store, 1, "a", "x");
    assert_eq!(store.apply(2, &req(KvOp::Delete, "nope", "", 0)), ok(true));
    let view = store.view();
    assert_eq!(view.kv_table_index(), 1);
    assert_eq!(view.kv_prefix_index("nope"), 0);
}

#[test]
fn delete_leaves_tombstone_that_raises_prefix_index() {
    let store = Store::new();
    set(&store, 1, "web/a", "x");
    set(&store, 2, "web/b", "y");
    assert_eq!(store.apply(3, &req(KvOp::Delete, "web/b", "", 0)), ok(true));
    let view = store.view();
    assert!(view.kv_get("web/b").is_none());
    assert_eq!(
        view.kv_prefix_index("web/"),
        3,
        "deleting the newest key raises the index"
    );
    assert_eq!(view.kv_prefix_index("web/b"), 3);
    assert_eq!(view.kv_prefix_index("web/a"), 1);
    assert_eq!(view.kv_table_index(), 3);
    assert_eq!(view.kv_list("web/").len(), 1);
}

#[test]
fn delete_cas_deletes_only_at_matching_index() {
    let store = Store::new();
    set(&store, 4, "k", "a");
    assert_eq!(store.apply(5, &req(KvOp::DeleteCas, "k", "", 3)), ok(false));
    assert!(store.view().kv_get("k").is_some());
    assert_eq!(store.apply(6, &req(KvOp::DeleteCas, "k", "", 4)), ok(true));
    assert!(store.view().kv_get("k").is_none());
    assert_eq!(store.view().kv_prefix_index("k"), 6);
}

#[test]
fn delete_cas_zero_never_deletes_an_existing_key() {
    let store = Store::new();
    set(&store, 1, "k", "a");
    assert_eq!(store.apply(2, &req(KvOp::DeleteCas, "k", "", 0)), ok(false));
    assert!(store.view().kv_get("k").is_some());
    assert_eq!(store.view().kv_table_index(), 1);
}

#[test]
fn delete_cas_on_missing_key_answers_true_and_changes_nothing() {
    let store = Store::new();
    assert_eq!(store.apply(1, &req(KvOp::DeleteCas, "k", "", 5)), ok(true));
    assert_eq!(store.view().kv_table_index(), 0);
}

#[test]
fn delete_tree_is_a_byte_prefix_so_foo_deletes_food() {
    let store = Store::new();
    for (i, key) in ["fo", "foo", "foo/bar", "food", "fop"].iter().enumerate() {
        set(&store, i as u64 + 1, key, "v");
    }
    assert_eq!(
        store.apply(10, &req(KvOp::DeleteTree, "foo", "", 0)),
        ok(true)
    );
    let view = store.view();
    assert_eq!(view.kv_keys("", None), vec!["fo", "fop"]);
    assert_eq!(view.kv_prefix_index("foo"), 10);
    assert_eq!(view.kv_prefix_index("food"), 10);
    assert_eq!(view.kv_prefix_index("fop"), 5);
    assert_eq!(view.kv_table_index(), 10);
}

#[test]
fn delete_tree_with_empty_prefix_wipes_the_store() {
    let store = Store::new();
    set(&store, 1, "a", "v");
    set(&store, 2, "b/c", "v");
    assert_eq!(store.apply(3, &req(KvOp::DeleteTree, "", "", 0)), ok(true));
    let view = store.view();
    assert!(view.kv_list("").is_empty());
    assert_eq!(view.kv_prefix_index(""), 3);
}

#[test]
fn delete_tree_matching_nothing_changes_nothing() {
    let store = Store::new();
    set(&store, 1, "a", "v");
    assert_eq!(store.apply(2, &req(KvOp::DeleteTree, "b", "", 0)), ok(true));
    assert_eq!(store.view().kv_table_index(), 1);
    assert_eq!(store.view().kv_prefix_index("b"), 0);
}

#[test]
fn keys_with_separator_roll_up_after_the_prefix() {
    let store = Store::new();
    for (i, key) in ["web/bar", "web/foo", "web/subdir/a", "web/subdir/b", "webx"]
        .iter()
        .enumerate()
    {
        set(&store, i as u64 + 1, key, "v");
    }
    let view = store.view();
    assert_eq!(
        view.kv_keys("web/", Some("/")),
        vec!["web/bar", "web/foo", "web/subdir/"]
    );
    assert_eq!(view.kv_keys("web", Some("/")), vec!["web/", "webx"]);
    assert_eq!(
        view.kv_keys("web/", None),
        vec!["web/bar", "web/foo", "web/subdir/a", "web/subdir/b"]
    );
    assert_eq!(view.kv_keys("web/", Some("")), view.kv_keys("web/", None));
    assert!(view.kv_keys("nothing/", Some("/")).is_empty());
}

#[test]
fn list_is_sorted_by_key_and_byte_wise() {
    let store = Store::new();
    for (i, key) in ["b", "a/2", "a/1", "a", "ab", "ç/x"].iter().enumerate() {
        set(&store, i as u64 + 1, key, "v");
    }
    let view = store.view();
    let keys: Vec<String> = view.kv_list("a").into_iter().map(|e| e.key).collect();
    assert_eq!(keys, vec!["a", "a/1", "a/2", "ab"]);
    assert_eq!(view.kv_list("").len(), 6);
    assert_eq!(view.kv_list("ç").len(), 1);
    assert_eq!(view.kv_prefix_index("a/"), 3);
    assert_eq!(view.kv_prefix_index("zzz"), 0);
}

#[test]
fn set_recreating_a_deleted_key_clears_its_tombstone() {
    let store = Store::new();
    set(&store, 1, "k", "a");
    store
        .apply(2, &req(KvOp::Delete, "k", "", 0))
        .expect("delete");
    set(&store, 3, "k", "b");
    let view = store.view();
    let e = view.kv_get("k").expect("entry");
    assert_eq!(
        (e.create_index, e.modify_index),
        (3, 3),
        "a re-created key gets a new CreateIndex"
    );
    // The tombstone is gone: reaping everything leaves the live entry's index.
    store
        .apply(
            4,
            &Command::TombstoneReap {
                upto_index: u64::MAX,
            },
        )
        .expect("reap");
    assert_eq!(store.view().kv_prefix_index("k"), 3);
}

#[test]
fn tombstone_reap_removes_tombstones_up_to_the_index() {
    let store = Store::new();
    set(&store, 1, "web/a", "v");
    set(&store, 2, "web/b", "v");
    set(&store, 3, "web/c", "v");
    store
        .apply(4, &req(KvOp::Delete, "web/c", "", 0))
        .expect("delete");
    store
        .apply(5, &req(KvOp::Delete, "web/b", "", 0))
        .expect("delete");
    assert_eq!(store.view().kv_prefix_index("web/"), 5);

    let answer = store.apply(6, &Command::TombstoneReap { upto_index: 4 });
    assert_eq!(answer, Ok(CommandResponse::None));
    let view = store.view();
    assert_eq!(view.kv_prefix_index("web/"), 5, "the tombstone at 5 stays");
    assert_eq!(
        view.kv_prefix_index("web/c"),
        0,
        "the tombstone at 4 is gone"
    );

    store
        .apply(7, &Command::TombstoneReap { upto_index: 5 })
        .expect("reap");
    let view = store.view();
    assert_eq!(
        view.kv_prefix_index("web/"),
        1,
        "the prefix index goes back after reaping"
    );
    assert_eq!(view.kv_table_index(), 5, "the table index does not");
    assert_eq!(view.applied_index(), 7);
}

#[test]
fn lock_answers_invalid_session_and_unlock_false_while_no_session_exists() {
    let store = Store::new();
    for op in [KvOp::Lock, KvOp::Unlock] {
        let mut r = KvRequest::new(op, "locks/a");
        r.session = Some("adf4238a".into());
        let answer = store.apply(1, &Command::Kv(r));
        // As Consul's kvsUnlockTxn: releasing with an unknown session is a plain `false`.
        let expected = match op {
            KvOp::Lock => Err(ApplyError::InvalidSession("adf4238a".into())),
            _ => Ok(CommandResponse::Bool(false)),
        };
        assert_eq!(answer, expected);
        let r = KvRequest::new(op, "locks/a");
        assert_eq!(
            store.apply(2, &Command::Kv(r)),
            Err(ApplyError::MissingSession)
        );
    }
    let view = store.view();
    assert!(view.kv_get("locks/a").is_none());
    assert_eq!(view.kv_table_index(), 0);
    assert_eq!(
        view.applied_index(),
        2,
        "a rejected command is still applied"
    );
}

#[test]
fn empty_key_is_rejected_except_for_delete_tree() {
    let store = Store::new();
    for op in [KvOp::Set, KvOp::Cas, KvOp::Delete, KvOp::DeleteCas] {
        assert_eq!(
            store.apply(1, &req(op, "", "v", 0)),
            Err(ApplyError::MissingKey)
        );
    }
    assert_eq!(store.apply(2, &req(KvOp::DeleteTree, "", "", 0)), ok(true));
}

#[test]
fn batch_applies_in_order_at_one_index() {
    let store = Store::new();
    let batch = Command::Batch(vec![
        req(KvOp::Cas, "k", "a", 0),
        req(KvOp::Cas, "k", "b", 0),
        req(KvOp::Set, "", "x", 0),
        req(KvOp::Cas, "k", "c", 8),
        req(KvOp::Delete, "k", "", 0),
        req(KvOp::Set, "j", "d", 0),
    ]);
    let answer = store.apply(8, &batch).expect("batch");
    assert_eq!(
        answer,
        CommandResponse::Batch(vec![
            ok(true),
            ok(false),
            Err(ApplyError::MissingKey),
            ok(true),
            ok(true),
            ok(true)
        ])
    );
    let view = store.view();
    assert!(view.kv_get("k").is_none());
    assert_eq!(view.kv_get("j").expect("entry").modify_index, 8);
    assert_eq!(view.kv_prefix_index("k"), 8);
}

#[test]
fn view_does_not_change_after_later_writes() {
    let store = Store::new();
    set(&store, 1, "k", "a");
    let before = store.view();
    set(&store, 2, "k", "b");
    store
        .apply(3, &req(KvOp::DeleteTree, "", "", 0))
        .expect("wipe");
    assert_eq!(before.kv_get("k").expect("entry").value, b"a");
    assert_eq!(before.applied_index(), 1);
    assert!(store.view().kv_get("k").is_none());
}
