//! `mailcfg probe --format results-json`: everything a probe run found, as one versioned
//! document — per account and server every stage with its status, duration and details, the
//! facts behind them (addresses, TLS, certificate, capabilities, mailbox, From verdicts), and the
//! diagnostics. The metrics and the HTML report are rendered from this document, so the three
//! always agree.
//!
//! The structs are the contract: `schema/probe-results.schema.json` is generated from them
//! (`mailcfg schema --probe-results`) and a test fails when the checked-in copy is stale.
//! Incompatible changes bump [`VERSION`].

use std::net::SocketAddr;

use schemars::JsonSchema;
use serde::Serialize;

use super::resolve::ResolveError;
use super::{AccountReport, CertInfo, DomainReport, Outcome, Report, Role, ServerReport, Verdict};
use crate::diagnostics::{Diagnostic, Level};
use crate::pipeline::Checked;
use crate::render::json::{self, JsonDiagnostic};
use crate::render::{self, Scrub};

/// The version of this document's shape.
pub const VERSION: u32 = 1;

/// A `mailcfg probe --format results-json` document.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "mailcfg probe results", deny_unknown_fields)]
pub struct Document {
    /// Version of the document's shape; incremented on incompatible changes.
    #[schemars(extend("const" = 1))]
    pub version: u32,
    pub tool: json::Tool,
    /// When the run started, RFC 3339 in UTC, and as seconds since the Unix epoch.
    pub started_at: String,
    pub started_at_unix: i64,
    /// Wall-clock time of the whole run.
    pub elapsed_ms: u64,
    /// Every selected account, in the order of the files.
    pub accounts: Vec<Account>,
    /// Diagnostics not inside any selected account's node (e.g. in a credential block).
    pub other_diagnostics: Vec<JsonDiagnostic>,
    pub summary: Summary,
    /// The exit code of the run (0 passed, 1 a stage failed or an account was refused, 4 no
    /// resolver answered).
    pub exit_code: u8,
}

#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Summary {
    /// Accounts selected.
    pub accounts: usize,
    /// Accounts whose servers were contacted.
    pub probed: usize,
    /// Accounts refused (fail `check`, or lack what a test needs).
    pub not_probed: usize,
    /// Probed accounts with a failed stage.
    pub failed: usize,
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

/// The overall status of an account, a server or a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Ok,
    Warning,
    Failed,
    Skipped,
    /// The account was refused (not probed), or a server block is not configured.
    NotProbed,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warning => "warning",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
            Status::NotProbed => "not-probed",
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Account {
    pub name: String,
    /// The account file, as given or found.
    pub file: String,
    /// `ok`, `warning`, `failed` (a stage failed) or `not-probed` (refused).
    pub status: Status,
    pub elapsed_ms: u64,
    /// The incoming server, then the outgoing one (absent when not probed).
    pub servers: Vec<Server>,
    /// Server blocks the account does not have (`outgoing` under `--allow-check-errors`).
    pub not_configured: Vec<String>,
    /// The deliverability stage: the DNS records of each From domain (and of the incoming
    /// user's domain when the user is an address).
    pub domains: Vec<Domain>,
    /// Findings inside this account's node: probe findings and, for a refused account, the
    /// `check` errors that explain why.
    pub diagnostics: Vec<JsonDiagnostic>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Server {
    /// `incoming` or `outgoing`.
    pub role: String,
    /// `imap`, `pop3` or `smtp`.
    pub protocol: String,
    pub host: String,
    pub port: u16,
    /// `security` as configured (`auto` when not written).
    pub security: String,
    /// The mode actually used: `ssl` (implicit TLS), `tls` (STARTTLS) or `basic`; what `auto`
    /// resolved to. Absent when no session was established.
    pub resolved_security: Option<String>,
    pub status: Status,
    /// Every stage in the order it ran.
    pub stages: Vec<Stage>,
    /// Addresses the name resolved to.
    pub addresses: Vec<String>,
    /// Why the name gave no address.
    pub resolve_error: Option<ResolveFailure>,
    /// Addresses a connection was attempted to, and the one that answered.
    pub tried: Vec<String>,
    pub connected_to: Option<String>,
    pub tls: Option<Tls>,
    /// The certificate the server presented, accepted or not.
    pub certificate: Option<Certificate>,
    /// The capabilities last read (after STARTTLS when it was used).
    pub capabilities: Vec<String>,
    pub auth_mechanisms: Vec<String>,
    /// IMAP: the mailbox opened read-only with EXAMINE.
    pub mailbox: Option<Mailbox>,
    /// POP3: STAT.
    pub stat: Option<Stat>,
    /// SMTP: each From address tried with MAIL FROM/RCPT TO.
    pub senders: Vec<Sender>,
    /// The Message-ID of the test message sent with `--send-test-to`.
    pub sent_message_id: Option<String>,
}

/// One From domain of an account and its DNS records (docs/probe.md, "Deliverability").
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Domain {
    /// The domain, lower case.
    pub domain: String,
    /// The account's addresses with this domain (From addresses, the incoming user).
    pub addresses: Vec<String>,
    pub status: Status,
    /// `mx`, `spf`, `spf-result` and `dmarc`, in that order.
    pub stages: Vec<Stage>,
    /// The MX records, most preferred first; host `.` is a null MX (RFC 7505).
    pub mx: Vec<MxHost>,
    pub spf: Spf,
    pub dmarc: Dmarc,
}

#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct MxHost {
    pub preference: u16,
    pub host: String,
}

