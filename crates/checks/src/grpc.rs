//! gRPC checks: one `grpc.health.v1.Health/Check` call per run over a new connection;
//! `SERVING` is passing, anything else critical.
//!
//! The outputs are Consul's (`agent/checks/grpc.go`): `gRPC check <target>: success`,
//! `gRPC <target> serving status: NOT_SERVING`, and grpc-go's `rpc error: code = … desc = …`
//! for failed calls.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::TokioIo;
use rustls::RootCertStore;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_util::either::Either;
use tonic::Code;
use tonic::transport::{Endpoint, Uri};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::Error;
use crate::http::error_chain;
use crate::runner::CheckResult;
use crate::tls;

/// A validated gRPC check.
#[derive(Debug)]
pub(crate) struct GrpcProbe {
    /// `host:port[/service]` as configured, quoted in the output.
    target: String,
    /// The `host:port` part, dialled on every run.
    addr: String,
    /// The service name asked about (`""`: the whole server).
    service: String,
    endpoint: Endpoint,
    tls: Option<Tls>,
    timeout: Duration,
}

/// The TLS side of a `GRPCUseTLS` check.
#[derive(Clone)]
struct Tls {
    connector: TlsConnector,
    server_name: ServerName<'static>,
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls")
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

/// The settings of a gRPC check, as in [`crate::CheckKind::Grpc`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct GrpcSettings<'a> {
    pub(crate) target: &'a str,
    pub(crate) use_tls: bool,
    pub(crate) tls_server_name: &'a str,
    pub(crate) tls_skip_verify: bool,
}

impl GrpcProbe {
    /// Validates the target (and TLS settings) of check `check_id`; certificates are verified
    /// against the system's CA bundle.
    pub(crate) fn new(
        check_id: &str,
        settings: GrpcSettings<'_>,
        timeout: Duration,
    ) -> Result<Self, Error> {
        Self::with_roots(check_id, settings, timeout, Arc::clone(tls::system_roots()))
    }

    /// [`GrpcProbe::new`] trusting `roots` instead of the system's CA bundle.
    fn with_roots(
        check_id: &str,
        settings: GrpcSettings<'_>,
        timeout: Duration,
        roots: Arc<RootCertStore>,
    ) -> Result<Self, Error> {
        let invalid_target = || Error::InvalidGrpcTarget {
            check_id: check_id.to_owned(),
            target: settings.target.to_owned(),
        };
        // As Consul: everything after the first `/` is the service, which may itself hold `/`.
        let (addr, service) = settings
            .target
            .split_once('/')
            .unwrap_or((settings.target, ""));
        if addr.is_empty() {
            return Err(invalid_target());
        }
        let mut endpoint =
            Endpoint::from_shared(format!("http://{addr}")).map_err(|_| invalid_target())?;
        let tls = if settings.use_tls {
            // Requests name the scheme they travel over; the connector below does the TLS.
            let origin = Uri::try_from(format!("https://{addr}")).map_err(|_| invalid_target())?;
            endpoint = endpoint.origin(origin);
            Some(Tls::new(check_id, addr, settings, roots)?)
        } else {
            None
        };
        Ok(GrpcProbe {
            target: settings.target.to_owned(),
            addr: addr.to_owned(),
            service: service.to_owned(),
            endpoint,
            tls,
            timeout,
        })
    }

    /// One health call, bounded by the check's timeout.
    pub(crate) async fn run(&self) -> CheckResult {
        match tokio::time::timeout(self.timeout, self.call()).await {
            Err(_elapsed) => CheckResult::critical(rpc_error(
                Code::DeadlineExceeded,
                "context deadline exceeded",
            )),
            Ok(Err(output)) => CheckResult::critical(output),
            Ok(Ok(status)) if status == ServingStatus::Serving as i32 => {
                CheckResult::passing(format!("gRPC check {}: success", self.target))
            }
            Ok(Ok(status)) => CheckResult::critical(format!(
                "gRPC {} serving status: {}",
                self.target,
                status_name(status)
            )),
        }
    }

    /// Dials, asks, and returns the raw `status` of the answer, or the output of a failure.
    async fn call(&self) -> Result<i32, String> {
        let addr = self.addr.clone();
        let tls = self.tls.clone();
        let connector = tower::service_fn(move |_: Uri| {
            let addr = addr.clone();
            let tls = tls.clone();
            async move { dial(&addr, tls.as_ref()).await.map(TokioIo::new) }
        });
        let channel = self
            .endpoint
            .connect_with_connector(connector)
            .await
            .map_err(|error| connection_error(&error))?;
        let request = HealthCheckRequest {
            service: self.service.clone(),
        };
        let response = HealthClient::new(channel)
            .check(request)
            .await
            .map_err(|status| rpc_error(status.code(), &status_desc(&status)))?;
        Ok(response.into_inner().status)
    }
}

