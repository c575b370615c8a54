//! `consul lock [options] <prefix> <child...>` (spec/cli.md §6), Consul's `command/lock`
//! over the `api.Lock` and `api.Semaphore` recipes: a session (TTL 15 s, renewed), then a
//! mutex on `<prefix>/.lock` (`-n=1`) or a semaphore of `-n` holders (contender keys
//! `<prefix>/<session>` and the holder set in `<prefix>/.lock`); the child runs while the
//! lock is held and is terminated when it is lost.

mod child;
mod mutex;
mod semaphore;
mod session;

use std::time::Duration;

use clap::{ArgAction, Parser};
use praetor_client::{Client, ClientError, SessionBehavior};
use tokio::signal::unix::{Signal, SignalKind, signal};

use crate::argv::parse_bool_flag;
use crate::console::{Console, Env};
use crate::http_flags::{HttpFlags, describe};

use self::child::Child;
use self::session::LockSession;

/// The session TTL of the lock's session (Consul's `DefaultLockSessionTTL`).
const SESSION_TTL: Duration = Duration::from_secs(15);
/// How long a blocking query of the acquisition loop waits (Consul's `DefaultLockWaitTime`).
const LOCK_WAIT_TIME: Duration = Duration::from_secs(15);
/// Wait before retrying an acquisition refused by a lock-delay (`DefaultLockRetryTime`).
const LOCK_RETRY_TIME: Duration = Duration::from_secs(5);
/// Pause between retries of a failed monitoring query (`DefaultMonitorRetryTime`).
const MONITOR_RETRY_TIME: Duration = Duration::from_secs(1);
/// How long the child has between SIGTERM and SIGKILL.
const KILL_GRACE_PERIOD: Duration = Duration::from_secs(5);

/// `consul lock` flags.
#[derive(Debug, Parser)]
#[command(
    name = "lock",
    about = "Execute a command holding a lock",
    override_usage = "consul lock [options] prefix child..."
)]
struct LockArgs {
    #[command(flatten)]
    http: HttpFlags,
    /// Optional limit on the number of concurrent lock holders (1 = mutex, more = semaphore)
    #[arg(
        short = 'n',
        long = "n",
        value_name = "N",
        default_value_t = 1,
        allow_negative_numbers = true
    )]
    limit: i64,
    /// Optional name to associate with the lock session
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Use a shell to run the command
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true,
        default_value = "true", default_missing_value = "true",
        value_parser = parse_bool_flag, action = ArgAction::Set)]
    shell: bool,
    /// Pass stdin to the child process
    #[arg(long = "pass-stdin", value_name = "BOOL", num_args = 0..=1, require_equals = true,
        default_value = "false", default_missing_value = "true",
        value_parser = parse_bool_flag, action = ArgAction::Set)]
    pass_stdin: bool,
    /// Maximum amount of time to wait to acquire the lock (0: wait forever)
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = parse_timeout)]
    timeout: Duration,
    /// Number of times to retry if Consul returns a 500 error while monitoring the lock
    #[arg(
        long = "monitor-retry",
        value_name = "N",
        default_value_t = 3,
        allow_negative_numbers = true
    )]
    monitor_retry: i64,
    /// Exit 2 if the child process exited with an error
    #[arg(long = "child-exit-code", value_name = "BOOL", num_args = 0..=1, require_equals = true,
        default_value = "false", default_missing_value = "true",
        value_parser = parse_bool_flag, action = ArgAction::Set)]
    child_exit_code: bool,
    /// Enable verbose (debugging) output
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true,
        default_value = "false", default_missing_value = "true",
        value_parser = parse_bool_flag, action = ArgAction::Set)]
    verbose: bool,
    /// The key prefix, then the child command
    #[arg(
        value_name = "ARGS",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    args: Vec<String>,
}

fn parse_timeout(text: &str) -> Result<Duration, String> {
    praetor_types::duration::parse_go_duration(text).map_err(|e| e.to_string())
}

