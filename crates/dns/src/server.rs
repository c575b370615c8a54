//! The listeners: one UDP socket and one TCP listener on the same address and port.
//! UDP is served by our own receive loops ([`crate::udp`]), TCP by hickory-server.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hickory_server::Server;
use tokio::net::{TcpListener, UdpSocket};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::handler::DnsHandler;

/// How long a TCP connection may stay idle between questions.
const TCP_IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// A bound but not yet serving DNS listener pair.
pub struct DnsListeners {
    udp: UdpSocket,
    tcp: TcpListener,
}

impl DnsListeners {
    /// Binds UDP and TCP on `addr`. With port 0 the OS picks the UDP port and TCP takes
    /// the same one (tried a few times in case that TCP port is taken).
    pub async fn bind(addr: SocketAddr) -> io::Result<Self> {
        let mut last_err = None;
        for _ in 0..8 {
            let udp = UdpSocket::bind(addr).await?;
            let port = udp.local_addr()?.port();
            match TcpListener::bind(SocketAddr::new(addr.ip(), port)).await {
                Ok(tcp) => return Ok(Self { udp, tcp }),
                Err(e) if addr.port() == 0 => last_err = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last_err.unwrap_or_else(|| io::Error::other("cannot bind DNS listeners")))
    }

    /// The bound address (UDP and TCP share it).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.udp.local_addr()
    }

    /// Starts answering with `handler`: one UDP receive loop per runtime worker.
    pub fn serve(self, handler: DnsHandler) -> DnsServer {
        let addr = self.udp.local_addr().ok();
        let loops = tokio::runtime::Handle::current().metrics().num_workers();
        let stop = CancellationToken::new();
        let udp = crate::udp::spawn(Arc::new(self.udp), handler.clone(), loops, stop.clone());
        let mut server = Server::new(handler);
        server.register_listener(self.tcp, TCP_IDLE_TIMEOUT, usize::from(u16::MAX));
        DnsServer {
            server,
            udp,
            stop,
            addr,
        }
    }
}

/// A running DNS server.
pub struct DnsServer {
    server: Server<DnsHandler>,
    udp: JoinSet<()>,
    stop: CancellationToken,
    addr: Option<SocketAddr>,
}

impl DnsServer {
    /// The address it listens on.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.addr
    }

    /// Stops accepting questions and waits for those in flight.
    pub async fn shutdown(mut self) {
        self.stop.cancel();
        while self.udp.join_next().await.is_some() {}
        if let Err(e) = self.server.shutdown_gracefully().await {
            tracing::debug!(error = %e, "DNS server stopped with an error");
        }
    }
}
