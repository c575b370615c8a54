//! The catalog tables: nodes, services and checks (Consul's
//! `agent/consul/state/catalog.go`): register/deregister rules, the reads of the catalog
//! and health endpoints, and their table indexes.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use imbl::OrdMap;
use praetor_types::{
    CheckServiceNode, DeregisterRequest, HealthCheck, HealthStatus, Node, NodeService,
    NodeServices, RegisterRequest, ServiceNode,
};

use crate::command::ApplyError;
use crate::watch::{Table, Touch};

/// `(node, id)`: the key of a service instance or a check; IDs are unique per node.
pub(crate) type NodeScoped = (String, String);

/// The `nodes`, `services` and `checks` tables and their table indexes.
///
/// # Invariants
/// - Every service and check belongs to a node in `nodes`.
/// - A check with a `ServiceID` names a service on its node, and carries that service's
///   current name and tags.
/// - Each table index is at least the `ModifyIndex` of every row of its table, and also
///   advances on deletes; none ever goes back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CatalogTable {
    /// Nodes by name.
    pub(crate) nodes: OrdMap<String, Arc<Node>>,
    /// Service instances by (node, service ID).
    pub(crate) services: OrdMap<NodeScoped, Arc<NodeService>>,
    /// Checks by (node, check ID).
    pub(crate) checks: OrdMap<NodeScoped, Arc<HealthCheck>>,
    /// Raft index of the last change to `nodes`.
    pub(crate) nodes_index: u64,
    /// Raft index of the last change to `services`.
    pub(crate) services_index: u64,
    /// Raft index of the last change to `checks`.
    pub(crate) checks_index: u64,
}

/// Everything on one node: the `(node, "")..` range of a node-scoped table.
fn on_node<'a, V: Clone>(
    map: &'a OrdMap<NodeScoped, V>,
    node: &'a str,
) -> impl Iterator<Item = (&'a NodeScoped, &'a V)> + 'a {
    map.range((node.to_owned(), String::new())..)
        .take_while(move |((n, _), _)| n == node)
}

/// Whether `tags` holds `tag`; case-insensitive, as Consul's tag filter.
fn has_tag(tags: &[String], tag: &str) -> bool {
    tags.iter().any(|t| t.eq_ignore_ascii_case(tag))
}

impl CatalogTable {
    /// Applies a register at Raft `index`: the node, then the service, then the checks.
    /// All or nothing: on `Err` neither the table nor `touches` changed.
    pub(crate) fn register(
        &mut self,
        index: u64,
        req: &RegisterRequest,
        touches: &mut Vec<Touch>,
    ) -> Result<(), ApplyError> {
        if req.node.is_empty() {
            return Err(ApplyError::MissingNode);
        }
        if req.address.is_empty() && !req.skip_node_update {
            return Err(ApplyError::MissingAddress);
        }
        // Work on an O(1) copy so that a failing check leaves the node and service as
        // they were.
        let mut next = self.clone();
        let mut changed = BTreeSet::new();
        next.ensure_node(index, req, &mut changed)?;
        if let Some(service) = &req.service {
            next.ensure_service(index, &req.node, service, &mut changed)?;
        }
        for check in req.check.iter().chain(&req.checks) {
            next.ensure_check(index, &req.node, check, &mut changed)?;
        }
        *self = next;
        touches.extend(changed.into_iter().map(Touch::Table));
        Ok(())
    }

    /// Applies a deregister at Raft `index`. Removing what is not there is not an error.
    pub(crate) fn deregister(
        &mut self,
        index: u64,
        req: &DeregisterRequest,
        touches: &mut Vec<Touch>,
    ) -> Result<(), ApplyError> {
        if req.node.is_empty() {
            return Err(ApplyError::MissingNode);
        }
        let mut changed = BTreeSet::new();
        if !self.nodes.contains_key(&req.node) {
            return Ok(());
        }
        if req.service_id.is_empty() && req.check_id.is_empty() {
            self.delete_node(index, &req.node, &mut changed);
        } else {
            if !req.service_id.is_empty() {
                self.delete_service(index, &req.node, &req.service_id, &mut changed);
            }
            if !req.check_id.is_empty() {
                self.delete_check(index, &req.node, &req.check_id, &mut changed);
            }
        }
        touches.extend(changed.into_iter().map(Touch::Table));
        Ok(())
    }

