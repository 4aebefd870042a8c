//! One server's probe, stage by stage: resolve, connect, TLS per security mode (never
//! downgrading), certificate, capabilities, login, then the mailbox (IMAP), STAT (POP3) or the
//! From addresses and the optional test message (SMTP).
//!
//! [`establish`] opens the session (connection, TLS, greeting, capabilities), [`login`] logs in,
//! [`after_login`] does the per-protocol work after it.

mod after_login;
mod establish;
mod login;

use std::time::{Duration, Instant};

use super::net::{self, Conn, Trust};
use super::resolve::{self, ResolveError, Resolver};
use super::{imap, pop3, smtp, Finding, Outcome, ServerPlan, ServerReport, Stage};
use crate::model::Service;
use crate::registry::probe as r;

pub struct Ctx<'a> {
    pub trust: &'a Trust,
    pub resolver: Resolver,
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
            addresses: Vec::new(),
            resolve_error: None,
            tried: Vec::new(),
            connected: None,
            capabilities: Vec::new(),
            mechanisms: Vec::new(),
            mailbox: None,
            stat: None,
            senders: Vec::new(),
            certificate: None,
        },
        findings: Vec::new(),
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
        self.report
            .stages
            .push(Stage::timed(name, outcome, detail, t));
    }

    fn skip(&mut self, name: &'static str, detail: impl Into<String>) {
        self.report.stages.push(Stage::skipped(name, detail));
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
            fix: Vec::new(),
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
        match resolve::resolve(
            self.cx.resolver,
            &self.plan.host,
            self.plan.port,
            self.cx.timeout,
        ) {
            Ok(addrs) => {
                let list: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
                self.stage("resolve", Outcome::Ok, list.join(", "), t);
                self.report.addresses = addrs;
            }
            Err(e) => {
                let msg = e.message().to_string();
                self.stage("resolve", Outcome::Fail, msg.clone(), t);
                let help = match e {
                    ResolveError::Unreachable(_) => {
                        "check this machine's DNS configuration (or --dns-server)"
                    }
                    _ => "check the `server` name",
                };
                self.report.resolve_error = Some(e);
                self.find(&r::DNS, &["server"], msg).help = Some(help.into());
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

    /// What the server offers, kept for the results (the last read wins: after STARTTLS).
    fn note_caps(&mut self, c: &Caps) {
        self.report.capabilities = c.raw.clone();
        self.report.mechanisms = c.mechs.clone();
    }

    fn quit(&mut self, mut s: Session) {
        match self.plan.service {
            Service::Imap => s.imap.logout(&mut s.conn),
            Service::Pop => pop3::quit(&mut s.conn),
            Service::Smtp => smtp::quit(&mut s.conn),
        }
        s.conn.close();
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
