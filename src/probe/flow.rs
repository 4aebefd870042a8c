//! One server's probe, stage by stage: resolve, connect, TLS per security mode (never
//! downgrading), certificate, capabilities, login, then the mailbox (IMAP), STAT (POP3) or the
//! From addresses and the optional test message (SMTP).

use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use super::net::{self, Conn, ConnectError, NetError, TlsCause, TlsFailure, TlsInfo, Trust};
use super::rules as r;
use super::{
    imap, pop3, smtp, Finding, LoginPlan, Outcome, Reply, ServerPlan, ServerReport, Stage,
};
use crate::model::{Security, Service};

pub struct Ctx<'a> {
    pub trust: &'a Trust,
    pub timeout: Duration,
    pub warn_days: i64,
}

/// What a server offers, normalised across protocols.
#[derive(Debug, Default)]
struct Caps {
    raw: Vec<String>,
    starttls: bool,
    mechs: Vec<String>,
    /// IMAP LOGINDISABLED.
    login_disabled: bool,
    /// IMAP LOGIN / POP3 USER available (POP3 servers without CAPA: assumed).
    simple_login: bool,
    sasl_ir: bool,
}

struct Session {
    conn: Conn,
    imap: imap::Imap,
    caps: Caps,
}

struct Run<'a> {
    plan: &'a ServerPlan,
    cx: &'a Ctx<'a>,
    report: ServerReport,
    findings: Vec<Finding>,
    addrs: Vec<SocketAddr>,
}

pub fn probe_server(plan: &ServerPlan, cx: &Ctx<'_>) -> (ServerReport, Vec<Finding>) {
    let mut run = Run {
        plan,
        cx,
        report: ServerReport {
            role: plan.role,
            service: plan.service,
            host: plan.host.clone(),
            port: plan.port,
            security: plan.security,
            used: None,
            tls: None,
            stages: Vec::new(),
            sent_message_id: None,
        },
        findings: Vec::new(),
        addrs: Vec::new(),
    };
    run.go();
    (run.report, run.findings)
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s:.1} s")
    }
}

