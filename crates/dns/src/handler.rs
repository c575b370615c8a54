//! The hickory [`RequestHandler`]: checks the request, routes the name, reads the
//! catalog (stale by default), builds and fits the reply, sends it.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use hickory_net::runtime::Time;
use hickory_net::xfer::Protocol;
use hickory_proto::op::{Edns, Header, Message, Metadata, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::opt::{ClientSubnet, EdnsCode, EdnsOption};
use hickory_proto::rr::{DNSClass, Name, Record, RecordType};
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::MessageResponseBuilder;
use praetor_agent::{Backend, BackendError};
use praetor_types::{Consistency, QueryMeta, QueryOptions};
use tracing::debug;

use crate::answer::{self, Question, Reply};
use crate::config::DnsSettings;
use crate::name::{Lookup, Route, Zones};
use crate::records;
use crate::recursor;
use crate::trim::{self, Limits};

/// The longest a cached UDP answer is used, even while the catalog does not change.
const MAX_CACHE_AGE: Duration = Duration::from_secs(1);

/// Answers DNS questions from the catalog behind a [`Backend`].
#[derive(Clone)]
pub struct DnsHandler {
    backend: Arc<dyn Backend>,
    settings: Arc<DnsSettings>,
    zones: Arc<Zones>,
}

/// What a question comes to before it is sent.
#[derive(Debug)]
pub enum Outcome {
    /// A reply from a served zone (or an error code with no records).
    Reply(Reply),
    /// A recursor's answer, relayed.
    Relay(Message),
}

impl DnsHandler {
    /// A handler reading `backend` with `settings`.
    pub fn new(backend: Arc<dyn Backend>, settings: DnsSettings) -> Self {
        let zones = Zones::new(&settings.domain, settings.alt_domain.as_deref());
        Self {
            backend,
            settings: Arc::new(settings),
            zones: Arc::new(zones),
        }
    }

    /// The settings in use.
    pub fn settings(&self) -> &DnsSettings {
        &self.settings
    }

    /// Answers one question. `raw` is the request as received, forwarded verbatim to
    /// recursors for names outside the zones.
    pub async fn answer(&self, query: &Query, raw: &[u8], udp: bool) -> Outcome {
        let labels: Vec<String> = query
            .name()
            .iter()
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect();
        let qtype = query.query_type();
        match self.zones.route(&labels, qtype == RecordType::SRV) {
            Route::Outside => self.recurse(raw, udp).await,
            Route::Reverse(ip) => match self.reverse(query, ip).await {
                Ok(Some(reply)) => Outcome::Reply(reply),
                Ok(None) if !self.settings.recursors.is_empty() => self.recurse(raw, udp).await,
                Ok(None) => Outcome::Reply(self.question(query, false).nxdomain()),
                Err(e) => Outcome::Reply(servfail(&e)),
            },
            Route::Zone { alt, lookup } => {
                let q = self.question(query, alt);
                match self.lookup(&q, lookup).await {
                    Ok(reply) => Outcome::Reply(reply),
                    Err(e) => Outcome::Reply(servfail(&e)),
                }
            }
        }
    }

    fn question(&self, query: &Query, alt: bool) -> Question<'_> {
        let domain = match (&self.settings.alt_domain, alt) {
            (Some(alt), true) => alt.as_str(),
            _ => self.settings.domain.as_str(),
        };
        Question {
            settings: &self.settings,
            name: query.name().clone(),
            qtype: query.query_type(),
            domain,
        }
    }

    async fn lookup(&self, q: &Question<'_>, lookup: Lookup) -> Result<Reply, BackendError> {
        // SOA and NS questions anywhere in the zone answer for the zone.
        match q.qtype {
            RecordType::SOA => return Ok(q.soa(&self.servers().await?)),
            RecordType::NS => return Ok(q.ns(&self.servers().await?)),
            _ => {}
        }
        let dc_ok =
            |dc: &Option<String>| dc.as_ref().is_none_or(|d| *d == self.settings.datacenter);
        match lookup {
            Lookup::Apex => Ok(q.nodata()),
            Lookup::Node { node, dc } if dc_ok(&dc) => {
                let found = self.node(&node).await?;
                Ok(q.node(found.as_ref()))
            }
            Lookup::Service { service, tag, dc } if dc_ok(&dc) => {
                let (name, instances) = self.service(&service, tag).await?;
                Ok(q.service(&name, instances))
            }
            Lookup::Addr(ip) => Ok(q.addr(ip)),
            _ => Ok(q.nxdomain()),
        }
    }

    /// Read options: stale unless `allow_stale` is off or `fresh` asks for the leader.
    fn opts(&self, fresh: bool) -> QueryOptions {
        QueryOptions {
            consistency: if self.settings.allow_stale && !fresh {
                Consistency::Stale
            } else {
                Consistency::Default
            },
            ..QueryOptions::default()
        }
    }

    /// A stale answer from a server that has not heard from the leader within
    /// `max_stale` is asked again of the leader.
    fn too_stale(&self, meta: &QueryMeta) -> bool {
        self.settings.allow_stale && meta.last_contact > self.settings.max_stale
    }

    async fn node(&self, name: &str) -> Result<Option<praetor_types::Node>, BackendError> {
        let node = self.node_exact(name).await?;
        if node.is_some() {
            return Ok(node);
        }
        // Names are matched case-insensitively, as in Consul.
        let (_, nodes) = self.backend.catalog_nodes(self.opts(false)).await?;
        match nodes
            .into_iter()
            .find(|n| n.node.eq_ignore_ascii_case(name))
        {
            Some(n) if n.node != name => self.node_exact(&n.node).await,
            _ => Ok(None),
        }
    }

    async fn node_exact(&self, name: &str) -> Result<Option<praetor_types::Node>, BackendError> {
        let (meta, found) = self.backend.catalog_node(name, self.opts(false)).await?;
        let found = if self.too_stale(&meta) {
            self.backend.catalog_node(name, self.opts(true)).await?.1
        } else {
            found
        };
        Ok(found.map(|ns| ns.node))
    }

    async fn service(
        &self,
        name: &str,
        tag: Option<String>,
    ) -> Result<(String, Vec<praetor_types::CheckServiceNode>), BackendError> {
        let tags: Vec<String> = tag.into_iter().collect();
        let found = self.service_exact(name, &tags).await?;
        if !found.is_empty() {
            return Ok((name.to_owned(), found));
        }
        let (_, services) = self.backend.catalog_services(self.opts(false)).await?;
        match services.keys().find(|s| s.eq_ignore_ascii_case(name)) {
            Some(real) if real != name => {
                let real = real.clone();
                let found = self.service_exact(&real, &tags).await?;
                Ok((real, found))
            }
            _ => Ok((name.to_owned(), Vec::new())),
        }
    }

    async fn service_exact(
        &self,
        name: &str,
        tags: &[String],
    ) -> Result<Vec<praetor_types::CheckServiceNode>, BackendError> {
        let (meta, found) = self
            .backend
            .health_service(name, tags, false, self.opts(false))
            .await?;
        if self.too_stale(&meta) {
            return Ok(self
                .backend
                .health_service(name, tags, false, self.opts(true))
                .await?
                .1);
        }
        Ok(found)
    }

    /// Up to three servers for NS records.
    async fn servers(&self) -> Result<Vec<(String, IpAddr)>, BackendError> {
        let instances = self.service_exact("consul", &[]).await?;
        Ok(answer::pick_servers(
            instances,
            self.settings.self_server.as_ref(),
        ))
    }

    /// PTR answers for an address: the nodes at it, else the services at it;
    /// `None` when nothing is.
    async fn reverse(
        &self,
        query: &Query,
        ip: Option<IpAddr>,
    ) -> Result<Option<Reply>, BackendError> {
        let Some(ip) = ip else { return Ok(None) };
        let s = &self.settings;
        let (_, nodes) = self.backend.catalog_nodes(self.opts(false)).await?;
        let mut targets: Vec<Name> = nodes
            .iter()
            .filter(|n| n.address.parse::<IpAddr>() == Ok(ip))
            .filter_map(|n| records::node_name(&n.node, &s.datacenter, &s.domain))
            .collect();
        if targets.is_empty() {
            let (_, services) = self.backend.catalog_services(self.opts(false)).await?;
            for service in services.keys() {
                let (_, rows) = self
                    .backend
                    .catalog_service(service, &[], self.opts(false))
                    .await?;
                if rows
                    .iter()
                    .any(|r| r.service_address.parse::<IpAddr>() == Ok(ip))
                    && let Some(name) =
                        records::fqdn(&format!("{service}.service.{}.{}", s.datacenter, s.domain))
                {
                    targets.push(name);
                }
            }
        }
        if targets.is_empty() {
            return Ok(None);
        }
        let mut reply = Reply::empty(ResponseCode::NoError, true);
        if matches!(query.query_type(), RecordType::PTR | RecordType::ANY) {
            reply.answers = targets
                .into_iter()
                .map(|t| records::ptr(query.name(), t))
                .collect();
        }
        Ok(Some(reply))
    }

    async fn recurse(&self, raw: &[u8], udp: bool) -> Outcome {
        let s = &self.settings;
        if s.recursors.is_empty() {
            return Outcome::Reply(Reply::empty(ResponseCode::Refused, false));
        }
        match recursor::forward(
            raw,
            udp,
            &s.recursors,
            s.recursor_timeout,
            s.recursor_random,
        )
        .await
        {
            Some(msg) => Outcome::Relay(msg),
            None => Outcome::Reply(Reply::empty(ResponseCode::ServFail, false)),
        }
    }
}

