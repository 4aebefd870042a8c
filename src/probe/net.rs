//! Transport for the probe: TCP connect with timeouts, a line-oriented
//! connection that can be upgraded to TLS in place (STARTTLS) or start in TLS, certificate
//! capture for the report, and classification of TLS failures.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{ring, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore,
};

/// Longest protocol line accepted; a server streaming endless data is cut off here.
const MAX_LINE: usize = 64 * 1024;

/// Why a network step failed.
#[derive(Debug)]
pub enum NetError {
    /// Nothing arrived within the read timeout.
    Timeout,
    /// The server closed the connection.
    Closed,
    Tls(rustls::Error),
    Io(io::Error),
    /// The server sent something that is not the protocol (too long, not text, ...).
    Garbage(String),
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetError::Timeout => f.write_str("no answer within the timeout"),
            NetError::Closed => f.write_str("the server closed the connection"),
            NetError::Tls(e) => write!(f, "TLS error: {e}"),
            NetError::Io(e) => write!(f, "{e}"),
            NetError::Garbage(s) => f.write_str(s),
        }
    }
}

impl From<io::Error> for NetError {
    fn from(e: io::Error) -> Self {
        classify_io(e)
    }
}

fn classify_io(e: io::Error) -> NetError {
    if let Some(inner) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        return NetError::Tls(inner.clone());
    }
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => NetError::Timeout,
        io::ErrorKind::UnexpectedEof
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => NetError::Closed,
        _ => NetError::Io(e),
    }
}

/// Why no address accepted the connection.
#[derive(Debug)]
pub enum ConnectError {
    Refused,
    TimedOut,
    Other(String),
}

/// Connects to the first address that answers; the tried addresses are returned either way.
pub fn connect(
    addrs: &[SocketAddr],
    timeout: Duration,
) -> (
    Result<(TcpStream, SocketAddr), ConnectError>,
    Vec<SocketAddr>,
) {
    let mut tried = Vec::new();
    let mut last = ConnectError::Other("no address to connect to".into());
    for &a in addrs {
        tried.push(a);
        match TcpStream::connect_timeout(&a, timeout) {
            Ok(s) => {
                let _ = s.set_read_timeout(Some(timeout));
                let _ = s.set_write_timeout(Some(timeout));
                let _ = s.set_nodelay(true);
                return (Ok((s, a)), tried);
            }
            Err(e) => {
                last = match e.kind() {
                    io::ErrorKind::ConnectionRefused => ConnectError::Refused,
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => ConnectError::TimedOut,
                    _ => ConnectError::Other(e.to_string()),
                }
            }
        }
    }
    (Err(last), tried)
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<ClientConnection, TcpStream>>),
    Gone,
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
            Stream::Gone => Err(io::ErrorKind::NotConnected.into()),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
            Stream::Gone => Err(io::ErrorKind::NotConnected.into()),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
            Stream::Gone => Ok(()),
        }
    }
}

/// What the TLS handshake negotiated and what the server presented.
#[derive(Debug, Clone, Default)]
pub struct TlsInfo {
    pub version: String,
    pub cipher: String,
    pub cert: Option<CertInfo>,
    /// False for `ssl-no-auth`: the chain and name were not checked.
    pub verified: bool,
}

/// The server's end-entity certificate, for the report.
#[derive(Debug, Clone)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    pub not_after: String,
    /// `not_after` as seconds since the Unix epoch.
    pub not_after_unix: i64,
    pub days_left: i64,
    pub names: Vec<String>,
    pub self_signed: bool,
}

impl CertInfo {
    pub fn parse(der: &[u8]) -> Option<CertInfo> {
        use x509_parser::prelude::*;
        let (_, cert) = X509Certificate::from_der(der).ok()?;
        let not_after = cert.validity().not_after;
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let days_left = (not_after.timestamp() - now).div_euclid(86_400);
        let mut names = Vec::new();
        if let Ok(Some(san)) = cert.subject_alternative_name() {
            for n in &san.value.general_names {
                match n {
                    GeneralName::DNSName(d) => names.push(d.to_string()),
                    GeneralName::IPAddress(b) => names.push(ip_string(b)),
                    _ => {}
                }
            }
        }
        let subject = cert.subject().to_string();
        let issuer = cert.issuer().to_string();
        Some(CertInfo {
            self_signed: subject == issuer,
            subject,
            issuer,
            not_after: not_after
                .to_rfc2822()
                .unwrap_or_else(|_| not_after.to_string()),
            not_after_unix: not_after.timestamp(),
            days_left,
            names,
        })
    }
}

