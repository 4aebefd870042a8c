//! The deliverability stage: per From domain (each `from { address … }` domain, and the incoming
//! user's domain when the user is an address), the DNS records that decide whether the account's
//! mail arrives and whether replies can: MX (RFC 5321 §5.1), SPF (RFC 7208) and its verdict for
//! the outgoing server's addresses, DMARC (RFC 7489). Each finding is placed on the line of the
//! first address with that domain.

mod dmarc;
pub mod dns;
mod run;
mod spf;

use std::net::IpAddr;
use std::time::Duration;

use super::resolve::Resolver;
use super::{Finding, Outcome, Stage};
use run::Run;

/// A From domain to check, and where its findings go.
#[derive(Debug, Clone)]
pub(crate) struct DomainPlan {
    pub domain: String,
    /// The pointer (relative to the account) of the first address with this domain.
    pub at: String,
    /// Every address of the account with this domain (the first is the MAIL FROM of SPF).
    pub addresses: Vec<String>,
}

/// What the stage found about one From domain.
#[derive(Debug, Clone)]
pub struct DomainReport {
    pub domain: String,
    pub addresses: Vec<String>,
    pub stages: Vec<Stage>,
    /// `(preference, host)`, most preferred first; `(0, ".")` is a null MX.
    pub mx: Vec<(u16, String)>,
    /// The TXT records that begin with `v=spf1`.
    pub spf_records: Vec<String>,
    /// DNS-querying terms a full evaluation of the record needs (RFC 7208 §4.6.4).
    pub spf_lookups: Option<usize>,
    /// `check_host()` per address of the outgoing server.
    pub spf_results: Vec<(IpAddr, &'static str)>,
    /// The `_dmarc` name whose record applies, that record, and the policy it sets.
    pub dmarc_name: Option<String>,
    pub dmarc_records: Vec<String>,
    pub dmarc_policy: Option<&'static str>,
}

impl DomainReport {
    pub fn failed(&self) -> bool {
        self.stages.iter().any(|s| s.outcome == Outcome::Fail)
    }
}

/// The domain of an address, unless it is a special-use name the DNS says nothing about
/// (RFC 6761 §6.3 `localhost`, §6.4 `invalid`) or an address literal (RFC 5321 §4.1.3).
pub(crate) fn domain_of(address: &str) -> Option<String> {
    let (_, domain) = address.rsplit_once('@')?;
    let d = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let special = d.is_empty()
        || d.starts_with('[')
        || d == "localhost"
        || d.ends_with(".localhost")
        || d == "invalid"
        || d.ends_with(".invalid");
    (!special).then_some(d)
}

/// The outgoing server the SPF verdicts are about.
pub(crate) struct Sender<'a> {
    pub host: &'a str,
    pub addresses: Vec<IpAddr>,
}

/// Checks every domain; `sender` is `None` when the account has no outgoing server or its name
/// did not resolve (the SPF verdict is then skipped).
pub(crate) fn check(
    domains: &[DomainPlan],
    sender: Option<Sender<'_>>,
    resolver: Resolver,
    timeout: Duration,
) -> (Vec<DomainReport>, Vec<Finding>) {
    let mut reports: Vec<DomainReport> = domains.iter().map(empty).collect();
    let mut findings = Vec::new();
    if domains.is_empty() {
        return (reports, findings);
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            skip_all(&mut reports, &format!("no async runtime: {e}"));
            return (reports, findings);
        }
    };
    runtime.block_on(async {
        let auth = match dns::authenticator(resolver, timeout) {
            Ok(a) => a,
            Err(why) => {
                skip_all(&mut reports, &why);
                return;
            }
        };
        // Once the DNS server has not answered, the account's other domains are not asked
        // either: a silent server costs one timeout per account, not per lookup.
        let mut silent: Option<String> = None;
        for (plan, report) in domains.iter().zip(reports.iter_mut()) {
            let mut run = Run {
                auth: &auth,
                plan,
                report,
                findings: &mut findings,
                sender: sender.as_ref(),
                unanswered: None,
                server: match resolver {
                    Resolver::Server(addr) => Some(addr),
                    Resolver::System => None,
                },
            };
            match &silent {
                Some(why) => run.not_asked(why),
                None => run.go().await,
            }
            silent = silent.or(run.unanswered);
        }
    });
    (reports, findings)
}

fn empty(p: &DomainPlan) -> DomainReport {
    DomainReport {
        domain: p.domain.clone(),
        addresses: p.addresses.clone(),
        stages: Vec::new(),
        mx: Vec::new(),
        spf_records: Vec::new(),
        spf_lookups: None,
        spf_results: Vec::new(),
        dmarc_name: None,
        dmarc_records: Vec::new(),
        dmarc_policy: None,
    }
}

const STAGES: [&str; 4] = ["mx", "spf", "spf-result", "dmarc"];

fn skip_all(reports: &mut [DomainReport], why: &str) {
    for r in reports {
        r.stages = STAGES
            .iter()
            .map(|name| Stage {
                name,
                outcome: Outcome::Skipped,
                detail: why.to_string(),
                elapsed: None,
            })
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_use_domains_and_address_literals_are_not_looked_up() {
        assert_eq!(domain_of("a@Example.COM.").as_deref(), Some("example.com"));
        for skipped in [
            "a@localhost",
            "a@x.localhost",
            "a@mail.invalid",
            "a@[192.0.2.1]",
            "no-at-sign",
            "a@",
        ] {
            assert_eq!(domain_of(skipped), None, "{skipped}");
        }
    }
}