fn servfail(e: &BackendError) -> Reply {
    debug!(error = %e, "DNS lookup failed");
    Reply::empty(ResponseCode::ServFail, false)
}

/// A reply ready to encode: header fields, the three record sections and the OPT record.
/// The question section is the request's, echoed.
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) meta: Metadata,
    pub(crate) answers: Vec<Record>,
    pub(crate) authorities: Vec<Record>,
    pub(crate) additionals: Vec<Record>,
    pub(crate) edns: Option<Edns>,
    /// Whether every record the lookup found is in the reply: nothing trimmed, no
    /// record limit reached (so a reshuffle of its answers is an equally good reply).
    pub(crate) complete: bool,
}

impl Response {
    pub(crate) fn empty(meta: Metadata) -> Self {
        Self {
            meta,
            answers: Vec::new(),
            authorities: Vec::new(),
            additionals: Vec::new(),
            edns: None,
            complete: false,
        }
    }
}

impl DnsHandler {
    /// The catalog index an answer computed now would be cached under, and for how
    /// long such an entry may be used: `None` when answers must not be cached (reads
    /// are not stale reads of this agent's own state). The age bound keeps a server cut
    /// off from its leader from answering from the cache much past `max_stale`.
    pub(crate) fn cache_key_index(&self) -> Option<(u64, Duration)> {
        if !self.settings.allow_stale {
            return None;
        }
        let ttl = self.settings.max_stale.min(MAX_CACHE_AGE);
        if ttl.is_zero() {
            return None;
        }
        Some((self.backend.local_catalog_index()?, ttl))
    }

