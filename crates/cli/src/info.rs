//! `consul info` (spec/cli.md §3), Consul's `command/info`: the agent's `Stats`.

use clap::Parser;
use serde_json::Value;

use crate::console::{Console, Env};
use crate::http_flags::{HttpFlags, describe};

/// Provides debugging information for operators
#[derive(Debug, Parser)]
#[command(name = "info", disable_version_flag = true)]
struct InfoArgs {
    #[command(flatten)]
    http: HttpFlags,
}

/// `GET /v1/agent/self`; prints each `Stats` section sorted by name, then its keys sorted,
/// one `\t<key> = <value>` line each.
pub(crate) async fn run(args: Vec<String>, console: &mut Console<'_>, env: Env<'_>) -> i32 {
    let args: InfoArgs = match crate::parse_args("consul info", args, console) {
        Ok(args) => args,
        Err(code) => return code,
    };
    let Some(client) = args.http.connect(env, console) else {
        return 1;
    };
    match client.agent_self().await {
        Ok(me) => {
            let text = render(me.get("Stats").unwrap_or(&Value::Null));
            console.info(text.trim_end_matches('\n'));
            0
        }
        Err(e) => {
            console.error(&format!("Error querying agent: {}", describe(&e)));
            1
        }
    }
}

/// The `Stats` object as `consul info` prints it (serde_json's maps are sorted).
fn render(stats: &Value) -> String {
    let mut out = String::new();
    let Some(sections) = stats.as_object() else {
        return out;
    };
    for (name, section) in sections {
        out.push_str(&format!("{name}:\n"));
        for (key, value) in section.as_object().into_iter().flatten() {
            let value = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            out.push_str(&format!("\t{key} = {value}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_and_keys_are_sorted_and_tab_indented() {
        let stats = serde_json::json!({
            "consul": {"server": "true", "leader": "true"},
            "build": {"version": "1.20.1", "prerelease": ""},
        });
        assert_eq!(
            render(&stats),
            "build:\n\tprerelease = \n\tversion = 1.20.1\nconsul:\n\tleader = true\n\tserver = true\n"
        );
    }
}
