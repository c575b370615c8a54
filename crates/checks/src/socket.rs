//! TCP and UDP checks.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpStream, UdpSocket};

use crate::runner::CheckResult;

/// The datagram a UDP check sends.
const UDP_PAYLOAD: &[u8] = b"praetor health check";

/// Connects to `addr`: passing when the connection is accepted within `timeout`.
pub(crate) async fn tcp_check(addr: &str, timeout: Duration) -> CheckResult {
    match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
        Ok(Ok(_stream)) => CheckResult::passing(format!("TCP connect {addr}: Success")),
        Ok(Err(error)) => CheckResult::critical(format!("dial tcp {addr}: {error}")),
        Err(_elapsed) => CheckResult::critical(format!("dial tcp {addr}: i/o timeout")),
    }
}

/// Sends a datagram to `addr`: passing on a reply or on silence until `timeout`, critical on an
/// error back (an ICMP port unreachable surfaces as "connection refused").
pub(crate) async fn udp_check(addr: &str, timeout: Duration) -> CheckResult {
    let result = tokio::time::timeout(timeout, udp_exchange(addr)).await;
    match result {
        Ok(Ok(())) | Err(_) => CheckResult::passing(format!("UDP connect {addr}: Success")),
        Ok(Err(error)) => CheckResult::critical(format!("UDP connect {addr}: {error}")),
    }
}

async fn udp_exchange(addr: &str) -> io::Result<()> {
    let target = tokio::net::lookup_host(addr)
        .await?
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "address resolved to nothing"))?;
    let local: SocketAddr = if target.is_ipv4() {
        (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(local).await?;
    socket.connect(target).await?;
    socket.send(UDP_PAYLOAD).await?;
    let mut reply = [0u8; 512];
    socket.recv(&mut reply).await?;
    Ok(())
}
