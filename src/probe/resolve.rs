//! Name resolution for the probe, telling "this name does not exist" (the resolver answered)
//! apart from "no resolver answered" (the probe cannot run: exit 4).
//!
//! By default the system resolver (`getaddrinfo`, so /etc/hosts and nsswitch apply); with
//! `--dns-server IP[:PORT]` a small DNS client asks that server directly over UDP (RFC 1035
//! §4.2.1), which also lets a test point the probe at a closed loopback port. Either way IP
//! literals need no lookup, and the special-use names of RFC 6761 are answered without asking
//! anybody: `localhost` and `*.localhost` (§6.3: the loopback addresses) and `*.invalid` (§6.4:
//! never exists).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Who answers name lookups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Resolver {
    /// `getaddrinfo`: /etc/hosts, then the DNS servers of /etc/resolv.conf.
    #[default]
    System,
    /// This DNS server, over UDP.
    Server(SocketAddr),
}

impl Resolver {
    /// `IP` or `IP:PORT` (an IPv6 address with a port is written `[::1]:53`).
    pub fn parse_server(s: &str) -> Result<Resolver, String> {
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Ok(Resolver::Server(SocketAddr::new(ip, 53)));
        }
        s.parse::<SocketAddr>().map(Resolver::Server).map_err(|_| {
            format!("{s:?} is not an IP address or IP:PORT (e.g. 192.0.2.53 or 127.0.0.1:5353)")
        })
    }

    fn describe(self) -> String {
        match self {
            Resolver::System => "the system resolver".into(),
            Resolver::Server(a) => format!("the DNS server {a}"),
        }
    }
}

/// Why a name gave no address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveError {
    /// The resolver answered: the name does not exist (NXDOMAIN), or is `*.invalid`.
    NotFound(String),
    /// The resolver answered: the name exists but has no A/AAAA record.
    NoAddress(String),
    /// The resolver answered with a failure of its own (SERVFAIL, REFUSED, ...).
    Failed(String),
    /// No resolver answered at all (unreachable, or silent for the whole timeout).
    Unreachable(String),
}

impl ResolveError {
    pub fn message(&self) -> &str {
        match self {
            ResolveError::NotFound(m)
            | ResolveError::NoAddress(m)
            | ResolveError::Failed(m)
            | ResolveError::Unreachable(m) => m,
        }
    }
}

/// The addresses of `host`, resolved by `resolver` within `timeout`.
pub fn resolve(
    resolver: Resolver,
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<Vec<SocketAddr>, ResolveError> {
    let name = host.trim_end_matches('.').to_ascii_lowercase();
    if let Ok(ip) = name
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    if name == "localhost" || name.ends_with(".localhost") {
        return Ok(vec![
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port),
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), port),
        ]);
    }
    if name == "invalid" || name.ends_with(".invalid") {
        return Err(ResolveError::NotFound(format!(
            "{host} does not exist (names under .invalid never do, RFC 6761 §6.4)"
        )));
    }
    let addrs = match resolver {
        Resolver::System => system(host, port, timeout),
        Resolver::Server(server) => dns(server, &name, timeout).map(|ips| {
            ips.into_iter()
                .map(|ip| SocketAddr::new(ip, port))
                .collect()
        }),
    };
    match addrs {
        Ok(a) if a.is_empty() => Err(ResolveError::NoAddress(format!(
            "{host} has no A/AAAA record (answered by {})",
            resolver.describe()
        ))),
        Ok(a) => Ok(a),
        Err(Lookup::NotFound) => Err(ResolveError::NotFound(format!(
            "{host} does not exist (answered by {})",
            resolver.describe()
        ))),
        Err(Lookup::Failed(why)) => Err(ResolveError::Failed(format!(
            "{host} could not be resolved: {why} (answered by {})",
            resolver.describe()
        ))),
        Err(Lookup::Unreachable(why)) => Err(ResolveError::Unreachable(format!(
            "{host} could not be resolved: {} did not answer ({why})",
            resolver.describe()
        ))),
    }
}

enum Lookup {
    NotFound,
    Failed(String),
    Unreachable(String),
}

/// `getaddrinfo` on a helper thread: it has no timeout we control. EAI_AGAIN is "no name
/// server answered"; EAI_NONAME (and glibc's EAI_NODATA) is an answer.
fn system(host: &str, port: u16, timeout: Duration) -> Result<Vec<SocketAddr>, Lookup> {
    let (tx, rx) = mpsc::channel();
    let h = host.to_string();
    std::thread::spawn(move || {
        let _ = tx.send(getaddrinfo(&h, port));
    });
    match rx.recv_timeout(timeout) {
        Ok(r) => r,
        Err(_) => Err(Lookup::Unreachable(format!(
            "no answer within {} s",
            timeout.as_secs_f32()
        ))),
    }
}

