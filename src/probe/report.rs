//! What a probe run found: per account, per server, per stage.

use std::net::SocketAddr;
use std::time::Duration;

use super::resolve;
use super::{CertInfo, Finding, TlsInfo};
use crate::diagnostics::Diagnostic;
use crate::model::{Security, Service};
use crate::source::FileId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Incoming,
    Outgoing,
}

impl Role {
    pub fn key(self) -> &'static str {
        match self {
            Role::Incoming => "incoming",
            Role::Outgoing => "outgoing",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Warn,
    Fail,
    Skipped,
}

/// One step of one server's probe.
#[derive(Debug, Clone)]
pub struct Stage {
    pub name: &'static str,
    pub outcome: Outcome,
    pub detail: String,
    pub elapsed: Option<Duration>,
}

impl Stage {
    /// A stage that ran from `started` until now.
    pub fn timed(
        name: &'static str,
        outcome: Outcome,
        detail: impl Into<String>,
        started: std::time::Instant,
    ) -> Self {
        Stage {
            name,
            outcome,
            detail: detail.into(),
            elapsed: Some(started.elapsed()),
        }
    }

    /// A stage that did not run, and why.
    pub fn skipped(name: &'static str, detail: impl Into<String>) -> Self {
        Stage {
            name,
            outcome: Outcome::Skipped,
            detail: detail.into(),
            elapsed: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ServerReport {
    pub role: Role,
    pub service: Service,
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// The mode actually used: "ssl", "tls" (STARTTLS) or "basic".
    pub used: Option<&'static str>,
    pub tls: Option<TlsInfo>,
    pub stages: Vec<Stage>,
    /// The Message-ID of the test message, when `--send-test-to` sent one.
    pub sent_message_id: Option<String>,
    /// What the resolve stage found, or why it found nothing.
    pub addresses: Vec<SocketAddr>,
    pub resolve_error: Option<resolve::ResolveError>,
    /// Every address a connection was attempted to, and the one that answered.
    pub tried: Vec<SocketAddr>,
    pub connected: Option<SocketAddr>,
    /// The capabilities last read (after STARTTLS when it was used), and the AUTH mechanisms.
    pub capabilities: Vec<String>,
    pub mechanisms: Vec<String>,
    /// IMAP: the EXAMINEd mailbox and its message count.
    pub mailbox: Option<MailboxFacts>,
    /// POP3: STAT's message count and size in octets.
    pub stat: Option<(u64, u64)>,
    /// SMTP: each From address tested with MAIL FROM/RCPT TO.
    pub senders: Vec<SenderVerdict>,
    /// The certificate the server presented, whether or not it was accepted.
    pub certificate: Option<CertInfo>,
}

/// The mailbox the IMAP probe opened (read-only).
#[derive(Debug, Clone)]
pub struct MailboxFacts {
    pub name: String,
    /// The EXISTS count; `None` when the server did not send one or the mailbox did not open.
    pub messages: Option<u64>,
    pub opened: bool,
}

/// What the SMTP server said to one From address.
#[derive(Debug, Clone)]
pub struct SenderVerdict {
    pub address: String,
    pub verdict: Verdict,
    /// The server's reply when it was not a plain acceptance.
    pub reply: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Accepted,
    Rejected,
    /// The sender was accepted but the test recipient was refused.
    RecipientRefused,
}

impl ServerReport {
    pub fn failed(&self) -> bool {
        self.stages.iter().any(|s| s.outcome == Outcome::Fail)
    }
}

#[derive(Debug, Clone)]
pub struct AccountReport {
    pub name: String,
    pub file: FileId,
    /// Index into `Checked.project.accounts`.
    pub index: usize,
    pub refused: bool,
    pub servers: Vec<ServerReport>,
    /// The deliverability stage: one report per From domain.
    pub domains: Vec<super::DomainReport>,
    pub findings: Vec<Finding>,
    pub elapsed: Duration,
}

impl AccountReport {
    /// Every stage of every server and From domain.
    pub fn stages(&self) -> impl Iterator<Item = &Stage> {
        self.servers
            .iter()
            .flat_map(|s| &s.stages)
            .chain(self.domains.iter().flat_map(|d| &d.stages))
    }

    pub fn failed(&self) -> bool {
        self.stages().any(|s| s.outcome == Outcome::Fail)
    }
}

/// Everything a probe run produced.
pub struct Report {
    pub accounts: Vec<AccountReport>,
    /// Probe findings as diagnostics (check errors of refused accounts are in `Checked`).
    pub diagnostics: Vec<Diagnostic>,
    /// Resolved secret values, to scrub from anything printed.
    pub secrets: Vec<String>,
    /// No server could even be resolved (DNS unavailable?): the probe itself could not run.
    pub could_not_run: bool,
    pub elapsed: Duration,
}
