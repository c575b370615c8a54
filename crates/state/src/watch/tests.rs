use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};

use praetor_types::{KvOp, KvRequest};

use crate::{Command, Store, Watch};

/// Whether `changed` is already complete, polled once without a runtime.
fn fired(watch: &mut Watch) -> bool {
    let fut = pin!(watch.changed());
    fut.poll(&mut Context::from_waker(Waker::noop())).is_ready()
}

fn set(store: &Store, index: u64, key: &str) {
    store
        .apply(index, &Command::Kv(KvRequest::set(key, "v")))
        .expect("set");
}

fn kv(store: &Store, index: u64, op: KvOp, key: &str, cas_index: u64) {
    let mut r = KvRequest::new(op, key);
    r.cas_index = cas_index;
    store.apply(index, &Command::Kv(r)).expect("apply");
}

#[test]
fn write_wakes_the_key_and_every_prefix_of_it_only() {
    let store = Store::new();
    let mut woken = [
        store.watch_key("a/b"),
        store.watch_prefix("a/b"),
        store.watch_prefix("a/"),
        store.watch_prefix("a"),
        store.watch_prefix(""),
    ];
    let mut quiet = [
        store.watch_key("a/bc"),
        store.watch_key("a"),
        store.watch_prefix("a/b/"),
        store.watch_prefix("a/bc"),
        store.watch_prefix("c/"),
    ];
    set(&store, 1, "a/b");
    for (i, w) in woken.iter_mut().enumerate() {
        assert!(fired(w), "watch {i} should fire");
    }
    for (i, w) in quiet.iter_mut().enumerate() {
        assert!(!fired(w), "watch {i} should not fire");
    }
}

#[test]
fn prefix_watches_are_found_whichever_lookup_is_cheaper() {
    // Many prefix slots and a short key: the per-prefix probe path.
    let store = Store::new();
    let _others: Vec<Watch> = (0..50)
        .map(|i| store.watch_prefix(&format!("z{i}")))
        .collect();
    let mut w = store.watch_prefix("é");
    set(&store, 1, "é/x");
    assert!(fired(&mut w));
}

#[test]
fn changed_completes_once_per_change() {
    let store = Store::new();
    let mut w = store.watch_key("k");
    assert!(!fired(&mut w));
    set(&store, 1, "k");
    set(&store, 2, "k");
    assert!(fired(&mut w), "two writes coalesce into one wake-up");
    assert!(!fired(&mut w));
    set(&store, 3, "k");
    assert!(fired(&mut w));
}

#[test]
fn writes_that_change_nothing_wake_nobody() {
    let store = Store::new();
    set(&store, 1, "k");
    let mut key = store.watch_key("k");
    let mut all = store.watch_prefix("");
    kv(&store, 2, KvOp::Cas, "k", 0); // present: create-only CAS fails
    kv(&store, 3, KvOp::DeleteCas, "k", 99);
    kv(&store, 4, KvOp::Delete, "missing", 0);
    kv(&store, 5, KvOp::DeleteTree, "nothing/", 0);
    assert!(!fired(&mut key));
    assert!(!fired(&mut all));
}

#[test]
fn delete_tree_wakes_everything_under_and_above_the_prefix() {
    let store = Store::new();
    set(&store, 1, "a/x/1");
    set(&store, 2, "a/y");
    set(&store, 3, "b");
    let mut woken = [
        store.watch_key("a/x/1"),
        store.watch_key("a/never-existed"),
        store.watch_prefix("a/x/"),
        store.watch_prefix("a/"),
        store.watch_prefix("a"),
        store.watch_prefix(""),
    ];
    let mut quiet = [
        store.watch_key("b"),
        store.watch_prefix("b"),
        store.watch_key("a"),
    ];
    kv(&store, 4, KvOp::DeleteTree, "a/", 0);
    for (i, w) in woken.iter_mut().enumerate() {
        assert!(fired(w), "watch {i} should fire");
    }
    for (i, w) in quiet.iter_mut().enumerate() {
        assert!(!fired(w), "watch {i} should not fire");
    }
}

#[test]
fn watch_created_before_view_sees_write_after_view() {
    let store = Store::new();
    set(&store, 1, "k");
    let mut w = store.watch_key("k");
    let view = store.view();
    assert_eq!(view.kv_get("k").expect("entry").modify_index, 1);
    set(&store, 2, "k");
    assert!(fired(&mut w), "a write the view missed must wake the watch");
}

