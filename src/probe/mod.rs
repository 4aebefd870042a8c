//! `mailcfg probe`: test every account against its live servers, stage by stage, and turn each
//! failure into a diagnostic on the KDL node that causes it.
//!
//! [`select`](select::select) picks the accounts, `plan` decides per account what to contact
//! and with which secrets, [`probe`] runs the plans concurrently (telling a [`Progress`] as
//! accounts finish), `flow` does the network work per server over [`net`] (transport),
//! [`resolve`] (names) and the small `imap`, `pop3` and `smtp` clients; `place` turns findings
//! into diagnostics with fixes whose settings come from [`advice`]; [`deliverability`] then checks
//! each From domain's DNS records (MX, SPF, DMARC). Output: [`table`] and
//! [`live`] for people, [`results`] (the document), [`metrics`] and [`html`] rendered from it.

pub mod advice;
pub mod deliverability;
mod flow;
pub mod html;
pub mod imap;
pub mod live;
pub mod metrics;
pub mod net;
mod place;
mod plan;
pub mod pop3;
mod report;
pub mod resolve;
pub mod results;
mod select;
pub mod smtp;
pub mod table;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::pipeline::Checked;
use place::place;
use plan::{plan, Plan};

pub use deliverability::DomainReport;
pub use net::{CertInfo, TlsInfo};
pub use place::Finding;
pub use plan::{bare_address, resolve_secret};
pub(crate) use plan::{LoginPlan, ServerPlan};
pub use report::{
    AccountReport, MailboxFacts, Outcome, Report, Role, SenderVerdict, ServerReport, Stage, Verdict,
};
pub use select::select;

/// What `mailcfg probe` was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// Connect timeout and per-read timeout.
    pub timeout: Duration,
    /// Extra trust anchors (PEM), e.g. a private CA.
    pub ca_file: Option<PathBuf>,
    /// Warn when the certificate expires within this many days.
    pub cert_warn_days: i64,
    /// Accounts probed at the same time.
    pub jobs: usize,
    /// Really send a test message to this address.
    pub send_test_to: Option<String>,
    /// Probe accounts even when `check` reports errors for them.
    pub allow_check_errors: bool,
    /// Who resolves server names.
    pub resolver: resolve::Resolver,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            timeout: Duration::from_secs(10),
            ca_file: None,
            cert_warn_days: 21,
            jobs: 8,
            send_test_to: None,
            allow_check_errors: false,
            resolver: resolve::Resolver::System,
        }
    }
}

/// A protocol reply reduced to what classification needs.
#[derive(Debug, Clone)]
pub struct Reply {
    pub ok: bool,
    /// IMAP BAD (a protocol error rather than a refusal).
    pub bad: bool,
    /// IMAP/POP3 response code, e.g. `AUTHENTICATIONFAILED`, `AUTH`, `SYS/TEMP`.
    pub code: Option<String>,
    pub text: String,
}

/// A server line as shown in messages: quoted, control characters escaped, cut at 100 chars.
pub fn show_line(s: &str) -> String {
    let cut: String = s.chars().take(100).collect();
    let mut q = format!("{cut:?}");
    if s.chars().count() > 100 {
        q.push('…');
    }
    q
}

pub(crate) fn sasl_plain(user: &str, pass: &str) -> Vec<u8> {
    format!("\0{user}\0{pass}").into_bytes()
}

pub(crate) fn xoauth2(user: &str, token: &str) -> Vec<u8> {
    format!("user={user}\x01auth=Bearer {token}\x01\x01").into_bytes()
}

/// Told about each account as the probe goes, from the worker threads (in completion order).
pub trait Progress: Sync {
    /// An account's servers are about to be contacted (refused accounts are not started).
    fn started(&self, _index: usize, _name: &str) {}
    /// An account is finished; `secrets` are the resolved secrets to scrub from anything shown.
    fn finished(&self, _index: usize, _account: &AccountReport, _secrets: &[String]) {}
}

/// No live output (machine formats, library use).
pub struct Silent;
impl Progress for Silent {}

/// Probes the selected accounts of a checked tree.
pub fn probe(
    checked: &Checked,
    opts: &Options,
    selected: &[usize],
    progress: &dyn Progress,
) -> Result<Report, String> {
    let started = Instant::now();
    let trust = net::Trust::new(opts.ca_file.as_deref())?;
    let mut secrets = Vec::new();
    let plans: Vec<Plan> = selected
        .iter()
        .map(|&i| plan(checked, i, opts, &mut secrets))
        .collect();
    let cx = flow::Ctx {
        trust: &trust,
        resolver: opts.resolver,
        timeout: opts.timeout,
        warn_days: opts.cert_warn_days,
    };
    let results: Vec<Mutex<Option<AccountReport>>> =
        plans.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let workers = opts.jobs.max(1).min(plans.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::SeqCst);
                let Some(p) = plans.get(k) else { break };
                if !p.refused {
                    progress.started(k, &checked.project.accounts[p.index].value.name);
                }
                let r = run_plan(checked, p, &cx);
                progress.finished(k, &r, &secrets);
                if let Ok(mut slot) = results[k].lock() {
                    *slot = Some(r);
                }
            });
        }
    });
    let accounts: Vec<AccountReport> = results
        .into_iter()
        .filter_map(|m| m.into_inner().ok().flatten())
        .collect();
    let rcx = checked.context();
    let mut diagnostics = Vec::new();
    for a in &accounts {
        let item = &checked.project.accounts[a.index];
        for f in &a.findings {
            diagnostics.push(place(&rcx, item, f));
        }
    }
    // Exit 4 is for "no resolver answered at all", never for a name that does not exist.
    let servers: Vec<&ServerReport> = accounts.iter().flat_map(|a| &a.servers).collect();
    let could_not_run = !servers.is_empty()
        && servers
            .iter()
            .all(|s| matches!(s.resolve_error, Some(resolve::ResolveError::Unreachable(_))));
    Ok(Report {
        accounts,
        diagnostics,
        secrets,
        could_not_run,
        elapsed: started.elapsed(),
    })
}

fn run_plan(checked: &Checked, p: &Plan, cx: &flow::Ctx<'_>) -> AccountReport {
    let t = Instant::now();
    let item = &checked.project.accounts[p.index];
    let mut findings = p.findings.clone();
    let mut servers = Vec::new();
    if !p.refused {
        // Incoming and outgoing at the same time: an account costs its slowest server.
        let results: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = p
                .servers
                .iter()
                .map(|sp| s.spawn(move || flow::probe_server(sp, cx)))
                .collect();
            handles.into_iter().map(|h| h.join()).collect()
        });
        for r in results {
            match r {
                Ok((report, f)) => {
                    servers.push(report);
                    findings.extend(f);
                }
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    }
    let mut domains = Vec::new();
    if !p.refused && !p.domains.is_empty() {
        // SPF is about the address the probe reached, else every address the name has.
        let sender = servers
            .iter()
            .find(|s| s.role == Role::Outgoing && !s.addresses.is_empty())
            .map(|s| deliverability::Sender {
                host: &s.host,
                addresses: match s.connected {
                    Some(a) => vec![a.ip()],
                    None => s.addresses.iter().map(|a| a.ip()).collect(),
                },
            });
        let (reports, f) = deliverability::check(&p.domains, sender, cx.resolver, cx.timeout);
        domains = reports;
        findings.extend(f);
    }
    AccountReport {
        name: item.value.name.to_string(),
        file: item.file,
        index: p.index,
        refused: p.refused,
        servers,
        domains,
        findings,
        elapsed: t.elapsed(),
    }
}