/// Why acquiring, releasing or cleaning up a lock failed; displayed as Consul's `api`
/// errors read, after the command's own prefix (`Lock acquisition failed: …`).
#[derive(Debug, thiserror::Error)]
pub(crate) enum LockError {
    #[error("Existing key does not match lock use")]
    LockConflict,
    #[error("Existing key does not match semaphore use")]
    SemaphoreConflict,
    #[error("semaphore limit conflict (lock: {lock}, local: {local})")]
    LimitConflict { lock: i64, local: i64 },
    #[error("lock in use")]
    InUse,
    #[error("failed to create session: {}", describe(.0))]
    CreateSession(ClientError),
    #[error("failed to make contender entry")]
    ContenderRefused,
    #[error("{what}: {}", describe(.source))]
    Api {
        what: &'static str,
        source: ClientError,
    },
    #[error("failed to decode lock: {0}")]
    Decode(#[source] serde_json::Error),
}

impl LockError {
    fn api(what: &'static str) -> impl FnOnce(ClientError) -> Self {
        move |source| Self::Api { what, source }
    }
}

/// A mutex or a semaphore, held by one session.
pub(crate) enum Lock {
    Mutex(mutex::Mutex),
    Semaphore(semaphore::Semaphore),
}

impl Lock {
    async fn acquire(&self) -> Result<(), LockError> {
        match self {
            Self::Mutex(m) => m.acquire().await,
            Self::Semaphore(s) => s.acquire().await,
        }
    }

    /// Returns once the lock is no longer held.
    async fn monitor(&self) {
        match self {
            Self::Mutex(m) => m.monitor().await,
            Self::Semaphore(s) => s.monitor().await,
        }
    }

    async fn release(&self) -> Result<(), LockError> {
        match self {
            Self::Mutex(m) => m.release().await,
            Self::Semaphore(s) => s.release().await,
        }
    }

    async fn cleanup(&self) -> Result<(), LockError> {
        match self {
            Self::Mutex(m) => m.cleanup().await,
            Self::Semaphore(s) => s.cleanup().await,
        }
    }
}

/// Retries of a failed monitoring query: only server errors and transport failures are
/// worth retrying (Consul's `api.IsRetryableError`).
pub(crate) fn is_retryable(err: &ClientError) -> bool {
    match err {
        ClientError::Transport { .. } => true,
        ClientError::Api { status, .. } => *status == 500,
        _ => false,
    }
}

/// `path.Join(prefix, name)` for KV keys: no doubled or trailing slashes.
pub(crate) fn join_key(prefix: &str, name: &str) -> String {
    let prefix = prefix.trim_end_matches('/');
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}/{name}")
    }
}

/// SIGINT and SIGTERM, which stop the command as Consul's `ShutdownCh` does.
struct Shutdown {
    interrupt: Signal,
    terminate: Signal,
}