#[test]
fn watch_created_before_a_write_fires_even_if_the_view_saw_it() {
    let store = Store::new();
    let mut w = store.watch_prefix("p/");
    set(&store, 1, "p/k");
    assert_eq!(store.view().kv_prefix_index("p/"), 1);
    assert!(
        fired(&mut w),
        "spurious from the reader's side, but never missed"
    );
}

#[test]
fn tombstone_reap_wakes_watches_of_reaped_keys() {
    let store = Store::new();
    set(&store, 1, "web/a");
    kv(&store, 2, KvOp::Delete, "web/a", 0);
    let mut prefix = store.watch_prefix("web/");
    let mut other = store.watch_prefix("db/");
    store
        .apply(3, &Command::TombstoneReap { upto_index: 2 })
        .expect("reap");
    assert!(fired(&mut prefix));
    assert!(!fired(&mut other));
}

#[test]
fn restore_wakes_every_watch() {
    let store = Store::new();
    set(&store, 1, "k");
    let snapshot = store.snapshot().expect("snapshot");
    let mut watches = [
        store.watch_key("k"),
        store.watch_key("x"),
        store.watch_prefix("q/"),
    ];
    store.restore(&snapshot).expect("restore");
    for w in &mut watches {
        assert!(fired(w));
    }
}

#[test]
fn cancelled_changed_loses_no_wake_up() {
    let store = Store::new();
    let mut w = store.watch_key("k");
    {
        let fut = pin!(w.changed());
        assert_eq!(
            fut.poll(&mut Context::from_waker(Waker::noop())),
            Poll::Pending
        );
    } // dropped while pending
    set(&store, 1, "k");
    assert!(fired(&mut w));
}

#[test]
fn dropping_the_last_watch_removes_its_slot() {
    let store = Store::new();
    let a = store.watch_key("k");
    let b = store.watch_key("k");
    let p = store.watch_prefix("k");
    assert_eq!(store.watch_slot_counts(), (1, 1));
    drop(a);
    assert_eq!(
        store.watch_slot_counts(),
        (1, 1),
        "b still uses the key slot"
    );
    drop(b);
    drop(p);
    assert_eq!(store.watch_slot_counts(), (0, 0));
    // A new watch after removal gets a fresh slot and still works.
    let mut c = store.watch_key("k");
    set(&store, 1, "k");
    assert!(fired(&mut c));
}

#[test]
fn watch_is_send_and_static() {
    fn assert_send_static<T: Send + 'static>() {}
    assert_send_static::<Watch>();
    assert_send_static::<crate::StateView>();
    fn assert_sync<T: Send + Sync>() {}
    assert_sync::<Store>();
}

#[tokio::test]
async fn ten_thousand_waiters_on_one_key_all_wake() {
    let store = Store::new();
    let woken = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    let mut ready = Vec::new();
    for _ in 0..10_000 {
        let mut w = store.watch_key("hot");
        let woken = Arc::clone(&woken);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        ready.push(rx);
        tasks.spawn(async move {
            let mut changed = pin!(w.changed());
            // Poll once so the task is parked on the watch before the write below.
            let first = std::future::poll_fn(|cx| Poll::Ready(changed.as_mut().poll(cx))).await;
            drop(tx);
            if first.is_pending() {
                changed.await;
            }
            woken.fetch_add(1, Ordering::Relaxed);
        });
    }
    for rx in ready {
        let _ = rx.await;
    }
    set(&store, 1, "hot");
    while let Some(joined) = tasks.join_next().await {
        joined.expect("waiter task");
    }
    assert_eq!(woken.load(Ordering::Relaxed), 10_000);
    assert_eq!(store.watch_slot_counts(), (0, 0));
}

#[test]
fn idle_watch_costs_little() {
    let store = Store::new();
    let mut w = store.watch_key("some/fairly/long/key/name");
    let handle = std::mem::size_of::<Watch>() + "some/fairly/long/key/name".len();
    let parked = std::mem::size_of_val(&w.changed());
    // The slot (one channel per watched name) is shared by every watch on it.
    assert!(
        handle + parked <= 1024,
        "handle {handle} B + parked future {parked} B"
    );
}