#[cfg(unix)]
fn getaddrinfo(host: &str, port: u16) -> Result<Vec<SocketAddr>, Lookup> {
    use std::ffi::{CStr, CString};
    let Ok(c_host) = CString::new(host) else {
        return Err(Lookup::NotFound);
    };
    // SAFETY: an all-zero addrinfo is the documented "no hints" value.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_socktype = libc::SOCK_STREAM;
    let mut res: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: valid NUL-terminated host, null service, valid hints and out pointer.
    let rc = unsafe { libc::getaddrinfo(c_host.as_ptr(), std::ptr::null(), &hints, &mut res) };
    if rc != 0 {
        // SAFETY: gai_strerror returns a static string for any code.
        let text = unsafe { CStr::from_ptr(libc::gai_strerror(rc)) }
            .to_string_lossy()
            .into_owned();
        return Err(match rc {
            libc::EAI_AGAIN => Lookup::Unreachable(text),
            libc::EAI_NONAME => Lookup::NotFound,
            #[cfg(all(target_os = "linux", target_env = "gnu"))]
            libc::EAI_NODATA => Lookup::NotFound,
            _ => Lookup::Failed(text),
        });
    }
    let mut out = Vec::new();
    let mut p = res;
    while !p.is_null() {
        // SAFETY: p walks the list getaddrinfo returned, freed below.
        let ai = unsafe { &*p };
        if !ai.ai_addr.is_null() {
            match ai.ai_family {
                libc::AF_INET => {
                    // SAFETY: AF_INET entries hold a sockaddr_in.
                    let sa = unsafe { &*(ai.ai_addr as *const libc::sockaddr_in) };
                    let ip = Ipv4Addr::from(u32::from_be(sa.sin_addr.s_addr));
                    out.push(SocketAddr::new(IpAddr::V4(ip), port));
                }
                libc::AF_INET6 => {
                    // SAFETY: AF_INET6 entries hold a sockaddr_in6.
                    let sa = unsafe { &*(ai.ai_addr as *const libc::sockaddr_in6) };
                    let ip = Ipv6Addr::from(sa.sin6_addr.s6_addr);
                    out.push(SocketAddr::new(IpAddr::V6(ip), port));
                }
                _ => {}
            }
        }
        p = ai.ai_next;
    }
    // SAFETY: res came from a successful getaddrinfo and is freed once.
    unsafe { libc::freeaddrinfo(res) };
    out.dedup();
    Ok(out)
}

#[cfg(not(unix))]
fn getaddrinfo(host: &str, port: u16) -> Result<Vec<SocketAddr>, Lookup> {
    use std::net::ToSocketAddrs;
    (host, port)
        .to_socket_addrs()
        .map(|a| a.collect())
        .map_err(|e| Lookup::Failed(e.to_string()))
}

const TYPE_A: u16 = 1;
const TYPE_AAAA: u16 = 28;

/// A and AAAA from one DNS server over UDP, each query retried once within `timeout`.
fn dns(server: SocketAddr, name: &str, timeout: Duration) -> Result<Vec<IpAddr>, Lookup> {
    let bind: SocketAddr = if server.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let sock = UdpSocket::bind(bind).map_err(|e| Lookup::Unreachable(e.to_string()))?;
    // A connected UDP socket receives the ICMP "port unreachable" as ECONNREFUSED.
    sock.connect(server)
        .map_err(|e| Lookup::Unreachable(e.to_string()))?;
    let deadline = Instant::now() + timeout;
    let mut ips = Vec::new();
    for (n, qtype) in [TYPE_A, TYPE_AAAA].into_iter().enumerate() {
        let id = (std::process::id() as u16)
            .wrapping_mul(31)
            .wrapping_add(n as u16);
        let query = encode_query(id, name, qtype).ok_or(Lookup::NotFound)?;
        // Once A has answered with addresses, AAAA cannot undo that (some servers answer
        // NXDOMAIN for the type they have no record of).
        match exchange(&sock, &query, id, deadline) {
            Ok(Answer::Addresses(a)) => ips.extend(a),
            _ if !ips.is_empty() => {}
            Ok(Answer::NxDomain) => return Err(Lookup::NotFound),
            Ok(Answer::Error(rcode)) => {
                return Err(Lookup::Failed(format!("the server answered {rcode}")));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(ips)
}

enum Answer {
    NxDomain,
    Addresses(Vec<IpAddr>),
    Error(&'static str),
}

fn exchange(sock: &UdpSocket, query: &[u8], id: u16, deadline: Instant) -> Result<Answer, Lookup> {
    let mut buf = [0u8; 1500];
    for _attempt in 0..2 {
        sock.send(query)
            .map_err(|e| Lookup::Unreachable(e.to_string()))?;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Lookup::Unreachable("no answer within the timeout".into()));
            }
            // Half the time left per attempt, so a lost datagram gets one retry.
            let wait = (left / 2).max(Duration::from_millis(50)).min(left);
            let _ = sock.set_read_timeout(Some(wait));
            match sock.recv(&mut buf) {
                Ok(n) => {
                    if let Some(a) = parse_answer(&buf[..n], id) {
                        return Ok(a);
                    }
                    // Not our answer (or malformed): keep waiting.
                }
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                    return Err(Lookup::Unreachable("connection refused".into()));
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    break;
                }
                Err(e) => return Err(Lookup::Unreachable(e.to_string())),
            }
        }
    }
    Err(Lookup::Unreachable("no answer within the timeout".into()))
}

