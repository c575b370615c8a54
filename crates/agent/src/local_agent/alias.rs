//! Alias checks of another node: a blocking query on that node's checks in the catalog,
//! re-evaluated whenever they change (never a tight poll), as Consul's `CheckAlias` does.

use std::sync::Arc;
use std::time::Duration;

use praetor_checks::CheckUpdate;
use praetor_types::{HealthCheck, HealthStatus};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::anti_entropy::CatalogApi;

/// Longest blocking wait of one query.
const WAIT: Duration = Duration::from_secs(300);
/// Longest delay between failed queries.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The status an alias of `service` (empty: the node's checks only) sees in `checks`,
/// with Consul's outputs.
pub(crate) fn status_of(checks: &[HealthCheck], service: &str) -> (HealthStatus, String) {
    let mut status = HealthStatus::Passing;
    let mut output = "No checks found.".to_owned();
    for c in checks {
        if !c.service_id.is_empty() && c.service_id != service {
            continue;
        }
        match c.status {
            HealthStatus::Critical | HealthStatus::Warning => {
                if status != HealthStatus::Critical {
                    status = c.status;
                    output = format!("Aliased check {:?} failing: {}", c.name, c.output);
                }
            }
            HealthStatus::Passing => {
                if status == HealthStatus::Passing {
                    output = "All checks passing.".to_owned();
                }
            }
        }
    }
    (status, output)
}

/// Follows `node`'s checks and reports the alias check `check_id` on `updates` until
/// `cancel` fires.
pub(crate) async fn watch_node(
    catalog: Arc<dyn CatalogApi>,
    node: String,
    service: String,
    check_id: String,
    updates: mpsc::Sender<CheckUpdate>,
    cancel: CancellationToken,
) {
    let mut index = 0;
    let mut backoff = Duration::from_millis(250);
    loop {
        let answer = tokio::select! {
            biased;
            () = cancel.cancelled() => return,
            answer = catalog.watch_node_checks(&node, index, WAIT) => answer,
        };
        match answer {
            Ok((new_index, checks)) => {
                backoff = Duration::from_millis(250);
                // An index going backwards (snapshot restore) restarts the watch.
                index = if new_index < index {
                    0
                } else {
                    new_index.max(1)
                };
                let (status, output) = status_of(&checks, &service);
                let update = CheckUpdate {
                    check_id: check_id.clone(),
                    status,
                    output,
                };
                if updates.send(update).await.is_err() {
                    return;
                }
            }
            Err(error) => {
                tracing::debug!(%error, check = %check_id, "alias node query failed; retrying");
                tokio::select! {
                    biased;
                    () = cancel.cancelled() => return,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}
