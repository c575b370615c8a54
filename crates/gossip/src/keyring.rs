//! Keyring operations across a pool (`consul keyring`, `/v1/operator/keyring`).

use std::collections::BTreeMap;

/// A keyring operation, run on every member through a serf query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyringOp {
    /// List every member's installed keys.
    List,
    /// Add a key to every member's keyring (`-install`).
    Install(crate::EncryptKey),
    /// Make an installed key the one used to encrypt (`-use`).
    Use(crate::EncryptKey),
    /// Remove a key that is not the primary (`-remove`).
    Remove(crate::EncryptKey),
}

/// The pool's answer to a [`KeyringOp`] (one entry of Consul's `/v1/operator/keyring`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyringResponse {
    /// Base64 key → how many members have it installed.
    pub keys: BTreeMap<String, usize>,
    /// Base64 key → how many members use it as their primary key.
    pub primary_keys: BTreeMap<String, usize>,
    /// Members the pool knows of.
    pub num_nodes: usize,
    /// Members that answered.
    pub num_resp: usize,
    /// Members that answered with an error.
    pub num_err: usize,
    /// Member name → its error message.
    pub messages: BTreeMap<String, String>,
}
