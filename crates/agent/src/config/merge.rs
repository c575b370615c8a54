//! Consul's merge rule for config sources: objects (maps and nested blocks) merge key by
//! key, lists append in load order, and any other present value replaces the earlier one.

use serde_json::Value;

/// Merges `later` over `earlier` in place.
pub(crate) fn merge(earlier: &mut Value, later: Value) {
    match (earlier, later) {
        (Value::Object(into), Value::Object(from)) => {
            for (key, value) in from {
                match into.get_mut(&key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        into.insert(key, value);
                    }
                }
            }
        }
        (Value::Array(into), Value::Array(from)) => into.extend(from),
        (slot, value) => *slot = value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_appends_lists_merges_maps_and_replaces_scalars() {
        let mut a = json!({
            "datacenter": "dc1",
            "server": true,
            "retry_join": ["a"],
            "node_meta": {"rack": "r1", "zone": "z1"},
            "ports": {"http": 8500, "dns": 8600},
        });
        merge(
            &mut a,
            json!({
                "datacenter": "dc2",
                "server": false,
                "retry_join": ["b"],
                "node_meta": {"rack": "r2"},
                "ports": {"dns": -1},
            }),
        );
        assert_eq!(
            a,
            json!({
                "datacenter": "dc2",
                "server": false,
                "retry_join": ["a", "b"],
                "node_meta": {"rack": "r2", "zone": "z1"},
                "ports": {"http": 8500, "dns": -1},
            })
        );
    }
}
