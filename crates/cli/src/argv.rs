//! Go `flag` syntax on top of clap: Consul accepts `-flag`, `--flag`, `-flag=value` and
//! `-flag value`, clap only the double-dash forms.

/// Rewrites every single-dash long flag (`-name…`, at least two characters after the dash,
/// the first a letter) to `--name…`, up to a bare `--`. `-`, `-1`, `-h` and `--x` are
/// left alone; `args[0]` (the program name) is never touched.
pub fn normalize(args: Vec<String>) -> Vec<String> {
    let mut passthrough = false;
    args.into_iter()
        .enumerate()
        .map(|(i, arg)| {
            if i == 0 || passthrough {
                return arg;
            }
            if arg == "--" {
                passthrough = true;
                return arg;
            }
            if is_single_dash_long_flag(&arg) {
                format!("-{arg}")
            } else {
                arg
            }
        })
        .collect()
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
