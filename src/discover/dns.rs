//! The DNS records discovery needs (SRV, MX, TXT), asked of one name server over UDP
//! (RFC 1035 §4.2.1), with TCP when the answer is truncated (RFC 7766 §4; RFC 1123 §6.1.3.2).
//!
//! The server is `--dns-server`, or else the first `nameserver` of /etc/resolv.conf: the C
//! library offers no portable SRV lookup, so "the system resolver" here means the name server
//! the system is configured with.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use crate::probe::resolve::{encode_query, skip_name, Resolver};

pub const TYPE_MX: u16 = 15;
pub const TYPE_TXT: u16 = 16;
pub const TYPE_SRV: u16 = 33;

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

pub fn srv(server: SocketAddr, name: &str, timeout: Duration) -> Result<Vec<Srv>, LookupError> {
    let answer = query(server, name, TYPE_SRV, timeout)?;
    Ok(answer
        .of_type(TYPE_SRV)
        .filter_map(|(start, d)| {
            let (target, _) = read_name(&answer.message, start + 6)?;
            Some(Srv {
                priority: u16::from_be_bytes([*d.first()?, *d.get(1)?]),
                weight: u16::from_be_bytes([*d.get(2)?, *d.get(3)?]),
                port: u16::from_be_bytes([*d.get(4)?, *d.get(5)?]),
                target,
            })
        })
        .collect())
}

pub fn mx(server: SocketAddr, name: &str, timeout: Duration) -> Result<Vec<Mx>, LookupError> {
    let answer = query(server, name, TYPE_MX, timeout)?;
    Ok(answer
        .of_type(TYPE_MX)
        .filter_map(|(start, d)| {
            let (exchange, _) = read_name(&answer.message, start + 2)?;
            Some(Mx {
                preference: u16::from_be_bytes([*d.first()?, *d.get(1)?]),
                exchange,
            })
        })
        .collect())
}

/// Each TXT record's character-strings joined (RFC 7208 §3.3 joins them without spaces).
pub fn txt(server: SocketAddr, name: &str, timeout: Duration) -> Result<Vec<String>, LookupError> {
    let answer = query(server, name, TYPE_TXT, timeout)?;
    Ok(answer
        .of_type(TYPE_TXT)
        .map(|(_, d)| {
            let mut text = Vec::new();
            let mut i = 0;
            while i < d.len() {
                let len = d[i] as usize;
                let end = (i + 1 + len).min(d.len());
                text.extend_from_slice(&d[i + 1..end]);
                i = end;
            }
            String::from_utf8_lossy(&text).into_owned()
        })
        .collect())
}

/// An answer message and where each of its answer records' data lies (names in the data may
/// point anywhere in the message, so records are read against the whole message).
struct Answer {
    message: Vec<u8>,
    /// (type, data start, data length)
    records: Vec<(u16, usize, usize)>,
}

impl Answer {
    /// The data of each record of type `want`, with its offset in the message.
    fn of_type(&self, want: u16) -> impl Iterator<Item = (usize, &[u8])> {
        self.records
            .iter()
            .filter(move |r| r.0 == want)
            .map(|&(_, start, len)| (start, &self.message[start..start + len]))
    }
}

/// The answer section for `name`/`qtype` (empty for NXDOMAIN or no records of that type).
fn query(
    server: SocketAddr,
    name: &str,
    qtype: u16,
    timeout: Duration,
) -> Result<Answer, LookupError> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let id = random_id();
    let Some(q) = encode_query(id, &name, qtype) else {
        // Not a valid DNS name: it cannot exist.
        return Ok(Answer {
            message: Vec::new(),
            records: Vec::new(),
        });
    };
    let deadline = Instant::now() + timeout;
    let mut message = udp(server, &q, id, deadline)?;
    if message[2] & 0x02 != 0 {
        message = tcp(server, &q, id, deadline)?;
    }
    let records = parse(&message, &name, server)?;
    Ok(Answer { message, records })
}

fn parse(
    m: &[u8],
    name: &str,
    server: SocketAddr,
) -> Result<Vec<(u16, usize, usize)>, LookupError> {
    let bad = || {
        LookupError(format!(
            "the DNS server {server} sent a malformed answer for {name}"
        ))
    };
    match m[3] & 0x0f {
        0 | 3 => {} // NOERROR, NXDOMAIN
        rcode => {
            let what = match rcode {
                2 => "SERVFAIL",
                5 => "REFUSED",
                _ => "an error",
            };
            return Err(LookupError(format!(
                "the DNS server {server} answered {what} for {name}"
            )));
        }
    }
    let qd = u16::from_be_bytes([m[4], m[5]]);
    let an = u16::from_be_bytes([m[6], m[7]]);
    let mut i = 12;
    for _ in 0..qd {
        i = skip_name(m, i).ok_or_else(bad)? + 4;
    }
    let mut out = Vec::new();
    for _ in 0..an {
        i = skip_name(m, i).ok_or_else(bad)?;
        let field = |k: usize| -> Option<u16> {
            Some(u16::from_be_bytes([*m.get(i + k)?, *m.get(i + k + 1)?]))
        };
        let rtype = field(0).ok_or_else(bad)?;
        let len = field(8).ok_or_else(bad)? as usize;
        if m.len() < i + 10 + len {
            return Err(bad());
        }
        out.push((rtype, i + 10, len));
        i += 10 + len;
    }
    Ok(out)
}

