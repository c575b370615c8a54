//! `praetor`: one binary for the agent and every CLI command, Consul's command line.
//!
//! Parses argv (Go-style `-flag` forms normalised first), sets up logging and dispatches:
//! `agent` runs here (see [`run`]); everything else is `praetor-cli`.

mod banner;
mod cluster;
mod dns;
mod limits;
mod logging;
mod run;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args = praetor_cli::argv::normalize(std::env::args().collect());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("==> Error starting runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = if args.get(1).map(String::as_str) == Some("agent") {
        runtime.block_on(run::agent(args))
    } else {
        runtime.block_on(praetor_cli::run(args))
    };
    // Blocking queries may still hold tasks; do not wait for them on exit.
    runtime.shutdown_background();
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
