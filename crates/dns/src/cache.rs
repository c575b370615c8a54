//! A per-receive-loop cache of encoded UDP answers.
//!
//! The key is the whole request but its ID (flags, question with its case, EDNS and its
//! options), so only byte-identical questions share an answer. An entry remembers the
//! catalog index it was computed at and is used only while the local catalog is still
//! at that index: any write (a check turning critical, a deregistration) makes every
//! entry stale at once; an entry is also dropped after a short age, whatever the
//! index. Only NOERROR answers whose ANSWER section is a set of same-sized
//! records (A or AAAA) that nothing was trimmed from are kept, and each hit shuffles
//! those records in place, so the order stays random as on a fresh answer.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rand::RngExt as _;

/// Entries kept per loop; the cache is emptied when full (questions are few in practice).
const MAX_ENTRIES: usize = 1024;
/// Largest request cached (anything longer is unusual).
const MAX_KEY: usize = 512;

/// Cached answers of one receive loop.
#[derive(Debug, Default)]
pub(crate) struct AnswerCache {
    entries: HashMap<Box<[u8]>, Entry>,
}

#[derive(Debug)]
struct Entry {
    index: u64,
    born: Instant,
    bytes: Vec<u8>,
    /// Offset of the ANSWER section, length of each of its records, their count.
    shuffle: Option<(usize, usize, usize)>,
}

impl AnswerCache {
    /// Writes the cached answer to `request` at catalog `index`, no older than
    /// `max_age`, into `out`, with the request's ID and the answers reshuffled; `false`
    /// on a miss.
    pub(crate) fn answer(
        &self,
        request: &[u8],
        index: u64,
        max_age: Duration,
        out: &mut Vec<u8>,
    ) -> bool {
        let Some(key) = request.get(2..) else {
            return false;
        };
        let Some(entry) = self
            .entries
            .get(key)
            .filter(|e| e.index == index && e.born.elapsed() <= max_age)
        else {
            return false;
        };
        out.clear();
        out.extend_from_slice(&entry.bytes);
        out[..2].copy_from_slice(&request[..2]);
        if let Some((start, len, count)) = entry.shuffle {
            shuffle_records(&mut out[start..start + len * count], len);
        }
        true
    }

    /// Keeps `response` (the encoded answer to `request`, computed at catalog `index`)
    /// if it qualifies (see the module documentation).
    pub(crate) fn insert(&mut self, request: &[u8], index: u64, response: &[u8]) {
        if request.len() > MAX_KEY || request.len() < 12 {
            return;
        }
        let Some(shuffle) = layout(response) else {
            return;
        };
        if self.entries.len() >= MAX_ENTRIES {
            self.entries.clear();
        }
        self.entries.insert(
            request[2..].into(),
            Entry {
                index,
                born: Instant::now(),
                bytes: response.to_vec(),
                shuffle: (shuffle.2 > 1).then_some(shuffle),
            },
        );
    }
}

/// Shuffles the `len`-byte records of `section` (Fisher–Yates).
fn shuffle_records(section: &mut [u8], len: usize) {
    let count = section.len() / len;
    let mut rng = rand::rng();
    for i in (1..count).rev() {
        let j = rng.random_range(0..=i);
        if i != j {
            let (head, tail) = section.split_at_mut(i * len);
            head[j * len..(j + 1) * len].swap_with_slice(&mut tail[..len]);
        }
    }
}

/// Where the ANSWER section of a cacheable response lies: `(offset, record length,
/// count)`. `None` unless it is a NOERROR response without TC, with one question, at
/// least one answer, and every answer an A or AAAA record of the same encoded length
/// (so a shuffle moves whole records).
pub(crate) fn layout(msg: &[u8]) -> Option<(usize, usize, usize)> {
    let header = msg.get(..12)?;
    let flags = u16::from_be_bytes([header[2], header[3]]);
    let rcode = flags & 0x000F;
    let truncated = flags & 0x0200 != 0;
    let qd = u16::from_be_bytes([header[4], header[5]]);
    let an = usize::from(u16::from_be_bytes([header[6], header[7]]));
    if rcode != 0 || truncated || qd != 1 || an == 0 {
        return None;
    }
    let mut at = skip_name(msg, 12)? + 4;
    let start = at;
    let mut record_len = None;
    for _ in 0..an {
        let rdata_at = skip_name(msg, at)?;
        let fixed = msg.get(rdata_at..rdata_at + 10)?;
        let rtype = u16::from_be_bytes([fixed[0], fixed[1]]);
        // A (1) or AAAA (28) only.
        if rtype != 1 && rtype != 28 {
            return None;
        }
        let rdlen = usize::from(u16::from_be_bytes([fixed[8], fixed[9]]));
        let end = rdata_at + 10 + rdlen;
        if end > msg.len() {
            return None;
        }
        let len = end - at;
        if *record_len.get_or_insert(len) != len {
            return None;
        }
        at = end;
    }
    Some((start, record_len?, an))
}