fn encode_query(id: u16, name: &str, qtype: u16) -> Option<Vec<u8>> {
    let mut q = Vec::with_capacity(32 + name.len());
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00]); // RD
    q.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]); // QDCOUNT 1
    for label in name.split('.') {
        if label.is_empty() || label.len() > 63 {
            return None;
        }
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.push(0);
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&1u16.to_be_bytes()); // IN
    Some(q)
}

/// The A/AAAA records of the answer section (CNAME chains are followed by the server, which
/// puts the target's records into the same answer); `None` for a datagram that is not the
/// answer to `id`.
fn parse_answer(m: &[u8], id: u16) -> Option<Answer> {
    if m.len() < 12 || u16::from_be_bytes([m[0], m[1]]) != id || m[2] & 0x80 == 0 {
        return None;
    }
    match m[3] & 0x0f {
        0 => {}
        3 => return Some(Answer::NxDomain),
        2 => return Some(Answer::Error("SERVFAIL")),
        5 => return Some(Answer::Error("REFUSED")),
        _ => return Some(Answer::Error("an error")),
    }
    let qd = u16::from_be_bytes([m[4], m[5]]);
    let an = u16::from_be_bytes([m[6], m[7]]);
    let mut i = 12;
    for _ in 0..qd {
        i = skip_name(m, i)? + 4;
    }
    let mut out = Vec::new();
    for _ in 0..an {
        i = skip_name(m, i)?;
        let rtype = u16::from_be_bytes([*m.get(i)?, *m.get(i + 1)?]);
        let len = u16::from_be_bytes([*m.get(i + 8)?, *m.get(i + 9)?]) as usize;
        let data = m.get(i + 10..i + 10 + len)?;
        match (rtype, len) {
            (TYPE_A, 4) => out.push(IpAddr::V4(Ipv4Addr::new(
                data[0], data[1], data[2], data[3],
            ))),
            (TYPE_AAAA, 16) => {
                let mut b = [0u8; 16];
                b.copy_from_slice(data);
                out.push(IpAddr::V6(Ipv6Addr::from(b)));
            }
            _ => {}
        }
        i += 10 + len;
    }
    Some(Answer::Addresses(out))
}

fn skip_name(m: &[u8], mut i: usize) -> Option<usize> {
    loop {
        let len = *m.get(i)?;
        if len & 0xc0 == 0xc0 {
            return Some(i + 2);
        }
        if len == 0 {
            return Some(i + 1);
        }
        i += 1 + len as usize;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_use_names_are_answered_locally() {
        let closed = Resolver::Server("127.0.0.1:9".parse().unwrap());
        let t = Duration::from_secs(1);
        assert!(resolve(closed, "localhost", 25, t).is_ok());
        assert!(resolve(closed, "127.0.0.2", 25, t).is_ok());
        assert!(matches!(
            resolve(closed, "mail.invalid", 25, t),
            Err(ResolveError::NotFound(_))
        ));
    }

    #[test]
    fn answers_are_parsed() {
        // An answer to "a.b" A: header, question, one A record 192.0.2.7 with a name pointer.
        let mut m = vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
        m.extend_from_slice(&[1, b'a', 1, b'b', 0, 0, 1, 0, 1]);
        m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 7]);
        match parse_answer(&m, 0x1234) {
            Some(Answer::Addresses(a)) => {
                assert_eq!(a, vec!["192.0.2.7".parse::<IpAddr>().unwrap()])
            }
            _ => panic!("not parsed"),
        }
        assert!(parse_answer(&m, 0x4321).is_none());
        m[3] = 0x83;
        assert!(matches!(parse_answer(&m, 0x1234), Some(Answer::NxDomain)));
    }
}
