//! `consul validate [-quiet] [-config-format=json|hcl] <path>...` (spec/cli.md §8), Consul's
//! `command/validate`: loads the files and directories exactly as the agent does, with the
//! agent's own loader, and starts nothing.

use clap::{ArgAction, Parser};
use praetor_agent::config::{self, AgentArgs};

use crate::argv::parse_bool_flag;
use crate::console::Console;

/// Performs a thorough sanity test on Consul configuration files: each file or directory
/// is parsed and checked just as `consul agent` would
#[derive(Debug, Parser)]
#[command(name = "validate", disable_version_flag = true)]
struct ValidateArgs {
    /// When given, a successful run produces no output
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_value = "false",
          default_missing_value = "true", value_parser = parse_bool_flag, action = ArgAction::Set)]
    quiet: bool,
    /// Config files are in this format irrespective of their extension: "hcl" or "json"
    #[arg(long = "config-format", value_name = "FORMAT")]
    config_format: Option<String>,
    /// Config files or directories to validate
    #[arg(value_name = "PATH")]
    paths: Vec<String>,
}

pub(crate) fn run(args: Vec<String>, console: &mut Console<'_>) -> i32 {
    let args: ValidateArgs = match crate::parse_args("consul validate", args, console) {
        Ok(args) => args,
        Err(code) => return code,
    };
    if args.paths.is_empty() {
        console.error("Must specify at least one config file or directory");
        return 1;
    }
    let agent_args = AgentArgs {
        config_file: args.paths,
        config_format: args.config_format.filter(|f| !f.is_empty()),
        ..AgentArgs::default()
    };
    match config::load(&agent_args) {
        Ok(runtime) => {
            if !args.quiet {
                for warning in runtime.warnings() {
                    console.error(warning);
                }
                console.info("Configuration is valid!");
            }
            0
        }
        Err(e) => {
            console.error(&format!("Config validation failed: {e}"));
            1
        }
    }
}
