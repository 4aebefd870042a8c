//! Planning a probe on the checked model: which accounts are ready, which secrets to log in
//! with, which servers to contact.

use std::path::Path;

use super::deliverability::{domain_of, DomainPlan};
use super::{advice, Finding, Options, Role};
use crate::diagnostics::Level;
use crate::model::{Account, AuthMode, CompactString, Located, Secret, Security, Service};
use crate::pipeline::Checked;
use crate::registry::probe as rules;

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
    /// The `port` as written (advice keeps `check` happy about it).
    pub written_port: Option<u32>,
}

impl ServerPlan {
    pub(crate) fn side(&self) -> advice::Side {
        advice::Side {
            role: self.role.key(),
            service: self.service,
            security: self.security,
            written_port: self.written_port,
        }
    }
}

pub(super) struct Plan {
    pub(super) index: usize,
    pub(super) servers: Vec<ServerPlan>,
    /// The From domains whose DNS records the deliverability stage checks.
    pub(super) domains: Vec<DomainPlan>,
    pub(super) findings: Vec<Finding>,
    pub(super) refused: bool,
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

pub(super) fn plan(
    checked: &Checked,
    index: usize,
    opts: &Options,
    secrets: &mut Vec<String>,
) -> Plan {
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
    let outgoing = a.outgoing.as_ref();
    if outgoing.is_none() {
        // With --allow-check-errors the incoming side is still worth knowing about.
        let probed = if opts.allow_check_errors {
            "the incoming server is probed alone"
        } else {
            "not probed"
        };
        findings.push(
            Finding::new(
                &rules::NOT_READY,
                &[],
                format!(
                    "account {:?} has no outgoing server (CSM tests both); {probed}",
                    a.name
                ),
            )
            .help("add an `outgoing { server \"…\" }` block"),
        );
        refused |= !opts.allow_check_errors;
    }
    let log_on_incomplete = outgoing.is_some_and(|o| {
        o.auth() == AuthMode::LogOn
            && (o.user.is_none() || (o.password.is_none() && o.credential.is_none()))
    });
    if log_on_incomplete {
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
            domains: Vec::new(),
            findings,
            refused,
        };
    }
    let mut login_for = |user: &Option<CompactString>,
                         password: &Option<Secret>,
                         credential: &Option<CompactString>,
                         role: &str,
                         findings: &mut Vec<Finding>|
     -> LoginPlan {
        let user = user.as_deref().map(String::from).unwrap_or_default();
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
    let out_login = match outgoing.map_or(AuthMode::None, |o| o.auth()) {
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
        AuthMode::LogOn => match outgoing {
            Some(out) => login_for(
                &out.user,
                &out.password,
                &out.credential,
                "outgoing",
                &mut findings,
            ),
            None => LoginPlan::None,
        },
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
            .map(|a| a.value.to_string());
    }
    if default_from.is_none() {
        default_from = inc
            .user
            .as_deref()
            .map(String::from)
            .filter(|u| u.contains('@'));
    }
    let domains = from_domains(&senders, inc.user.as_deref());
    let port = |p: u32| u16::try_from(p).unwrap_or(0);
    let mut servers = vec![ServerPlan {
        role: Role::Incoming,
        service: Service::from(a.protocol),
        host: inc.server.to_string(),
        port: port(inc.effective_port(a.protocol)),
        security: inc.security(),
        login: in_login,
        mailbox: inc.effective_mailbox(a.protocol).map(str::to_string),
        senders: Vec::new(),
        default_from: None,
        send_test_to: None,
        account_name: a.name.to_string(),
        written_port: inc.port,
    }];
    if let Some(out) = outgoing {
        servers.push(ServerPlan {
            role: Role::Outgoing,
            service: Service::Smtp,
            host: out.server.to_string(),
            port: port(out.effective_port()),
            security: out.security(),
            login: out_login,
            mailbox: None,
            senders,
            default_from,
            send_test_to: opts.send_test_to.clone(),
            account_name: a.name.to_string(),
            written_port: out.port,
        });
    }
    Plan {
        index,
        servers,
        domains,
        findings,
        refused: false,
    }
}

/// The distinct domains of the From addresses (in file order), then the incoming user's when it
/// is an address of another domain; each placed on the first line that names it.
fn from_domains(senders: &[(String, String)], user: Option<&str>) -> Vec<DomainPlan> {
    let mut domains: Vec<DomainPlan> = Vec::new();
    let user = user.map(|u| (u.trim().to_string(), "incoming/user".to_string()));
    for (address, at) in senders.iter().chain(user.iter()) {
        let Some(domain) = domain_of(address) else {
            continue;
        };
        match domains.iter_mut().find(|d| d.domain == domain) {
            Some(d) => d.addresses.push(address.clone()),
            None => domains.push(DomainPlan {
                domain,
                at: at.clone(),
                addresses: vec![address.clone()],
            }),
        }
    }
    domains
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One check per domain, placed on the first address with it; the incoming user's domain
    /// joins an existing one or comes last, on the `user` line.
    #[test]
    fn from_domains_are_distinct_and_placed_on_their_first_line() {
        let senders = vec![
            ("a@one.test".to_string(), "from/address/0".to_string()),
            ("b@two.test".to_string(), "from/address/1".to_string()),
            ("c@ONE.test".to_string(), "from/address/2".to_string()),
            ("d@localhost".to_string(), "from/address/3".to_string()),
        ];
        let d = from_domains(&senders, Some("user@three.test"));
        let got: Vec<(&str, &str, usize)> = d
            .iter()
            .map(|p| (p.domain.as_str(), p.at.as_str(), p.addresses.len()))
            .collect();
        assert_eq!(
            got,
            [
                ("one.test", "from/address/0", 2),
                ("two.test", "from/address/1", 1),
                ("three.test", "incoming/user", 1)
            ]
        );
        assert_eq!(from_domains(&senders, Some("user")).len(), 2);
        assert_eq!(
            from_domains(&senders, Some("x@two.test"))[1]
                .addresses
                .len(),
            2
        );
    }
}
