//! Child processes of `watch` handlers and `lock` children, as Consul's `agent/exec`
//! builds them: through the shell (`$SHELL -c "<args joined by spaces>"`, `/bin/sh` when
//! `SHELL` is unset) or directly (`args[0]` with the rest as its arguments).

use std::process::ExitStatus;

use tokio::process::Command;

use crate::console::Env;

/// Builds the command for `args`; `None` when there is nothing to run.
pub(crate) fn command(args: &[String], shell: bool, env: Env<'_>) -> Option<Command> {
    let (program, rest) = args.split_first()?;
    if shell {
        let shell = env("SHELL")
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "/bin/sh".to_owned());
        let mut command = Command::new(shell);
        command.arg("-c").arg(args.join(" "));
        Some(command)
    } else {
        let mut command = Command::new(program);
        command.args(rest);
        Some(command)
    }
}

/// An exit status as Go's `exec.ExitError` prints it (`exit status 3`, `signal: terminated`).
pub(crate) fn describe_status(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt as _;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => format!("signal: {}", signal_name(signal)),
        (None, None) => status.to_string(),
    }
}

fn signal_name(signal: i32) -> String {
    match signal {
        1 => "hangup".to_owned(),
        2 => "interrupt".to_owned(),
        9 => "killed".to_owned(),
        15 => "terminated".to_owned(),
        n => format!("signal {n}"),
    }
}

/// Sends `signal` (a `kill` name: `TERM`, `KILL`) to `pid` with the system's `kill`, since
/// the workspace forbids the `unsafe` a direct `kill(2)` would need.
pub(crate) async fn signal(pid: u32, signal: &str) -> std::io::Result<()> {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .await?;
    if status.success() {
        Ok(())
    } else {
        Err(std::io::Error::other(format!(
            "kill -{signal} {pid}: {}",
            describe_status(status)
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[tokio::test]
    async fn shell_joins_arguments_with_spaces() {
        let args = vec!["echo".to_owned(), "a  b".to_owned(), "c".to_owned()];
        let out = command(&args, true, &no_env)
            .unwrap()
            .output()
            .await
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "a b c\n");
    }

    #[tokio::test]
    async fn without_shell_arguments_are_passed_verbatim() {
        let args = vec!["echo".to_owned(), "a  b".to_owned()];
        let out = command(&args, false, &no_env)
            .unwrap()
            .output()
            .await
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "a  b\n");
        assert!(command(&[], false, &no_env).is_none());
    }

    #[tokio::test]
    async fn statuses_read_like_go() {
        let args = vec!["exit 3".to_owned()];
        let status = command(&args, true, &no_env)
            .unwrap()
            .status()
            .await
            .unwrap();
        assert_eq!(describe_status(status), "exit status 3");
        let mut child = command(&["exec sleep 30".to_owned()], true, &no_env)
            .unwrap()
            .spawn()
            .unwrap();
        signal(child.id().unwrap(), "TERM").await.unwrap();
        assert_eq!(
            describe_status(child.wait().await.unwrap()),
            "signal: terminated"
        );
    }
}