fn ip_string(b: &[u8]) -> String {
    match b.len() {
        4 => std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string(),
        16 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(b);
            std::net::Ipv6Addr::from(a).to_string()
        }
        _ => format!("{b:?}"),
    }
}

/// Records the certificate the server presents, whether or not it verifies, so a failure can
/// still name the subject, issuer and expiry.
#[derive(Debug)]
struct Recording {
    inner: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
    seen: Arc<Mutex<Option<Vec<u8>>>>,
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Ok(mut s) = self.seen.lock() {
            *s = Some(end_entity.as_ref().to_vec());
        }
        match &self.inner {
            Some(v) => v.verify_server_cert(end_entity, intermediates, server_name, ocsp, now),
            None => Ok(ServerCertVerified::assertion()),
        }
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Trust anchors for every probe: the webpki roots plus the `--ca-file` certificates.
#[derive(Clone)]
pub struct Trust {
    roots: Arc<RootCertStore>,
    provider: Arc<CryptoProvider>,
}

impl Trust {
    pub fn new(ca_file: Option<&Path>) -> Result<Trust, String> {
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(path) = ca_file {
            let iter = CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("--ca-file {}: {e}", path.display()))?;
            let mut added = 0;
            for c in iter {
                let c = c.map_err(|e| format!("--ca-file {}: {e}", path.display()))?;
                roots
                    .add(c)
                    .map_err(|e| format!("--ca-file {}: {e}", path.display()))?;
                added += 1;
            }
            if added == 0 {
                return Err(format!(
                    "--ca-file {}: no PEM certificate found",
                    path.display()
                ));
            }
        }
        Ok(Trust {
            roots: Arc::new(roots),
            provider: Arc::new(ring::default_provider()),
        })
    }

    fn config(
        &self,
        verify: bool,
        seen: Arc<Mutex<Option<Vec<u8>>>>,
    ) -> Result<Arc<ClientConfig>, rustls::Error> {
        let inner = if verify {
            Some(
                WebPkiServerVerifier::builder_with_provider(
                    self.roots.clone(),
                    self.provider.clone(),
                )
                .build()
                .map_err(|e| rustls::Error::General(e.to_string()))?,
            )
        } else {
            None
        };
        let verifier = Recording {
            inner,
            provider: self.provider.clone(),
            seen,
        };
        let cfg = ClientConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        Ok(Arc::new(cfg))
    }
}

/// A failed TLS handshake, with whatever certificate was seen before it failed.
#[derive(Debug)]
pub struct TlsFailure {
    pub error: NetError,
    pub cert: Option<CertInfo>,
    /// The first bytes the server sent (a plaintext greeting shows what the port speaks).
    pub received: Vec<u8>,
}

/// How a TLS failure should be explained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsCause {
    /// The server answered in plaintext: the port is a STARTTLS or cleartext port.
    PlaintextPort,
    Expired,
    NotYetValid,
    WrongHost,
    UnknownIssuer,
    OtherCertificate(String),
    Timeout,
    Closed,
    Other(String),
}