    /// The response to a parsed request (any transport): refusals of what is not
    /// served, else the answer fitted to the transport. `raw` is the request as received.
    pub(crate) async fn respond(
        &self,
        request: &Metadata,
        queries: &[Query],
        edns: Option<&Edns>,
        raw: &[u8],
        udp: bool,
    ) -> Response {
        let mut meta = Metadata::response_from_request(request);
        meta.recursion_available = !self.settings.recursors.is_empty();
        let refusal = if request.op_code != OpCode::Query {
            Some(ResponseCode::NotImp)
        } else if queries.len() != 1 {
            Some(ResponseCode::FormErr)
        } else if !matches!(queries[0].query_class(), DNSClass::IN | DNSClass::ANY)
            || matches!(queries[0].query_type(), RecordType::AXFR | RecordType::IXFR)
        {
            // Other classes (CHAOS …) and zone transfers are not served.
            Some(ResponseCode::NotImp)
        } else if edns.is_some_and(|e| e.version() > 0) {
            Some(ResponseCode::BADVERS)
        } else {
            None
        };
        if let Some(code) = refusal {
            meta.response_code = code;
            return Response::empty(meta);
        }
        let query = &queries[0];
        match self.answer(query, raw, udp).await {
            Outcome::Relay(upstream) => {
                let mut meta = upstream.metadata;
                meta.id = request.id;
                meta.recursion_available = true;
                Response {
                    meta,
                    answers: upstream.answers,
                    authorities: upstream.authorities,
                    additionals: upstream.additionals,
                    edns: edns.cloned(),
                    complete: false,
                }
            }
            Outcome::Reply(mut reply) => {
                let reply_edns = response_edns(edns, &reply, udp);
                let limits = Limits::new(
                    udp,
                    edns.map(Edns::max_payload),
                    self.settings.udp_answer_limit,
                    query.query_type() == RecordType::SRV,
                );
                let limit = self.settings.a_record_limit;
                let limited = limit != 0 && reply.answers.len() >= limit;
                let trimmed = trim::fit(&mut reply, query, reply_edns.as_ref(), limits);
                meta.authoritative = reply.authoritative;
                meta.response_code = reply.rcode;
                meta.truncation = trimmed && udp && self.settings.enable_truncate;
                Response {
                    meta,
                    answers: reply.answers,
                    authorities: reply.authorities,
                    additionals: reply.additionals,
                    edns: reply_edns,
                    complete: !trimmed && !limited,
                }
            }
        }
    }
}