impl Run<'_> {
    fn rel(&self, name: &str) -> String {
        format!("{}/{name}", self.plan.role.key())
    }

    fn stage(
        &mut self,
        name: &'static str,
        outcome: Outcome,
        detail: impl Into<String>,
        t: Instant,
    ) {
        self.report.stages.push(Stage {
            name,
            outcome,
            detail: detail.into(),
            elapsed: Some(t.elapsed()),
        });
    }

    fn skip(&mut self, name: &'static str, detail: impl Into<String>) {
        self.report.stages.push(Stage {
            name,
            outcome: Outcome::Skipped,
            detail: detail.into(),
            elapsed: None,
        });
    }

    /// A finding placed on the first of `names` (relative to this server's block) that exists.
    fn find(
        &mut self,
        meta: &'static crate::rules::RuleMeta,
        names: &[&str],
        msg: String,
    ) -> &mut Finding {
        let at: Vec<String> = names
            .iter()
            .map(|n| self.rel(n))
            .chain(std::iter::once(self.plan.role.key().to_string()))
            .collect();
        self.findings.push(Finding {
            meta,
            level: meta.level,
            at,
            message: msg,
            help: None,
            fix_value: None,
        });
        self.findings.last_mut().expect("just pushed")
    }

    fn who(&self) -> String {
        format!(
            "{} server {}:{}",
            self.plan.service.display(),
            self.plan.host,
            self.plan.port
        )
    }

    fn go(&mut self) {
        let t = Instant::now();
        match net::resolve(&self.plan.host, self.plan.port, self.cx.timeout) {
            Ok(addrs) => {
                let list: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
                self.stage("resolve", Outcome::Ok, list.join(", "), t);
                self.addrs = addrs;
            }
            Err(e) => {
                self.stage("resolve", Outcome::Fail, e.clone(), t);
                self.find(&r::DNS, &["server"], e).help =
                    Some("check the `server` name (and this machine's DNS)".into());
                return;
            }
        }
        let Some(mut s) = self.establish() else {
            return;
        };
        if self.login(&mut s) {
            match self.plan.service {
                Service::Imap => self.mailbox(&mut s),
                Service::Pop => self.stat(&mut s),
                Service::Smtp => self.senders(&mut s),
            }
        }
        self.quit(s);
    }

    fn quit(&mut self, mut s: Session) {
        match self.plan.service {
            Service::Imap => s.imap.logout(&mut s.conn),
            Service::Pop => pop3::quit(&mut s.conn),
            Service::Smtp => smtp::quit(&mut s.conn),
        }
        s.conn.close();
    }

    // ---- connection and TLS -------------------------------------------------------------

    /// Connects; the first connection of a probe is a stage, later ones (auto's second try,
    /// the implicit-TLS confirmation) are not.
    fn dial(&mut self, record: bool) -> Option<TcpStream> {
        let t = Instant::now();
        let (res, tried) = net::connect(&self.addrs, self.cx.timeout);
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

    fn establish(&mut self) -> Option<Session> {
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

    fn implicit(&mut self, verify: bool) -> Option<Session> {
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

    fn cleartext(&mut self) -> Option<Session> {
        let sock = self.dial(true)?;
        self.report.used = Some("basic");
        self.skip("tls", "none: security \"basic\" is cleartext");
        let msg = format!(
            "security \"basic\": the password and mail to the {} travel unencrypted",
            self.who()
        );
        self.find(&r::CLEARTEXT, &["security"], msg).help =
            Some("use \"ssl\" or \"tls\" if the server supports them".into());
        let s = self.greet_and_caps(Conn::plain(sock, self.cx.timeout), true)?;
        Some(s)
    }

    fn auto(&mut self) -> Option<Session> {
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

    fn resolved(&mut self, mode: &'static str, what: &str) {
        let port = self.plan.port;
        let msg = format!(
            "security \"auto\" resolved to {what} (\"{mode}\") on port {port}; pin it so a \
             changed server cannot silently downgrade the connection"
        );
        let target = format!("{}/security", self.plan.role.key());
        let f = self.find(&r::AUTO_RESOLVED, &["security", "server"], msg);
        f.help = Some(format!("write security \"{mode}\""));
        f.fix_value = Some((target, format!("\"{mode}\"")));
    }

    /// Plaintext greeting, capabilities, STARTTLS (required), TLS, capabilities again.
    fn starttls_path(
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
            let (word, alt) = match self.plan.service {
                Service::Pop => ("STLS", "995"),
                Service::Imap => ("STARTTLS", "993"),
                Service::Smtp => ("STARTTLS", "465"),
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
            self.find(&r::STARTTLS_MISSING, &["security"], msg).help = Some(format!(
                "use the server's implicit-TLS port with security \"ssl\" (usually {alt}), or \
                 security \"basic\" only if cleartext is really intended"
            ));
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

    fn greet_and_caps(&mut self, mut conn: Conn, may_confirm_tls: bool) -> Option<Session> {
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
                Ok(rep) if rep.ok() => s.caps = smtp_caps(&rep),
                Ok(rep) => return self.protocol_fail("EHLO", &rep.text(), t),
                Err(e) => return self.net_fail("capabilities", e, t),
            }
        } else {
            match self.read_caps(&mut s) {
                Ok(c) => s.caps = c,
                Err(e) => return self.net_fail("capabilities", e, t),
            }
        }
        let detail = describe(&s.caps);
        self.stage("capabilities", Outcome::Ok, detail, t);
        Some(s)
    }

    fn read_caps(&mut self, s: &mut Session) -> Result<Caps, NetError> {
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
    fn no_greeting(&mut self, t: Instant, may_confirm_tls: bool) {
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

    fn confirm_implicit(&mut self) -> bool {
        let Some(sock) = self.dial(false) else {
            return false;
        };
        let mut conn = Conn::plain(sock, self.cx.timeout);
        let ok = conn.upgrade(self.cx.trust, &self.plan.host, false).is_ok();
        conn.close();
        ok
    }

    fn expects_implicit(&mut self) {
        let port = self.plan.port;
        let msg = format!(
            "port {port} expects implicit TLS: the server waits for a TLS handshake instead of \
             sending a {} greeting (security is \"{}\")",
            self.plan.service.display(),
            self.plan.security
        );
        let plan = self.plan;
        let f = self.find(&r::TLS_MISMATCH, &["security", "port"], msg);
        f.help = Some(format!("use security \"ssl\" for port {port}"));
        if plan.security != Security::Auto {
            f.fix_value = Some((format!("{}/security", plan.role.key()), "\"ssl\"".into()));
        }
    }

    fn tls_ok(&mut self, info: TlsInfo, how: &str, t: Instant) {
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
                self.find(&r::UNVERIFIED, &["security"], msg).help =
                    Some("use security \"ssl\" (with --ca-file for a private CA)".into());
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
        self.report.tls = Some(info);
    }

    fn tls_failed(&mut self, f: &TlsFailure, how: &str, t: Instant) {
        let host = self.plan.host.clone();
        let port = self.plan.port;
        let cause = f.cause();
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
                let (alt, mode) = match self.plan.service {
                    Service::Imap => ("993", "tls"),
                    Service::Pop => ("995", "tls"),
                    Service::Smtp => ("465", "tls"),
                };
                let seen = if first.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", super::show_line(&first))
                };
                let msg = format!(
                    "port {port} speaks plaintext first{seen}, not implicit TLS: it is a \
                     STARTTLS or cleartext port (TLS saw \"invalid content type\" / wrong \
                     version number)"
                );
                let plan = self.plan;
                let fx = self.find(&r::TLS_MISMATCH, &["security", "port"], msg);
                fx.help = Some(format!(
                    "use security \"{mode}\" (STARTTLS) for port {port}, or the implicit-TLS port \
                     (usually {alt})"
                ));
                fx.fix_value = Some((
                    format!("{}/security", plan.role.key()),
                    format!("\"{mode}\""),
                ));
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
                self.find(&r::CERTIFICATE, &["server"], msg).help = Some(help);
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

    fn net_fail(&mut self, stage: &'static str, e: NetError, t: Instant) -> Option<Session> {
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

    fn protocol_fail(&mut self, what: &str, text: &str, t: Instant) -> Option<Session> {
        self.stage("capabilities", Outcome::Fail, format!("{what}: {text}"), t);
        let msg = format!("{what} refused by the {}: {text}", self.who());
        self.find(&r::PROTOCOL, &["server"], msg);
        None
    }

    // ---- login --------------------------------------------------------------------------

    fn login(&mut self, s: &mut Session) -> bool {
        let t = Instant::now();
        let (user, secret, bearer, at) = match &self.plan.login {
            LoginPlan::None => {
                self.skip("login", "auth \"none\": no login");
                return true;
            }
            LoginPlan::Unavailable => {
                self.skip("login", "credentials unavailable (see below)");
                return false;
            }
            LoginPlan::Password { user, pass, at } => {
                (user.clone(), pass.clone(), false, at.clone())
            }
            LoginPlan::Bearer { user, token, at } => {
                (user.clone(), token.clone(), true, at.clone())
            }
        };
        let tls = s.conn.is_tls();
        let mech_missing = |run: &mut Self, what: &str| {
            let offered = if s.caps.mechs.is_empty() {
                "none".to_string()
            } else {
                s.caps.mechs.join(" ")
            };
            run.stage("login", Outcome::Fail, format!("{what} not offered"), t);
            if !tls && s.caps.starttls {
                let msg = format!(
                    "the {} offers no login before TLS (mechanisms: {offered}); it expects \
                     STARTTLS",
                    run.who()
                );
                run.find(&r::LOGIN_DISABLED, &["security"], msg).help =
                    Some("use security \"tls\" (STARTTLS) or \"ssl\"".into());
            } else {
                let msg = format!(
                    "the {} does not offer {what} (mechanisms: {offered})",
                    run.who()
                );
                let mut f = Finding::new(&r::MECHANISM, &[], msg);
                f.at = vec![at.clone(), run.rel("user"), run.plan.role.key().to_string()];
                f.help = Some(if bearer {
                    "the server must support XOAUTH2 for credentials-based accounts".into()
                } else {
                    "the server needs LOGIN or AUTH PLAIN for password logins".into()
                });
                run.findings.push(f);
            }
        };
        let result: Result<(Reply, String), NetError> = match self.plan.service {
            Service::Imap => {
                if s.caps.login_disabled {
                    self.stage("login", Outcome::Fail, "LOGINDISABLED", t);
                    let msg = format!(
                        "the {} refuses to log in without TLS (LOGINDISABLED)",
                        self.who()
                    );
                    self.find(&r::LOGIN_DISABLED, &["security"], msg).help =
                        Some("use security \"tls\" (STARTTLS) or \"ssl\"".into());
                    return false;
                }
                if bearer {
                    if !s.caps.mechs.iter().any(|m| m == "XOAUTH2") {
                        mech_missing(self, "AUTHENTICATE XOAUTH2");
                        return false;
                    }
                    s.imap
                        .authenticate(
                            &mut s.conn,
                            "XOAUTH2",
                            &super::xoauth2(&user, &secret),
                            s.caps.sasl_ir,
                        )
                        .map(|r| (r, "AUTHENTICATE XOAUTH2".into()))
                } else if s.caps.mechs.iter().any(|m| m == "PLAIN") {
                    s.imap
                        .authenticate(
                            &mut s.conn,
                            "PLAIN",
                            &super::sasl_plain(&user, &secret),
                            s.caps.sasl_ir,
                        )
                        .map(|r| (r, "AUTHENTICATE PLAIN".into()))
                } else {
                    s.imap
                        .login(&mut s.conn, &user, &secret)
                        .map(|r| (r, "LOGIN".into()))
                }
            }
            Service::Pop => {
                if bearer {
                    if !s.caps.mechs.iter().any(|m| m == "XOAUTH2") {
                        mech_missing(self, "AUTH XOAUTH2");
                        return false;
                    }
                    pop3::auth(&mut s.conn, "XOAUTH2", &super::xoauth2(&user, &secret))
                        .map(|r| (r, "AUTH XOAUTH2".into()))
                } else if s.caps.mechs.iter().any(|m| m == "PLAIN") {
                    pop3::auth(&mut s.conn, "PLAIN", &super::sasl_plain(&user, &secret))
                        .map(|r| (r, "AUTH PLAIN".into()))
                } else if s.caps.simple_login {
                    pop3::user_pass(&mut s.conn, &user, &secret).map(|r| (r, "USER/PASS".into()))
                } else {
                    mech_missing(self, "USER/PASS or AUTH PLAIN");
                    return false;
                }
            }
            Service::Smtp => {
                let has = |m: &str| s.caps.mechs.iter().any(|x| x == m);
                let r = if bearer {
                    if !has("XOAUTH2") {
                        mech_missing(self, "AUTH XOAUTH2");
                        return false;
                    }
                    smtp::auth(&mut s.conn, "XOAUTH2", &super::xoauth2(&user, &secret))
                        .map(|r| (r, "AUTH XOAUTH2"))
                } else if has("PLAIN") {
                    smtp::auth(&mut s.conn, "PLAIN", &super::sasl_plain(&user, &secret))
                        .map(|r| (r, "AUTH PLAIN"))
                } else if has("LOGIN") {
                    smtp::auth_login(&mut s.conn, &user, &secret).map(|r| (r, "AUTH LOGIN"))
                } else {
                    mech_missing(self, "AUTH PLAIN/LOGIN");
                    return false;
                };
                r.map(|(rep, how)| {
                    (
                        Reply {
                            ok: rep.code == 235,
                            bad: false,
                            code: Some(rep.code.to_string()),
                            text: rep.text(),
                        },
                        how.to_string(),
                    )
                })
            }
        };
        match result {
            Ok((rep, how)) if rep.ok => {
                self.stage("login", Outcome::Ok, format!("{how} as {user:?}"), t);
                true
            }
            Ok((rep, how)) => {
                self.stage(
                    "login",
                    Outcome::Fail,
                    format!("{how} as {user:?}: {}", rep.text),
                    t,
                );
                self.login_refused(&rep, &user, &at, bearer, tls);
                false
            }
            Err(e) => {
                self.net_fail("login", e, t);
                false
            }
        }
    }

    fn login_refused(&mut self, rep: &Reply, user: &str, at: &str, bearer: bool, tls: bool) {
        let text = rep.text.as_str();
        let lower = text.to_ascii_lowercase();
        let code = rep.code.as_deref().unwrap_or("");
        let needs_tls = matches!(code, "PRIVACYREQUIRED" | "538" | "523" | "530")
            || (lower.contains("plaintext")
                && (lower.contains("disallow") || lower.contains("not allowed")))
            || lower.contains("must issue a starttls");
        if needs_tls && !tls {
            let msg = format!("the {} refuses to log in without TLS: {text}", self.who());
            self.find(&r::LOGIN_DISABLED, &["security"], msg).help =
                Some("use security \"tls\" (STARTTLS) or \"ssl\"".into());
            return;
        }
        let what = if bearer { "token" } else { "password" };
        let (cause, help) = match code {
            "UNAVAILABLE" | "SYS/TEMP" | "454" | "421" => (
                "a temporary server-side failure".to_string(),
                "try again later; if it persists the server's authentication backend is down"
                    .to_string(),
            ),
            "EXPIRED" | "CONTACTADMIN" | "AUTHORIZATIONFAILED" | "IN-USE" | "SYS/PERM" => (
                "the account is locked, expired or not allowed to log in".to_string(),
                "ask the mail administrator to unlock the account".to_string(),
            ),
            "504" => (
                "the mechanism is not supported".to_string(),
                "the server does not accept this login mechanism".to_string(),
            ),
            "534" => (
                "the server wants a stronger mechanism or an app password".to_string(),
                "use an app password or credentials-based (OAuth) login".to_string(),
            ),
            _ => (
                format!("bad user name or {what}"),
                if bearer {
                    "check `user` and the credential's token (it may have expired)".to_string()
                } else {
                    "check `user` and the password the reference points to".to_string()
                },
            ),
        };
        let msg = format!(
            "the {} refused the login as {user:?}: {cause} (server: {text})",
            self.who()
        );
        let mut f = Finding::new(&r::LOGIN, &[], msg);
        f.at = vec![
            at.to_string(),
            self.rel("user"),
            self.plan.role.key().to_string(),
        ];
        f.help = Some(help);
        self.findings.push(f);
    }

    // ---- after login --------------------------------------------------------------------

    fn mailbox(&mut self, s: &mut Session) {
        let mailbox = self.plan.mailbox.clone().unwrap_or_else(|| "INBOX".into());
        let t = Instant::now();
        match s.imap.examine(&mut s.conn, &mailbox) {
            Ok((rep, n)) if rep.ok => {
                let count = n.map(|n| format!(": {n} messages")).unwrap_or_default();
                self.stage(
                    "mailbox",
                    Outcome::Ok,
                    format!("EXAMINE {mailbox:?}{count}"),
                    t,
                );
            }
            Ok((rep, _)) => {
                let names = s.imap.list(&mut s.conn).unwrap_or_default();
                let similar = similar_names(&mailbox, &names);
                self.stage(
                    "mailbox",
                    Outcome::Fail,
                    format!("EXAMINE {mailbox:?}: {}", rep.text),
                    t,
                );
                let msg = if rep.code.as_deref() == Some("NONEXISTENT")
                    || rep.text.to_ascii_lowercase().contains("exist")
                {
                    format!("mailbox {mailbox:?} does not exist on the {}", self.who())
                } else {
                    format!("mailbox {mailbox:?} cannot be opened: {}", rep.text)
                };
                let help = if !similar.is_empty() {
                    format!("did you mean {}?", quote_list(&similar))
                } else if names.is_empty() {
                    "the server listed no mailboxes".to_string()
                } else {
                    format!(
                        "the server has: {}",
                        quote_list(&names.iter().take(20).cloned().collect::<Vec<_>>())
                    )
                };
                self.find(&r::MAILBOX, &["mailbox"], msg).help = Some(help);
            }
            Err(e) => {
                self.net_fail("mailbox", e, t);
            }
        }
    }

    fn stat(&mut self, s: &mut Session) {
        let t = Instant::now();
        match pop3::command(&mut s.conn, "STAT") {
            Ok(rep) if rep.ok => {
                let detail = match pop3::stat_counts(&rep) {
                    Some((n, o)) => format!("STAT: {n} messages, {o} octets"),
                    None => format!("STAT: {}", rep.text),
                };
                self.stage("stat", Outcome::Ok, detail, t);
            }
            Ok(rep) => {
                self.stage("stat", Outcome::Fail, format!("STAT: {}", rep.text), t);
                let msg = format!("the {} refused STAT: {}", self.who(), rep.text);
                self.find(&r::MAILBOX, &["user"], msg);
            }
            Err(e) => {
                self.net_fail("stat", e, t);
            }
        }
    }

    fn senders(&mut self, s: &mut Session) {
        let rcpt = self
            .plan
            .send_test_to
            .clone()
            .or_else(|| self.plan.default_from.as_deref().map(super::bare_address));
        let t = Instant::now();
        if self.plan.senders.is_empty() {
            self.skip("senders", "no `from { address … }` to test");
        } else if let Some(rcpt) = rcpt.clone() {
            let mut accepted = Vec::new();
            let mut rejected = Vec::new();
            for (addr, at) in self.plan.senders.clone() {
                match check_sender(&mut s.conn, &addr, &rcpt) {
                    Ok(SenderResult::Accepted) => accepted.push(addr),
                    Ok(SenderResult::SenderRejected(text)) => {
                        let msg =
                            format!("the {} rejects From address {addr:?}: {text}", self.who());
                        let mut f = Finding::new(&r::FROM_REJECTED, &[], msg);
                        f.at = vec![at.clone(), "from".into()];
                        f.help = Some(
                            "the login may not send as this address: grant \"send as\" on the \
                             server, or remove the address"
                                .into(),
                        );
                        self.findings.push(f);
                        rejected.push(addr);
                    }
                    Ok(SenderResult::RecipientRejected(text)) => {
                        accepted.push(format!("{addr} (recipient {rcpt} refused: {text})"));
                    }
                    Err(e) => {
                        self.net_fail("senders", e, t);
                        return;
                    }
                }
            }
            let outcome = if rejected.is_empty() {
                Outcome::Ok
            } else {
                Outcome::Fail
            };
            let mut detail = format!("MAIL FROM accepted: {}", none_or(&accepted));
            if !rejected.is_empty() {
                detail.push_str(&format!("; REJECTED: {}", rejected.join(", ")));
            }
            self.stage("senders", outcome, detail, t);
        }
        if let Some(to) = self.plan.send_test_to.clone() {
            self.send_test(s, &to);
        }
    }

    fn send_test(&mut self, s: &mut Session, to: &str) {
        let t = Instant::now();
        let from = self
            .plan
            .default_from
            .clone()
            .or_else(|| match &self.plan.login {
                LoginPlan::Password { user, .. } | LoginPlan::Bearer { user, .. } => {
                    Some(user.clone())
                }
                _ => None,
            });
        let Some(from) = from else {
            self.stage("send", Outcome::Fail, "no From address", t);
            let msg = "--send-test-to needs a From address: the account has no `from` address"
                .to_string();
            let mut f = Finding::new(&r::SEND, &[], msg);
            f.at = vec!["from".into(), "outgoing".into()];
            self.findings.push(f);
            return;
        };
        let id = message_id();
        let message = match build_message(&from, to, &self.plan.account_name, &id) {
            Ok(m) => m,
            Err(e) => {
                self.stage("send", Outcome::Fail, e.clone(), t);
                let mut f =
                    Finding::new(&r::SEND, &[], format!("cannot build the test message: {e}"));
                f.at = vec!["from".into(), "outgoing".into()];
                self.findings.push(f);
                return;
            }
        };
        let from_bare = super::bare_address(&from);
        let steps = (|| -> Result<Result<(), String>, NetError> {
            let _ = smtp::command(&mut s.conn, "RSET")?;
            let r = smtp::command(&mut s.conn, &format!("MAIL FROM:<{from_bare}>"))?;
            if !r.ok() {
                return Ok(Err(format!(
                    "MAIL FROM:<{from_bare}> refused: {}",
                    r.text()
                )));
            }
            let r = smtp::command(&mut s.conn, &format!("RCPT TO:<{to}>"))?;
            if !r.ok() {
                return Ok(Err(format!("RCPT TO:<{to}> refused: {}", r.text())));
            }
            let r = smtp::data(&mut s.conn, &message)?;
            if !r.ok() {
                return Ok(Err(format!("message refused: {}", r.text())));
            }
            Ok(Ok(()))
        })();
        match steps {
            Ok(Ok(())) => {
                self.stage(
                    "send",
                    Outcome::Ok,
                    format!("sent to {to}, Message-ID {id}"),
                    t,
                );
                self.report.sent_message_id = Some(id);
            }
            Ok(Err(e)) => {
                self.stage("send", Outcome::Fail, e.clone(), t);
                let msg = format!("the test message to {to} was not sent: {e}");
                let mut f = Finding::new(&r::SEND, &[], msg);
                f.at = vec!["outgoing/server".into(), "outgoing".into()];
                self.findings.push(f);
            }
            Err(e) => {
                self.net_fail("send", e, t);
            }
        }
    }
}

enum SenderResult {
    Accepted,
    SenderRejected(String),
    RecipientRejected(String),
}

/// MAIL FROM + RCPT TO + RSET. Servers usually delay sender rejections to RCPT
/// (Postfix `smtpd_delay_reject`), so a RCPT refusal that names the sender counts as one.
fn check_sender(c: &mut Conn, from: &str, rcpt: &str) -> Result<SenderResult, NetError> {
    let r = smtp::command(c, &format!("MAIL FROM:<{from}>"))?;
    if !r.ok() {
        let _ = smtp::command(c, "RSET")?;
        return Ok(SenderResult::SenderRejected(r.text()));
    }
    let rr = smtp::command(c, &format!("RCPT TO:<{rcpt}>"))?;
    let _ = smtp::command(c, "RSET")?;
    if rr.ok() {
        return Ok(SenderResult::Accepted);
    }
    let text = rr.text();
    let lower = text.to_ascii_lowercase();
    if lower.contains("sender")
        || rr.first().starts_with("5.1.7")
        || rr.first().starts_with("5.1.8")
    {
        Ok(SenderResult::SenderRejected(text))
    } else {
        Ok(SenderResult::RecipientRejected(text))
    }
}

fn smtp_caps(rep: &smtp::SmtpReply) -> Caps {
    let exts = smtp::extensions(rep);
    Caps {
        starttls: smtp::has_ext(&exts, "STARTTLS"),
        mechs: smtp::auth_mechs(&exts),
        raw: exts,
        ..Caps::default()
    }
}

fn describe(c: &Caps) -> String {
    let mut parts = Vec::new();
    if c.starttls {
        parts.push("STARTTLS".to_string());
    }
    if c.login_disabled {
        parts.push("LOGINDISABLED".to_string());
    }
    parts.push(if c.mechs.is_empty() {
        "AUTH: none".to_string()
    } else {
        format!("AUTH: {}", c.mechs.join(" "))
    });
    parts.join(", ")
}

fn cert_line(c: &net::CertInfo) -> String {
    format!(
        "{}, issuer {}, expires {} ({} days left)",
        c.subject, c.issuer, c.not_after, c.days_left
    )
}

fn none_or(v: &[String]) -> String {
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

fn quote_list(v: &[String]) -> String {
    v.iter()
        .map(|s| format!("{s:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Mailbox names close to `wanted`: same ignoring case, one contains the other, or a small
/// edit distance.
fn similar_names(wanted: &str, names: &[String]) -> Vec<String> {
    let w = wanted.to_lowercase();
    let mut scored: Vec<(usize, &String)> = names
        .iter()
        .filter_map(|n| {
            let l = n.to_lowercase();
            let d = strsim::levenshtein(&w, &l);
            let close = l == w
                || l.ends_with(&format!("/{w}"))
                || l.ends_with(&format!(".{w}"))
                || (w.len() >= 3 && l.contains(&w))
                || (l.len() >= 3 && w.contains(&l))
                || d <= (w.chars().count() / 3).max(1);
            close.then_some((d, n))
        })
        .collect();
    scored.sort();
    scored.into_iter().take(5).map(|(_, n)| n.clone()).collect()
}

fn message_id() -> String {
    use sha2::{Digest, Sha256};
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let seed = format!(
        "{now}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    let h = Sha256::digest(seed.as_bytes());
    let hex: String = h.iter().take(12).map(|b| format!("{b:02x}")).collect();
    format!("<mailcfg-probe.{hex}@mailcfg.invalid>")
}

fn build_message(from: &str, to: &str, account: &str, id: &str) -> Result<Vec<u8>, String> {
    use lettre::message::header::ContentType;
    let from = from.parse().map_err(|e| format!("From {from:?}: {e}"))?;
    let to = to.parse().map_err(|e| format!("To {to:?}: {e}"))?;
    let m = lettre::Message::builder()
        .from(from)
        .to(to)
        .subject(format!(
            "mailcfg probe: test message from account \"{account}\""
        ))
        .message_id(Some(id.to_string()))
        .header(ContentType::TEXT_PLAIN)
        .body(format!(
            "This is a test message sent by `mailcfg probe --send-test-to` for the account \
             \"{account}\".\r\nIf it arrived, the account's outgoing server works.\r\n"
        ))
        .map_err(|e| e.to_string())?;
    Ok(m.formatted())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similar_mailboxes_are_suggested() {
        let names: Vec<String> = ["INBOX", "Sent", "Shared/HR", "Archive", "Trash"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(similar_names("HR", &names), vec!["Shared/HR".to_string()]);
        assert_eq!(similar_names("inbox", &names), vec!["INBOX".to_string()]);
        assert_eq!(similar_names("Archiv", &names), vec!["Archive".to_string()]);
        assert!(similar_names("Nothing-like-it", &names).is_empty());
    }
}