impl TlsFailure {
    pub fn cause(&self) -> TlsCause {
        match &self.error {
            NetError::Tls(e) => {
                match e {
                    rustls::Error::InvalidCertificate(c) => match c {
                        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                            TlsCause::Expired
                        }
                        CertificateError::NotValidYet
                        | CertificateError::NotValidYetContext { .. } => TlsCause::NotYetValid,
                        CertificateError::NotValidForName
                        | CertificateError::NotValidForNameContext { .. } => TlsCause::WrongHost,
                        CertificateError::UnknownIssuer => TlsCause::UnknownIssuer,
                        other => TlsCause::OtherCertificate(format!("{other:?}")),
                    },
                    rustls::Error::InvalidMessage(_)
                    | rustls::Error::InappropriateMessage { .. } => TlsCause::PlaintextPort,
                    other => TlsCause::Other(other.to_string()),
                }
            }
            NetError::Timeout => TlsCause::Timeout,
            NetError::Closed => TlsCause::Closed,
            other => TlsCause::Other(other.to_string()),
        }
    }
}

fn server_name(host: &str) -> Result<ServerName<'static>, NetError> {
    ServerName::try_from(host.to_string())
        .map_err(|_| NetError::Garbage(format!("{host:?} is not a valid TLS server name")))
}

/// One connection to a server: buffered line reads over plain TCP or TLS.
///
/// Every exchange (the greeting, each command and its reply, the TLS handshake) must finish
/// within `timeout` in total, so a server that trickles bytes or streams endless lines cannot
/// stretch a stage beyond it.
pub struct Conn {
    stream: Stream,
    buf: Vec<u8>,
    /// Everything received, for diagnosing what a server that spoke the wrong protocol said.
    pub first_bytes: Vec<u8>,
    timeout: Duration,
    deadline: Instant,
}

/// The socket's read timeout for what is left until `deadline` (never zero: that means "none").
fn arm(sock: &TcpStream, deadline: Instant) -> io::Result<()> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(io::ErrorKind::TimedOut.into());
    }
    sock.set_read_timeout(Some(left.max(Duration::from_millis(1))))
}

impl Conn {
    pub fn plain(s: TcpStream, timeout: Duration) -> Conn {
        Conn {
            stream: Stream::Plain(s),
            buf: Vec::new(),
            first_bytes: Vec::new(),
            timeout,
            deadline: Instant::now() + timeout,
        }
    }

    fn sock(&self) -> Option<&TcpStream> {
        match &self.stream {
            Stream::Plain(s) => Some(s),
            Stream::Tls(s) => Some(&s.sock),
            Stream::Gone => None,
        }
    }

    pub fn is_tls(&self) -> bool {
        matches!(self.stream, Stream::Tls(_))
    }

    /// Runs the TLS handshake on this connection (implicit TLS right after connect, or after
    /// a STARTTLS reply). Any bytes already buffered would be plaintext injected before the
    /// handshake, so they make the upgrade fail.
    pub fn upgrade(
        &mut self,
        trust: &Trust,
        host: &str,
        verify: bool,
    ) -> Result<TlsInfo, Box<TlsFailure>> {
        let fail = |error, cert| {
            Box::new(TlsFailure {
                error,
                cert,
                received: Vec::new(),
            })
        };
        if !self.buf.is_empty() {
            return Err(fail(
                NetError::Garbage(
                    "the server sent data before the TLS handshake (possible STARTTLS injection)"
                        .into(),
                ),
                None,
            ));
        }
        let Stream::Plain(mut sock) = std::mem::replace(&mut self.stream, Stream::Gone) else {
            return Err(fail(NetError::Garbage("already using TLS".into()), None));
        };
        let seen = Arc::new(Mutex::new(None));
        let cfg = trust
            .config(verify, seen.clone())
            .map_err(|e| fail(NetError::Tls(e), None))?;
        let name = server_name(host).map_err(|e| fail(e, None))?;
        let mut conn =
            ClientConnection::new(cfg, name).map_err(|e| fail(NetError::Tls(e), None))?;
        let cert = || {
            seen.lock()
                .ok()
                .and_then(|s| s.as_ref().and_then(|d| CertInfo::parse(d)))
        };
        let deadline = Instant::now() + self.timeout;
        let mut io = Tee {
            sock: &mut sock,
            seen: Vec::new(),
        };
        while conn.is_handshaking() {
            let step = arm(io.sock, deadline).and_then(|_| conn.complete_io(&mut io));
            let err = match step {
                Ok((0, 0)) if conn.is_handshaking() => NetError::Closed,
                Ok(_) => continue,
                Err(e) => classify_io(e),
            };
            // Send our alert, if any, so the server logs why.
            let _ = conn.write_tls(&mut io);
            return Err(Box::new(TlsFailure {
                error: err,
                cert: cert(),
                received: io.seen,
            }));
        }
        let info = TlsInfo {
            version: conn
                .protocol_version()
                .map(|v| match v {
                    rustls::ProtocolVersion::TLSv1_3 => "TLS 1.3".to_string(),
                    rustls::ProtocolVersion::TLSv1_2 => "TLS 1.2".to_string(),
                    other => format!("{other:?}"),
                })
                .unwrap_or_default(),
            cipher: conn
                .negotiated_cipher_suite()
                .map(|c| format!("{:?}", c.suite()))
                .unwrap_or_default(),
            cert: cert(),
            verified: verify,
        };
        self.stream = Stream::Tls(Box::new(rustls::StreamOwned::new(conn, sock)));
        // What follows the handshake (a greeting, for implicit TLS) gets its own timeout.
        self.deadline = Instant::now() + self.timeout;
        Ok(info)
    }

