//! Property tests: random KV command sequences against a plain `BTreeMap` model, and
//! snapshot round trips.

use std::collections::{BTreeMap, BTreeSet};

use praetor_types::{KvEntry, KvOp, KvRequest};
use proptest::prelude::*;

use crate::{ApplyError, Command, CommandResponse, Store};

/// The KV rules restated as simply as possible.
#[derive(Debug, Default)]
struct Model {
    entries: BTreeMap<String, KvEntry>,
    tombstones: BTreeMap<String, u64>,
    index: u64,
}

impl Model {
    fn write(&mut self, index: u64, req: &KvRequest) {
        let old = self.entries.get(&req.key);
        let entry = KvEntry {
            lock_index: old.map_or(0, |e| e.lock_index),
            key: req.key.clone(),
            flags: req.flags,
            value: req.value.clone(),
            session: old.and_then(|e| e.session.clone()),
            create_index: old.map_or(index, |e| e.create_index),
            modify_index: index,
        };
        self.entries.insert(req.key.clone(), entry);
        self.tombstones.remove(&req.key);
        self.index = index;
    }

    fn remove(&mut self, index: u64, key: &str) {
        if self.entries.remove(key).is_some() {
            self.tombstones.insert(key.to_owned(), index);
            self.index = index;
        }
    }

    fn apply(&mut self, index: u64, cmd: &Command) -> Result<CommandResponse, ApplyError> {
        let req = match cmd {
            Command::Kv(req) => req,
            Command::TombstoneReap { upto_index } => {
                self.tombstones.retain(|_, at| *at > *upto_index);
                return Ok(CommandResponse::None);
            }
            Command::Batch(cmds) => {
                return Ok(CommandResponse::Batch(
                    cmds.iter().map(|c| self.apply(index, c)).collect(),
                ));
            }
            _ => {
                unreachable!("the KV model is only fed KV commands")
            }
        };
        if req.key.is_empty() && req.op != KvOp::DeleteTree {
            return Err(ApplyError::MissingKey);
        }
        let current = self.entries.get(&req.key).map(|e| e.modify_index);
        let answer = match req.op {
            KvOp::Set => {
                self.write(index, req);
                true
            }
            KvOp::Cas => {
                let holds = if req.cas_index == 0 {
                    current.is_none()
                } else {
                    current == Some(req.cas_index)
                };
                if holds {
                    self.write(index, req);
                }
                holds
            }
            KvOp::Lock => {
                return Err(match &req.session {
                    Some(s) => ApplyError::InvalidSession(s.clone()),
                    None => ApplyError::MissingSession,
                });
            }
            // No session exists in this model, so none holds a key to release.
            KvOp::Unlock => {
                if req.session.is_none() {
                    return Err(ApplyError::MissingSession);
                }
                false
            }
            KvOp::Delete => {
                self.remove(index, &req.key);
                true
            }
            KvOp::DeleteCas => match current {
                None => true,
                Some(m) if m == req.cas_index => {
                    self.remove(index, &req.key);
                    true
                }
                Some(_) => false,
            },
            KvOp::DeleteTree => {
                let doomed: Vec<String> = self
                    .entries
                    .keys()
                    .filter(|k| k.starts_with(&req.key))
                    .cloned()
                    .collect();
                for k in doomed {
                    self.remove(index, &k);
                }
                true
            }
        };
        Ok(CommandResponse::Bool(answer))
    }

    fn prefix_index(&self, prefix: &str) -> u64 {
        let live = self
            .entries
            .values()
            .filter(|e| e.key.starts_with(prefix))
            .map(|e| e.modify_index);
        let dead = self
            .tombstones
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(_, i)| *i);
        live.chain(dead).max().unwrap_or(0)
    }

    fn keys(&self, prefix: &str, sep: &str) -> Vec<String> {
        let set: BTreeSet<String> = self
            .entries
            .keys()
            .filter(|k| k.starts_with(prefix))
            .map(|k| match k[prefix.len()..].find(sep) {
                Some(at) => k[..prefix.len() + at + sep.len()].to_owned(),
                None => k.clone(),
            })
            .collect();
        set.into_iter().collect()
    }
}

const PREFIXES: [&str; 6] = ["", "a", "a/", "a/b", "b", "ab"];

fn key() -> impl Strategy<Value = String> {
    "[ab/]{0,4}"
}

fn kv_command() -> impl Strategy<Value = Command> {
    let op = prop_oneof![
        3 => Just(KvOp::Set),
        3 => Just(KvOp::Cas),
        2 => Just(KvOp::Delete),
        2 => Just(KvOp::DeleteCas),
        1 => Just(KvOp::DeleteTree),
        1 => Just(KvOp::Lock),
        1 => Just(KvOp::Unlock),
    ];
    (
        op,
        key(),
        prop::collection::vec(any::<u8>(), 0..4),
        0u64..4,
        0u64..12,
        any::<bool>(),
    )
        .prop_map(|(op, key, value, flags, cas_index, with_session)| {
            let mut r = KvRequest::new(op, key);
            r.value = value;
            r.flags = flags;
            r.cas_index = cas_index;
            r.session = with_session.then(|| "s1".to_owned());
            Command::Kv(r)
        })
}

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        8 => kv_command(),
        1 => (0u64..12).prop_map(|upto_index| Command::TombstoneReap { upto_index }),
        1 => prop::collection::vec(kv_command(), 0..4).prop_map(Command::Batch),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn store_matches_model(cmds in prop::collection::vec(command(), 1..40)) {
        let store = Store::new();
        let mut model = Model::default();
        for (i, cmd) in cmds.iter().enumerate() {
            let index = i as u64 + 1;
            let got = store.apply(index, cmd);
            let want = model.apply(index, cmd);
            prop_assert_eq!(&got, &want, "command {:?} at {}", cmd, index);

            let view = store.view();
            prop_assert_eq!(view.applied_index(), index);
            prop_assert_eq!(view.kv_table_index(), model.index);
            let want_entries: Vec<KvEntry> = model.entries.values().cloned().collect();
            prop_assert_eq!(view.kv_list(""), want_entries);
            for prefix in PREFIXES {
                prop_assert_eq!(view.kv_prefix_index(prefix), model.prefix_index(prefix), "prefix {:?}", prefix);
                prop_assert_eq!(view.kv_keys(prefix, Some("/")), model.keys(prefix, "/"));
            }
            for (key, entry) in &model.entries {
                prop_assert_eq!(view.kv_get(key), Some(entry));
            }
        }
    }

    #[test]
    fn snapshot_round_trip_is_exact(cmds in prop::collection::vec(command(), 0..40)) {
        let store = Store::new();
        for (i, cmd) in cmds.iter().enumerate() {
            let _ = store.apply(i as u64 + 1, cmd);
        }
        let bytes = store.snapshot().expect("snapshot");
        let restored = Store::new();
        restored.restore(&bytes).expect("restore");
        let (got, want) = (restored.view(), store.view());
        prop_assert_eq!(got.tables(), want.tables());
        prop_assert_eq!(restored.snapshot().expect("snapshot"), bytes);
    }
}
