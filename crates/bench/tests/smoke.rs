//! Runs the harness for a fraction of a second against the workspace's own `praetor`
//! binary (no peers), so that its code is exercised where the binary was built.

use std::path::PathBuf;
use std::process::Command;

/// `target/<profile>/praetor`, next to this test's `deps/` directory.
fn praetor() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let profile_dir = exe.parent()?.parent()?;
    let bin = profile_dir.join("praetor");
    bin.is_file().then_some(bin)
}

#[test]
fn smoke_run_prints_a_table_per_scenario_and_a_plot() {
    let Some(praetor) = praetor() else {
        // `cargo nextest run --workspace` (CI) builds it; `-p praetor-bench` alone does not.
        eprintln!("skipped: build the praetor binary first (cargo build -p praetor)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("plot.svg");
    let json = dir.path().join("out.json");
    let out = Command::new(env!("CARGO_BIN_EXE_praetor-bench"))
        .arg("--smoke")
        .args(["--only", "leader,kv,watch"])
        .arg("--praetor")
        .arg(&praetor)
        .arg("--svg")
        .arg(&svg)
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    for title in [
        "### Time from start to a leader",
        "### KV PUT, single server",
        "### KV GET, single server",
        "### 50 blocking watchers on one key, one write",
    ] {
        assert!(stdout.contains(title), "no {title:?} in:\n{stdout}");
    }
    assert!(stdout.contains("| PUT, 4 clients |"), "{stdout}");
    assert!(
        stdout.contains("Failed requests over PUT and GET: 0."),
        "{stdout}"
    );
    let plot = std::fs::read_to_string(&svg).unwrap();
    assert!(plot.contains("Praetor, 1 server"), "{plot}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(json["tables"].as_array().unwrap().len(), 4, "{json}");
}