impl Shutdown {
    fn install() -> std::io::Result<Self> {
        Ok(Self {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    async fn triggered(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}

/// Runs `consul lock`.
pub(crate) async fn run(args: Vec<String>, console: &mut Console<'_>, env: Env<'_>) -> i32 {
    let args: LockArgs = match crate::parse_args("consul lock", args, console) {
        Ok(args) => args,
        Err(code) => return code,
    };
    if args.limit <= 0 {
        console.error("Lock holder limit must be positive");
        return 1;
    }
    if args.args.len() < 2 {
        console.error("Key prefix and child command must be specified");
        return 1;
    }
    if args.monitor_retry < 0 {
        console.error("Number for 'monitor-retry' must be >= 0");
        return 1;
    }
    let prefix = args.args[0].trim_start_matches('/').to_owned();
    let child_args = args.args[1..].to_vec();
    let name = args
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| format!("Consul lock for '{}' at '{}'", child_args.join(" "), prefix));
    let mut shutdown = match Shutdown::install() {
        Ok(shutdown) => shutdown,
        Err(e) => {
            console.error(&format!("Error installing signal handlers: {e}"));
            return 1;
        }
    };
    let Some(client) = args.http.connect_to_agent(env, console).await else {
        return 1;
    };
    let verbose = args.verbose;
    let limit = args.limit;
    if verbose {
        if limit == 1 {
            console.info(&format!(
                "Setting up lock at path: {}",
                join_key(&prefix, mutex::LOCK_KEY)
            ));
        } else {
            console.info(&format!(
                "Setting up semaphore (limit {limit}) at prefix: {prefix}"
            ));
        }
        console.info("Attempting lock acquisition");
        console.flush();
    }
    let behavior = if limit == 1 {
        SessionBehavior::Release
    } else {
        SessionBehavior::Delete
    };
    // Creating the session is the first step of acquiring, as in Consul's `Lock.Lock`.
    let session = match LockSession::create(&client, &name, behavior).await {
        Ok(session) => session,
        Err(e) => {
            console.error(&format!(
                "Lock acquisition failed: {}",
                LockError::CreateSession(e)
            ));
            return 1;
        }
    };
    let monitor_retries = u32::try_from(args.monitor_retry).unwrap_or(u32::MAX);
    let lock = build_lock(&client, &prefix, limit, session.id(), monitor_retries);
    let acquired = tokio::select! {
        biased;
        () = shutdown.triggered() => None,
        () = wait_or_forever(args.timeout) => None,
        result = lock.acquire() => Some(result),
    };
    match acquired {
        Some(Ok(())) => {}
        Some(Err(e)) => {
            console.error(&format!("Lock acquisition failed: {e}"));
            session.destroy().await;
            return 1;
        }
        None => {
            console.error("Shutdown triggered or timeout during lock acquisition");
            // Destroying the session also frees anything an interrupted attempt took.
            session.destroy().await;
            return 1;
        }
    }

    let run = child::Run {
        args: &child_args,
        shell: args.shell,
        pass_stdin: args.pass_stdin,
        verbose,
        env,
    };
    let child_code = hold(&lock, &run, &mut shutdown, console).await;

    let mut code = if args.child_exit_code { child_code } else { 0 };
    if let Err(e) = lock.release().await {
        console.error(&format!("Lock release failed: {e}"));
        code = 1;
    } else {
        match lock.cleanup().await {
            Ok(()) => {
                if verbose {
                    console.info("Cleanup succeeded");
                }
            }
            Err(LockError::InUse) => {
                if verbose {
                    console.info("Cleanup aborted, lock in use");
                }
            }
            Err(e) => {
                console.error(&format!("Lock cleanup failed: {e}"));
                code = 1;
            }
        }
    }
    session.destroy().await;
    code
}

/// Runs the child while the lock is held; terminates it when the lock is lost or on
/// shutdown. The child's exit code as `-child-exit-code` reports it: 2 when it failed.
async fn hold(
    lock: &Lock,
    run: &child::Run<'_>,
    shutdown: &mut Shutdown,
    console: &mut Console<'_>,
) -> i32 {
    if run.verbose {
        console.info("Starting handler");
        console.flush();
    }
    let mut child = match Child::start(run) {
        Ok(child) => child,
        Err(message) => {
            console.error(&message);
            return 2;
        }
    };
    let reason = tokio::select! {
        biased;
        () = shutdown.triggered() => "Shutdown triggered, killing child",
        () = lock.monitor() => "Lock lost, killing child",
        outcome = child.wait() => {
            let code = match outcome {
                Ok(()) => 0,
                Err(message) => {
                    console.error(&message);
                    2
                }
            };
            if run.verbose {
                console.info("Child terminated, releasing lock");
            }
            return code;
        }
    };
    if run.verbose {
        console.info(reason);
        console.flush();
    }
    child.kill(run.verbose, console).await;
    0
}

fn build_lock(
    client: &Client,
    prefix: &str,
    limit: i64,
    session: &str,
    monitor_retries: u32,
) -> Lock {
    if limit == 1 {
        Lock::Mutex(mutex::Mutex {
            client: client.clone(),
            key: join_key(prefix, mutex::LOCK_KEY),
            session: session.to_owned(),
            monitor_retries,
        })
    } else {
        Lock::Semaphore(semaphore::Semaphore {
            client: client.clone(),
            prefix: prefix.to_owned(),
            limit,
            session: session.to_owned(),
            monitor_retries,
        })
    }
}

/// Sleeps for `timeout`; forever when it is zero (no timeout).
async fn wait_or_forever(timeout: Duration) {
    if timeout.is_zero() {
        std::future::pending::<()>().await;
    } else {
        tokio::time::sleep(timeout).await;
    }
}

#[cfg(test)]
mod tests;
