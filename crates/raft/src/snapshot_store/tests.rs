use openraft::{BasicNode, Membership};

use super::*;
use crate::types::{LogId, StoredMembership};

fn meta(term: u64, index: u64) -> SnapshotMeta {
    let log_id = LogId::new(
        openraft::impls::leader_id_adv::LeaderId { term, node_id: 1 },
        index,
    );
    let membership = Membership::new(
        vec![[1u64].into()],
        std::collections::BTreeMap::from([(1u64, BasicNode::new("127.0.0.1:8300"))]),
    )
    .expect("valid membership");
    SnapshotMeta {
        last_log_id: Some(log_id),
        last_membership: StoredMembership::new(Some(log_id), membership),
    }
}

#[test]
fn encode_decode_round_trips() {
    let m = meta(3, 42);
    let bytes = encode(&m, b"state bytes").expect("encode");
    let (got, state) = decode(&bytes).expect("decode");
    assert_eq!(got, m);
    assert_eq!(state, b"state bytes");
}

#[test]
fn decode_rejects_any_flipped_byte_or_truncation() {
    let bytes = encode(&meta(1, 7), b"abc").expect("encode");
    for i in 0..bytes.len() {
        let mut bad = bytes.clone();
        bad[i] ^= 0x40;
        assert!(decode(&bad).is_err(), "flipped byte {i} accepted");
    }
    for len in 0..bytes.len() {
        assert!(
            decode(&bytes[..len]).is_err(),
            "truncation to {len} accepted"
        );
    }
}

#[test]
fn dir_store_keeps_the_newest_two_and_loads_the_newest() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("1-5.snap.tmp"), b"left by a crash").expect("write tmp");
    let store = SnapshotStore::open_dir(dir.path()).expect("open");
    assert!(store.load_latest().expect("load").is_none());
    for (term, index) in [(1, 10), (1, 30), (2, 20), (2, 40)] {
        store
            .save(&meta(term, index), format!("s{index}").as_bytes())
            .expect("save");
    }
    let (m, state) = store.load_latest().expect("load").expect("a snapshot");
    assert_eq!(m.last_log_id.map(|l| l.index), Some(40));
    assert_eq!(state, b"s40");
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["1-30.snap", "2-40.snap"]);
}

#[test]
fn corrupt_newest_snapshot_is_an_error_not_a_silent_fallback() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SnapshotStore::open_dir(dir.path()).expect("open");
    store.save(&meta(1, 10), b"old").expect("save");
    store.save(&meta(1, 20), b"new").expect("save");
    let path = dir.path().join("1-20.snap");
    let mut bytes = std::fs::read(&path).expect("read");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    std::fs::write(&path, bytes).expect("write");
    assert!(store.load_latest().is_err());
}

#[test]
fn memory_store_keeps_only_the_newest() {
    let store = SnapshotStore::memory();
    store.save(&meta(1, 20), b"b").expect("save");
    store.save(&meta(1, 10), b"a").expect("save");
    let (m, state) = store.load_latest().expect("load").expect("a snapshot");
    assert_eq!(
        (m.last_log_id.map(|l| l.index), state.as_slice()),
        (Some(20), b"b".as_slice())
    );
}
