//! Log output in Consul's (hclog) shape:
//! `2026-11-22T10:00:00.123Z [INFO]  agent: Started HTTP server: address=127.0.0.1:8500 network=tcp`.

use std::fmt::{self, Write as _};
use std::time::SystemTime;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::FormattedFields;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// Installs the process-wide subscriber: hclog-style lines, or JSON with `json`.
/// `level` is Consul's `-log-level` (`trace`, `debug`, `info`, `warn`, `err`).
pub fn init(level: &str, json: bool) {
    let level = match level.to_ascii_lowercase().as_str() {
        "err" | "error" => "error",
        "warn" | "warning" => "warn",
        "debug" => "debug",
        "trace" => "trace",
        _ => "info",
    };
    // Our crates at the chosen level; dependencies (openraft, hyper …) one notch quieter.
    let filter = EnvFilter::try_from_env("PRAETOR_LOG").unwrap_or_else(|_| {
        let deps = if level == "trace" { "debug" } else { "warn" };
        EnvFilter::new(format!(
            "{deps},praetor={level},praetor_agent={level},praetor_server={level},\
             praetor_raft={level},praetor_http={level},praetor_checks={level}"
        ))
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::io::stdout);
    if json {
        builder.json().flatten_event(true).init();
    } else {
        builder.event_format(HclogFormat).init();
    }
}

/// Formats events like Go's hclog, which Consul's logs use.
struct HclogFormat;

impl<S, N> FormatEvent<S, N> for HclogFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let level = match *meta.level() {
            Level::ERROR => "[ERROR] ",
            Level::WARN => "[WARN]  ",
            Level::INFO => "[INFO]  ",
            Level::DEBUG => "[DEBUG] ",
            Level::TRACE => "[TRACE] ",
        };
        let mut fields = Fields::default();
        event.record(&mut fields);
        write!(
            writer,
            "{} {level}{}: {}",
            humantime::format_rfc3339_millis(SystemTime::now()),
            subsystem(meta.target()),
            fields.message
        )?;
        // Fields of the enclosing spans (the request, the connection …), outermost first.
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                if let Some(span_fields) = span.extensions().get::<FormattedFields<N>>()
                    && !span_fields.is_empty()
                {
                    fields.pairs.push(' ');
                    fields.pairs.push_str(span_fields);
                }
            }
        }
        if !fields.pairs.is_empty() {
            write!(writer, ":{}", fields.pairs)?;
        }
        writeln!(writer)
    }
}

/// Consul's subsystem names for our crates' log targets.
fn subsystem(target: &str) -> &str {
    let krate = target.split("::").next().unwrap_or(target);
    match krate {
        "praetor" | "praetor_agent" => "agent",
        "praetor_checks" => "agent.checks",
        "praetor_server" => "agent.server",
        "praetor_raft" => "agent.server.raft",
        "praetor_http" => "agent.http",
        "openraft" => "agent.server.raft",
        _ => target,
    }
}

#[derive(Default)]
struct Fields {
    message: String,
    pairs: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else if value.contains(' ') {
            let _ = write!(self.pairs, " {}=\"{value}\"", field.name());
        } else {
            let _ = write!(self.pairs, " {}={value}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            self.record_str(field, &format!("{value:?}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_map_to_consul_subsystems() {
        assert_eq!(subsystem("praetor::run"), "agent");
        assert_eq!(subsystem("praetor_raft::log_store"), "agent.server.raft");
        assert_eq!(subsystem("praetor_http"), "agent.http");
        assert_eq!(subsystem("hyper::proto"), "hyper::proto");
    }
}
