//! Opening a session: connect, TLS per `security` (never downgrading), greeting, capabilities,
//! and the classification of what went wrong on the way.

use std::net::{SocketAddr, TcpStream};
use std::time::Instant;

use super::{cert_line, describe, secs, smtp_caps, Caps, Run, Session};
use crate::model::{Security, Service};
use crate::probe::net::{self, Conn, ConnectError, NetError, TlsCause, TlsFailure, TlsInfo};
use crate::probe::{advice, imap, pop3, smtp, Outcome, Reply, Stage};
use crate::registry::probe as r;

impl Run<'_> {
    // ---- connection and TLS -------------------------------------------------------------

    /// Connects; the first connection of a probe is a stage, later ones (auto's second try,
    /// the implicit-TLS confirmation) are not.
    pub(super) fn dial(&mut self, record: bool) -> Option<TcpStream> {
        let t = Instant::now();
        let (res, tried) = net::connect(&self.report.addresses, self.cx.timeout);
        for a in &tried {
            if !self.report.tried.contains(a) {
                self.report.tried.push(*a);
            }
        }
        if let Ok((_, addr)) = &res {
            self.report.connected = Some(*addr);
        }
        let tried_s: Vec<String> = tried.iter().map(SocketAddr::to_string).collect();
        match res {
            Ok((sock, addr)) => {
                if record {
                    let extra = if tried.len() > 1 {
                        format!(" (tried {})", tried_s.join(", "))
                    } else {
                        String::new()
                    };
                    self.stage("connect", Outcome::Ok, format!("{addr}{extra}"), t);
                }
                Some(sock)
            }
            Err(e) => {
                let port = self.plan.port;
                let (detail, msg, help) = match e {
                    ConnectError::Refused => (
                        format!("refused ({})", tried_s.join(", ")),
                        format!(
                            "connection to {}:{port} refused: nothing listens on port {port}",
                            self.plan.host
                        ),
                        "check `port` (and `security`, which sets the default port)",
                    ),
                    ConnectError::TimedOut => (
                        format!(
                            "timed out after {} ({})",
                            secs(self.cx.timeout),
                            tried_s.join(", ")
                        ),
                        format!(
                            "connection to {}:{port} timed out after {}: a firewall drops the \
                             packets or the host is down",
                            self.plan.host,
                            secs(self.cx.timeout)
                        ),
                        "check `server` and `port`, and that this machine may reach them",
                    ),
                    ConnectError::Other(m) => (
                        m.clone(),
                        format!("connection to {}:{port} failed: {m}", self.plan.host),
                        "check `server` and `port`",
                    ),
                };
                self.stage("connect", Outcome::Fail, detail, t);
                self.find(&r::CONNECT, &["port", "server"], msg).help = Some(help.into());
                None
            }
        }
    }

    pub(super) fn establish(&mut self) -> Option<Session> {
        match self.plan.security {
            Security::Ssl => self.implicit(true),
            Security::SslNoAuth => self.implicit(false),
            Security::Tls => {
                let sock = self.dial(true)?;
                self.starttls_path(sock, false, false)
            }
            Security::Basic => self.cleartext(),
            Security::Auto => self.auto(),
        }
    }

    pub(super) fn implicit(&mut self, verify: bool) -> Option<Session> {
        let sock = self.dial(true)?;
        let mut conn = Conn::plain(sock, self.cx.timeout);
        let t = Instant::now();
        match conn.upgrade(self.cx.trust, &self.plan.host, verify) {
            Ok(info) => {
                self.report.used = Some("ssl");
                self.tls_ok(info, "implicit TLS", t);
            }
            Err(f) => {
                self.tls_failed(&f, "implicit TLS", t);
                return None;
            }
        }
        self.greet_and_caps(conn, false)
    }

    pub(super) fn cleartext(&mut self) -> Option<Session> {
        let sock = self.dial(true)?;
        self.report.used = Some("basic");
        self.skip("tls", "none: security \"basic\" is cleartext");
        let msg = format!(
            "security \"basic\": the password and mail to the {} travel unencrypted",
            self.who()
        );
        let advice = advice::encrypt(&self.plan.side(), "if the server supports TLS, ");
        self.find(&r::CLEARTEXT, &["security"], msg).advise(advice);
        let s = self.greet_and_caps(Conn::plain(sock, self.cx.timeout), true)?;
        Some(s)
    }

    pub(super) fn auto(&mut self) -> Option<Session> {
        let sock = self.dial(true)?;
        let mut conn = Conn::plain(sock, self.cx.timeout);
        let t = Instant::now();
        match conn.upgrade(self.cx.trust, &self.plan.host, true) {
            Ok(info) => {
                self.report.used = Some("ssl");
                self.tls_ok(info, "implicit TLS (auto)", t);
                let s = self.greet_and_caps(conn, false)?;
                self.resolved("ssl", "implicit TLS");
                Some(s)
            }
            Err(f) => {
                let cause = f.cause();
                match cause {
                    TlsCause::PlaintextPort
                    | TlsCause::Closed
                    | TlsCause::Timeout
                    | TlsCause::Other(_) => {
                        let timed_out = cause == TlsCause::Timeout;
                        let why = match &cause {
                            TlsCause::PlaintextPort => {
                                "the server answered in plaintext".to_string()
                            }
                            TlsCause::Timeout => "no answer".to_string(),
                            TlsCause::Closed => "connection closed".to_string(),
                            other => format!("{other:?}"),
                        };
                        self.stage(
                            "tls",
                            Outcome::Skipped,
                            format!("implicit TLS (auto): {why}; trying STARTTLS"),
                            t,
                        );
                        let sock = self.dial(false)?;
                        let s = self.starttls_path(sock, true, timed_out)?;
                        self.resolved("tls", "STARTTLS");
                        Some(s)
                    }
                    // A TLS port with a bad certificate: report it, never downgrade.
                    _ => {
                        self.tls_failed(&f, "implicit TLS (auto)", t);
                        None
                    }
                }
            }
        }
    }

    pub(super) fn resolved(&mut self, mode: &'static str, what: &str) {
        let port = self.plan.port;
        let msg = format!(
            "security \"auto\" resolved to {what} (\"{mode}\") on port {port}; pin it so a \
             changed server cannot silently downgrade the connection"
        );
        let pinned = if mode == "ssl" {
            Security::Ssl
        } else {
            Security::Tls
        };
        let advice = advice::pin(&self.plan.side(), pinned);
        self.find(&r::AUTO_RESOLVED, &["security", "server"], msg)
            .advise(advice);
    }

    /// Plaintext greeting, capabilities, STARTTLS (required), TLS, capabilities again.
    pub(super) fn starttls_path(
        &mut self,
        sock: TcpStream,
        auto: bool,
        implicit_timed_out: bool,
    ) -> Option<Session> {
        let conn = Conn::plain(sock, self.cx.timeout);
        let mut s = self.greet_and_caps(conn, !implicit_timed_out)?;
        let t = Instant::now();
        if !s.caps.starttls {
            let caps = s.caps.raw.join(" ");
            let word = match self.plan.service {
                Service::Pop => "STLS",
                Service::Imap | Service::Smtp => "STARTTLS",
            };
            self.stage("tls", Outcome::Fail, format!("{word} not offered"), t);
            let msg = if auto {
                format!(
                    "security \"auto\": the {} offers neither implicit TLS nor {word} \
                     (capabilities: {caps}); the probe does not log in in cleartext",
                    self.who()
                )
            } else {
                format!(
                    "security \"tls\" requires {word}, but the {} does not offer it \
                     (capabilities: {caps}); refusing to continue in cleartext",
                    self.who()
                )
            };
            let advice = advice::no_starttls(&self.plan.side());
            self.find(&r::STARTTLS_MISSING, &["security"], msg)
                .advise(advice);
            self.quit(s);
            return None;
        }
        let reply = match self.plan.service {
            Service::Imap => s.imap.command(&mut s.conn, "STARTTLS").map(|r| r.reply),
            Service::Pop => pop3::command(&mut s.conn, "STLS"),
            Service::Smtp => smtp::command(&mut s.conn, "STARTTLS").map(|r| Reply {
                ok: r.code == 220,
                bad: false,
                code: None,
                text: r.text(),
            }),
        };
        match reply {
            Ok(rep) if rep.ok => {}
            Ok(rep) => {
                self.stage(
                    "tls",
                    Outcome::Fail,
                    format!("STARTTLS refused: {}", rep.text),
                    t,
                );
                let msg = format!("the {} refused STARTTLS: {}", self.who(), rep.text);
                self.find(&r::STARTTLS_MISSING, &["security"], msg);
                return None;
            }
            Err(e) => {
                self.stage("tls", Outcome::Fail, format!("STARTTLS: {e}"), t);
                let msg = format!("STARTTLS on the {} failed: {e}", self.who());
                self.find(&r::TLS, &["security"], msg);
                return None;
            }
        }
        let Session { mut conn, imap, .. } = s;
        match conn.upgrade(self.cx.trust, &self.plan.host, true) {
            Ok(info) => {
                self.report.used = Some("tls");
                self.tls_ok(info, "STARTTLS", t);
            }
            Err(f) => {
                self.tls_failed(&f, "STARTTLS", t);
                return None;
            }
        }
        let mut s = Session {
            conn,
            imap,
            caps: Caps::default(),
        };
        // Capabilities may change after TLS (AUTH appears, STARTTLS disappears): re-read.
        if self.plan.service == Service::Smtp {
            let t = Instant::now();
            match smtp::command(&mut s.conn, "EHLO mailcfg.invalid") {
                Ok(rep) if rep.ok() => {
                    s.caps = smtp_caps(&rep);
                    self.note_caps(&s.caps);
                    let detail = describe(&s.caps);
                    self.stage(
                        "capabilities",
                        Outcome::Ok,
                        format!("after TLS: {detail}"),
                        t,
                    );
                }
                Ok(rep) => return self.protocol_fail("EHLO after STARTTLS", &rep.text(), t),
                Err(e) => return self.net_fail("capabilities", e, t),
            }
        } else {
            let t = Instant::now();
            match self.read_caps(&mut s) {
                Ok(c) => {
                    s.caps = c;
                    self.note_caps(&s.caps);
                    let detail = describe(&s.caps);
                    self.stage(
                        "capabilities",
                        Outcome::Ok,
                        format!("after TLS: {detail}"),
                        t,
                    );
                }
                Err(e) => return self.net_fail("capabilities", e, t),
            }
        }
        Some(s)
    }

    pub(super) fn greet_and_caps(
        &mut self,
        mut conn: Conn,
        may_confirm_tls: bool,
    ) -> Option<Session> {
        let t = Instant::now();
        let mut imap = imap::Imap::new();
        let greeting = match self.plan.service {
            Service::Imap => imap.greeting(&mut conn),
            Service::Pop => pop3::greeting(&mut conn),
            Service::Smtp => smtp::read_reply(&mut conn).map(|r| Reply {
                ok: r.code == 220,
                bad: false,
                code: None,
                text: r.text(),
            }),
        };
        match greeting {
            Ok(g) if g.ok => {
                // `[CAPABILITY …] Dovecot ready.`: the capabilities get their own stage.
                let text = match g.text.strip_prefix('[').and_then(|r| r.split_once(']')) {
                    Some((_, rest)) if !rest.trim().is_empty() => rest.trim(),
                    _ => g.text.as_str(),
                };
                let first: String = text.chars().take(80).collect();
                self.stage("greeting", Outcome::Ok, first, t);
            }
            Ok(g) => {
                self.stage("greeting", Outcome::Fail, g.text.clone(), t);
                let msg = format!("the {} refused the session: {}", self.who(), g.text);
                self.find(&r::PROTOCOL, &["server"], msg);
                return None;
            }
            Err(NetError::Timeout) if !conn.is_tls() => {
                self.no_greeting(t, may_confirm_tls);
                return None;
            }
            Err(NetError::Garbage(_))
                if !conn.is_tls() && net::looks_like_tls(&conn.first_bytes) =>
            {
                self.stage(
                    "greeting",
                    Outcome::Fail,
                    "TLS data instead of a greeting",
                    t,
                );
                self.expects_implicit();
                return None;
            }
            Err(NetError::Garbage(m)) => {
                self.stage("greeting", Outcome::Fail, m.clone(), t);
                let msg = format!(
                    "the server on port {} does not speak {}: {m}",
                    self.plan.port,
                    self.plan.service.display()
                );
                self.find(&r::PROTOCOL, &["port", "server"], msg);
                return None;
            }
            Err(e) => return self.net_fail("greeting", e, t),
        }
        let mut s = Session {
            conn,
            imap,
            caps: Caps::default(),
        };
        let t = Instant::now();
        if self.plan.service == Service::Smtp {
            match smtp::command(&mut s.conn, "EHLO mailcfg.invalid") {
                Ok(rep) if rep.ok() => {
                    s.caps = smtp_caps(&rep);
                    self.note_caps(&s.caps);
                }
                Ok(rep) => return self.protocol_fail("EHLO", &rep.text(), t),
                Err(e) => return self.net_fail("capabilities", e, t),
            }
        } else {
            match self.read_caps(&mut s) {
                Ok(c) => {
                    s.caps = c;
                    self.note_caps(&s.caps);
                }
                Err(e) => return self.net_fail("capabilities", e, t),
            }
        }
        let detail = describe(&s.caps);
        self.stage("capabilities", Outcome::Ok, detail, t);
        Some(s)
    }

    pub(super) fn read_caps(&mut self, s: &mut Session) -> Result<Caps, NetError> {
        match self.plan.service {
            Service::Imap => {
                let raw = s.imap.capabilities(&mut s.conn)?;
                let has = |k: &str| raw.iter().any(|c| c.eq_ignore_ascii_case(k));
                let mechs = raw
                    .iter()
                    .filter_map(|c| {
                        let head = c.get(..5)?;
                        let rest = c.get(5..)?;
                        (head.eq_ignore_ascii_case("AUTH=") && !rest.is_empty())
                            .then(|| rest.to_ascii_uppercase())
                    })
                    .collect();
                Ok(Caps {
                    starttls: has("STARTTLS"),
                    login_disabled: has("LOGINDISABLED"),
                    simple_login: !has("LOGINDISABLED"),
                    sasl_ir: has("SASL-IR"),
                    mechs,
                    raw,
                })
            }
            Service::Pop => match pop3::capa(&mut s.conn)? {
                Some(raw) => {
                    let has = |k: &str| {
                        raw.iter().any(|c| {
                            c.split_whitespace()
                                .next()
                                .is_some_and(|w| w.eq_ignore_ascii_case(k))
                        })
                    };
                    Ok(Caps {
                        starttls: has("STLS"),
                        simple_login: has("USER"),
                        mechs: pop3::sasl_mechs(&raw),
                        login_disabled: false,
                        sasl_ir: true,
                        raw,
                    })
                }
                None => Ok(Caps {
                    raw: vec!["(no CAPA)".into()],
                    simple_login: true,
                    ..Caps::default()
                }),
            },
            Service::Smtp => unreachable!("SMTP capabilities come from EHLO"),
        }
    }

    /// No greeting within the timeout: a silent server, or an implicit-TLS port waiting for
    /// our handshake. A short TLS attempt on a new connection tells which.
    pub(super) fn no_greeting(&mut self, t: Instant, may_confirm_tls: bool) {
        let waited = secs(self.cx.timeout);
        self.stage(
            "greeting",
            Outcome::Fail,
            format!("nothing within {waited}"),
            t,
        );
        if may_confirm_tls && self.confirm_implicit() {
            self.expects_implicit();
            return;
        }
        let msg = format!(
            "the {} accepted the connection but sent no greeting within {waited}",
            self.who()
        );
        self.find(&r::TIMEOUT, &["port", "server"], msg).help = Some(
            "a different (or hung) service listens on this port, or the connection is \
             black-holed; check `port` and `security`"
                .into(),
        );
    }

    pub(super) fn confirm_implicit(&mut self) -> bool {
        let Some(sock) = self.dial(false) else {
            return false;
        };
        let mut conn = Conn::plain(sock, self.cx.timeout);
        let ok = conn.upgrade(self.cx.trust, &self.plan.host, false).is_ok();
        conn.close();
        ok
    }

    pub(super) fn expects_implicit(&mut self) {
        let port = self.plan.port;
        let msg = format!(
            "port {port} expects implicit TLS: the server waits for a TLS handshake instead of \
             sending a {} greeting (security is \"{}\")",
            self.plan.service.display(),
            self.plan.security
        );
        let advice = advice::implicit_tls_here(&self.plan.side());
        self.find(&r::TLS_MISMATCH, &["security", "port"], msg)
            .advise(advice);
    }

    pub(super) fn tls_ok(&mut self, info: TlsInfo, how: &str, t: Instant) {
        self.stage(
            "tls",
            Outcome::Ok,
            format!("{} ({how}), {}", info.version, info.cipher),
            t,
        );
        let host = self.plan.host.clone();
        match (&info.cert, info.verified) {
            (Some(c), false) => {
                self.report.stages.push(Stage {
                    name: "certificate",
                    outcome: Outcome::Warn,
                    detail: format!("NOT verified (ssl-no-auth): {}", cert_line(c)),
                    elapsed: None,
                });
                let msg = format!(
                    "security \"ssl-no-auth\": the certificate of {host} ({}) is not verified, \
                     so an impostor would not be noticed",
                    c.subject
                );
                let advice = advice::verify(&self.plan.side());
                self.find(&r::UNVERIFIED, &["security"], msg).advise(advice);
            }
            (Some(c), true) if c.days_left < self.cx.warn_days => {
                self.report.stages.push(Stage {
                    name: "certificate",
                    outcome: Outcome::Warn,
                    detail: cert_line(c),
                    elapsed: None,
                });
                let msg = format!(
                    "the certificate of {host} expires on {} ({} days left)",
                    c.not_after, c.days_left
                );
                self.find(&r::CERT_EXPIRING, &["server"], msg).help =
                    Some("renew the server's certificate".into());
            }
            (Some(c), true) => self.report.stages.push(Stage {
                name: "certificate",
                outcome: Outcome::Ok,
                detail: cert_line(c),
                elapsed: None,
            }),
            (None, _) => {}
        }
        self.report.certificate = info.cert.clone();
        self.report.tls = Some(info);
    }

    pub(super) fn tls_failed(&mut self, f: &TlsFailure, how: &str, t: Instant) {
        let host = self.plan.host.clone();
        let port = self.plan.port;
        let cause = f.cause();
        if f.cert.is_some() {
            self.report.certificate = f.cert.clone();
        }
        let cert_stage = |run: &mut Self, detail: String| {
            run.report.stages.push(Stage {
                name: "certificate",
                outcome: Outcome::Fail,
                detail,
                elapsed: None,
            })
        };
        let info = f.cert.as_ref().map(cert_line).unwrap_or_default();
        match cause {
            TlsCause::PlaintextPort => {
                let first = String::from_utf8_lossy(&f.received)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_string();
                self.stage(
                    "tls",
                    Outcome::Fail,
                    format!("{how}: the server answered in plaintext"),
                    t,
                );
                let seen = if first.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", crate::probe::show_line(&first))
                };
                let msg = format!(
                    "port {port} speaks plaintext first{seen}, not implicit TLS: it is a \
                     STARTTLS or cleartext port (TLS saw \"invalid content type\" / wrong \
                     version number)"
                );
                let advice = advice::plaintext_here(&self.plan.side());
                self.find(&r::TLS_MISMATCH, &["security", "port"], msg)
                    .advise(advice);
            }
            TlsCause::Expired
            | TlsCause::NotYetValid
            | TlsCause::WrongHost
            | TlsCause::UnknownIssuer
            | TlsCause::OtherCertificate(_) => {
                self.stage(
                    "tls",
                    Outcome::Fail,
                    format!("{how}: certificate rejected"),
                    t,
                );
                let c = f.cert.clone();
                let (detail, msg, help) = match &cause {
                    TlsCause::Expired => {
                        let when = c
                            .as_ref()
                            .map(|c| format!(" on {} ({} days ago)", c.not_after, -c.days_left))
                            .unwrap_or_default();
                        (
                            format!("EXPIRED{when}: {info}"),
                            format!("the certificate of {host}:{port} expired{when}"),
                            "the server's certificate must be renewed".to_string(),
                        )
                    }
                    TlsCause::NotYetValid => (
                        format!("not yet valid: {info}"),
                        format!("the certificate of {host}:{port} is not valid yet"),
                        "check the server's (and this machine's) clock".to_string(),
                    ),
                    TlsCause::WrongHost => {
                        let names = c.as_ref().map(|c| c.names.join(", ")).unwrap_or_default();
                        (
                            format!("WRONG HOST: issued for {names}"),
                            format!(
                                "the certificate on {host}:{port} is for {names}, not for {host:?}"
                            ),
                            format!(
                                "set `server` to a name the certificate covers ({names}), or \
                                 fix the server's certificate"
                            ),
                        )
                    }
                    TlsCause::UnknownIssuer => {
                        let ss = c.as_ref().is_some_and(|c| c.self_signed);
                        let issuer = c.as_ref().map(|c| c.issuer.clone()).unwrap_or_default();
                        (
                            format!(
                                "UNKNOWN ISSUER{}: {info}",
                                if ss { " (self-signed)" } else { "" }
                            ),
                            format!(
                                "the certificate of {host}:{port} is issued by {issuer:?}, which \
                                 is not a trusted authority{}",
                                if ss { " (it is self-signed)" } else { "" }
                            ),
                            "if this is a private CA, pass its certificate with --ca-file; else \
                             the server needs a certificate from a public CA"
                                .to_string(),
                        )
                    }
                    TlsCause::OtherCertificate(e) => (
                        format!("{e}: {info}"),
                        format!("the certificate of {host}:{port} is not accepted: {e}"),
                        "check the server's certificate".to_string(),
                    ),
                    _ => unreachable!(),
                };
                cert_stage(self, detail);
                // A name the certificate covers is a fix `check` accepts (a wildcard is not a
                // server name).
                let covered = match (&cause, &c) {
                    (TlsCause::WrongHost, Some(c)) => {
                        c.names.iter().find(|n| !n.contains('*')).cloned()
                    }
                    _ => None,
                };
                let target = self.rel("server");
                let f = self.find(&r::CERTIFICATE, &["server"], msg);
                f.help = Some(help);
                if let Some(name) = covered {
                    f.fix = vec![(target, format!("{name:?}"))];
                }
            }
            TlsCause::Timeout => {
                let waited = secs(self.cx.timeout);
                self.stage(
                    "tls",
                    Outcome::Fail,
                    format!("{how}: no answer within {waited}"),
                    t,
                );
                let msg = format!(
                    "the {} did not answer the TLS handshake within {waited}",
                    self.who()
                );
                self.find(&r::TIMEOUT, &["port", "server"], msg).help = Some(
                    "a silent or hung service listens on this port; check `port` and `security`"
                        .into(),
                );
            }
            TlsCause::Closed => {
                self.stage("tls", Outcome::Fail, format!("{how}: connection closed"), t);
                let msg = format!(
                    "the {} closed the connection during the TLS handshake",
                    self.who()
                );
                self.find(&r::TLS, &["security", "port"], msg);
            }
            TlsCause::Other(e) => {
                self.stage("tls", Outcome::Fail, format!("{how}: {e}"), t);
                let msg = format!("TLS with the {} failed: {e}", self.who());
                self.find(&r::TLS, &["security", "port"], msg);
            }
        }
    }

    pub(super) fn net_fail(
        &mut self,
        stage: &'static str,
        e: NetError,
        t: Instant,
    ) -> Option<Session> {
        let detail = e.to_string();
        self.stage(stage, Outcome::Fail, detail.clone(), t);
        let (meta, msg) = match e {
            NetError::Timeout => (
                &r::TIMEOUT,
                format!(
                    "the {} stopped answering ({stage}) for {}",
                    self.who(),
                    secs(self.cx.timeout)
                ),
            ),
            _ => (
                &r::PROTOCOL,
                format!("{stage} with the {} failed: {detail}", self.who()),
            ),
        };
        self.find(meta, &["port", "server"], msg);
        None
    }

    pub(super) fn protocol_fail(&mut self, what: &str, text: &str, t: Instant) -> Option<Session> {
        self.stage("capabilities", Outcome::Fail, format!("{what}: {text}"), t);
        let msg = format!("{what} refused by the {}: {text}", self.who());
        self.find(&r::PROTOCOL, &["server"], msg);
        None
    }
}