/// The offset after the (possibly compressed) name at `at`.
fn skip_name(msg: &[u8], mut at: usize) -> Option<usize> {
    loop {
        let len = *msg.get(at)?;
        match len {
            0 => return Some(at + 1),
            l if l & 0xC0 == 0xC0 => return (at + 2 <= msg.len()).then_some(at + 2),
            l if l & 0xC0 == 0 => at += 1 + usize::from(l),
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::net::Ipv4Addr;

    use hickory_proto::op::{Message, MessageType, OpCode, Query};
    use hickory_proto::rr::rdata::{A, TXT};
    use hickory_proto::rr::{Name, RData, Record, RecordType};

    const AGE: Duration = Duration::from_secs(60);

    fn response(n: u8) -> Vec<u8> {
        let name = Name::from_ascii("web.service.consul.").unwrap_or_else(|_| Name::root());
        let mut m = Message::new(9, MessageType::Response, OpCode::Query);
        m.add_query(Query::query(name.clone(), RecordType::A));
        for i in 0..n {
            m.add_answer(Record::from_rdata(
                name.clone(),
                0,
                RData::A(A(Ipv4Addr::new(10, 0, 0, i))),
            ));
        }
        m.to_vec().unwrap_or_default()
    }

    #[test]
    fn layout_finds_same_sized_address_answers() {
        let bytes = response(3);
        let (start, len, count) = layout(&bytes).expect("cacheable");
        assert_eq!((len, count), (16, 3));
        assert_eq!(start + len * count, bytes.len());
        assert!(layout(&response(0)).is_none());
    }

    #[test]
    fn layout_refuses_other_answers() {
        let name = Name::from_ascii("n.node.consul.").unwrap_or_else(|_| Name::root());
        let mut m = Message::new(9, MessageType::Response, OpCode::Query);
        m.add_query(Query::query(name.clone(), RecordType::TXT));
        m.add_answer(Record::from_rdata(
            name,
            0,
            RData::TXT(TXT::new(vec!["a=b".into()])),
        ));
        assert!(layout(&m.to_vec().unwrap_or_default()).is_none());
    }

    #[test]
    fn hits_patch_the_id_and_shuffle_whole_records() {
        let mut cache = AnswerCache::default();
        let bytes = response(4);
        let mut request = vec![0u8; 20];
        request[..2].copy_from_slice(&[0xAB, 0xCD]);
        cache.insert(&request, 5, &bytes);
        let mut out = Vec::new();
        assert!(
            !cache.answer(&request, 6, AGE, &mut out),
            "another index misses"
        );
        assert!(
            !cache.answer(&request, 5, Duration::ZERO, &mut out) || cfg!(miri),
            "an entry older than the age bound misses"
        );
        let mut orders = std::collections::HashSet::new();
        for _ in 0..200 {
            assert!(cache.answer(&request, 5, AGE, &mut out));
            assert_eq!(&out[..2], &[0xAB, 0xCD]);
            let m = Message::from_vec(&out).expect("valid message");
            let mut ips: Vec<String> = m.answers.iter().map(|r| r.data.to_string()).collect();
            orders.insert(ips.join(","));
            ips.sort();
            assert_eq!(ips, ["10.0.0.0", "10.0.0.1", "10.0.0.2", "10.0.0.3"]);
        }
        assert!(orders.len() > 1, "answers are reshuffled");
        request[5] = 1;
        assert!(
            !cache.answer(&request, 5, AGE, &mut out),
            "another request misses"
        );
    }
}
