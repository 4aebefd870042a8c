//! The DNS records discovery needs (SRV, MX), asked of one name server with hickory-resolver
//! (UDP, and TCP when the answer is truncated, RFC 7766 §4; RFC 1123 §6.1.3.2) — the same client and configuration
//! as the probe's deliverability stage.
//!
//! The server is `--dns-server`, or else the first `nameserver` of /etc/resolv.conf: the C
//! library offers no portable SRV lookup, so "the system resolver" here means the name server
//! the system is configured with (and the messages can name it).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use mail_auth::hickory_resolver::net::{DnsError, NetError};
use mail_auth::hickory_resolver::proto::rr::{Name, RData, RecordType};

use crate::probe::deliverability::dns::{self as client, Miss};
use crate::probe::resolve::Resolver;

/// One SRV record (RFC 2782).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Srv {
    pub priority: u16,
    pub weight: u16,
    pub port: u16,
    /// Without the trailing dot; empty for the "." target ("decidedly not available").
    pub target: String,
}

/// One MX record (RFC 5321 §5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mx {
    pub preference: u16,
    pub exchange: String,
}

/// Why a lookup gave no answer at all. "No such name" and "no record of that type" are not
/// errors: they are empty answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupError(pub String);

/// Who is asked: `--dns-server`, or the system's configured name server.
pub fn name_server(resolver: Resolver) -> Result<SocketAddr, LookupError> {
    match resolver {
        Resolver::Server(a) => Ok(a),
        Resolver::System => {
            let conf = std::fs::read_to_string("/etc/resolv.conf").map_err(|e| {
                LookupError(format!(
                    "no DNS server to ask: /etc/resolv.conf cannot be read ({e}); give one with \
                     --dns-server IP[:PORT]"
                ))
            })?;
            first_nameserver(&conf).ok_or_else(|| {
                LookupError(
                    "no DNS server to ask: /etc/resolv.conf names no nameserver; give one with \
                     --dns-server IP[:PORT]"
                        .into(),
                )
            })
        }
    }
}

fn first_nameserver(conf: &str) -> Option<SocketAddr> {
    conf.lines()
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .filter_map(|rest| rest.trim().split('%').next()?.parse::<IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, 53))
        .next()
}

/// A host name without the trailing dot, lower case; "" for the root (".").
fn host(n: &Name) -> String {
    n.to_ascii().trim_end_matches('.').to_ascii_lowercase()
}

pub fn srv(server: SocketAddr, name: &str, timeout: Duration) -> Result<Vec<Srv>, LookupError> {
    lookup(server, name, RecordType::SRV, timeout, |d| match d {
        RData::SRV(s) => Some(Srv {
            priority: s.priority,
            weight: s.weight,
            port: s.port,
            target: host(&s.target),
        }),
        _ => None,
    })
}

pub fn mx(server: SocketAddr, name: &str, timeout: Duration) -> Result<Vec<Mx>, LookupError> {
    lookup(server, name, RecordType::MX, timeout, |d| match d {
        RData::MX(m) => Some(Mx {
            preference: m.preference,
            exchange: host(&m.exchange),
        }),
        _ => None,
    })
}

/// The records of type `rtype` at `name` (none for NXDOMAIN or no record of that type), on a
/// current-thread runtime of their own.
fn lookup<T>(
    server: SocketAddr,
    name: &str,
    rtype: RecordType,
    timeout: Duration,
    record: impl Fn(&RData) -> Option<T>,
) -> Result<Vec<T>, LookupError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| LookupError(format!("no async runtime for DNS lookups: {e}")))?;
    runtime.block_on(async {
        let resolver = client::resolver(Resolver::Server(server), timeout).map_err(LookupError)?;
        // Not a valid DNS name: it cannot exist.
        let Ok(fqdn) = client::name(name) else {
            return Ok(Vec::new());
        };
        let answered = client::unless_refused(server, resolver.lookup(fqdn, rtype))
            .await
            .map_err(|why| {
                LookupError(format!("the DNS server {server} did not answer ({why})"))
            })?;
        match answered {
            Ok(l) => Ok(l.answers().iter().filter_map(|r| record(&r.data)).collect()),
            Err(e) => match (&e, client::miss(e.clone())) {
                (_, Miss::NoSuchName | Miss::NoRecords) => Ok(Vec::new()),
                (NetError::Dns(DnsError::ResponseCode(code)), _) => Err(LookupError(format!(
                    "the DNS server {server} answered {code} for {name}"
                ))),
                (_, Miss::Unanswered(why)) => Err(LookupError(format!(
                    "the DNS server {server} did not answer ({why})"
                ))),
            },
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_nameserver_of_resolv_conf() {
        let conf = "# comment\nsearch example.com\nnameserver fe80::1%eth0\nnameserver 10.0.0.2\n";
        assert_eq!(
            first_nameserver(conf),
            Some("[fe80::1]:53".parse().unwrap())
        );
        assert_eq!(first_nameserver("search x\n"), None);
    }

    /// Nobody listens on the port: an error naming the server and the refusal, at once rather
    /// than after the timeout.
    #[test]
    fn a_closed_port_is_a_lookup_error_naming_the_server() {
        let closed = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let server = closed.local_addr().unwrap();
        drop(closed);
        let t = std::time::Instant::now();
        let e = srv(server, "_imaps._tcp.example.com", Duration::from_secs(10)).unwrap_err();
        assert!(
            e.0.contains(&format!(
                "the DNS server {server} did not answer (connection refused)"
            )),
            "{e:?}"
        );
        // The refusal, not the 10 s timeout, ends the lookup.
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    }
}
