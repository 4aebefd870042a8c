//! The DNS client for records (MX, TXT, SRV): hickory-resolver (the one mail-auth evaluates SPF
//! and DMARC with), asked over UDP and TCP, pointed at `--dns-server` or at the system's name
//! servers (/etc/resolv.conf). The deliverability stage and `discover` run it on a current-thread
//! Tokio runtime that lives only for their lookups: the rest of mailcfg stays synchronous.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use mail_auth::hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use mail_auth::hickory_resolver::net::runtime::TokioRuntimeProvider;
use mail_auth::hickory_resolver::net::{DnsError, NetError};
use mail_auth::hickory_resolver::proto::op::ResponseCode;
use mail_auth::hickory_resolver::proto::rr::{Name, RData};
use mail_auth::hickory_resolver::system_conf::read_system_conf;
use mail_auth::hickory_resolver::TokioResolver;
use mail_auth::MessageAuthenticator;

use crate::probe::resolve::Resolver;

/// Why a lookup gave no records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Miss {
    /// NXDOMAIN: the name does not exist.
    NoSuchName,
    /// The name exists but has no record of the type asked for (NODATA).
    NoRecords,
    /// No usable answer: a timeout, SERVFAIL, REFUSED, an unreachable server.
    Unanswered(String),
}

pub type Lookup<T> = Result<T, Miss>;

/// The hickory configuration that asks `resolver` (UDP, then TCP for a truncated answer), each
/// lookup within `timeout`: a stage has many lookups, and a silent server must not cost a
/// multiple of the timeout each.
pub fn config(
    resolver: Resolver,
    timeout: Duration,
) -> Result<(ResolverConfig, ResolverOpts), String> {
    let (config, mut opts) = match resolver {
        Resolver::Server(addr) => {
            let mut server = NameServerConfig::udp_and_tcp(addr.ip());
            for c in &mut server.connections {
                c.port = addr.port();
            }
            (
                ResolverConfig::from_name_servers(vec![server]),
                ResolverOpts::default(),
            )
        }
        Resolver::System => read_system_conf()
            .map_err(|e| format!("cannot read the system's DNS configuration: {e}"))?,
    };
    // Half the time per try and one retry (`attempts` counts retries): a lost datagram is sent
    // again, and a silent server still costs one timeout per lookup.
    opts.timeout = (timeout / 2).max(Duration::from_millis(50));
    opts.attempts = 1;
    opts.edns0 = true;
    Ok((config, opts))
}

/// An authenticator (mail-auth's SPF/DMARC evaluator) whose resolver asks `resolver`.
pub fn authenticator(
    resolver: Resolver,
    timeout: Duration,
) -> Result<MessageAuthenticator, String> {
    let (config, opts) = self::config(resolver, timeout)?;
    MessageAuthenticator::new(config, opts).map_err(|e| format!("DNS client: {e}"))
}

/// A plain resolver asking `resolver` (for lookups that are not SPF or DMARC).
pub fn resolver(resolver: Resolver, timeout: Duration) -> Result<TokioResolver, String> {
    let (config, opts) = self::config(resolver, timeout)?;
    TokioResolver::builder_with_config(config, TokioRuntimeProvider::default())
        .with_options(opts)
        .build()
        .map_err(|e| format!("DNS client: {e}"))
}

/// `lookup`'s output, or the reason when `server` refuses datagrams first (nobody listens on
/// its port). hickory's UDP sockets are not connected, so the ICMP "port unreachable" that a
/// closed port answers with never reaches them, and a lookup would wait out its whole timeout;
/// a connected socket hears it at once.
pub async fn unless_refused<F: Future>(server: SocketAddr, lookup: F) -> Result<F::Output, String> {
    let mut lookup = pin!(lookup);
    let mut refusal = pin!(refusal(server));
    std::future::poll_fn(|cx| {
        if let Poll::Ready(why) = refusal.as_mut().poll(cx) {
            return Poll::Ready(Err(why));
        }
        lookup.as_mut().poll(cx).map(Ok)
    })
    .await
}

/// Resolves with the reason when `server` refuses a datagram; never resolves otherwise (an
/// answer, silence or a local error leave the verdict to the lookup itself).
async fn refusal(server: SocketAddr) -> String {
    let local: SocketAddr = if server.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        ([0u16; 8], 0).into()
    };
    if let Ok(sock) = tokio::net::UdpSocket::bind(local).await {
        // A DNS header with no question: a server answers it with an error or ignores it, and
        // a closed port answers it with "port unreachable".
        let header = [0x4d, 0x43, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        if sock.connect(server).await.is_ok() && sock.send(&header).await.is_ok() {
            let mut buf = [0u8; 512];
            if let Err(e) = sock.recv(&mut buf).await {
                if e.kind() == std::io::ErrorKind::ConnectionRefused {
                    return "connection refused".into();
                }
            }
        }
    }
    std::future::pending().await
}

pub fn name(domain: &str) -> Lookup<Name> {
    let fqdn = format!("{}.", domain.trim_end_matches('.'));
    Name::from_utf8(&fqdn).map_err(|_| Miss::NoSuchName)
}

pub fn miss(e: NetError) -> Miss {
    match &e {
        NetError::Dns(DnsError::NoRecordsFound(n)) if n.response_code == ResponseCode::NXDomain => {
            Miss::NoSuchName
        }
        NetError::Dns(DnsError::NoRecordsFound(_)) => Miss::NoRecords,
        _ => Miss::Unanswered(e.to_string()),
    }
}

/// The TXT records of `domain`, each one's character-strings joined (RFC 7208 §3.3, RFC 7489 §6.1).
pub async fn txt(auth: &MessageAuthenticator, domain: &str) -> Lookup<Vec<String>> {
    let lookup = auth
        .resolver()
        .txt_lookup(name(domain)?)
        .await
        .map_err(miss)?;
    let records: Vec<String> = lookup
        .answers()
        .iter()
        .filter_map(|r| match &r.data {
            RData::TXT(t) => Some(
                t.txt_data
                    .iter()
                    .map(|s| String::from_utf8_lossy(s))
                    .collect::<String>(),
            ),
            _ => None,
        })
        .collect();
    if records.is_empty() {
        return Err(Miss::NoRecords);
    }
    Ok(records)
}

/// The MX records of `domain`, most preferred first; a null MX (RFC 7505) is `(0, ".")`.
pub async fn mx(auth: &MessageAuthenticator, domain: &str) -> Lookup<Vec<(u16, String)>> {
    let lookup = auth
        .resolver()
        .mx_lookup(name(domain)?)
        .await
        .map_err(miss)?;
    let mut hosts: Vec<(u16, String)> = lookup
        .answers()
        .iter()
        .filter_map(|r| match &r.data {
            RData::MX(m) => Some((m.preference, m.exchange.to_ascii())),
            _ => None,
        })
        .map(|(p, h)| {
            let h = if h == "." {
                h
            } else {
                h.trim_end_matches('.').to_ascii_lowercase()
            };
            (p, h)
        })
        .collect();
    if hosts.is_empty() {
        return Err(Miss::NoRecords);
    }
    hosts.sort();
    Ok(hosts)
}

/// Whether `ip` is one the public DNS can say nothing useful about (loopback, private,
/// link-local): its SPF verdict says little about what receivers on the Internet will see.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}