impl Tls {
    fn new(
        check_id: &str,
        addr: &str,
        settings: GrpcSettings<'_>,
        roots: Arc<RootCertStore>,
    ) -> Result<Self, Error> {
        let name = if settings.tls_server_name.is_empty() {
            host_of(addr)
        } else {
            settings.tls_server_name
        };
        let server_name =
            ServerName::try_from(name.to_owned()).map_err(|_| Error::InvalidTlsServerName {
                check_id: check_id.to_owned(),
                name: name.to_owned(),
            })?;
        let mut config =
            tls::client_config(settings.tls_skip_verify, roots).map_err(|source| Error::Tls {
                check_id: check_id.to_owned(),
                source,
            })?;
        // gRPC servers (grpc-go since 1.67) refuse TLS connections that did not offer h2.
        config.alpn_protocols = vec![b"h2".to_vec()];
        Ok(Tls {
            connector: TlsConnector::from(Arc::new(config)),
            server_name,
        })
    }
}

/// Why a connection could not be made, worded as grpc-go's transport does.
#[derive(Debug)]
struct DialError(String);

impl fmt::Display for DialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DialError {}

/// A TCP connection to `addr`, wrapped in TLS when `tls` is set.
async fn dial(
    addr: &str,
    tls: Option<&Tls>,
) -> Result<Either<TcpStream, TlsStream<TcpStream>>, DialError> {
    let stream = TcpStream::connect(addr).await.map_err(|error| {
        DialError(format!(
            "transport: Error while dialing: dial tcp {addr}: {error}"
        ))
    })?;
    // Health calls are tiny; don't let Nagle hold them back.
    let _ = stream.set_nodelay(true);
    let Some(tls) = tls else {
        return Ok(Either::Left(stream));
    };
    let stream = tls
        .connector
        .connect(tls.server_name.clone(), stream)
        .await
        .map_err(|error| {
            DialError(format!(
                "transport: authentication handshake failed: {error}"
            ))
        })?;
    Ok(Either::Right(stream))
}

/// grpc-go's text for a call that found no connection.
fn connection_error(error: &(dyn std::error::Error + 'static)) -> String {
    let mut source = Some(error);
    let mut desc = None;
    while let Some(cause) = source {
        if let Some(dial) = cause.downcast_ref::<DialError>() {
            desc = Some(dial.0.clone());
            break;
        }
        source = cause.source();
    }
    let desc = desc.unwrap_or_else(|| format!("transport: {}", error_chain(error)));
    rpc_error(
        Code::Unavailable,
        &format!("connection error: desc = {desc:?}"),
    )
}

/// A status's message, followed by the local error behind it (tonic's bare "transport error"
/// says nothing of why).
fn status_desc(status: &tonic::Status) -> String {
    let Some(source) = std::error::Error::source(status) else {
        return status.message().to_owned();
    };
    let chain = error_chain(source);
    if chain.starts_with(status.message()) {
        chain
    } else {
        format!("{}: {chain}", status.message())
    }
}

/// grpc-go's `status.Error` text: `rpc error: code = NotFound desc = unknown service`.
fn rpc_error(code: Code, message: &str) -> String {
    format!("rpc error: code = {} desc = {message}", code_name(code))
}

/// The name grpc-go gives a status code (`codes.Code.String()`).
fn code_name(code: Code) -> String {
    match code {
        Code::Ok => "OK".to_owned(),
        Code::Cancelled => "Canceled".to_owned(),
        // The remaining variants carry grpc-go's names already.
        other => format!("{other:?}"),
    }
}

/// The protobuf name of a serving status (`NOT_SERVING`), or its number when unknown, as
/// Go's generated `String()` prints it.
fn status_name(status: i32) -> String {
    match ServingStatus::try_from(status) {
        Ok(known) => known.as_str_name().to_owned(),
        Err(_) => status.to_string(),
    }
}

/// The host of `host:port` (brackets of an IPv6 literal removed); all of it without a port.
fn host_of(addr: &str) -> &str {
    let host = match addr.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => host,
        _ => addr,
    };
    host.strip_prefix('[')
        .and_then(|inner| inner.strip_suffix(']'))
        .unwrap_or(host)
}

#[cfg(test)]
mod tests;