    /// Creates or updates the node, unless `SkipNodeUpdate` asks to leave an existing
    /// one alone. An unchanged node keeps its indexes.
    fn ensure_node(
        &mut self,
        index: u64,
        req: &RegisterRequest,
        changed: &mut BTreeSet<Table>,
    ) -> Result<(), ApplyError> {
        let existing = self.nodes.get(&req.node).cloned();
        if existing.is_some() && req.skip_node_update {
            return Ok(());
        }
        if !req.id.is_empty() {
            // A node ID names one node: another node holding it is a conflict.
            if let Some(other) = self
                .nodes
                .values()
                .find(|n| n.id.eq_ignore_ascii_case(&req.id) && n.node != req.node)
            {
                return Err(ApplyError::NodeIdConflict {
                    id: req.id.clone(),
                    node: req.node.clone(),
                    existing: other.node.clone(),
                });
            }
        }
        let mut node = Node {
            id: req.id.clone(),
            node: req.node.clone(),
            address: req.address.clone(),
            datacenter: req.datacenter.clone(),
            tagged_addresses: req.tagged_addresses.clone(),
            meta: req.node_meta.clone(),
            create_index: index,
            modify_index: index,
        };
        if let Some(old) = existing {
            node.create_index = old.create_index;
            node.modify_index = old.modify_index;
            if node == *old {
                return Ok(());
            }
            node.modify_index = index;
        }
        self.nodes.insert(req.node.clone(), Arc::new(node));
        self.nodes_index = self.nodes_index.max(index);
        changed.insert(Table::Nodes);
        Ok(())
    }

    /// Creates or updates a service instance on `node` (which exists). An unchanged
    /// instance keeps its indexes; a renamed or retagged one updates its checks' copies.
    fn ensure_service(
        &mut self,
        index: u64,
        node: &str,
        service: &NodeService,
        changed: &mut BTreeSet<Table>,
    ) -> Result<(), ApplyError> {
        if service.service.is_empty() {
            return Err(ApplyError::MissingServiceName);
        }
        let mut svc = service.clone();
        if svc.id.is_empty() {
            svc.id = svc.service.clone();
        }
        let key = (node.to_owned(), svc.id.clone());
        match self.services.get(&key) {
            Some(old) => {
                svc.create_index = old.create_index;
                svc.modify_index = old.modify_index;
                if svc == **old {
                    return Ok(());
                }
                svc.modify_index = index;
            }
            None => {
                svc.create_index = index;
                svc.modify_index = index;
            }
        }
        self.sync_check_copies(index, node, &svc, changed);
        self.services.insert(key, Arc::new(svc));
        self.services_index = self.services_index.max(index);
        changed.insert(Table::Services);
        Ok(())
    }

    /// Rewrites the service name and tags carried by the checks of `svc` (Consul
    /// denormalises them into each check). Their `ModifyIndex` stays: the check itself did
    /// not change, but the checks table index moves so blocked health reads wake.
    fn sync_check_copies(
        &mut self,
        index: u64,
        node: &str,
        svc: &NodeService,
        changed: &mut BTreeSet<Table>,
    ) {
        let stale: Vec<NodeScoped> = on_node(&self.checks, node)
            .filter(|(_, c)| {
                c.service_id == svc.id
                    && (c.service_name != svc.service || c.service_tags != svc.tags)
            })
            .map(|(k, _)| k.clone())
            .collect();
        for key in stale {
            if let Some(check) = self.checks.get_mut(&key) {
                let check = Arc::make_mut(check);
                check.service_name = svc.service.clone();
                check.service_tags = svc.tags.clone();
                self.checks_index = self.checks_index.max(index);
                changed.insert(Table::Checks);
            }
        }
    }

    /// Creates or updates a check on `node` (which exists). Defaults: `Node` to the
    /// request's node, `CheckID` to `Name`. An unchanged check keeps its indexes.
    fn ensure_check(
        &mut self,
        index: u64,
        node: &str,
        check: &HealthCheck,
        changed: &mut BTreeSet<Table>,
    ) -> Result<(), ApplyError> {
        let mut hc = check.clone();
        if hc.node.is_empty() {
            hc.node = node.to_owned();
        } else if hc.node != node {
            return Err(ApplyError::CheckNodeMismatch {
                check_node: hc.node,
                node: node.to_owned(),
            });
        }
        if hc.check_id.is_empty() {
            if hc.name.is_empty() {
                return Err(ApplyError::MissingCheckId);
            }
            hc.check_id = hc.name.clone();
        }
        if hc.service_id.is_empty() {
            hc.service_name.clear();
            hc.service_tags.clear();
        } else {
            let key = (node.to_owned(), hc.service_id.clone());
            let Some(svc) = self.services.get(&key) else {
                return Err(ApplyError::UnknownService {
                    check: hc.check_id,
                    service: hc.service_id,
                });
            };
            hc.service_name = svc.service.clone();
            hc.service_tags = svc.tags.clone();
        }
        let key = (node.to_owned(), hc.check_id.clone());
        match self.checks.get(&key) {
            Some(old) => {
                hc.create_index = old.create_index;
                hc.modify_index = old.modify_index;
                if hc == **old {
                    return Ok(());
                }
                hc.modify_index = index;
            }
            None => {
                hc.create_index = index;
                hc.modify_index = index;
            }
        }
        self.checks.insert(key, Arc::new(hc));
        self.checks_index = self.checks_index.max(index);
        changed.insert(Table::Checks);
        Ok(())
    }