#[async_trait::async_trait]
impl RequestHandler for DnsHandler {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        mut response: R,
    ) -> ResponseInfo {
        let udp = request.protocol() == Protocol::Udp;
        let queries: Vec<Query> = request
            .queries
            .queries()
            .iter()
            .map(|q| q.original().clone())
            .collect();
        let reply = self
            .respond(
                &request.metadata,
                &queries,
                request.edns.as_ref(),
                request.as_slice(),
                udp,
            )
            .await;
        let mut builder = MessageResponseBuilder::from_message_request(request);
        if let Some(edns) = &reply.edns {
            builder.edns(edns);
        }
        let msg = builder.build(
            reply.meta,
            reply.answers.iter(),
            reply.authorities.iter(),
            [],
            reply.additionals.iter(),
        );
        send(&mut response, msg, reply.meta).await
    }
}

/// The OPT record of a reply to an EDNS request: the client's UDP size (at least 512),
/// and its Client Subnet option echoed with scope = source prefix (0 for errors).
fn response_edns(request: Option<&Edns>, reply: &Reply, udp: bool) -> Option<Edns> {
    let request = request?;
    let mut edns = Edns::new();
    let size = if udp {
        request.max_payload().clamp(512, 65467)
    } else {
        u16::MAX
    };
    edns.set_max_payload(size);
    if let Some(EdnsOption::Subnet(subnet)) = request.option(EdnsCode::Subnet) {
        let scope = if reply.rcode == ResponseCode::NoError {
            subnet.source_prefix()
        } else {
            0
        };
        edns.options_mut()
            .insert(EdnsOption::Subnet(ClientSubnet::new(
                subnet.addr(),
                subnet.source_prefix(),
                scope,
            )));
    }
    Some(edns)
}

async fn send<'a, R: ResponseHandler>(
    response: &mut R,
    msg: hickory_server::zone_handler::MessageResponse<
        '_,
        'a,
        impl Iterator<Item = &'a hickory_proto::rr::Record> + Send + 'a,
        impl Iterator<Item = &'a hickory_proto::rr::Record> + Send + 'a,
        impl Iterator<Item = &'a hickory_proto::rr::Record> + Send + 'a,
        impl Iterator<Item = &'a hickory_proto::rr::Record> + Send + 'a,
    >,
    meta: Metadata,
) -> ResponseInfo {
    match response.send_response(msg).await {
        Ok(info) => info,
        Err(e) => {
            debug!(error = %e, "failed to send DNS response");
            ResponseInfo::from(Header {
                metadata: meta,
                counts: Default::default(),
            })
        }
    }
}
