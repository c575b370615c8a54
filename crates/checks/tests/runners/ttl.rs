use std::time::Duration;

use praetor_checks::{CheckKind, Error, HealthStatus, MAX_OUTPUT_SIZE};
use tokio::time::Instant;

use crate::{spec, start};

/// Shorter than the tests' wait, so an expiry arrives before the wait gives up.
const TTL: Duration = Duration::from_secs(5);

#[tokio::test(start_paused = true)]
async fn pass_then_expiry_turns_critical() {
    let mut running = start(spec(CheckKind::Ttl { ttl: TTL }));
    assert!(running.handle.is_ttl());
    running.handle.pass("all good").expect("ttl update");
    let passed_at = Instant::now();
    let update = running.next().await;
    assert_eq!(update.status, HealthStatus::Passing);
    assert_eq!(update.output, "all good");

    let expired = running.next().await;
    assert_eq!(expired.status, HealthStatus::Critical);
    assert_eq!(
        expired.output,
        "TTL expired (last output before timeout follows): all good"
    );
    assert!(passed_at.elapsed() >= TTL);

    running.handle.warn("recovering").expect("ttl update");
    let update = running.next().await;
    assert_eq!(
        (update.status, update.output.as_str()),
        (HealthStatus::Warning, "recovering")
    );
}

#[tokio::test(start_paused = true)]
async fn expiry_without_updates_says_ttl_expired() {
    let mut check = spec(CheckKind::Ttl { ttl: TTL });
    check.initial_status = HealthStatus::Passing;
    let started = Instant::now();
    let mut running = start(check);
    let expired = running.next().await;
    assert_eq!(expired.status, HealthStatus::Critical);
    assert_eq!(expired.output, "TTL expired");
    assert!(started.elapsed() >= TTL);
}

#[tokio::test(start_paused = true)]
async fn updates_reset_the_ttl() {
    let mut running = start(spec(CheckKind::Ttl { ttl: TTL }));
    running.handle.pass("one").expect("ttl update");
    running.next().await;
    tokio::time::advance(Duration::from_secs(4)).await;
    running.handle.pass("two").expect("ttl update");
    let refreshed_at = Instant::now();
    assert_eq!(running.next().await.output, "two");
    let expired = running.next().await;
    assert_eq!(expired.status, HealthStatus::Critical);
    assert!(
        refreshed_at.elapsed() >= TTL,
        "expired from the last update"
    );
}

#[tokio::test(start_paused = true)]
async fn only_changes_are_sent() {
    let mut running = start(spec(CheckKind::Ttl { ttl: TTL }));
    running.handle.pass("same").expect("ttl update");
    assert_eq!(running.next().await.output, "same");
    running.handle.pass("same").expect("ttl update");
    tokio::task::yield_now().await;
    running.handle.pass("changed").expect("ttl update");
    let next = running.next().await;
    assert_eq!(next.output, "changed", "the repeated update was not sent");
}

#[tokio::test(start_paused = true)]
async fn long_notes_are_truncated() {
    let mut running = start(spec(CheckKind::Ttl { ttl: TTL }));
    running.handle.fail("x".repeat(5000)).expect("ttl update");
    let update = running.next().await;
    assert_eq!(update.status, HealthStatus::Critical);
    assert!(update.output.starts_with(&"x".repeat(MAX_OUTPUT_SIZE)));
    assert!(
        update
            .output
            .ends_with(" ... (captured 4096 of 5000 bytes)")
    );
}

#[tokio::test]
async fn updates_on_other_kinds_are_refused() {
    let running = start(spec(CheckKind::shell("exit 0")));
    assert!(!running.handle.is_ttl());
    let err = running.handle.pass("nope").expect_err("not a ttl check");
    assert!(matches!(err, Error::NotTtl { .. }));
    assert_eq!(
        err.to_string(),
        "CheckID \"check-under-test\" does not have associated TTL"
    );
}

#[tokio::test(start_paused = true)]
async fn updates_after_stop_are_refused() {
    let running = start(spec(CheckKind::Ttl { ttl: TTL }));
    running.handle.stop();
    // Wait for the task to end: its updates sender is dropped with it.
    let mut updates = running.updates;
    assert!(updates.recv().await.is_none());
    let err = running.handle.pass("late").expect_err("stopped");
    assert!(matches!(err, Error::Stopped { .. }), "{err}");
}