    /// Removes a node with its services and checks.
    fn delete_node(&mut self, index: u64, node: &str, changed: &mut BTreeSet<Table>) {
        let services: Vec<String> = on_node(&self.services, node)
            .map(|((_, id), _)| id.clone())
            .collect();
        for id in services {
            self.delete_service(index, node, &id, changed);
        }
        let checks: Vec<String> = on_node(&self.checks, node)
            .map(|((_, id), _)| id.clone())
            .collect();
        for id in checks {
            self.delete_check(index, node, &id, changed);
        }
        if self.nodes.remove(node).is_some() {
            self.nodes_index = self.nodes_index.max(index);
            changed.insert(Table::Nodes);
        }
    }

    /// Removes a service instance and its checks.
    fn delete_service(&mut self, index: u64, node: &str, id: &str, changed: &mut BTreeSet<Table>) {
        if self
            .services
            .remove(&(node.to_owned(), id.to_owned()))
            .is_none()
        {
            return;
        }
        self.services_index = self.services_index.max(index);
        changed.insert(Table::Services);
        let checks: Vec<String> = on_node(&self.checks, node)
            .filter(|(_, c)| c.service_id == id)
            .map(|((_, check_id), _)| check_id.clone())
            .collect();
        for check_id in checks {
            self.delete_check(index, node, &check_id, changed);
        }
    }

    /// Removes one check.
    fn delete_check(&mut self, index: u64, node: &str, id: &str, changed: &mut BTreeSet<Table>) {
        if self
            .checks
            .remove(&(node.to_owned(), id.to_owned()))
            .is_some()
        {
            self.checks_index = self.checks_index.max(index);
            changed.insert(Table::Checks);
        }
    }

    /// Every node, by name.
    pub(crate) fn nodes(&self) -> Vec<Node> {
        self.nodes.values().map(|n| Node::clone(n)).collect()
    }

    /// Service names, each with the sorted union of its instances' tags.
    pub(crate) fn services(&self) -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for svc in self.services.values() {
            out.entry(svc.service.clone())
                .or_default()
                .extend(svc.tags.iter().cloned());
        }
        out.into_iter()
            .map(|(name, tags)| (name, tags.into_iter().collect()))
            .collect()
    }

    /// Instances of service `name` (with `tag`, if given) and their nodes, ordered by
    /// node then service ID.
    fn instances<'a>(
        &'a self,
        name: &'a str,
        tag: Option<&'a str>,
    ) -> impl Iterator<Item = (&'a Arc<Node>, &'a Arc<NodeService>)> + 'a {
        self.services
            .iter()
            .filter(move |(_, s)| s.service == name && tag.is_none_or(|t| has_tag(&s.tags, t)))
            .filter_map(|((node, _), s)| self.nodes.get(node).map(|n| (n, s)))
    }

    /// Catalog rows of service `name`, optionally only those tagged `tag`.
    pub(crate) fn service_nodes(&self, name: &str, tag: Option<&str>) -> Vec<ServiceNode> {
        self.instances(name, tag)
            .map(|(n, s)| ServiceNode::new(n, s))
            .collect()
    }

    /// A node and its services by ID, or `None` for an unknown node.
    pub(crate) fn node_services(&self, node: &str) -> Option<NodeServices> {
        let n = self.nodes.get(node)?;
        Some(NodeServices {
            node: Node::clone(n),
            services: on_node(&self.services, node)
                .map(|((_, id), s)| (id.clone(), NodeService::clone(s)))
                .collect(),
        })
    }

    /// Every check on `node` (node-level and service checks), by check ID.
    pub(crate) fn node_checks(&self, node: &str) -> Vec<HealthCheck> {
        on_node(&self.checks, node)
            .map(|(_, c)| HealthCheck::clone(c))
            .collect()
    }

    /// The checks of every instance of service `name`.
    pub(crate) fn service_checks(&self, name: &str) -> Vec<HealthCheck> {
        self.checks
            .values()
            .filter(|c| !c.service_id.is_empty() && c.service_name == name)
            .map(|c| HealthCheck::clone(c))
            .collect()
    }

    /// Checks in `state`, or every check for `None` (`any`).
    pub(crate) fn checks_in_state(&self, state: Option<HealthStatus>) -> Vec<HealthCheck> {
        self.checks
            .values()
            .filter(|c| state.is_none_or(|s| c.status == s))
            .map(|c| HealthCheck::clone(c))
            .collect()
    }

    /// Instances of `name` (tagged `tag`, if given) with their node and the checks that
    /// bear on them: the node's own checks, then the instance's. With `passing_only`,
    /// only instances whose every such check passes.
    pub(crate) fn check_service_nodes(
        &self,
        name: &str,
        tag: Option<&str>,
        passing_only: bool,
    ) -> Vec<CheckServiceNode> {
        self.instances(name, tag)
            .map(|(n, s)| {
                let on = || on_node(&self.checks, &n.node).map(|(_, c)| c);
                let checks = on()
                    .filter(|c| c.service_id.is_empty())
                    .chain(on().filter(|c| c.service_id == s.id))
                    .map(|c| HealthCheck::clone(c))
                    .collect();
                CheckServiceNode {
                    node: Node::clone(n),
                    service: NodeService::clone(s),
                    checks,
                }
            })
            .filter(|csn| {
                !passing_only || csn.checks.iter().all(|c| c.status == HealthStatus::Passing)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
