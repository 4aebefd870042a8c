//! `mailcfg probe`: test every account against its live servers, stage by stage, and turn each
//! failure into a diagnostic on the KDL node that causes it.
//!
//! Planning (which accounts, which credentials) happens here on the checked model; the network
//! work per server is in [`flow`]; [`net`] is the transport; `imap`, `pop3` and `smtp` are the
//! small clients; [`table`] renders the per-stage table.

mod flow;
pub mod imap;
pub mod net;
pub mod pop3;
pub mod rules;
pub mod smtp;
pub mod table;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::diagnostics::{Diagnostic, Edit, Fix, Level};
use crate::model::{Account, AuthMode, Located, Secret, Security, Service};
use crate::pipeline::Checked;
use crate::rules::{Context, Part, RuleMeta};
use crate::source::FileId;

pub use net::{CertInfo, TlsInfo};

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
}

impl ServerReport {
    pub fn failed(&self) -> bool {
        self.stages.iter().any(|s| s.outcome == Outcome::Fail)
    }
}

/// A finding before it is placed: `at` lists pointers relative to the account, the first that
/// exists in the file wins (e.g. `incoming/port`, else `incoming/server`).
#[derive(Debug, Clone)]
pub struct Finding {
    pub meta: &'static RuleMeta,
    pub level: Level,
    pub at: Vec<String>,
    pub message: String,
    pub help: Option<String>,
    /// Replace the value at the placed node with this (a quoted KDL string).
    pub fix_value: Option<(String, String)>,
}

