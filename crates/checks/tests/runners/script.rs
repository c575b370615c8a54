use std::time::Duration;

use praetor_checks::{CheckKind, HealthStatus};

use crate::{spec, start};

#[tokio::test]
async fn exit_codes_map_to_statuses() {
    for (script, status) in [
        ("echo fine; exit 0", HealthStatus::Passing),
        ("echo meh; exit 1", HealthStatus::Warning),
        ("echo bad; exit 2", HealthStatus::Critical),
    ] {
        // The output differs from the initial empty one, so every result is sent.
        let mut running = start(spec(CheckKind::shell(script)));
        let update = running.next().await;
        assert_eq!(update.check_id, "check-under-test");
        assert_eq!(update.status, status, "{script}");
        assert!(!update.output.is_empty());
    }
}

#[tokio::test]
async fn args_run_without_a_shell_and_output_combines_stdout_and_stderr() {
    let mut running = start(spec(CheckKind::Script {
        args: vec![
            "/bin/sh".into(),
            "-c".into(),
            "echo to-stdout; echo to-stderr >&2".into(),
        ],
    }));
    let update = running.next().await;
    assert_eq!(update.status, HealthStatus::Passing);
    assert!(update.output.contains("to-stdout\n"), "{:?}", update.output);
    assert!(update.output.contains("to-stderr\n"), "{:?}", update.output);
}

#[tokio::test]
async fn a_missing_program_is_critical() {
    let mut check = spec(CheckKind::Script {
        args: vec!["/nonexistent/praetor-check".into()],
    });
    check.initial_status = HealthStatus::Passing;
    let update = start(check).next().await;
    assert_eq!(update.status, HealthStatus::Critical);
    assert!(update.output.contains("/nonexistent/praetor-check"));
}

#[tokio::test]
async fn a_slow_script_times_out_critical() {
    let mut check = spec(CheckKind::shell("sleep 30"));
    check.initial_status = HealthStatus::Passing;
    check.timeout = Duration::from_millis(200);
    let update = start(check).next().await;
    assert_eq!(update.status, HealthStatus::Critical);
    assert_eq!(update.output, "Timed out (200ms) running check");
}

#[tokio::test]
async fn big_output_keeps_the_last_4k_with_a_note() {
    let mut running = start(spec(CheckKind::shell(
        "head -c 10000 /dev/zero | tr '\\0' a; printf END",
    )));
    let update = running.next().await;
    assert_eq!(update.status, HealthStatus::Passing);
    let header = "Captured 4096 of 10003 bytes\n...\n";
    assert!(
        update.output.starts_with(header),
        "{:?}",
        &update.output[..60]
    );
    assert_eq!(update.output.len(), header.len() + 4096);
    assert!(update.output.ends_with("aaaEND"));
}

/// A script that counts its runs in `dir/count`, prints `run <n>` and exits with `code`.
fn counting_script(dir: &std::path::Path, code: u8) -> CheckKind {
    let count = dir.join("count");
    let count = count.display();
    CheckKind::shell(format!(
        "n=$(cat {count} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {count}; echo run $n; exit {code}"
    ))
}

#[tokio::test]
async fn failures_before_critical_holds_the_status_until_enough_failures() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut check = spec(counting_script(dir.path(), 2));
    check.initial_status = HealthStatus::Passing;
    check.failures_before_critical = 3;
    let update = start(check).next().await;
    assert_eq!(update.status, HealthStatus::Critical);
    assert_eq!(update.output, "run 3\n");
}

#[tokio::test]
async fn failures_before_warning_warns_before_turning_critical() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut check = spec(counting_script(dir.path(), 2));
    check.initial_status = HealthStatus::Passing;
    check.failures_before_warning = 2;
    check.failures_before_critical = 4;
    let mut running = start(check);
    let first = running.next().await;
    assert_eq!(
        (first.status, first.output.as_str()),
        (HealthStatus::Warning, "run 2\n")
    );
    let second = running.next().await;
    assert_eq!(
        (second.status, second.output.as_str()),
        (HealthStatus::Warning, "run 3\n")
    );
    let third = running.next().await;
    assert_eq!(
        (third.status, third.output.as_str()),
        (HealthStatus::Critical, "run 4\n")
    );
}

#[tokio::test]
async fn success_before_passing_holds_the_initial_status() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut check = spec(counting_script(dir.path(), 0));
    check.success_before_passing = 2;
    let update = start(check).next().await;
    assert_eq!(update.status, HealthStatus::Passing);
    assert_eq!(update.output, "run 2\n");
}

#[tokio::test]
async fn a_slow_check_never_runs_beside_itself() {
    let dir = tempfile::tempdir().expect("temp dir");
    let lock = dir.path().join("lock");
    let lock = lock.display();
    // Critical if another run holds the lock; the pid makes every run's output differ, so
    // every run sends an update.
    let mut check = spec(CheckKind::shell(format!(
        "mkdir {lock} || exit 2; sleep 0.2; rmdir {lock}; echo $$"
    )));
    check.interval = Duration::from_millis(10);
    let mut running = start(check);
    for _ in 0..4 {
        let update = running.next().await;
        assert_eq!(update.status, HealthStatus::Passing, "{update:?}");
    }
}

#[tokio::test]
async fn stop_kills_a_running_script() {
    let dir = tempfile::tempdir().expect("temp dir");
    let marker = dir.path().join("marker");
    let mut check = spec(CheckKind::shell(format!(
        "touch {}; sleep 30",
        marker.display()
    )));
    check.interval = Duration::from_millis(1);
    let running = start(check);
    // Wait until the script has started.
    crate::wait_until(|| marker.exists()).await;
    tokio::time::timeout(crate::WAIT, running.handle.join())
        .await
        .expect("join returns without waiting for the script");
}
