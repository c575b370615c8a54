//! `consul version [-format=pretty|json]` (spec/cli.md §8): Consul's layout, so tools that
//! parse `Consul v<semver>` keep working, plus a line naming Praetor's own version.

use clap::Parser;
use praetor_types::{CONSUL_COMPAT_VERSION, PRAETOR_VERSION};
use serde::Serialize;

use crate::console::Console;

/// Protocol versions this build speaks (Consul's `RPC` block).
const PROTOCOL_DEFAULT: u8 = 2;
const PROTOCOL_MIN: u8 = 2;
const PROTOCOL_MAX: u8 = 3;

/// Go's zero `time.Time`, which is what Consul reports when no build date was stamped.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// Prints the Consul-compatible version
#[derive(Debug, Parser)]
#[command(name = "version", disable_version_flag = true)]
struct VersionArgs {
    /// Output format: pretty or json
    #[arg(long, default_value = "pretty", value_name = "FORMAT")]
    format: String,
}

/// What `version` reports; fields and JSON names as Consul's `version -format=json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct VersionInfo {
    pub(crate) version: &'static str,
    pub(crate) revision: &'static str,
    pub(crate) prerelease: &'static str,
    #[serde(rename = "FIPS")]
    pub(crate) fips: &'static str,
    pub(crate) build_date: &'static str,
    #[serde(rename = "RPC")]
    pub(crate) rpc: RpcVersions,
    /// Praetor's own version; an extra field that Consul's clients ignore.
    pub(crate) praetor_version: &'static str,
}

/// The RPC protocol range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RpcVersions {
    pub(crate) default: u8,
    pub(crate) min: u8,
    pub(crate) max: u8,
}

impl VersionInfo {
    /// This build's version; revision and build date come from the build environment
    /// (`PRAETOR_GIT_REVISION`, `PRAETOR_BUILD_DATE`) when it stamped them.
    pub(crate) fn current() -> Self {
        Self {
            version: CONSUL_COMPAT_VERSION,
            revision: option_env!("PRAETOR_GIT_REVISION").unwrap_or(""),
            prerelease: "",
            fips: "",
            build_date: option_env!("PRAETOR_BUILD_DATE").unwrap_or(""),
            rpc: RpcVersions {
                default: PROTOCOL_DEFAULT,
                min: PROTOCOL_MIN,
                max: PROTOCOL_MAX,
            },
            praetor_version: PRAETOR_VERSION,
        }
    }
}

/// The human layout: `Consul v…`, `Revision …` and `Build Date …` when known, the protocol
/// line, then Praetor's version last so Consul's lines keep their positions.
pub(crate) fn render_pretty(info: &VersionInfo) -> String {
    let mut text = format!("Consul v{}\n", info.version);
    if !info.revision.is_empty() {
        text.push_str(&format!("Revision {}\n", info.revision));
    }
    if !info.build_date.is_empty() {
        text.push_str(&format!("Build Date {}\n", info.build_date));
    }
    let rpc = info.rpc;
    text.push_str(&format!(
        "Protocol {} spoken by default, understands {} to {} (agent will automatically use \
         protocol >{} when speaking to compatible agents)\n",
        rpc.default, rpc.min, rpc.max, rpc.default
    ));
    text.push_str(&format!("Praetor v{}", info.praetor_version));
    text
}

/// The JSON layout, indented with 4 spaces like Consul's.
pub(crate) fn render_json(info: &VersionInfo) -> String {
    let mut info = info.clone();
    if info.build_date.is_empty() {
        info.build_date = ZERO_TIME;
    }
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    info.serialize(&mut serializer)
        .expect("serialising plain strings and integers cannot fail");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// `consul version`; also `consul -v` / `--version`.
pub(crate) fn run(args: Vec<String>, console: &mut Console<'_>) -> i32 {
    let args: VersionArgs = match crate::parse_args("consul version", args, console) {
        Ok(args) => args,
        Err(code) => return code,
    };
    let info = VersionInfo::current();
    match args.format.as_str() {
        "pretty" => console.info(&render_pretty(&info)),
        "json" => console.info(&render_json(&info)),
        other => {
            console.error(&format!("Invalid format: {other}"));
            return 1;
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> VersionInfo {
        VersionInfo {
            version: "1.22.0",
            revision: "a8e2b1c3",
            prerelease: "",
            fips: "",
            build_date: "2024-10-29T19:04:05Z",
            rpc: RpcVersions {
                default: 2,
                min: 2,
                max: 3,
            },
            praetor_version: "0.1.0",
        }
    }

    #[test]
    fn pretty_matches_consul_layout_with_praetor_line_last() {
        assert_eq!(
            render_pretty(&sample()),
            "Consul v1.22.0\nRevision a8e2b1c3\nBuild Date 2024-10-29T19:04:05Z\n\
             Protocol 2 spoken by default, understands 2 to 3 (agent will automatically use \
             protocol >2 when speaking to compatible agents)\nPraetor v0.1.0"
        );
    }

    #[test]
    fn pretty_omits_unknown_revision_and_date() {
        let info = VersionInfo {
            revision: "",
            build_date: "",
            ..sample()
        };
        let text = render_pretty(&info);
        assert!(
            text.starts_with("Consul v1.22.0\nProtocol 2 spoken"),
            "{text}"
        );
    }

    #[test]
    fn json_has_consul_fields() {
        let value: serde_json::Value = serde_json::from_str(&render_json(&sample())).unwrap();
        assert_eq!(
            value,
            serde_json::json!({
                "Version": "1.22.0", "Revision": "a8e2b1c3", "Prerelease": "", "FIPS": "",
                "BuildDate": "2024-10-29T19:04:05Z", "RPC": {"Default": 2, "Min": 2, "Max": 3},
                "PraetorVersion": "0.1.0"
            })
        );
        assert!(render_json(&sample()).contains("\n    \"Version\": \"1.22.0\","));
    }

    #[test]
    fn json_reports_zero_time_without_build_date() {
        let info = VersionInfo {
            build_date: "",
            ..sample()
        };
        assert!(render_json(&info).contains("\"BuildDate\": \"0001-01-01T00:00:00Z\""));
    }

    #[test]
    fn current_uses_compat_and_own_versions() {
        let info = VersionInfo::current();
        assert_eq!(info.version, CONSUL_COMPAT_VERSION);
        assert_eq!(info.praetor_version, PRAETOR_VERSION);
    }
}