#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Spf {
    /// The TXT records that begin with `v=spf1` (exactly one is valid, RFC 7208 §4.5).
    pub records: Vec<String>,
    /// DNS-querying terms a full evaluation needs, through includes and redirects (at most
    /// 10, RFC 7208 §4.6.4); absent when the record was not valid.
    pub lookups: Option<usize>,
    /// `check_host()` for each address of the outgoing server.
    pub results: Vec<SpfVerdict>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct SpfVerdict {
    pub address: String,
    /// `pass`, `fail`, `softfail`, `neutral`, `none`, `permerror` or `temperror` (RFC 7208 §2.6).
    pub result: String,
}

#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Dmarc {
    /// The `_dmarc` name whose records apply (the domain's own, or its organizational
    /// domain's).
    pub name: Option<String>,
    /// The records there that begin with `v=DMARC1`.
    pub records: Vec<String>,
    /// `none`, `quarantine` or `reject`: what receivers do with mail that fails DMARC; absent
    /// when no valid record applies.
    pub policy: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Stage {
    /// `resolve`, `connect`, `tls`, `certificate`, `greeting`, `capabilities`, `login`,
    /// `mailbox`, `stat`, `senders` or `send` (servers); `mx`, `spf`, `spf-result` or `dmarc`
    /// (domains).
    pub name: String,
    pub status: Status,
    /// Absent for stages that take no time of their own (the certificate check) or were
    /// skipped.
    pub duration_ms: Option<f64>,
    /// What happened, as the human table shows it.
    pub detail: String,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ResolveKind {
    /// The resolver answered: no such name.
    NotFound,
    /// The resolver answered: the name has no A/AAAA record.
    NoAddress,
    /// The resolver answered with an error (SERVFAIL, ...).
    Failed,
    /// No resolver answered.
    Unreachable,
}

#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ResolveFailure {
    pub kind: ResolveKind,
    pub message: String,
}

