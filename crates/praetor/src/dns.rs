//! The agent's DNS interface: listeners bound before Raft opens (like HTTP), served once
//! the backend exists, stopped with the other listeners.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use praetor_agent::Backend;
use praetor_agent::config::{Ports, RuntimeConfig};
use praetor_dns::{DnsHandler, DnsListeners, DnsSettings};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::info;

/// Binds UDP and TCP on every DNS address (`addresses.dns`, default `client_addr`) at
/// `ports.dns`; nothing when the port is -1.
pub async fn bind(cfg: &RuntimeConfig) -> anyhow::Result<Vec<DnsListeners>> {
    let Some(port) = Ports::enabled(cfg.ports.dns) else {
        return Ok(Vec::new());
    };
    let mut listeners = Vec::new();
    for ip in &cfg.addresses.dns {
        let addr = SocketAddr::new(*ip, port);
        let bound = DnsListeners::bind(addr)
            .await
            .with_context(|| format!("Failed to start DNS listener on {addr}"))?;
        listeners.push(bound);
    }
    Ok(listeners)
}

/// Serves each bound listener pair from `backend` until `stop` is cancelled.
pub fn serve(
    listeners: Vec<DnsListeners>,
    backend: Arc<dyn Backend>,
    cfg: &RuntimeConfig,
    tasks: &mut JoinSet<()>,
    stop: CancellationToken,
) {
    let settings = DnsSettings::from_runtime(cfg);
    for listeners in listeners {
        let server = listeners.serve(DnsHandler::new(backend.clone(), settings.clone()));
        if let Some(addr) = server.local_addr() {
            info!(address = %addr, network = "udp", "Started DNS server");
            info!(address = %addr, network = "tcp", "Started DNS server");
        }
        let stop = stop.clone();
        tasks.spawn(async move {
            stop.cancelled().await;
            server.shutdown().await;
        });
    }
}
