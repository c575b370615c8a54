//! The check task: schedules runs, applies the status handler, sends changes.

use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::grpc::{GrpcProbe, GrpcSettings};
use crate::http::HttpProbe;
use crate::output::{MAX_OUTPUT_SIZE, truncate_output};
use crate::script::ScriptProbe;
use crate::socket::{tcp_check, udp_check};
use crate::status_handler::StatusHandler;
use crate::{CheckKind, CheckSpec, Error, HealthStatus};

/// A change of a check's status or output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckUpdate {
    pub check_id: String,
    pub status: HealthStatus,
    pub output: String,
}

/// The raw result of one run, before the status handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CheckResult {
    pub(crate) status: HealthStatus,
    pub(crate) output: String,
}

impl CheckResult {
    pub(crate) fn passing(output: String) -> Self {
        CheckResult {
            status: HealthStatus::Passing,
            output,
        }
    }

    pub(crate) fn critical(output: String) -> Self {
        CheckResult {
            status: HealthStatus::Critical,
            output,
        }
    }
}

/// Starts check tasks.
#[derive(Debug)]
pub struct CheckRunner;

impl CheckRunner {
    /// Validates `spec` and starts its task on the current tokio runtime.
    ///
    /// The task sends a [`CheckUpdate`] on `updates` whenever the status or output it records
    /// differs from the previous one (the first is compared with `initial_status` and an empty
    /// output, which are not sent). It stops when `shutdown` is cancelled, the returned handle
    /// is stopped or dropped, or `updates` is closed.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime.
    pub fn spawn(
        spec: CheckSpec,
        updates: mpsc::Sender<CheckUpdate>,
        shutdown: CancellationToken,
    ) -> Result<CheckHandle, Error> {
        let check_id = spec.id.clone();
        let cancel = shutdown.child_token();
        let reporter = Reporter {
            check_id: check_id.clone(),
            status: spec.initial_status,
            output: String::new(),
            updates,
            cancel: cancel.clone(),
        };
        let span = tracing::info_span!("check", check_id = %check_id);
        let (ttl, task) = match Schedule::new(&spec)? {
            Schedule::Ttl(ttl) => {
                let (sender, receiver) = watch::channel(None);
                let task = tokio::spawn(run_ttl(ttl, receiver, reporter).instrument(span));
                (Some(sender), task)
            }
            Schedule::Interval(probe) => {
                let handler = StatusHandler::new(
                    spec.success_before_passing,
                    spec.failures_before_warning,
                    spec.failures_before_critical,
                );
                let task = tokio::spawn(
                    run_interval(probe, spec.interval, handler, reporter).instrument(span),
                );
                (None, task)
            }
        };
        Ok(CheckHandle {
            check_id,
            ttl,
            cancel,
            task: Some(task),
        })
    }
}

/// A running check. Dropping it stops the check.
#[derive(Debug)]
pub struct CheckHandle {
    check_id: String,
    ttl: Option<watch::Sender<Option<TtlUpdate>>>,
    cancel: CancellationToken,
    task: Option<JoinHandle<()>>,
}

#[derive(Debug, Clone)]
struct TtlUpdate {
    status: HealthStatus,
    output: String,
}

impl CheckHandle {
    pub fn check_id(&self) -> &str {
        &self.check_id
    }

    /// Whether this is a TTL check (so `pass`/`warn`/`fail`/`update` apply).
    pub fn is_ttl(&self) -> bool {
        self.ttl.is_some()
    }

    /// Sets a TTL check's status and output (capped at [`MAX_OUTPUT_SIZE`]) and restarts its
    /// TTL. Fails with [`Error::NotTtl`] for other kinds and [`Error::Stopped`] once stopped.
    pub fn update(&self, status: HealthStatus, output: impl Into<String>) -> Result<(), Error> {
        let Some(ttl) = &self.ttl else {
            return Err(Error::NotTtl {
                check_id: self.check_id.clone(),
            });
        };
        let update = TtlUpdate {
            status,
            output: truncate_output(output.into(), MAX_OUTPUT_SIZE),
        };
        ttl.send(Some(update)).map_err(|_| Error::Stopped {
            check_id: self.check_id.clone(),
        })
    }