#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Tls {
    /// e.g. `TLS 1.3`.
    pub version: String,
    /// e.g. `TLS13_AES_256_GCM_SHA384`.
    pub cipher: String,
    /// False for `ssl-no-auth`: the chain and name were not checked.
    pub verified: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Certificate {
    pub subject: String,
    pub issuer: String,
    /// Subject alternative names (DNS names and IP addresses).
    pub sans: Vec<String>,
    /// RFC 3339 in UTC.
    pub not_after: String,
    pub not_after_unix: i64,
    /// Whole days until `not_after` (negative once expired).
    pub days_left: i64,
    pub self_signed: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Mailbox {
    pub name: String,
    pub opened: bool,
    /// The number of messages (EXISTS), when the mailbox opened.
    pub messages: Option<u64>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Stat {
    pub messages: u64,
    pub octets: u64,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SenderVerdict {
    Accepted,
    Rejected,
    /// MAIL FROM was accepted, the test recipient was refused.
    RecipientRefused,
}

#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Sender {
    pub address: String,
    pub verdict: SenderVerdict,
    /// The server's reply, when it was not a plain acceptance.
    pub reply: Option<String>,
}

fn ms(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 10.0).round() / 10.0
}

fn addr(a: &SocketAddr) -> String {
    a.to_string()
}

/// `2099-12-31T23:59:59Z` for seconds since the epoch (proleptic Gregorian calendar).
pub fn rfc3339(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Howard Hinnant's days_from_civil inverse.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

fn outcome(o: Outcome) -> Status {
    match o {
        Outcome::Ok => Status::Ok,
        Outcome::Warn => Status::Warning,
        Outcome::Fail => Status::Failed,
        Outcome::Skipped => Status::Skipped,
    }
}

fn certificate(c: &CertInfo) -> Certificate {
    Certificate {
        subject: c.subject.clone(),
        issuer: c.issuer.clone(),
        sans: c.names.clone(),
        not_after: rfc3339(c.not_after_unix),
        not_after_unix: c.not_after_unix,
        days_left: c.days_left,
        self_signed: c.self_signed,
    }
}

fn stages(list: &[super::Stage], scrub: &Scrub) -> Vec<Stage> {
    list.iter()
        .map(|st| Stage {
            name: st.name.into(),
            status: outcome(st.outcome),
            duration_ms: st.elapsed.map(ms),
            detail: scrub.text(&st.detail),
        })
        .collect()
}

fn domain(d: &DomainReport, scrub: &Scrub) -> Domain {
    let status = if d.failed() {
        Status::Failed
    } else if d.stages.iter().any(|st| st.outcome == Outcome::Warn) {
        Status::Warning
    } else {
        Status::Ok
    };
    Domain {
        domain: d.domain.clone(),
        addresses: d.addresses.clone(),
        status,
        stages: stages(&d.stages, scrub),
        mx: d
            .mx
            .iter()
            .map(|(preference, host)| MxHost {
                preference: *preference,
                host: host.clone(),
            })
            .collect(),
        spf: Spf {
            records: d.spf_records.clone(),
            lookups: d.spf_lookups,
            results: d
                .spf_results
                .iter()
                .map(|(ip, r)| SpfVerdict {
                    address: ip.to_string(),
                    result: (*r).to_string(),
                })
                .collect(),
        },
        dmarc: Dmarc {
            name: d.dmarc_name.clone(),
            records: d.dmarc_records.clone(),
            policy: d.dmarc_policy.map(str::to_string),
        },
    }
}

fn server(s: &ServerReport, scrub: &Scrub) -> Server {
    let status = if s.failed() {
        Status::Failed
    } else if s.stages.iter().any(|st| st.outcome == Outcome::Warn) {
        Status::Warning
    } else {
        Status::Ok
    };
    Server {
        role: s.role.key().into(),
        protocol: s.service.display().to_ascii_lowercase(),
        host: s.host.clone(),
        port: s.port,
        security: s.security.to_string(),
        resolved_security: s.used.map(str::to_string),
        status,
        stages: stages(&s.stages, scrub),
        addresses: s.addresses.iter().map(|a| a.ip().to_string()).collect(),
        resolve_error: s.resolve_error.as_ref().map(|e| ResolveFailure {
            kind: match e {
                ResolveError::NotFound(_) => ResolveKind::NotFound,
                ResolveError::NoAddress(_) => ResolveKind::NoAddress,
                ResolveError::Failed(_) => ResolveKind::Failed,
                ResolveError::Unreachable(_) => ResolveKind::Unreachable,
            },
            message: e.message().to_string(),
        }),
        tried: s.tried.iter().map(addr).collect(),
        connected_to: s.connected.as_ref().map(addr),
        tls: s.tls.as_ref().map(|t| Tls {
            version: t.version.clone(),
            cipher: t.cipher.clone(),
            verified: t.verified,
        }),
        certificate: s.certificate.as_ref().map(certificate),
        capabilities: s.capabilities.iter().map(|c| scrub.text(c)).collect(),
        auth_mechanisms: s.mechanisms.clone(),
        mailbox: s.mailbox.as_ref().map(|m| Mailbox {
            name: m.name.clone(),
            opened: m.opened,
            messages: m.messages,
        }),
        stat: s.stat.map(|(messages, octets)| Stat { messages, octets }),
        senders: s
            .senders
            .iter()
            .map(|v| Sender {
                address: v.address.clone(),
                verdict: match v.verdict {
                    Verdict::Accepted => SenderVerdict::Accepted,
                    Verdict::Rejected => SenderVerdict::Rejected,
                    Verdict::RecipientRefused => SenderVerdict::RecipientRefused,
                },
                reply: scrub.opt(v.reply.as_deref()),
            })
            .collect(),
        sent_message_id: s.sent_message_id.clone(),
    }
}

/// The status of an account as a whole.
pub fn account_status(a: &AccountReport) -> Status {
    if a.refused {
        Status::NotProbed
    } else if a.failed() {
        Status::Failed
    } else if a.stages().any(|st| st.outcome == Outcome::Warn) {
        Status::Warning
    } else {
        Status::Ok
    }
}

/// The document for a finished run. `diagnostics` are every diagnostic the run reports (probe
/// findings and the check errors of the selected accounts' files); `secrets` are scrubbed
/// from every text taken from a server or a file.
pub fn document(
    report: &Report,
    checked: &Checked,
    diagnostics: &[Diagnostic],
    started_at_unix: i64,
    exit_code: u8,
) -> Document {
    let mut secrets = render::secrets(&checked.sources);
    secrets.extend(report.secrets.iter().cloned());
    let scrub = Scrub(secrets);
    let rendered = render::Report {
        diagnostics,
        sources: &checked.sources,
        files: 0,
        exit_code,
    };
    // Sorted like `--format json`, then handed to the account whose node contains them.
    let sorted = render::sorted(diagnostics, &checked.sources);
    let mut json_diags: Vec<Option<JsonDiagnostic>> = json::document(&rendered, &scrub)
        .diagnostics
        .into_iter()
        .map(Some)
        .collect();
    let mut accounts = Vec::new();
    for a in &report.accounts {
        let item = &checked.project.accounts[a.index];
        let node = checked.spans[item.file.index()]
            .get(&item.pointer)
            .map(|e| e.node);
        let mut mine = Vec::new();
        for (i, d) in sorted.iter().enumerate() {
            let inside = node.is_some_and(|n| {
                d.primary.file == item.file
                    && d.primary.span.start >= n.start
                    && d.primary.span.end <= n.end
            });
            if inside {
                if let Some(j) = json_diags[i].take() {
                    mine.push(j);
                }
            }
        }
        let mut not_configured = Vec::new();
        if !a.refused && !a.servers.iter().any(|s| s.role == Role::Outgoing) {
            not_configured.push("outgoing".to_string());
        }
        accounts.push(Account {
            name: a.name.clone(),
            file: checked.sources.get(a.file).display_path(),
            status: account_status(a),
            elapsed_ms: a.elapsed.as_millis() as u64,
            servers: a.servers.iter().map(|s| server(s, &scrub)).collect(),
            not_configured,
            domains: a.domains.iter().map(|d| domain(d, &scrub)).collect(),
            diagnostics: mine,
        });
    }
    let count = |l: Level| diagnostics.iter().filter(|d| d.level == l).count();
    let probed = report.accounts.iter().filter(|a| !a.refused).count();
    Document {
        version: VERSION,
        tool: json::Tool {
            name: "mailcfg".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        started_at: rfc3339(started_at_unix),
        started_at_unix,
        elapsed_ms: report.elapsed.as_millis() as u64,
        summary: Summary {
            accounts: report.accounts.len(),
            probed,
            not_probed: report.accounts.len() - probed,
            failed: accounts
                .iter()
                .filter(|a| a.status == Status::Failed)
                .count(),
            errors: count(Level::Error),
            warnings: count(Level::Warning),
            infos: count(Level::Info),
        },
        accounts,
        other_diagnostics: json_diags.into_iter().flatten().collect(),
        exit_code,
    }
}

pub fn render(doc: &Document) -> String {
    let mut s = serde_json::to_string_pretty(doc).expect("results serialize");
    s.push('\n');
    s
}

/// The JSON Schema of [`Document`], as checked in under `schema/probe-results.schema.json`.
pub fn schema_pretty() -> String {
    crate::schema::pretty(&crate::schema::schema_of::<Document>())
}

#[cfg(test)]
mod tests {
    use super::rfc3339;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}
