//! `consul catalog nodes [-detailed] [-near=<node>] [-node-meta key=value]… [-service=<name>]
//! [-filter=<expr>]`.

use std::collections::BTreeMap;

use clap::{ArgAction, Parser};
use praetor_client::CatalogQuery;
use praetor_types::Node;

use crate::argv::parse_bool_flag;
use crate::console::{Console, Env};
use crate::http_flags::{HttpFlags, describe, parse_key_value};
use crate::table::columnize;

/// Lists all nodes in the given datacenter
#[derive(Debug, Parser)]
#[command(name = "nodes", disable_version_flag = true)]
struct NodesArgs {
    /// Output detailed information about the nodes, including their full ID, tagged
    /// addresses and metadata
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_value = "false",
          default_missing_value = "true", value_parser = parse_bool_flag, action = ArgAction::Set)]
    detailed: bool,
    /// Node name to sort the node list by estimated round-trip time to that node; `_agent`
    /// is the agent answering the request
    #[arg(long, value_name = "NODE")]
    near: Option<String>,
    /// Metadata to filter nodes with, as key=value; repeatable
    #[arg(long = "node-meta", value_name = "KEY=VALUE", action = ArgAction::Append,
          value_parser = parse_key_value)]
    node_meta: Vec<(String, String)>,
    /// Only list nodes running an instance of this service
    #[arg(long, value_name = "NAME")]
    service: Option<String>,
    /// Filter expression to select nodes with
    #[arg(long, value_name = "EXPRESSION")]
    filter: Option<String>,
    #[command(flatten)]
    http: HttpFlags,
}

pub(super) async fn run(args: Vec<String>, console: &mut Console<'_>, env: Env<'_>) -> i32 {
    let args: NodesArgs = match crate::parse_args("consul catalog nodes", args, console) {
        Ok(args) => args,
        Err(code) => return code,
    };
    let Some(client) = args.http.connect(env, console) else {
        return 1;
    };
    let query = CatalogQuery {
        near: args.near.clone(),
        node_meta: args.node_meta.clone(),
        filter: args.filter.clone(),
    };
    let options = args.http.query_options();
    let nodes = match args.service.as_deref().filter(|s| !s.is_empty()) {
        Some(service) => match client.catalog_service(service, &query, &options).await {
            Ok((instances, _)) => {
                // One row per node, even when it runs several instances of the service.
                let mut seen = std::collections::HashSet::new();
                instances
                    .into_iter()
                    .filter(|i| seen.insert(i.node.clone()))
                    .map(|i| Node {
                        id: i.id,
                        node: i.node,
                        address: i.address,
                        datacenter: i.datacenter,
                        tagged_addresses: i.tagged_addresses,
                        meta: i.node_meta,
                        ..Node::default()
                    })
                    .collect()
            }
            Err(e) => {
                console.error(&format!(
                    "Error listing nodes for service: {}",
                    describe(&e)
                ));
                return 1;
            }
        },
        None => match client.catalog_nodes(&query, &options).await {
            Ok((nodes, _)) => nodes,
            Err(e) => {
                console.error(&format!("Error listing nodes: {}", describe(&e)));
                return 1;
            }
        },
    };
    if nodes.is_empty() {
        console.error("No nodes match the given query - try expanding your search.");
        return 0;
    }
    let text = render(&nodes, args.detailed);
    console.info(text.trim_end_matches('\n'));
    0
}

/// The node table: `Node ID Address DC`, the ID shortened to its first group; `-detailed`
/// adds the full ID, `TaggedAddresses` and `Meta`.
fn render(nodes: &[Node], detailed: bool) -> String {
    let mut rows = Vec::with_capacity(nodes.len() + 1);
    let mut header = vec!["Node", "ID", "Address", "DC"];
    if detailed {
        header.extend(["TaggedAddresses", "Meta"]);
    }
    rows.push(header.into_iter().map(str::to_owned).collect());
    for node in nodes {
        let id = if detailed {
            node.id.clone()
        } else {
            short_id(&node.id).to_owned()
        };
        let mut row = vec![
            node.node.clone(),
            id,
            node.address.clone(),
            node.datacenter.clone(),
        ];
        if detailed {
            row.push(map_to_kv(&node.tagged_addresses));
            row.push(map_to_kv(&node.meta));
        }
        rows.push(row);
    }
    columnize(&rows)
}

/// The node ID up to its first `-` (the first 8 characters of a UUID).
fn short_id(id: &str) -> &str {
    match id.find('-') {
        Some(at) if at > 0 => &id[..at],
        _ => id,
    }
}

/// `k=v` pairs sorted by key, joined with `, `.
fn map_to_kv(map: &BTreeMap<String, String>) -> String {
    map.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_id_is_the_first_group() {
        assert_eq!(short_id("1b662d97-8b5c-3cc2-0ac0-96f55ad423b5"), "1b662d97");
        assert_eq!(short_id(""), "");
        assert_eq!(short_id("plain"), "plain");
    }

    #[test]
    fn maps_print_sorted_pairs() {
        let map = [
            ("wan".to_owned(), "b".to_owned()),
            ("lan".to_owned(), "a".to_owned()),
        ]
        .into_iter()
        .collect();
        assert_eq!(map_to_kv(&map), "lan=a, wan=b");
        assert_eq!(map_to_kv(&BTreeMap::new()), "");
    }
}
