use std::time::Duration;

use praetor_checks::{CheckKind, HealthStatus};
use tokio::net::{TcpListener, UdpSocket};

use crate::{spec, start};

#[tokio::test]
async fn tcp_passes_while_listening_and_fails_once_closed() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind tcp");
    let addr = listener.local_addr().expect("local addr").to_string();
    let mut running = start(spec(CheckKind::Tcp { addr: addr.clone() }));
    let up = running.next().await;
    assert_eq!(up.status, HealthStatus::Passing);
    assert_eq!(up.output, format!("TCP connect {addr}: Success"));

    drop(listener);
    let down = running.next().await;
    assert_eq!(down.status, HealthStatus::Critical);
    assert!(down.output.contains(&addr), "{}", down.output);
}

#[tokio::test]
async fn udp_passes_on_silence_and_fails_when_refused() {
    let target = UdpSocket::bind("127.0.0.1:0").await.expect("bind udp");
    let addr = target.local_addr().expect("local addr").to_string();
    let mut check = spec(CheckKind::Udp { addr: addr.clone() });
    check.timeout = Duration::from_millis(100);
    let mut running = start(check);
    let up = running.next().await;
    assert_eq!(up.status, HealthStatus::Passing);
    assert_eq!(up.output, format!("UDP connect {addr}: Success"));

    drop(target);
    let down = running.next().await;
    assert_eq!(down.status, HealthStatus::Critical);
    assert!(down.output.contains("refused"), "{}", down.output);
}

#[tokio::test]
async fn udp_passes_on_a_reply() {
    let target = UdpSocket::bind("127.0.0.1:0").await.expect("bind udp");
    let addr = target.local_addr().expect("local addr").to_string();
    let echo = tokio::spawn(async move {
        let mut buf = [0u8; 512];
        let (n, from) = target.recv_from(&mut buf).await.expect("a datagram");
        target.send_to(&buf[..n], from).await.expect("reply");
    });
    // A long timeout: only the reply can end the run quickly.
    let mut check = spec(CheckKind::Udp { addr });
    check.timeout = Duration::from_secs(60);
    let update = start(check).next().await;
    assert_eq!(update.status, HealthStatus::Passing);
    echo.await.expect("echo task");
}
