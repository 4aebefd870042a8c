//! `mailcfg probe --format openmetrics`: the results as the OpenMetrics text format, which
//! Prometheus's node_exporter textfile collector (and any OpenMetrics scraper) reads. Only
//! gauges are used, so the same text is also valid in the older Prometheus text format (where
//! the closing `# EOF` is a comment).
//!
//! Rendered from the [`results`](super::results) document, so it says what results-json says.

use std::fmt::Write;

use super::results::{Document, Server, Status};

/// A label value escaped as the exposition formats require (backslash, quote, newline).
fn escape(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

fn labels(pairs: &[(&str, &str)]) -> String {
    let inner: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect();
    format!("{{{}}}", inner.join(","))
}

/// One metric family: its samples are collected first so the family stays contiguous.
struct Family {
    name: &'static str,
    help: &'static str,
    samples: Vec<(String, String)>,
}

impl Family {
    fn new(name: &'static str, help: &'static str) -> Family {
        Family {
            name,
            help,
            samples: Vec::new(),
        }
    }
    fn add(&mut self, labels: String, value: impl ToString) {
        self.samples.push((labels, value.to_string()));
    }
    fn write(&self, out: &mut String) {
        let _ = writeln!(out, "# HELP {} {}", self.name, self.help);
        let _ = writeln!(out, "# TYPE {} gauge", self.name);
        for (l, v) in &self.samples {
            let _ = writeln!(out, "{}{l} {v}", self.name);
        }
    }
}

fn seconds(ms: f64) -> String {
    format!("{}", ms / 1000.0)
}

fn server_labels<'a>(account: &'a str, s: &'a Server, port: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("account", account),
        ("role", s.role.as_str()),
        ("protocol", s.protocol.as_str()),
        ("host", s.host.as_str()),
        ("port", port),
    ]
}

