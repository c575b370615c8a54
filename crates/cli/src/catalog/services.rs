//! `consul catalog services [-tags] [-node=<name>] [-node-meta key=value]… [-filter=<expr>]`.

use std::collections::{BTreeMap, BTreeSet};

use clap::{ArgAction, Parser};
use praetor_client::CatalogQuery;

use crate::argv::parse_bool_flag;
use crate::console::{Console, Env};
use crate::http_flags::{HttpFlags, describe, parse_key_value};
use crate::table::tabwrite_pairs;

/// Lists all registered services in a datacenter
#[derive(Debug, Parser)]
#[command(name = "services", disable_version_flag = true)]
struct ServicesArgs {
    /// Display each service's tags as a comma-separated list beside its name
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_value = "false",
          default_missing_value = "true", value_parser = parse_bool_flag, action = ArgAction::Set)]
    tags: bool,
    /// Only list the services registered on this node
    #[arg(long, value_name = "NAME")]
    node: Option<String>,
    /// Metadata to filter nodes with, as key=value; repeatable
    #[arg(long = "node-meta", value_name = "KEY=VALUE", action = ArgAction::Append,
          value_parser = parse_key_value)]
    node_meta: Vec<(String, String)>,
    /// Filter expression to select services with
    #[arg(long, value_name = "EXPRESSION")]
    filter: Option<String>,
    #[command(flatten)]
    http: HttpFlags,
}

pub(super) async fn run(args: Vec<String>, console: &mut Console<'_>, env: Env<'_>) -> i32 {
    let args: ServicesArgs = match crate::parse_args("consul catalog services", args, console) {
        Ok(args) => args,
        Err(code) => return code,
    };
    let Some(client) = args.http.connect(env, console) else {
        return 1;
    };
    let query = CatalogQuery {
        near: None,
        node_meta: args.node_meta.clone(),
        filter: args.filter.clone(),
    };
    let options = args.http.query_options();
    let result = match args.node.as_deref().filter(|n| !n.is_empty()) {
        Some(node) => client
            .catalog_node(node, &query, &options)
            .await
            .map(|(found, _)| {
                let mut services: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
                for service in found.map(|n| n.services).unwrap_or_default().into_values() {
                    services
                        .entry(service.service)
                        .or_default()
                        .extend(service.tags);
                }
                services
            }),
        None => client
            .catalog_services(&query, &options)
            .await
            .map(|(services, _)| {
                services
                    .into_iter()
                    .map(|(name, tags)| (name, tags.into_iter().collect()))
                    .collect()
            }),
    };
    let services = match result {
        Ok(services) => services,
        Err(e) => {
            console.error(&format!("Error listing services: {}", describe(&e)));
            return 1;
        }
    };
    if services.is_empty() {
        console.error("No services match the given query - try expanding your search.");
        return 0;
    }
    if args.tags {
        let rows: Vec<(String, String)> = services
            .into_iter()
            .map(|(name, tags)| (name, tags.into_iter().collect::<Vec<_>>().join(",")))
            .collect();
        console.info(tabwrite_pairs(&rows).trim_end_matches('\n'));
    } else {
        for name in services.into_keys() {
            console.info(&name);
        }
    }
    0
}
