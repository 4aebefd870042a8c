//! One From domain's checks, stage by stage: MX, the SPF record, SPF's verdict for the
//! outgoing server, DMARC; each stage's outcome and detail for the table and each finding for
//! the address line.

use std::net::SocketAddr;
use std::time::Instant;

use mail_auth::MessageAuthenticator;

use super::{dmarc, dns, spf, DomainPlan, DomainReport, Sender, STAGES};
use crate::probe::{Finding, Outcome, Stage};
use crate::registry::probe as r;

pub(super) struct Run<'a> {
    pub(super) auth: &'a MessageAuthenticator,
    pub(super) plan: &'a DomainPlan,
    pub(super) report: &'a mut DomainReport,
    pub(super) findings: &'a mut Vec<Finding>,
    pub(super) sender: Option<&'a Sender<'a>>,
    /// The first lookup the DNS server did not answer: the remaining ones are skipped (each
    /// would wait for the whole timeout again) and one finding says why.
    pub(super) unanswered: Option<String>,
    /// `--dns-server`: its refusal (a closed port) ends the first lookup at once instead of
    /// after the timeout. The system's servers are not watched: one refusing does not mean
    /// the others do.
    pub(super) server: Option<SocketAddr>,
}

fn quoted(records: &[String]) -> String {
    records
        .iter()
        .map(|r| format!("{r:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Run<'_> {
    fn stage(&mut self, name: &'static str, outcome: Outcome, detail: String, t: Instant) {
        self.report
            .stages
            .push(Stage::timed(name, outcome, detail, t));
    }

    fn skip(&mut self, name: &'static str, detail: impl Into<String>) {
        self.report.stages.push(Stage::skipped(name, detail));
    }

    fn find(&mut self, meta: &'static crate::rules::RuleMeta, message: String, help: String) {
        self.findings.push(
            Finding::new(meta, &[self.plan.at.as_str(), "from", "incoming"], message).help(help),
        );
    }

    /// Records that the DNS server did not answer a lookup: the stage warns, and the later
    /// lookups of this domain are skipped.
    fn unanswered(&mut self, name: &'static str, what: &str, why: String, t: Instant) {
        let d = self.plan.domain.clone();
        self.stage(
            name,
            Outcome::Warn,
            format!("no answer for {what}: {why}"),
            t,
        );
        self.find(
            &r::DELIVERABILITY_DNS,
            format!("the {what} of {d} could not be read: {why}"),
            "the DNS server did not answer; the records were not checked (see --dns-server)".into(),
        );
        self.unanswered = Some(why);
    }

    /// The DNS server did not answer a lookup of another domain: nothing is asked.
    pub(super) fn not_asked(&mut self, why: &str) {
        for name in STAGES {
            self.skip(name, format!("the DNS server did not answer ({why})"));
        }
        let d = self.plan.domain.clone();
        self.find(
            &r::DELIVERABILITY_DNS,
            format!("the records of {d} were not read: the DNS server did not answer an earlier lookup ({why})"),
            "the DNS server did not answer; the records were not checked (see --dns-server)".into(),
        );
    }

    fn skipped_for_dns(&mut self, name: &'static str) -> bool {
        if let Some(why) = self.unanswered.clone() {
            self.skip(name, format!("the DNS server did not answer ({why})"));
            return true;
        }
        false
    }

    pub(super) async fn go(&mut self) {
        self.mx().await;
        let record = self.spf().await;
        self.spf_result(record).await;
        self.dmarc().await;
    }

    async fn mx(&mut self) {
        let t = Instant::now();
        let d = self.plan.domain.clone();
        let answered = match self.server {
            Some(server) => dns::unless_refused(server, dns::mx(self.auth, &d))
                .await
                .unwrap_or_else(|why| Err(dns::Miss::Unanswered(why))),
            None => dns::mx(self.auth, &d).await,
        };
        match answered {
            Ok(hosts) if hosts.len() == 1 && hosts[0].1 == "." => {
                self.report.mx = hosts;
                self.stage(
                    "mx",
                    Outcome::Warn,
                    "null MX (\"0 .\"): accepts no mail".into(),
                    t,
                );
                self.find(
                    &r::MX_MISSING,
                    format!(
                        "{d} publishes a null MX (RFC 7505): replies to this address are refused"
                    ),
                    format!(
                        "send from an address whose domain receives mail, or give {d} an MX record"
                    ),
                );
            }
            Ok(hosts) => {
                let list: Vec<String> = hosts.iter().map(|(p, h)| format!("{h} ({p})")).collect();
                self.report.mx = hosts;
                self.stage("mx", Outcome::Ok, list.join(", "), t);
            }
            Err(dns::Miss::NoSuchName) => {
                self.stage("mx", Outcome::Warn, format!("{d} does not exist"), t);
                self.find(
                    &r::MX_MISSING,
                    format!("{d} does not exist in the DNS: replies to this address cannot arrive"),
                    "check the address's domain for a typo".into(),
                );
            }
            Err(dns::Miss::NoRecords) => {
                self.stage("mx", Outcome::Warn, "no MX record".into(), t);
                self.find(
                    &r::MX_MISSING,
                    format!(
                        "{d} has no MX record: replies go to its A/AAAA address (RFC 5321 §5.1), \
                         usually not a mail server"
                    ),
                    format!("publish an MX record for {d} (e.g. `{d}. MX 10 mail.{d}.`)"),
                );
            }
            Err(dns::Miss::Unanswered(why)) => self.unanswered("mx", "MX record", why, t),
        }
    }

    async fn spf(&mut self) -> Option<spf::Record> {
        if self.skipped_for_dns("spf") {
            return None;
        }
        let t = Instant::now();
        let d = self.plan.domain.clone();
        let record = spf::record(self.auth, &d).await;
        match &record {
            spf::Record::None { no_such_domain } => {
                let what = if *no_such_domain {
                    format!("{d} does not exist")
                } else {
                    "no TXT record begins with v=spf1".into()
                };
                self.stage("spf", Outcome::Warn, what, t);
                self.find(
                    &r::SPF_MISSING,
                    format!("{d} publishes no SPF record: receivers cannot tell its servers from forgers"),
                    format!(
                        "publish one TXT record `v=spf1 … -all` at {d} naming the servers that send its mail"
                    ),
                );
            }
            spf::Record::Multiple(texts) => {
                self.report.spf_records = texts.clone();
                self.stage(
                    "spf",
                    Outcome::Fail,
                    format!("{} records: {}", texts.len(), quoted(texts)),
                    t,
                );
                self.find(
                    &r::SPF_MULTIPLE,
                    format!(
                        "{d} publishes {} SPF records: SPF is permerror for all its mail (RFC 7208 §4.5)",
                        texts.len()
                    ),
                    "merge them into one `v=spf1` record".into(),
                );
            }
            spf::Record::Invalid(text) => {
                self.report.spf_records = vec![text.clone()];
                self.stage("spf", Outcome::Fail, format!("not valid SPF: {text:?}"), t);
                self.find(
                    &r::SPF_SYNTAX,
                    format!("the SPF record of {d} is not valid SPF: {text:?} (permerror, RFC 7208 §4.6)"),
                    "correct the record against RFC 7208 §12 (a mechanism name, an ip4:/ip6: network, a macro)".into(),
                );
            }
            spf::Record::Valid(text, parsed) => {
                self.report.spf_records = vec![text.clone()];
                let n = spf::lookups(self.auth, parsed).await;
                self.report.spf_lookups = Some(n);
                let limit = spf::LOOKUP_LIMIT;
                if n > limit {
                    self.stage(
                        "spf",
                        Outcome::Fail,
                        format!("{text:?}: {n} DNS lookups, more than {limit}"),
                        t,
                    );
                    self.find(
                        &r::SPF_LOOKUPS,
                        format!(
                            "the SPF record of {d} needs {n} DNS lookups, more than the {limit} of RFC 7208 \
                             §4.6.4: receivers stop with permerror"
                        ),
                        "replace include:s with the ip4:/ip6: networks they name, or drop unused ones".into(),
                    );
                } else {
                    self.stage(
                        "spf",
                        Outcome::Ok,
                        format!("{text:?}: {n} of {limit} DNS lookups"),
                        t,
                    );
                }
            }
            spf::Record::Unanswered(why) => {
                self.unanswered("spf", "SPF record", why.clone(), t);
                return None;
            }
        }
        Some(record)
    }

    async fn spf_result(&mut self, record: Option<spf::Record>) {
        let Some(record) = record else {
            self.skipped_for_dns("spf-result");
            return;
        };
        let Some(sender) = self.sender else {
            self.skip("spf-result", "no outgoing server address to evaluate");
            return;
        };
        let t = Instant::now();
        let d = self.plan.domain.clone();
        let from = self.plan.addresses[0].clone();
        let mut results = Vec::new();
        for &ip in &sender.addresses {
            // §4.5: with more than one record check_host() is permerror; mail-auth would
            // evaluate the first that parses, so the probe does not ask it.
            let result = match &record {
                spf::Record::Multiple(_) | spf::Record::Invalid(_) => "permerror",
                _ => spf::result_name(spf::check_host(self.auth, ip, sender.host, &from).await),
            };
            results.push((ip, result));
        }
        self.report.spf_results = results.clone();
        let detail: Vec<String> = results
            .iter()
            .map(|(ip, r)| format!("{r} for {ip}"))
            .collect();
        let detail = format!("{} (MAIL FROM {from})", detail.join(", "));
        let all_pass = results.iter().all(|(_, r)| *r == "pass");
        // Not a failure of the account: the server the probe reaches may relay onward.
        let outcome = if all_pass { Outcome::Ok } else { Outcome::Warn };
        self.stage("spf-result", outcome, detail, t);
        // A record-level finding (missing, multiple, invalid, too many lookups) already says
        // why the verdict is not pass.
        let record_ok = matches!(record, spf::Record::Valid(..))
            && self
                .report
                .spf_lookups
                .is_some_and(|n| n <= spf::LOOKUP_LIMIT);
        if all_pass || !record_ok {
            return;
        }
        let failing: Vec<String> = results
            .iter()
            .filter(|(_, r)| *r != "pass")
            .map(|(ip, r)| format!("{r} for {ip}"))
            .collect();
        let internal = sender.addresses.iter().all(|ip| dns::is_internal(*ip));
        let mut help = format!(
            "if {} is the server that delivers to the recipients, add its address to {d}'s SPF \
             record (e.g. `ip4:`/`ip6:`); if it relays through another host (a smarthost or a \
             provider's outbound servers), that host's addresses are what receivers check",
            sender.host
        );
        if internal {
            help.push_str(
                "; these are internal addresses: receivers on the Internet see the host that \
                 relays the mail onward, not these",
            );
        }
        self.find(
            &r::SPF_RESULT,
            format!(
                "SPF of {d} does not pass for the outgoing server {}: {}",
                sender.host,
                failing.join(", ")
            ),
            help,
        );
    }

    async fn dmarc(&mut self) {
        if self.skipped_for_dns("dmarc") {
            return;
        }
        let t = Instant::now();
        let d = self.plan.domain.clone();
        match dmarc::discover(self.auth, &d).await {
            dmarc::Found::Policy {
                name,
                text,
                policy,
                inherited,
                discarded,
            } => {
                let whose = if inherited {
                    format!("from {name} (the organizational domain's, `sp`/`p`)")
                } else {
                    format!("from {name}")
                };
                self.stage(
                    "dmarc",
                    Outcome::Ok,
                    match &discarded {
                        None => format!("p={policy} {whose}: {text:?}"),
                        Some(why) => format!("p={policy} {whose}: {text:?} ({why})"),
                    },
                    t,
                );
                self.find(
                    &r::DMARC_POLICY,
                    match &discarded {
                        None => format!("DMARC policy for {d}: {policy} ({whose})"),
                        Some(why) => format!("DMARC policy for {d}: {policy} ({whose}); {why}"),
                    },
                    match policy {
                        "none" => "mail failing DMARC is delivered as usual (the policy only monitors)".into(),
                        "quarantine" => "mail failing DMARC goes to the spam folder: keep SPF passing for the outgoing server".into(),
                        _ => "mail failing DMARC is rejected: keep SPF passing for the outgoing server".into(),
                    },
                );
                self.report.dmarc_name = Some(name);
                self.report.dmarc_records = vec![text];
                self.report.dmarc_policy = Some(policy);
            }
            dmarc::Found::Invalid { name, texts, why } => {
                self.stage(
                    "dmarc",
                    Outcome::Fail,
                    format!("{name}: {} — {why}", quoted(&texts)),
                    t,
                );
                self.find(
                    &r::DMARC_INVALID,
                    format!("the DMARC record of {d} at {name} is not in force: {why}"),
                    format!("publish exactly one record like `v=DMARC1; p=none; rua=mailto:dmarc@{d}` at {name}"),
                );
                self.report.dmarc_name = Some(name);
                self.report.dmarc_records = texts;
            }
            dmarc::Found::Missing => {
                self.stage(
                    "dmarc",
                    Outcome::Warn,
                    format!("no record at _dmarc.{d} or above"),
                    t,
                );
                self.find(
                    &r::DMARC_MISSING,
                    format!("{d} publishes no DMARC policy (no record at _dmarc.{d} or its organizational domain)"),
                    format!("publish `v=DMARC1; p=none; rua=mailto:dmarc@{d}` at _dmarc.{d}, then tighten the policy"),
                );
            }
            dmarc::Found::Unanswered(why) => self.unanswered("dmarc", "DMARC record", why, t),
        }
    }
}
