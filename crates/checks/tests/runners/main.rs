//! The check runners against real targets on loopback: scripts, an axum server, TCP and UDP
//! sockets, a tonic gRPC health server, and TTL checks on a paused clock.

mod grpc;
mod http;
mod script;
mod socket;
mod ttl;

use std::time::Duration;

use praetor_checks::{CheckHandle, CheckKind, CheckRunner, CheckSpec, CheckUpdate};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// How long a test waits for an update before failing.
const WAIT: Duration = Duration::from_secs(10);

/// A running check and the receiving end of its updates.
pub struct Running {
    pub handle: CheckHandle,
    pub updates: mpsc::Receiver<CheckUpdate>,
    pub shutdown: CancellationToken,
}

impl Running {
    /// The next update, failing the test if none comes within [`WAIT`].
    pub async fn next(&mut self) -> CheckUpdate {
        tokio::time::timeout(WAIT, self.updates.recv())
            .await
            .expect("an update within the wait")
            .expect("the check is still running")
    }

    /// Skips updates until one satisfies `pred`.
    pub async fn until(&mut self, pred: impl Fn(&CheckUpdate) -> bool) -> CheckUpdate {
        loop {
            let update = self.next().await;
            if pred(&update) {
                return update;
            }
        }
    }
}

/// Polls `condition` every 10ms until it holds, failing the test after [`WAIT`].
pub async fn wait_until(condition: impl Fn() -> bool) {
    tokio::time::timeout(WAIT, async {
        while !condition() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the condition holds within the wait");
}

/// A spec with a short interval, so tests run quickly on real time.
pub fn spec(kind: CheckKind) -> CheckSpec {
    let mut spec = CheckSpec::new("check-under-test", kind);
    spec.interval = Duration::from_millis(20);
    spec
}

pub fn start(spec: CheckSpec) -> Running {
    let (tx, updates) = mpsc::channel(16);
    let shutdown = CancellationToken::new();
    let handle = CheckRunner::spawn(spec, tx, shutdown.clone()).expect("a valid spec");
    Running {
        handle,
        updates,
        shutdown,
    }
}

#[tokio::test]
async fn shutdown_stops_the_check_and_closes_its_updates() {
    let mut running = start(spec(CheckKind::shell("exit 0")));
    running.next().await;
    running.shutdown.cancel();
    let closed = tokio::time::timeout(WAIT, async {
        while running.updates.recv().await.is_some() {}
    })
    .await;
    assert!(closed.is_ok(), "updates closed after shutdown");
}

#[tokio::test]
async fn invalid_specs_are_rejected() {
    let (tx, _rx) = mpsc::channel(1);
    let shutdown = CancellationToken::new();
    let mut zero_interval = spec(CheckKind::shell("exit 0"));
    zero_interval.interval = Duration::ZERO;
    let empty_args = spec(CheckKind::Script { args: vec![] });
    let zero_ttl = spec(CheckKind::Ttl {
        ttl: Duration::ZERO,
    });
    for (bad, want) in [
        (zero_interval, "needs an interval above zero"),
        (empty_args, "has no arguments"),
        (zero_ttl, "needs a ttl above zero"),
    ] {
        let err = CheckRunner::spawn(bad, tx.clone(), shutdown.clone()).expect_err("rejected");
        assert!(err.to_string().contains(want), "{err}");
    }
}
