//! Forwarding names outside the served zones to `recursors` (spec/dns.md §8).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use hickory_proto::op::{Message, ResponseCode};
use rand::seq::SliceRandom as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpStream, UdpSocket};
use tracing::debug;

/// Sends the request `raw` verbatim to each recursor in turn (or in random order) over
/// the transport it came on; the first answer that is NOERROR or NXDOMAIN wins.
/// `None` when every recursor failed.
pub async fn forward(
    raw: &[u8],
    udp: bool,
    recursors: &[SocketAddr],
    timeout: Duration,
    random: bool,
) -> Option<Message> {
    if raw.len() < 2 {
        return None;
    }
    let id = u16::from_be_bytes([raw[0], raw[1]]);
    let mut order = recursors.to_vec();
    if random {
        order.shuffle(&mut rand::rng());
    }
    for addr in order {
        let exchange = async {
            if udp {
                exchange_udp(raw, addr).await
            } else {
                exchange_tcp(raw, addr).await
            }
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(Ok(bytes)) => match Message::from_vec(&bytes) {
                Ok(msg)
                    if msg.metadata.id == id
                        && matches!(
                            msg.metadata.response_code,
                            ResponseCode::NoError | ResponseCode::NXDomain
                        ) =>
                {
                    return Some(msg);
                }
                Ok(msg) => {
                    debug!(recursor = %addr, rcode = %msg.metadata.response_code, "recursor answer not usable");
                }
                Err(e) => debug!(recursor = %addr, error = %e, "bad answer from recursor"),
            },
            Ok(Err(e)) => debug!(recursor = %addr, error = %e, "recursor failed"),
            Err(_) => debug!(recursor = %addr, "recursor timed out"),
        }
    }
    None
}

/// A local address to send from: loopback for a loopback recursor, else unspecified.
fn local_for(addr: SocketAddr) -> SocketAddr {
    let ip = match (addr.ip(), addr.ip().is_loopback()) {
        (IpAddr::V4(_), true) => IpAddr::V4(Ipv4Addr::LOCALHOST),
        (IpAddr::V4(_), false) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        (IpAddr::V6(_), true) => IpAddr::V6(Ipv6Addr::LOCALHOST),
        (IpAddr::V6(_), false) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    };
    SocketAddr::new(ip, 0)
}

async fn exchange_udp(raw: &[u8], addr: SocketAddr) -> std::io::Result<Vec<u8>> {
    let socket = UdpSocket::bind(local_for(addr)).await?;
    socket.connect(addr).await?;
    socket.send(raw).await?;
    let mut buf = vec![0u8; 65535];
    let n = socket.recv(&mut buf).await?;
    buf.truncate(n);
    Ok(buf)
}

async fn exchange_tcp(raw: &[u8], addr: SocketAddr) -> std::io::Result<Vec<u8>> {
    let len = u16::try_from(raw.len())
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "request too long"))?;
    let mut stream = TcpStream::connect(addr).await?;
    let mut out = Vec::with_capacity(raw.len() + 2);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(raw);
    stream.write_all(&out).await?;
    let len = stream.read_u16().await?;
    let mut buf = vec![0u8; usize::from(len)];
    stream.read_exact(&mut buf).await?;
    Ok(buf)
}