    /// `update(Passing, note)`.
    pub fn pass(&self, note: impl Into<String>) -> Result<(), Error> {
        self.update(HealthStatus::Passing, note)
    }

    /// `update(Warning, note)`.
    pub fn warn(&self, note: impl Into<String>) -> Result<(), Error> {
        self.update(HealthStatus::Warning, note)
    }

    /// `update(Critical, note)`.
    pub fn fail(&self, note: impl Into<String>) -> Result<(), Error> {
        self.update(HealthStatus::Critical, note)
    }

    /// Asks the task to stop; a run in progress is abandoned (a script is killed).
    pub fn stop(&self) {
        self.cancel.cancel();
    }

    /// Stops the task and waits until it has finished.
    pub async fn join(mut self) {
        self.cancel.cancel();
        if let Some(task) = self.task.take()
            && let Err(error) = task.await
        {
            tracing::error!(check_id = %self.check_id, %error, "check task failed");
        }
    }
}

impl Drop for CheckHandle {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// Remembers what was last recorded and sends only changes.
struct Reporter {
    check_id: String,
    status: HealthStatus,
    output: String,
    updates: mpsc::Sender<CheckUpdate>,
    cancel: CancellationToken,
}

/// Whether the task goes on after recording.
#[derive(Debug, PartialEq, Eq)]
enum Flow {
    Continue,
    Stop,
}

impl Reporter {
    async fn record(&mut self, status: HealthStatus, output: String) -> Flow {
        if status == self.status && output == self.output {
            return Flow::Continue;
        }
        if status != self.status {
            tracing::info!(previous = %self.status, %status, "check status changed");
        }
        self.status = status;
        self.output = output.clone();
        let update = CheckUpdate {
            check_id: self.check_id.clone(),
            status,
            output,
        };
        tokio::select! {
            biased;
            () = self.cancel.cancelled() => Flow::Stop,
            sent = self.updates.send(update) => match sent {
                Ok(()) => Flow::Continue,
                Err(_) => Flow::Stop,
            },
        }
    }
}

/// How a validated check runs.
enum Schedule {
    /// Pushed through the handle, expiring after the duration.
    Ttl(Duration),
    /// Run every interval.
    Interval(Probe),
}

impl Schedule {
    fn new(spec: &CheckSpec) -> Result<Self, Error> {
        let check_id = || spec.id.clone();
        let probe = match &spec.kind {
            CheckKind::Ttl { ttl } if ttl.is_zero() => {
                return Err(Error::ZeroTtl {
                    check_id: check_id(),
                });
            }
            CheckKind::Ttl { ttl } => return Ok(Schedule::Ttl(*ttl)),
            CheckKind::Script { args } => {
                Probe::Script(ScriptProbe::new(args.clone(), spec.timeout).ok_or_else(|| {
                    Error::EmptyArgs {
                        check_id: check_id(),
                    }
                })?)
            }
            CheckKind::Http(http) => {
                Probe::Http(Box::new(HttpProbe::new(&spec.id, http, spec.timeout)?))
            }
            CheckKind::Grpc {
                target,
                use_tls,
                tls_server_name,
                tls_skip_verify,
            } => {
                let settings = GrpcSettings {
                    target,
                    use_tls: *use_tls,
                    tls_server_name,
                    tls_skip_verify: *tls_skip_verify,
                };
                Probe::Grpc(Box::new(GrpcProbe::new(&spec.id, settings, spec.timeout)?))
            }
            CheckKind::Tcp { addr } => Probe::Tcp {
                addr: addr.clone(),
                timeout: spec.timeout,
            },
            CheckKind::Udp { addr } => Probe::Udp {
                addr: addr.clone(),
                timeout: spec.timeout,
            },
        };
        if spec.interval.is_zero() {
            return Err(Error::ZeroInterval {
                check_id: check_id(),
            });
        }
        Ok(Schedule::Interval(probe))
    }
}

/// What an interval check runs.
enum Probe {
    Script(ScriptProbe),
    Http(Box<HttpProbe>),
    Grpc(Box<GrpcProbe>),
    Tcp { addr: String, timeout: Duration },
    Udp { addr: String, timeout: Duration },
}

impl Probe {
    async fn run(&self) -> CheckResult {
        match self {
            Probe::Script(script) => script.run().await,
            Probe::Http(http) => http.run().await,
            Probe::Grpc(grpc) => grpc.run().await,
            Probe::Tcp { addr, timeout } => tcp_check(addr, *timeout).await,
            Probe::Udp { addr, timeout } => udp_check(addr, *timeout).await,
        }
    }
}

/// Runs `probe` after a random stagger within one interval, then one interval after each run
/// finishes, so runs never overlap.
async fn run_interval(
    probe: Probe,
    interval: Duration,
    mut handler: StatusHandler,
    mut reporter: Reporter,
) {
    let cancel = reporter.cancel.clone();
    let mut next = Instant::now() + stagger(interval);
    tracing::debug!("check started");
    loop {
        tokio::select! {
            biased;
            () = cancel.cancelled() => break,
            () = tokio::time::sleep_until(next) => {}
        }
        let result = tokio::select! {
            biased;
            () = cancel.cancelled() => break,
            result = probe.run() => result,
        };
        if let Some(status) = handler.observe(result.status) {
            if reporter.record(status, result.output).await == Flow::Stop {
                break;
            }
        } else {
            tracing::debug!(status = %result.status, "check status held by its counters");
        }
        next = Instant::now() + interval;
    }
    tracing::debug!("check stopped");
}

/// A random delay in `[0, interval)`.
fn stagger(interval: Duration) -> Duration {
    let nanos = u64::try_from(interval.as_nanos()).unwrap_or(u64::MAX);
    if nanos == 0 {
        return Duration::ZERO;
    }
    Duration::from_nanos(rand::random_range(0..nanos))
}

/// Records each update pushed through the handle and turns critical when none comes within
/// `ttl`; after expiring it waits for the next update.
async fn run_ttl(
    ttl: Duration,
    mut pushed: watch::Receiver<Option<TtlUpdate>>,
    mut reporter: Reporter,
) {
    let cancel = reporter.cancel.clone();
    let mut deadline = Some(Instant::now() + ttl);
    let mut last_output = String::new();
    loop {
        let expiry = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let flow = tokio::select! {
            biased;
            () = cancel.cancelled() => break,
            changed = pushed.changed() => {
                if changed.is_err() {
                    break;
                }
                let update = pushed.borrow_and_update().clone();
                let Some(update) = update else { continue };
                deadline = Some(Instant::now() + ttl);
                last_output.clone_from(&update.output);
                reporter.record(update.status, update.output).await
            }
            () = expiry => {
                deadline = None;
                tracing::warn!("check ttl expired");
                reporter.record(HealthStatus::Critical, expired_output(&last_output)).await
            }
        };
        if flow == Flow::Stop {
            break;
        }
    }
}

/// `TTL expired`, followed by the last output when there was one.
fn expired_output(last_output: &str) -> String {
    if last_output.is_empty() {
        "TTL expired".to_owned()
    } else {
        format!("TTL expired (last output before timeout follows): {last_output}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stagger_is_below_the_interval() {
        let interval = Duration::from_millis(10);
        for _ in 0..100 {
            assert!(stagger(interval) < interval);
        }
        assert_eq!(stagger(Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn expired_output_quotes_the_last_output() {
        assert_eq!(expired_output(""), "TTL expired");
        assert_eq!(
            expired_output("ok"),
            "TTL expired (last output before timeout follows): ok"
        );
    }
}
