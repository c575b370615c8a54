//! One answer for many identical woken reads: after a write, every parked read of the
//! same target (path and query) that saw the same new index gets the same response, so
//! it is computed once and written to each connection.
//!
//! Sharing is sound because such a response is a valid answer to each of them: its
//! index is at least the one they saw, which is above the `?index` they asked with
//! (the same for all: it is part of the target), and nothing else of the request
//! (headers) changes a KV read's answer once [`crate::kv::blocking_read`] accepted it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use tokio::sync::OnceCell;

use super::answer::{Whole, respond};

/// Entries kept before idle ones are dropped.
const KEEP: usize = 32;

type Cell = Arc<OnceCell<Arc<Whole>>>;

/// Responses of woken reads by (target, index seen).
#[derive(Default)]
pub(crate) struct Answers {
    map: Mutex<HashMap<(Box<str>, u64), Cell>>,
}

impl Answers {
    /// The response for `target` at `index`, computed from `req` by the first caller
    /// and shared with every caller that comes while it is kept.
    pub(super) async fn get(
        &self,
        router: &Router,
        target: &str,
        index: u64,
        req: Request<Body>,
    ) -> Option<Arc<Whole>> {
        let cell = self.cell(target, index);
        let mut req = Some(req);
        let whole = cell
            .get_or_try_init(|| async {
                match req.take() {
                    Some(req) => respond(router, req).await.map(Arc::new).ok_or(()),
                    None => Err(()),
                }
            })
            .await;
        match whole {
            Ok(whole) => Some(whole.clone()),
            // Its computation failed, or ours was spent on a failed try: alone, then.
            Err(()) => match req.take() {
                Some(req) => respond(router, req).await.map(Arc::new),
                None => None,
            },
        }
    }

    fn cell(&self, target: &str, index: u64) -> Cell {
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(cell) = map.get(&(Box::from(target), index)) {
            return cell.clone();
        }
        // Older answers of this target are not asked for again; neither are idle ones
        // once many are kept.
        map.retain(|(t, _), _| &**t != target);
        if map.len() >= KEEP {
            map.retain(|_, cell| Arc::strong_count(cell) > 1);
        }
        let cell = Cell::default();
        map.insert((Box::from(target), index), cell.clone());
        cell
    }
}
