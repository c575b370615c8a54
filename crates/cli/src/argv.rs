//! Go `flag` syntax on top of clap: Consul accepts `-flag`, `--flag`, `-flag=value` and
//! `-flag value`, clap only the double-dash forms.

/// Rewrites every single-dash long flag (`-name…`, at least two characters after the dash,
/// the first a letter) to `--name…`, up to a bare `--`. `-`, `-1`, `-h` and `--x` are
/// left alone; `args[0]` (the program name) is never touched.
///
/// Commands that run a child command (`lock`, `watch`, `exec`) stop at their first
/// positional argument, as Go's `flag` package does, so the child's own flags
/// (`praetor lock p ./job -verbose`) reach it unchanged.
pub fn normalize(args: Vec<String>) -> Vec<String> {
    let bool_flags = args
        .get(1)
        .and_then(|command| child_command_bool_flags(command));
    let mut passthrough = false;
    // Whether the previous argument was a flag that takes the next one as its value.
    let mut value_pending = false;
    args.into_iter()
        .enumerate()
        .map(|(i, arg)| {
            if i == 0 || (i == 1 && bool_flags.is_some()) || passthrough {
                return arg;
            }
            if arg == "--" {
                passthrough = true;
                return arg;
            }
            if let Some(bools) = bool_flags {
                if std::mem::take(&mut value_pending) {
                    return arg;
                }
                if !arg.starts_with('-') || arg == "-" {
                    passthrough = true;
                    return arg;
                }
                let name = arg.trim_start_matches('-');
                value_pending = !name.contains('=') && !bools.contains(&name);
            }
            if is_single_dash_long_flag(&arg) {
                format!("-{arg}")
            } else {
                arg
            }
        })
        .collect()
}

/// The boolean flags (which never take the next argument as their value) of the commands
/// whose trailing arguments are a child command; `None` for every other command.
fn child_command_bool_flags(command: &str) -> Option<&'static [&'static str]> {
    match command {
        "lock" => Some(&[
            "shell",
            "pass-stdin",
            "verbose",
            "child-exit-code",
            "stale",
            "h",
            "help",
        ]),
        "watch" => Some(&["shell", "stale", "h", "help"]),
        "exec" => Some(&["shell", "verbose", "stale", "h", "help"]),
        _ => None,
    }
}

fn is_single_dash_long_flag(arg: &str) -> bool {
    let Some(name) = arg.strip_prefix('-') else {
        return false;
    };
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic()) && chars.next().is_some()
}

/// A boolean flag value the way Go's `strconv.ParseBool` reads `-flag=value`; used as a
/// clap value parser.
pub(crate) fn parse_bool_flag(value: &str) -> Result<bool, String> {
    praetor_client::parse_go_bool(value).ok_or_else(|| format!("invalid boolean value {value:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(args: &[&str]) -> Vec<String> {
        normalize(args.iter().map(|s| (*s).to_owned()).collect())
    }

    #[test]
    fn single_dash_flags_become_double_dash() {
        assert_eq!(
            norm(&["consul", "agent", "-data-dir=/x"]),
            ["consul", "agent", "--data-dir=/x"]
        );
        assert_eq!(
            norm(&["consul", "agent", "-data-dir", "/x"]),
            ["consul", "agent", "--data-dir", "/x"]
        );
        assert_eq!(
            norm(&["consul", "agent", "-bootstrap-expect", "1"]),
            ["consul", "agent", "--bootstrap-expect", "1"]
        );
        assert_eq!(
            norm(&["consul", "kv", "get", "-recurse"]),
            ["consul", "kv", "get", "--recurse"]
        );
    }

    #[test]
    fn double_dash_flags_are_unchanged() {
        assert_eq!(
            norm(&["consul", "agent", "--data-dir", "/x"]),
            ["consul", "agent", "--data-dir", "/x"]
        );
        assert_eq!(norm(&["consul", "--x"]), ["consul", "--x"]);
    }

    #[test]
    fn values_that_look_like_flags_are_unchanged() {
        assert_eq!(
            norm(&["consul", "kv", "put", "k", "-1"]),
            ["consul", "kv", "put", "k", "-1"]
        );
        assert_eq!(
            norm(&["consul", "kv", "put", "k", "-"]),
            ["consul", "kv", "put", "k", "-"]
        );
        assert_eq!(norm(&["consul", "-h"]), ["consul", "-h"]);
        assert_eq!(norm(&["consul", "-v"]), ["consul", "-v"]);
    }

    #[test]
    fn nothing_after_bare_double_dash_is_rewritten() {
        assert_eq!(
            norm(&["consul", "lock", "-n", "p", "--", "cmd", "-flag"]),
            ["consul", "lock", "-n", "p", "--", "cmd", "-flag"]
        );
        assert_eq!(
            norm(&["consul", "x", "-a1", "--", "-ab"]),
            ["consul", "x", "--a1", "--", "-ab"]
        );
    }

    #[test]
    fn child_commands_stop_at_their_first_positional() {
        assert_eq!(
            norm(&[
                "consul",
                "lock",
                "-n",
                "2",
                "-shell=false",
                "-verbose",
                "p",
                "./job",
                "-verbose"
            ]),
            [
                "consul",
                "lock",
                "-n",
                "2",
                "--shell=false",
                "--verbose",
                "p",
                "./job",
                "-verbose"
            ]
        );
        assert_eq!(
            norm(&[
                "consul", "watch", "-type", "key", "-key=k", "-shell", "cat", "-flag"
            ]),
            [
                "consul", "watch", "--type", "key", "--key=k", "--shell", "cat", "-flag"
            ]
        );
        assert_eq!(
            norm(&["consul", "kv", "put", "k", "-flags=1"]),
            ["consul", "kv", "put", "k", "--flags=1"]
        );
    }

    #[test]
    fn program_name_is_never_rewritten() {
        assert_eq!(norm(&["-weird"]), ["-weird"]);
        assert!(norm(&[]).is_empty());
    }

    #[test]
    fn bool_flag_values_follow_strconv() {
        assert_eq!(parse_bool_flag("false"), Ok(false));
        assert_eq!(parse_bool_flag("T"), Ok(true));
        assert!(parse_bool_flag("yes").is_err());
    }
}