    fn fill(&mut self) -> Result<(), NetError> {
        if let Some(sock) = self.sock() {
            arm(sock, self.deadline)?;
        }
        let mut chunk = [0u8; 8192];
        let n = self.stream.read(&mut chunk)?;
        if n == 0 {
            return Err(NetError::Closed);
        }
        if self.first_bytes.len() < 512 {
            let room = 512 - self.first_bytes.len();
            self.first_bytes.extend_from_slice(&chunk[..n.min(room)]);
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }

    /// One line without its CRLF.
    pub fn read_line(&mut self) -> Result<String, NetError> {
        loop {
            if let Some(i) = self.buf.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.buf.drain(..=i).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(String::from_utf8_lossy(&line).into_owned());
            }
            if self.buf.len() > MAX_LINE {
                return Err(NetError::Garbage(format!(
                    "the server sent a line longer than {MAX_LINE} bytes"
                )));
            }
            self.fill()?;
        }
    }

    /// Exactly `n` bytes (IMAP literals).
    pub fn read_exact(&mut self, n: usize) -> Result<Vec<u8>, NetError> {
        if n > 16 * MAX_LINE {
            return Err(NetError::Garbage(format!(
                "literal of {n} bytes is too large"
            )));
        }
        while self.buf.len() < n {
            self.fill()?;
        }
        Ok(self.buf.drain(..n).collect())
    }

    /// Sends a command; its reply gets a fresh `timeout`.
    pub fn send(&mut self, bytes: &[u8]) -> Result<(), NetError> {
        self.deadline = Instant::now() + self.timeout;
        self.stream.write_all(bytes)?;
        self.stream.flush()?;
        Ok(())
    }

    pub fn send_line(&mut self, line: &str) -> Result<(), NetError> {
        let mut b = Vec::with_capacity(line.len() + 2);
        b.extend_from_slice(line.as_bytes());
        b.extend_from_slice(b"\r\n");
        self.send(&b)
    }

    /// Polite close: TLS close_notify, then drop.
    pub fn close(mut self) {
        if let Stream::Tls(s) = &mut self.stream {
            s.conn.send_close_notify();
            let _ = s.conn.write_tls(&mut s.sock);
        }
    }
}

/// The socket, remembering the first bytes read during the handshake.
struct Tee<'a> {
    sock: &'a mut TcpStream,
    seen: Vec<u8>,
}

impl Read for Tee<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.sock.read(buf)?;
        if self.seen.len() < 512 {
            let room = 512 - self.seen.len();
            self.seen.extend_from_slice(&buf[..n.min(room)]);
        }
        Ok(n)
    }
}

impl Write for Tee<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.sock.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.sock.flush()
    }
}

/// Does this look like TLS (a handshake or alert record) rather than protocol text?
pub fn looks_like_tls(bytes: &[u8]) -> bool {
    matches!(bytes.first(), Some(0x15 | 0x16)) && bytes.get(1) == Some(&0x03)
}
