//! Facts about this machine, all from `/proc`, and small process-environment checks.

use std::path::PathBuf;

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// A markdown paragraph: CPU model and count, memory, kernel, load average at the end.
pub fn describe() -> String {
    let cpuinfo = read("/proc/cpuinfo");
    let cores = cpuinfo
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown CPU".to_owned(), |(_, m)| m.trim().to_owned());
    let mem_kib: u64 = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    let kernel = read("/proc/sys/kernel/osrelease");
    let load = read("/proc/loadavg");
    format!(
        "Machine: {cores} × {model}, {:.1} GiB memory, Linux {}; load average at the end: {}.\n",
        mem_kib as f64 / 1024.0 / 1024.0,
        kernel.trim(),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    )
}

/// The soft `Max open files` limit of this process (inherited by the servers it starts).
pub fn open_files_limit() -> u64 {
    read("/proc/self/limits")
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse().ok())
        .unwrap_or(u64::MAX)
}

/// The hard `Max open files` limit of this process.
fn open_files_hard_limit() -> Option<u64> {
    read("/proc/self/limits")
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(4))
        .and_then(|v| v.parse().ok())
}

/// Raises this process's soft open-files limit to its hard limit with util-linux's
/// `prlimit` (no `unsafe` `setrlimit` here); the servers it starts inherit it. Best effort.
pub fn raise_open_files_limit() {
    let Some(hard) = open_files_hard_limit() else {
        return;
    };
    let status = std::process::Command::new("prlimit")
        .arg(format!("--pid={}", std::process::id()))
        .arg(format!("--nofile={hard}:{hard}"))
        .status();
    if !matches!(status, Ok(s) if s.success()) {
        eprintln!("warning: could not raise the open-files limit with prlimit");
    }
}

/// `name` on `PATH` (or in `/usr/sbin`, `/sbin`, where Debian puts `knotd`).
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .chain(["/usr/sbin", "/sbin"])
        .map(|d| PathBuf::from(d).join(name))
        .find(|p| p.is_file())
}

/// Whether this process runs as root (its real uid is 0).
pub fn is_root() -> bool {
    read("/proc/self/status")
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().next())
        == Some("0")
}