pub fn render(doc: &Document) -> String {
    let mut account_ok = Family::new(
        "mailcfg_probe_account_success",
        "1 if every stage of the account passed (warnings allowed), 0 if one failed or the account was not probed.",
    );
    let mut account_probed = Family::new(
        "mailcfg_probe_account_probed",
        "1 if the account's servers were contacted, 0 if it was refused (fails check or lacks data).",
    );
    let mut server_ok = Family::new(
        "mailcfg_probe_server_success",
        "1 if every stage of the server passed, 0 if one failed.",
    );
    let mut stage_ok = Family::new(
        "mailcfg_probe_stage_success",
        "1 if the stage passed, 0 if it failed; skipped stages are absent. A stage run twice (tls and capabilities around STARTTLS) passes if its last run passed.",
    );
    let mut stage_time = Family::new(
        "mailcfg_probe_stage_duration_seconds",
        "Time the stage took (the sum when it ran twice).",
    );
    let mut security = Family::new(
        "mailcfg_probe_security_mode",
        "Always 1: the configured security and the mode actually used (what auto resolved to; none when no session was established).",
    );
    let mut expiry = Family::new(
        "mailcfg_probe_certificate_expiry_timestamp_seconds",
        "When the server's certificate expires (not-after), in seconds since the Unix epoch.",
    );
    let mut days = Family::new(
        "mailcfg_probe_certificate_days_left",
        "Whole days until the server's certificate expires (negative once expired).",
    );
    let mut messages = Family::new(
        "mailcfg_probe_mailbox_messages",
        "Messages in the probed IMAP mailbox (EXISTS) or POP3 maildrop (STAT).",
    );
    let mut domain_ok = Family::new(
        "mailcfg_probe_domain_stage_success",
        "Deliverability of a From domain: 1 if the check (mx, spf, spf-result, dmarc) found nothing to report, 0 on a warning or failure; skipped checks are absent.",
    );
    let mut spf_result = Family::new(
        "mailcfg_probe_spf_result",
        "Always 1: the SPF result (RFC 7208) of the From domain for an address of the outgoing server.",
    );
    let mut spf_lookups = Family::new(
        "mailcfg_probe_spf_lookups",
        "DNS lookups a full evaluation of the From domain's SPF record needs (the limit is 10).",
    );
    let mut dmarc_policy = Family::new(
        "mailcfg_probe_dmarc_policy",
        "Always 1: the DMARC policy (none, quarantine, reject) that applies to the From domain.",
    );
    for a in &doc.accounts {
        let acc = [("account", a.name.as_str())];
        for d in &a.domains {
            let base = [("account", a.name.as_str()), ("domain", d.domain.as_str())];
            for st in &d.stages {
                let mut l = base.to_vec();
                l.push(("stage", st.name.as_str()));
                match st.status {
                    Status::Ok => domain_ok.add(labels(&l), 1),
                    Status::Warning | Status::Failed => domain_ok.add(labels(&l), 0),
                    Status::Skipped | Status::NotProbed => {}
                }
            }
            for v in &d.spf.results {
                let mut l = base.to_vec();
                l.push(("address", v.address.as_str()));
                l.push(("result", v.result.as_str()));
                spf_result.add(labels(&l), 1);
            }
            if let Some(n) = d.spf.lookups {
                spf_lookups.add(labels(&base), n);
            }
            if let Some(p) = &d.dmarc.policy {
                let mut l = base.to_vec();
                l.push(("policy", p.as_str()));
                dmarc_policy.add(labels(&l), 1);
            }
        }
        account_ok.add(
            labels(&acc),
            u8::from(matches!(a.status, Status::Ok | Status::Warning)),
        );
        account_probed.add(labels(&acc), u8::from(a.status != Status::NotProbed));
        for s in &a.servers {
            let port = s.port.to_string();
            let base = server_labels(&a.name, s, &port);
            server_ok.add(labels(&base), u8::from(s.status != Status::Failed));
            // Stages in first-run order; a repeated stage keeps its last status, sums its time.
            let mut seen: Vec<(&str, Option<bool>, f64)> = Vec::new();
            for st in &s.stages {
                let passed = match st.status {
                    Status::Ok | Status::Warning => Some(true),
                    Status::Failed => Some(false),
                    Status::Skipped | Status::NotProbed => None,
                };
                let ms = st.duration_ms.unwrap_or(0.0);
                match seen.iter_mut().find(|(n, _, _)| *n == st.name) {
                    Some(e) => {
                        e.1 = passed.or(e.1);
                        e.2 += ms;
                    }
                    None => seen.push((st.name.as_str(), passed, ms)),
                }
            }
            for (name, passed, ms) in seen {
                let mut l = base.clone();
                l.push(("stage", name));
                if let Some(p) = passed {
                    stage_ok.add(labels(&l), u8::from(p));
                }
                stage_time.add(labels(&l), seconds(ms));
            }
            let mut l = base.clone();
            l.push(("configured", s.security.as_str()));
            l.push(("resolved", s.resolved_security.as_deref().unwrap_or("none")));
            security.add(labels(&l), 1);
            if let Some(c) = &s.certificate {
                let mut l = base.clone();
                l.push(("subject", c.subject.as_str()));
                expiry.add(labels(&l), c.not_after_unix);
                days.add(labels(&l), c.days_left);
            }
            let count = s
                .mailbox
                .as_ref()
                .and_then(|m| m.messages)
                .or(s.stat.as_ref().map(|st| st.messages));
            if let Some(n) = count {
                messages.add(labels(&base), n);
            }
        }
    }
    let mut run = Family::new(
        "mailcfg_probe_run_timestamp_seconds",
        "When this probe run started, in seconds since the Unix epoch.",
    );
    run.add(String::new(), doc.started_at_unix);
    let mut run_time = Family::new(
        "mailcfg_probe_run_duration_seconds",
        "How long the whole probe run took.",
    );
    run_time.add(String::new(), seconds(doc.elapsed_ms as f64));
    let mut out = String::new();
    for f in [
        &account_ok,
        &account_probed,
        &server_ok,
        &stage_ok,
        &stage_time,
        &security,
        &expiry,
        &days,
        &messages,
        &domain_ok,
        &spf_result,
        &spf_lookups,
        &dmarc_policy,
        &run,
        &run_time,
    ] {
        f.write(&mut out);
    }
    out.push_str("# EOF\n");
    out
}
