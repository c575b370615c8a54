//! [`Console`]: where a command's output goes. Commands write here instead of to the process
//! streams so tests can capture stdout and stderr and feed stdin.

use std::io::{Read, Write};

/// The three standard streams of one command invocation.
pub(crate) struct Console<'a> {
    /// Results (stdout).
    pub(crate) out: &'a mut (dyn Write + Send),
    /// Errors and diagnostics (stderr).
    pub(crate) err: &'a mut (dyn Write + Send),
    /// Data for `-` arguments (stdin).
    pub(crate) input: &'a mut (dyn Read + Send),
}

impl Console<'_> {
    /// Writes `line` and a newline to stdout. A closed stdout (`| head`) is not worth
    /// failing over, as in Consul, so write errors are ignored.
    pub(crate) fn info(&mut self, line: &str) {
        self.info_bytes(line.as_bytes());
    }

    /// Writes raw bytes (KV values need not be UTF-8) and a newline to stdout.
    pub(crate) fn info_bytes(&mut self, bytes: &[u8]) {
        let _ignored = self
            .out
            .write_all(bytes)
            .and_then(|()| self.out.write_all(b"\n"));
    }

    /// Writes `line` and a newline to stderr.
    pub(crate) fn error(&mut self, line: &str) {
        let _ignored = self
            .err
            .write_all(line.as_bytes())
            .and_then(|()| self.err.write_all(b"\n"));
    }

    /// Flushes both output streams.
    pub(crate) fn flush(&mut self) {
        let _ignored = self.out.flush();
        let _ignored = self.err.flush();
    }
}

/// Reads an environment variable; tests pass a fixed map instead of the process environment.
pub(crate) type Env<'a> = &'a (dyn Fn(&str) -> Option<String> + Sync);
