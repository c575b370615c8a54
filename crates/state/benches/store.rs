//! State store hot paths: KV get/put/list at 10k and 1M keys, and waking 10k blocking
//! queries parked on one key.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};
use praetor_state::{Command, Store};
use praetor_types::KvRequest;

/// Keys grouped 100 per prefix: `svc/00042/` holds `svc/00042/00` … `svc/00042/99`.
fn key(i: u64) -> String {
    format!("svc/{:05}/{:02}", i / 100, i % 100)
}

/// A store holding `n` keys with 64-byte values, applied at indexes `1..=n/10_000`.
fn build(n: u64) -> Store {
    let store = Store::new();
    let chunk = 10_000;
    for (batch, start) in (0..n).step_by(chunk as usize).enumerate() {
        let cmds = (start..(start + chunk).min(n))
            .map(|i| Command::Kv(KvRequest::set(key(i), vec![b'x'; 64])))
            .collect();
        store
            .apply(batch as u64 + 1, &Command::Batch(cmds))
            .expect("bulk load");
    }
    store
}

/// Keys spread over the store, visited in turn so lookups do not hit one hot path.
fn probe_keys(n: u64) -> Vec<String> {
    (0..1024u64).map(|i| key(i * 7919 % n)).collect()
}

fn sizes() -> Vec<(&'static str, u64, Store)> {
    [("10k_keys", 10_000), ("1m_keys", 1_000_000)]
        .into_iter()
        .map(|(label, n)| (label, n, build(n)))
        .collect()
}

fn kv(c: &mut Criterion) {
    // Built once and shared by the get, put and list groups.
    let stores = sizes();

    let mut group = c.benchmark_group("kv_get");
    for (label, n, store) in &stores {
        let keys = probe_keys(*n);
        let mut i = 0;
        group.bench_function(*label, |b| {
            b.iter(|| {
                i = (i + 1) % keys.len();
                let view = store.view();
                black_box(view.kv_get(&keys[i]).map(|e| e.modify_index))
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("kv_put");
    for (label, n, store) in &stores {
        let cmds: Vec<Command> = probe_keys(*n)
            .into_iter()
            .map(|k| Command::Kv(KvRequest::set(k, vec![b'y'; 64])))
            .collect();
        let mut index = store.view().applied_index();
        group.bench_function(*label, |b| {
            b.iter(|| {
                index += 1;
                let cmd = &cmds[index as usize % cmds.len()];
                black_box(store.apply(index, cmd).expect("set"))
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("kv_list");
    for (label, n, store) in &stores {
        let prefixes: Vec<String> = (0..64u64)
            .map(|i| format!("svc/{:05}/", i * 97 % (n / 100)))
            .collect();
        let mut i = 0;
        group.bench_function(*label, |b| {
            b.iter(|| {
                i = (i + 1) % prefixes.len();
                let view = store.view();
                let entries = view.kv_list(&prefixes[i]);
                debug_assert_eq!(entries.len(), 100);
                black_box((view.kv_prefix_index(&prefixes[i]), entries))
            })
        });
    }
    group.finish();
}

fn wake(c: &mut Criterion) {
    const WATCHERS: usize = 10_000;
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let store = Store::new();
    let woken = Arc::new(AtomicUsize::new(0));
    // Each task is a blocking query parked on the same key, counting its wake-ups.
    let tasks: Vec<_> = (0..WATCHERS)
        .map(|_| {
            let mut watch = store.watch_key("hot/key");
            let woken = Arc::clone(&woken);
            rt.spawn(async move {
                loop {
                    watch.changed().await;
                    woken.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let cmd = Command::Kv(KvRequest::set("hot/key", "v"));
    let mut index = 0;

    let mut group = c.benchmark_group("wake_10k_watchers");
    group.sample_size(20);
    group.bench_function("one_key", |b| {
        b.iter(|| {
            rt.block_on(async {
                let target = woken.load(Ordering::Relaxed) + WATCHERS;
                index += 1;
                store.apply(index, &cmd).expect("set");
                // Done when every parked query has run again.
                while woken.load(Ordering::Relaxed) < target {
                    tokio::task::yield_now().await;
                }
            })
        })
    });
    group.finish();
    tasks.iter().for_each(|t| t.abort());
}

criterion_group!(benches, kv, wake);
criterion_main!(benches);
