//! The HTTP client flags every API-backed command accepts (spec/cli.md §1.2).

use std::path::PathBuf;

use clap::{ArgAction, Args};
use praetor_client::{Client, ClientConfig, ClientError, Consistency, QueryOptions};

use crate::argv::parse_bool_flag;
use crate::console::{Console, Env};

/// `-http-addr`, `-token`, `-token-file`, `-datacenter`, `-ca-file`, `-stale`.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "HTTP API Options")]
pub(crate) struct HttpFlags {
    /// The address and port of the Consul HTTP agent: host:port, http://… or https://…
    /// [env: CONSUL_HTTP_ADDR, default 127.0.0.1:8500]
    #[arg(long = "http-addr", value_name = "ADDR")]
    pub(crate) http_addr: Option<String>,
    /// ACL token to use in the request [env: CONSUL_HTTP_TOKEN]
    #[arg(long, value_name = "TOKEN")]
    pub(crate) token: Option<String>,
    /// File containing the ACL token [env: CONSUL_HTTP_TOKEN_FILE]
    #[arg(long = "token-file", value_name = "PATH")]
    pub(crate) token_file: Option<PathBuf>,
    /// Name of the datacenter to query (defaults to the agent's)
    #[arg(long, value_name = "DC")]
    pub(crate) datacenter: Option<String>,
    /// CA file to verify the agent's https certificate [env: CONSUL_CACERT]
    #[arg(long = "ca-file", value_name = "PATH")]
    pub(crate) ca_file: Option<PathBuf>,
    /// Permit any Consul server (non-leader) to respond to this request
    #[arg(
        long,
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_value = "false",
        default_missing_value = "true",
        value_parser = parse_bool_flag,
        action = ArgAction::Set
    )]
    pub(crate) stale: bool,
}

impl HttpFlags {
    /// The environment's configuration with these flags on top: flag > environment >
    /// default, and `-token` > `-token-file` > `CONSUL_HTTP_TOKEN` > `CONSUL_HTTP_TOKEN_FILE`.
    pub(crate) fn config(&self, env: Env<'_>) -> ClientConfig {
        let mut config = ClientConfig::from_lookup(env);
        let set = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
        if let Some(addr) = set(&self.http_addr) {
            config.address = addr;
        }
        if let Some(token) = set(&self.token) {
            config.token = Some(token);
            config.token_file = None;
        } else if let Some(path) = &self.token_file {
            config.token = None;
            config.token_file = Some(path.clone());
        }
        if let Some(dc) = set(&self.datacenter) {
            config.datacenter = Some(dc);
        }
        if let Some(path) = &self.ca_file {
            config.ca_file = Some(path.clone());
        }
        config
    }

    /// A client built from [`HttpFlags::config`].
    pub(crate) fn client(&self, env: Env<'_>) -> Result<Client, ClientError> {
        Client::new(self.config(env))
    }

    /// The client, or `None` after printing Consul's connect error (the command then
    /// exits 1).
    pub(crate) fn connect(&self, env: Env<'_>, console: &mut Console<'_>) -> Option<Client> {
        match self.client(env) {
            Ok(client) => Some(client),
            Err(e) => {
                console.error(&connect_error(&e));
                None
            }
        }
    }

    /// [`connect`](Self::connect), then `GET /v1/agent/self` to see that an agent answers
    /// before anything is changed; `None` after printing Consul's
    /// `Error querying Consul agent: …` (the command then exits 1).
    pub(crate) async fn connect_to_agent(
        &self,
        env: Env<'_>,
        console: &mut Console<'_>,
    ) -> Option<Client> {
        let client = self.connect(env, console)?;
        if let Err(e) = client.agent_self().await {
            console.error(&format!("Error querying Consul agent: {}", describe(&e)));
            return None;
        }
        Some(client)
    }

    /// Read options: `-stale` or the default consistency, never blocking.
    pub(crate) fn query_options(&self) -> QueryOptions {
        let consistency = if self.stale {
            Consistency::Stale
        } else {
            Consistency::Default
        };
        QueryOptions {
            consistency,
            ..QueryOptions::default()
        }
    }
}

/// The `Error connecting to Consul agent: …` line for a client that could not be built.
pub(crate) fn connect_error(err: &ClientError) -> String {
    format!("Error connecting to Consul agent: {}", describe(err))
}

/// An error for the user: transport and API errors already name their cause (Consul's
/// wording); the others get their source chain appended.
pub(crate) fn describe(err: &ClientError) -> String {
    if matches!(err, ClientError::Transport { .. } | ClientError::Api { .. }) {
        return err.to_string();
    }
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Parses a repeatable `key=value` flag value (`-node-meta`, `-meta`): the value may hold
/// further `=`, the key may not be empty.
pub(crate) fn parse_key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("invalid key=value pair {text:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(
        pairs: &'static [(&'static str, &'static str)],
    ) -> impl Fn(&str) -> Option<String> + Sync {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn flags_win_over_environment() {
        let flags = HttpFlags {
            http_addr: Some("10.0.0.9:8500".into()),
            token: Some("flag-token".into()),
            ..HttpFlags::default()
        };
        let config = flags.config(&env(&[
            ("CONSUL_HTTP_ADDR", "10.0.0.1:8500"),
            ("CONSUL_HTTP_TOKEN", "env-token"),
        ]));
        assert_eq!(config.address, "10.0.0.9:8500");
        assert_eq!(config.token.as_deref(), Some("flag-token"));
    }

    #[test]
    fn token_file_flag_beats_token_environment() {
        let flags = HttpFlags {
            token_file: Some("/t".into()),
            ..HttpFlags::default()
        };
        let config = flags.config(&env(&[("CONSUL_HTTP_TOKEN", "env-token")]));
        assert_eq!(config.token, None);
        assert_eq!(config.token_file, Some(PathBuf::from("/t")));
    }

    #[test]
    fn environment_used_without_flags() {
        let config = HttpFlags::default().config(&env(&[("PRAETOR_HTTP_ADDR", "h:1")]));
        assert_eq!(config.address, "h:1");
        assert_eq!(
            HttpFlags::default().config(&env(&[])).address,
            "127.0.0.1:8500"
        );
    }

    #[test]
    fn stale_flag_sets_consistency() {
        let flags = HttpFlags {
            stale: true,
            ..HttpFlags::default()
        };
        assert_eq!(flags.query_options().consistency, Consistency::Stale);
    }
}