/// A name at `i`, following compression pointers (RFC 1035 §4.1.4) at most 64 times; the
/// root name is "".
fn read_name(m: &[u8], mut i: usize) -> Option<(String, usize)> {
    let mut labels: Vec<String> = Vec::new();
    let mut end = None;
    for _ in 0..64 {
        let len = *m.get(i)?;
        if len & 0xc0 == 0xc0 {
            end.get_or_insert(i + 2);
            i = (((len & 0x3f) as usize) << 8) | *m.get(i + 1)? as usize;
            continue;
        }
        if len == 0 {
            return Some((labels.join(".").to_ascii_lowercase(), end.unwrap_or(i + 1)));
        }
        let label = m.get(i + 1..i + 1 + len as usize)?;
        labels.push(String::from_utf8_lossy(label).into_owned());
        i += 1 + len as usize;
    }
    None
}

/// An unpredictable query ID (with the OS's random source port, what keeps an off-path
/// attacker from forging answers, RFC 5452 §9.2): std's RandomState is seeded from the OS.
fn random_id() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(Instant::now().elapsed().as_nanos() as u64);
    h.finish() as u16
}

fn is_answer(m: &[u8], id: u16) -> bool {
    m.len() >= 12 && u16::from_be_bytes([m[0], m[1]]) == id && m[2] & 0x80 != 0
}

fn udp(
    server: SocketAddr,
    query: &[u8],
    id: u16,
    deadline: Instant,
) -> Result<Vec<u8>, LookupError> {
    let unreachable =
        |why: String| LookupError(format!("the DNS server {server} did not answer ({why})"));
    let bind: SocketAddr = if server.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let sock = UdpSocket::bind(bind).map_err(|e| unreachable(e.to_string()))?;
    sock.connect(server)
        .map_err(|e| unreachable(e.to_string()))?;
    let mut buf = vec![0u8; 4096];
    for _attempt in 0..2 {
        sock.send(query).map_err(|e| unreachable(e.to_string()))?;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(unreachable("no answer within the timeout".into()));
            }
            // Half the time left per attempt, so a lost datagram gets one retry.
            let wait = (left / 2).max(Duration::from_millis(50)).min(left);
            let _ = sock.set_read_timeout(Some(wait));
            match sock.recv(&mut buf) {
                Ok(n) if is_answer(&buf[..n], id) => return Ok(buf[..n].to_vec()),
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    break
                }
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                    return Err(unreachable("connection refused".into()))
                }
                Err(e) => return Err(unreachable(e.to_string())),
            }
        }
    }
    Err(unreachable("no answer within the timeout".into()))
}

fn tcp(
    server: SocketAddr,
    query: &[u8],
    id: u16,
    deadline: Instant,
) -> Result<Vec<u8>, LookupError> {
    let failed = |why: String| {
        LookupError(format!(
            "the DNS server {server} did not answer over TCP ({why})"
        ))
    };
    let left = || {
        deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(50))
    };
    let mut s = TcpStream::connect_timeout(&server, left()).map_err(|e| failed(e.to_string()))?;
    let _ = s.set_read_timeout(Some(left()));
    let mut framed = (query.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(query);
    s.write_all(&framed).map_err(|e| failed(e.to_string()))?;
    let mut len = [0u8; 2];
    s.read_exact(&mut len).map_err(|e| failed(e.to_string()))?;
    let mut m = vec![0u8; u16::from_be_bytes(len) as usize];
    s.read_exact(&mut m).map_err(|e| failed(e.to_string()))?;
    if !is_answer(&m, id) {
        return Err(failed("not an answer to the query".into()));
    }
    Ok(m)
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

    proptest::proptest! {
        /// Whatever a server sends, reading it never panics.
        #[test]
        fn any_bytes_are_read_without_panicking(
            m in proptest::collection::vec(proptest::prelude::any::<u8>(), 12..600),
            at in 0usize..600,
        ) {
            let server: SocketAddr = "127.0.0.1:53".parse().unwrap();
            if let Ok(records) = parse(&m, "x.test", server) {
                let answer = Answer { message: m.clone(), records };
                for t in [TYPE_SRV, TYPE_MX, TYPE_TXT] {
                    for (start, _) in answer.of_type(t) {
                        let _ = read_name(&answer.message, start + 6);
                    }
                }
            }
            let _ = read_name(&m, at);
        }
    }

    #[test]
    fn compressed_names_are_followed_and_loops_end() {
        // "mail.example" at 0, then "imap" + pointer to 5 ("example").
        let m = [
            4, b'm', b'a', b'i', b'l', 7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 0, 4, b'i',
            b'm', b'a', b'p', 0xc0, 5,
        ];
        assert_eq!(read_name(&m, 14), Some(("imap.example".into(), 21)));
        assert_eq!(read_name(&[0], 0), Some((String::new(), 1)));
        assert_eq!(read_name(&[0xc0, 0], 0), None);
    }
}