impl Finding {
    pub fn new(meta: &'static RuleMeta, at: &[&str], message: impl Into<String>) -> Finding {
        Finding {
            meta,
            level: meta.level,
            at: at.iter().map(|s| s.to_string()).collect(),
            message: message.into(),
            help: None,
            fix_value: None,
        }
    }
    pub fn help(mut self, help: impl Into<String>) -> Finding {
        self.help = Some(help.into());
        self
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
    pub findings: Vec<Finding>,
    pub elapsed: Duration,
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

#[derive(Debug, Clone)]
pub(crate) enum LoginPlan {
    None,
    Password {
        user: String,
        pass: String,
        at: String,
    },
    Bearer {
        user: String,
        token: String,
        at: String,
    },
    /// A secret could not be resolved (already reported).
    Unavailable,
}

#[derive(Debug, Clone)]
pub(crate) struct ServerPlan {
    pub role: Role,
    pub service: Service,
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub login: LoginPlan,
    pub mailbox: Option<String>,
    /// From addresses (bare `name@domain`) with their pointer, for MAIL FROM tests.
    pub senders: Vec<(String, String)>,
    /// The default From (as written, may include a display name) for the test message.
    pub default_from: Option<String>,
    pub send_test_to: Option<String>,
    pub account_name: String,
}

struct Plan {
    index: usize,
    servers: Vec<ServerPlan>,
    findings: Vec<Finding>,
    refused: bool,
}

/// Which accounts `--account` names; unknown names are an error.
pub fn select(checked: &Checked, names: &[String]) -> Result<Vec<usize>, String> {
    let accounts = &checked.project.accounts;
    if names.is_empty() {
        return Ok((0..accounts.len()).collect());
    }
    let mut out = Vec::new();
    for n in names {
        let found: Vec<usize> = accounts
            .iter()
            .enumerate()
            .filter(|(_, a)| a.value.name.eq_ignore_ascii_case(n))
            .map(|(i, _)| i)
            .collect();
        if found.is_empty() {
            let known: Vec<&str> = accounts.iter().map(|a| a.value.name.as_str()).collect();
            return Err(format!(
                "no account named {n:?} passed the schema check (accounts: {}); \
                 `mailcfg check` shows why one is missing",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ));
        }
        for i in found {
            if !out.contains(&i) {
                out.push(i);
            }
        }
    }
    Ok(out)
}

/// Probes the selected accounts of a checked tree.
pub fn probe(checked: &Checked, opts: &Options, selected: &[usize]) -> Result<Report, String> {
    let started = Instant::now();
    let trust = net::Trust::new(opts.ca_file.as_deref())?;
    let mut secrets = Vec::new();
    let plans: Vec<Plan> = selected
        .iter()
        .map(|&i| plan(checked, i, opts, &mut secrets))
        .collect();
    let cx = flow::Ctx {
        trust: &trust,
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
                let r = run_plan(checked, p, &cx);
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
    let rcx = Context {
        project: &checked.project,
        spans: &checked.spans,
        sources: &checked.sources,
    };
    let mut diagnostics = Vec::new();
    for a in &accounts {
        let item = &checked.project.accounts[a.index];
        for f in &a.findings {
            diagnostics.push(place(&rcx, item, f));
        }
    }
    let servers: Vec<&ServerReport> = accounts.iter().flat_map(|a| &a.servers).collect();
    let could_not_run = !servers.is_empty()
        && servers.iter().all(|s| {
            s.stages
                .first()
                .is_some_and(|st| st.name == "resolve" && st.outcome == Outcome::Fail)
        });
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
    AccountReport {
        name: item.value.name.clone(),
        file: item.file,
        index: p.index,
        refused: p.refused,
        servers,
        findings,
        elapsed: t.elapsed(),
    }
}

/// A finding as a diagnostic on the first of its candidate nodes that exists in the file.
fn place(cx: &Context<'_>, item: &Located<Account>, f: &Finding) -> Diagnostic {
    let map = cx.span_map(item.file);
    let rel =
        f.at.iter()
            .find(|r| map.get(&format!("{}/{r}", item.pointer)).is_some())
            .cloned()
            .unwrap_or_default();
    let part = if rel.is_empty() {
        Part::Key
    } else {
        Part::Value
    };
    let mut d = cx.diag(f.meta, item, &rel, part, f.message.clone());
    d.level = f.level;
    if let Some(h) = &f.help {
        d = d.with_help(h.clone());
    }
    if let Some((target, value)) = &f.fix_value {
        if let Some(e) = map.get(&format!("{}/{target}", item.pointer)) {
            d = d.with_fix(Fix {
                description: format!("set {target} to {value}"),
                edits: vec![Edit {
                    file: item.file,
                    span: e.value,
                    replacement: value.clone(),
                }],
            });
        }
    }
    d
}

/// Does `check` report an error inside this account's node?
fn has_check_errors(checked: &Checked, item: &Located<Account>) -> usize {
    let Some(node) = checked.spans[item.file.index()]
        .get(&item.pointer)
        .map(|e| e.node)
    else {
        return 0;
    };
    checked
        .diagnostics
        .iter()
        .filter(|d| {
            d.level == Level::Error
                && d.primary.file == item.file
                && d.primary.span.start >= node.start
                && d.primary.span.end <= node.end
        })
        .count()
}

/// Resolves a secret reference (relative files are relative to the account file), with the
/// same resolver `compile --resolve-secrets` uses.
pub fn resolve_secret(secret: &Secret, base: &Path) -> Result<String, String> {
    crate::compile::secrets::value(secret, base)
}

/// The bare address of `Name <addr>` or `addr`.
pub fn bare_address(s: &str) -> String {
    match (s.rfind('<'), s.rfind('>')) {
        (Some(a), Some(b)) if a < b => s[a + 1..b].trim().to_string(),
        _ => s.trim().to_string(),
    }
}

fn plan(checked: &Checked, index: usize, opts: &Options, secrets: &mut Vec<String>) -> Plan {
    let item = &checked.project.accounts[index];
    let a = &item.value;
    let base = checked.sources.get(item.file).dir();
    let mut findings = Vec::new();
    let mut refused = false;
    let errors = has_check_errors(checked, item);
    if errors > 0 && !opts.allow_check_errors {
        findings.push(
            Finding::new(
                &rules::NOT_READY,
                &[],
                format!(
                    "account {:?} fails `mailcfg check` ({errors} error{}); not probed",
                    a.name,
                    if errors == 1 { "" } else { "s" }
                ),
            )
            .help("fix the check errors first (or pass --allow-check-errors to probe anyway)"),
        );
        refused = true;
    }
    let inc = &a.incoming;
    if inc.user.is_none() || (inc.password.is_none() && inc.credential.is_none()) {
        findings.push(
            Finding::new(
                &rules::NOT_READY,
                &["incoming/user", "incoming"],
                "incoming has no user and password/credential: a test needs them",
            )
            .help("add `user \"…\"` and `password env=\"VAR\"` (or `credential \"name\"`)"),
        );
        refused = true;
    }
    let out = &a.outgoing;
    if out.auth() == AuthMode::LogOn
        && (out.user.is_none() || (out.password.is_none() && out.credential.is_none()))
    {
        findings.push(
            Finding::new(
                &rules::NOT_READY,
                &["outgoing/auth", "outgoing"],
                "auth \"log-on\" needs user and password/credential in outgoing",
            )
            .help("add `user` and `password` to outgoing, or use auth \"same-as-incoming\""),
        );
        refused = true;
    }
    if refused {
        return Plan {
            index,
            servers: Vec::new(),
            findings,
            refused,
        };
    }
    let mut login_for = |user: &Option<String>,
                         password: &Option<Secret>,
                         credential: &Option<String>,
                         role: &str,
                         findings: &mut Vec<Finding>|
     -> LoginPlan {
        let user = user.clone().unwrap_or_default();
        if let Some(cred) = credential {
            let at = format!("{role}/credential");
            let Some(c) = checked.project.credential(cred) else {
                findings.push(
                    Finding::new(
                        &rules::SECRET,
                        &[&at],
                        format!("credential {cred:?} is not defined (or has check errors)"),
                    )
                    .help("define `credential \"name\" { … token env=\"VAR\" }` in any file"),
                );
                return LoginPlan::Unavailable;
            };
            let Some(tok) = &c.value.token else {
                findings.push(
                    Finding::new(
                        &rules::SECRET,
                        &[&at],
                        format!(
                            "credential {cred:?} has no `token`: the probe logs in with XOAUTH2 \
                             using a bearer token"
                        ),
                    )
                    .help("add `token env=\"VAR\"` (or file=\"path\") to the credential"),
                );
                return LoginPlan::Unavailable;
            };
            let cbase = checked.sources.get(c.file).dir();
            return match resolve_secret(tok, &cbase) {
                Ok(token) => {
                    secrets.push(token.clone());
                    LoginPlan::Bearer { user, token, at }
                }
                Err(e) => {
                    findings.push(Finding::new(
                        &rules::SECRET,
                        &[&at],
                        format!("token of credential {cred:?} ({}): {e}", tok.redacted()),
                    ));
                    LoginPlan::Unavailable
                }
            };
        }
        let at = format!("{role}/password");
        match password {
            Some(p) => match resolve_secret(p, &base) {
                Ok(pass) => {
                    secrets.push(pass.clone());
                    LoginPlan::Password { user, pass, at }
                }
                Err(e) => {
                    findings.push(
                        Finding::new(
                            &rules::SECRET,
                            &[&at],
                            format!("password {}: {e}", p.redacted()),
                        )
                        .help("set the variable or create the file before probing"),
                    );
                    LoginPlan::Unavailable
                }
            },
            None => LoginPlan::Unavailable,
        }
    };
    let in_login = login_for(
        &inc.user,
        &inc.password,
        &inc.credential,
        "incoming",
        &mut findings,
    );
    let out_login = match out.auth() {
        AuthMode::None => LoginPlan::None,
        AuthMode::SameAsIncoming => match &in_login {
            LoginPlan::Password { user, pass, .. } => LoginPlan::Password {
                user: user.clone(),
                pass: pass.clone(),
                at: "outgoing/auth".into(),
            },
            LoginPlan::Bearer { user, token, .. } => LoginPlan::Bearer {
                user: user.clone(),
                token: token.clone(),
                at: "outgoing/auth".into(),
            },
            other => other.clone(),
        },
        AuthMode::LogOn => login_for(
            &out.user,
            &out.password,
            &out.credential,
            "outgoing",
            &mut findings,
        ),
    };
    let mut senders = Vec::new();
    let mut default_from = None;
    if let Some(from) = &a.from {
        for (i, addr) in from.address.iter().enumerate() {
            senders.push((bare_address(&addr.value), format!("from/address/{i}")));
        }
        default_from = from
            .address
            .iter()
            .find(|a| a.default)
            .or(from.address.first())
            .map(|a| a.value.clone());
    }
    if default_from.is_none() {
        default_from = inc.user.clone().filter(|u| u.contains('@'));
    }
    let port = |p: u32| u16::try_from(p).unwrap_or(0);
    let servers = vec![
        ServerPlan {
            role: Role::Incoming,
            service: Service::from(a.protocol),
            host: inc.server.clone(),
            port: port(inc.effective_port(a.protocol)),
            security: inc.security(),
            login: in_login,
            mailbox: inc.effective_mailbox(a.protocol).map(str::to_string),
            senders: Vec::new(),
            default_from: None,
            send_test_to: None,
            account_name: a.name.clone(),
        },
        ServerPlan {
            role: Role::Outgoing,
            service: Service::Smtp,
            host: out.server.clone(),
            port: port(out.effective_port()),
            security: out.security(),
            login: out_login,
            mailbox: None,
            senders,
            default_from,
            send_test_to: opts.send_test_to.clone(),
            account_name: a.name.clone(),
        },
    ];
    Plan {
        index,
        servers,
        findings,
        refused: false,
    }
}
