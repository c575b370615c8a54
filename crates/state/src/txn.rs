//! Transactions (Consul's `agent/consul/state/txn.go`): every operation applies to one
//! working copy; any failure discards it, so a transaction changes all or nothing.

use praetor_types::{
    DeregisterRequest, KvEntry, KvOp, KvRequest, RegisterRequest, TxnCatalogVerb, TxnError,
    TxnKvOp, TxnKvVerb, TxnOp, TxnOutcome, TxnResult,
};

use crate::command::ApplyError;
use crate::store::Tables;
use crate::watch::Touch;

impl Tables {
    /// Applies `ops` at Raft `index`: all of them, or (with every failure listed) none.
    pub(crate) fn apply_txn(
        &mut self,
        index: u64,
        now: u64,
        ops: &[TxnOp],
        touches: &mut Vec<Touch>,
    ) -> TxnOutcome {
        let mut work = self.clone();
        let mut work_touches = Vec::new();
        let mut results = Vec::new();
        let mut errors = Vec::new();
        for (op_index, op) in ops.iter().enumerate() {
            match work.txn_op(index, now, op, &mut work_touches) {
                Ok(mut r) => results.append(&mut r),
                Err(what) => errors.push(TxnError { op_index, what }),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        *self = work;
        touches.append(&mut work_touches);
        Ok(results)
    }

    /// Runs read-only `ops` against these tables without changing them.
    pub(crate) fn read_txn(&self, ops: &[TxnOp]) -> TxnOutcome {
        let index = self.applied_index;
        self.clone().apply_txn(index, 0, ops, &mut Vec::new())
    }

    fn txn_op(
        &mut self,
        index: u64,
        now: u64,
        op: &TxnOp,
        touches: &mut Vec<Touch>,
    ) -> Result<Vec<TxnResult>, String> {
        match op {
            TxnOp::Kv(kv) => self.txn_kv(index, now, kv, touches),
            TxnOp::Node(verb, node) => {
                let current = self.catalog.nodes.get(&node.node).map(|n| (**n).clone());
                match verb {
                    TxnCatalogVerb::Get => current
                        .map(|n| vec![TxnResult::Node(n)])
                        .ok_or_else(|| format!("node {:?} doesn't exist", node.node)),
                    TxnCatalogVerb::Delete | TxnCatalogVerb::DeleteCas => {
                        if *verb == TxnCatalogVerb::DeleteCas
                            && current.as_ref().map(|n| n.modify_index) != Some(node.modify_index)
                        {
                            return Err(format!(
                                "failed to delete node {:?}, index is stale",
                                node.node
                            ));
                        }
                        let req = DeregisterRequest {
                            node: node.node.clone(),
                            ..Default::default()
                        };
                        self.catalog_txn_deregister(index, now, &req, touches)?;
                        Ok(Vec::new())
                    }
                    TxnCatalogVerb::Set | TxnCatalogVerb::Cas => {
                        if *verb == TxnCatalogVerb::Cas
                            && current.as_ref().map_or(0, |n| n.modify_index) != node.modify_index
                        {
                            return Err(format!(
                                "failed to set node {:?}, index is stale",
                                node.node
                            ));
                        }
                        let req = RegisterRequest {
                            id: node.id.clone(),
                            node: node.node.clone(),
                            address: node.address.clone(),
                            tagged_addresses: node.tagged_addresses.clone(),
                            node_meta: node.meta.clone(),
                            ..Default::default()
                        };
                        self.catalog_txn_register(index, now, &req, touches)?;
                        Ok(self
                            .catalog
                            .nodes
                            .get(&node.node)
                            .map(|n| TxnResult::Node((**n).clone()))
                            .into_iter()
                            .collect())
                    }
                }
            }
            TxnOp::Service(verb, node, service) => {
                let key = (node.clone(), service.id.clone());
                let current = self.catalog.services.get(&key).map(|s| (**s).clone());
                match verb {
                    TxnCatalogVerb::Get => {
                        current.map(|s| vec![TxnResult::Service(s)]).ok_or_else(|| {
                            format!("service {:?} on node {node:?} doesn't exist", service.id)
                        })
                    }
                    TxnCatalogVerb::Delete | TxnCatalogVerb::DeleteCas => {
                        if *verb == TxnCatalogVerb::DeleteCas
                            && current.as_ref().map(|s| s.modify_index)
                                != Some(service.modify_index)
                        {
                            return Err(format!(
                                "failed to delete service {:?}, index is stale",
                                service.id
                            ));
                        }
                        let req = DeregisterRequest {
                            node: node.clone(),
                            service_id: service.id.clone(),
                            ..Default::default()
                        };
                        self.catalog_txn_deregister(index, now, &req, touches)?;
                        Ok(Vec::new())
                    }
                    TxnCatalogVerb::Set | TxnCatalogVerb::Cas => {
                        if *verb == TxnCatalogVerb::Cas
                            && current.as_ref().map_or(0, |s| s.modify_index)
                                != service.modify_index
                        {
                            return Err(format!(
                                "failed to set service {:?}, index is stale",
                                service.id
                            ));
                        }
                        if !self.catalog.nodes.contains_key(node) {
                            return Err(format!("node {node:?} doesn't exist"));
                        }
                        let req = RegisterRequest {
                            node: node.clone(),
                            service: Some(service.clone()),
                            skip_node_update: true,
                            ..Default::default()
                        };
                        self.catalog_txn_register(index, now, &req, touches)?;
                        let id = if service.id.is_empty() {
                            &service.service
                        } else {
                            &service.id
                        };
                        Ok(self
                            .catalog
                            .services
                            .get(&(node.clone(), id.clone()))
                            .map(|s| TxnResult::Service((**s).clone()))
                            .into_iter()
                            .collect())
                    }
                }
            }
            TxnOp::Check(verb, check) => {
                let key = (check.node.clone(), check.check_id.clone());
                let current = self.catalog.checks.get(&key).map(|c| (**c).clone());
                match verb {
                    TxnCatalogVerb::Get => {
                        current.map(|c| vec![TxnResult::Check(c)]).ok_or_else(|| {
                            format!(
                                "check {:?} on node {:?} doesn't exist",
                                check.check_id, check.node
                            )
                        })
                    }
                    TxnCatalogVerb::Delete | TxnCatalogVerb::DeleteCas => {
                        if *verb == TxnCatalogVerb::DeleteCas
                            && current.as_ref().map(|c| c.modify_index) != Some(check.modify_index)
                        {
                            return Err(format!(
                                "failed to delete check {:?}, index is stale",
                                check.check_id
                            ));
                        }
                        let req = DeregisterRequest {
                            node: check.node.clone(),
                            check_id: check.check_id.clone(),
                            ..Default::default()
                        };
                        self.catalog_txn_deregister(index, now, &req, touches)?;
                        Ok(Vec::new())
                    }
                    TxnCatalogVerb::Set | TxnCatalogVerb::Cas => {
                        if *verb == TxnCatalogVerb::Cas
                            && current.as_ref().map_or(0, |c| c.modify_index) != check.modify_index
                        {
                            return Err(format!(
                                "failed to set check {:?}, index is stale",
                                check.check_id
                            ));
                        }
                        if !self.catalog.nodes.contains_key(&check.node) {
                            return Err(format!("node {:?} doesn't exist", check.node));
                        }
                        let req = RegisterRequest {
                            node: check.node.clone(),
                            check: Some(check.clone()),
                            skip_node_update: true,
                            ..Default::default()
                        };
                        self.catalog_txn_register(index, now, &req, touches)?;
                        let id = if check.check_id.is_empty() {
                            &check.name
                        } else {
                            &check.check_id
                        };
                        Ok(self
                            .catalog
                            .checks
                            .get(&(check.node.clone(), id.clone()))
                            .map(|c| TxnResult::Check((**c).clone()))
                            .into_iter()
                            .collect())
                    }
                }
            }
            TxnOp::SessionDelete(id) => {
                self.session_invalidate(index, now, id, touches);
                Ok(Vec::new())
            }
        }
    }

    fn catalog_txn_register(
        &mut self,
        index: u64,
        now: u64,
        req: &RegisterRequest,
        touches: &mut Vec<Touch>,
    ) -> Result<(), String> {
        self.catalog
            .register(index, req, touches)
            .map_err(|e| e.to_string())?;
        self.invalidate_unhealthy_sessions(index, now, touches);
        Ok(())
    }

    fn catalog_txn_deregister(
        &mut self,
        index: u64,
        now: u64,
        req: &DeregisterRequest,
        touches: &mut Vec<Touch>,
    ) -> Result<(), String> {
        self.catalog
            .deregister(index, req, touches)
            .map_err(|e| e.to_string())?;
        self.invalidate_unhealthy_sessions(index, now, touches);
        Ok(())
    }

    fn txn_kv(
        &mut self,
        index: u64,
        now: u64,
        op: &TxnKvOp,
        touches: &mut Vec<Touch>,
    ) -> Result<Vec<TxnResult>, String> {
        let key = op.key.as_str();
        let current = self.kv.entries.get(key).map(|e| KvEntry::clone(e));
        let missing = || format!("key {key:?} doesn't exist");
        let write = |kv_op: KvOp| KvRequest {
            op: kv_op,
            key: op.key.clone(),
            value: op.value.clone(),
            flags: op.flags,
            cas_index: op.index,
            session: op.session.clone(),
        };
        // A write's result is the stored entry without its value (Consul's `Value: null`).
        let stored = |tables: &Tables| -> Vec<TxnResult> {
            tables
                .kv
                .entries
                .get(key)
                .map(|e| {
                    TxnResult::Kv(KvEntry {
                        value: Vec::new(),
                        ..KvEntry::clone(e)
                    })
                })
                .into_iter()
                .collect()
        };
        match op.verb {
            TxnKvVerb::Set => {
                self.kv_apply(index, now, &write(KvOp::Set), touches)
                    .map_err(|e| e.to_string())?;
                Ok(stored(self))
            }
            TxnKvVerb::Cas => match self.kv_apply(index, now, &write(KvOp::Cas), touches) {
                Ok(true) => Ok(stored(self)),
                Ok(false) => Err(format!("failed to set key {key:?}, index is stale")),
                Err(e) => Err(e.to_string()),
            },
            TxnKvVerb::Lock => match self.kv_apply(index, now, &write(KvOp::Lock), touches) {
                Ok(true) => Ok(stored(self)),
                Ok(false) => Err(format!("failed to lock key {key:?}, lock is already held")),
                Err(ApplyError::InvalidSession(id)) => Err(format!(
                    "failed to lock key {key:?}: session {id:?} does not exist"
                )),
                Err(e) => Err(format!("failed to lock key {key:?}: {e}")),
            },
            TxnKvVerb::Unlock => match self.kv_apply(index, now, &write(KvOp::Unlock), touches) {
                Ok(true) => Ok(stored(self)),
                Ok(false) => Err(format!(
                    "failed to unlock key {key:?}, lock isn't held, or is held by another session"
                )),
                Err(e) => Err(format!("failed to unlock key {key:?}: {e}")),
            },
            TxnKvVerb::Get => current.map(|e| vec![TxnResult::Kv(e)]).ok_or_else(missing),
            TxnKvVerb::GetOrEmpty => Ok(current.map(TxnResult::Kv).into_iter().collect()),
            TxnKvVerb::GetTree => Ok(self
                .kv
                .under(key)
                .map(|e| TxnResult::Kv(KvEntry::clone(e)))
                .collect()),
            TxnKvVerb::CheckIndex => {
                let entry = current.ok_or_else(missing)?;
                if entry.modify_index != op.index {
                    return Err(format!(
                        "failed to check index for key {key:?}, current modify index {} != {}",
                        entry.modify_index, op.index
                    ));
                }
                Ok(vec![TxnResult::Kv(KvEntry {
                    value: Vec::new(),
                    ..entry
                })])
            }
            TxnKvVerb::CheckSession => {
                let entry = current.ok_or_else(missing)?;
                if entry.session != op.session {
                    return Err(format!(
                        "failed to check session for key {key:?}, current session {:?} != {:?}",
                        entry.session.as_deref().unwrap_or(""),
                        op.session.as_deref().unwrap_or("")
                    ));
                }
                Ok(vec![TxnResult::Kv(KvEntry {
                    value: Vec::new(),
                    ..entry
                })])
            }
            TxnKvVerb::CheckNotExists => match current {
                Some(_) => Err(format!("key {key:?} exists")),
                None => Ok(Vec::new()),
            },
            TxnKvVerb::Delete => {
                self.kv_apply(index, now, &write(KvOp::Delete), touches)
                    .map_err(|e| e.to_string())?;
                Ok(Vec::new())
            }
            TxnKvVerb::DeleteTree => {
                self.kv_apply(index, now, &write(KvOp::DeleteTree), touches)
                    .map_err(|e| e.to_string())?;
                Ok(Vec::new())
            }
            TxnKvVerb::DeleteCas => {
                match self.kv_apply(index, now, &write(KvOp::DeleteCas), touches) {
                    Ok(true) => Ok(Vec::new()),
                    Ok(false) => Err(format!("failed to delete key {key:?}, index is stale")),
                    Err(e) => Err(e.to_string()),
                }
            }
        }
    }
}
