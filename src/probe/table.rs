//! The human per-account, per-stage table printed before the diagnostics.

use std::fmt::Write;
use std::time::Duration;

use super::{AccountReport, Outcome, Report, Role, Stage};
use crate::source::Sources;

fn mark(o: Outcome) -> &'static str {
    match o {
        Outcome::Ok => "✓",
        Outcome::Warn => "!",
        Outcome::Fail => "✗",
        Outcome::Skipped => "-",
    }
}

fn ms(d: Option<Duration>) -> String {
    match d {
        Some(d) if d.as_millis() >= 1000 => format!("{:.1} s", d.as_secs_f64()),
        Some(d) => format!("{} ms", d.as_millis()),
        None => String::new(),
    }
}

fn account(out: &mut String, a: &AccountReport, sources: &Sources) {
    let status = status_word(a);
    let path = sources.get(a.file).display_path();
    let _ = writeln!(
        out,
        "account {:?} ({path}): {status} in {:.1} s",
        a.name,
        a.elapsed.as_secs_f64()
    );
    for s in &a.servers {
        let mut head = format!(
            "  {} {} {}:{} security {}",
            s.role.key(),
            s.service.display(),
            s.host,
            s.port,
            s.security
        );
        if let Some(used) = s.used {
            if used != s.security.as_str() {
                let _ = write!(head, " → used {used}");
            }
        }
        if let Some(t) = &s.tls {
            let _ = write!(head, ", {}", t.version);
            if let Some(c) = &t.cert {
                let _ = write!(head, ", certificate {} days left", c.days_left);
            }
        }
        let _ = writeln!(out, "{head}");
        stage_lines(out, &s.stages);
    }
    for d in &a.domains {
        let _ = writeln!(
            out,
            "  From domain {} ({}): deliverability",
            d.domain,
            d.addresses.join(", ")
        );
        stage_lines(out, &d.stages);
    }
    if !a.refused && !a.servers.iter().any(|s| s.role == Role::Outgoing) {
        let _ = writeln!(
            out,
            "  outgoing: not configured (no `outgoing` block), not probed"
        );
    }
}

fn stage_lines(out: &mut String, stages: &[Stage]) {
    for st in stages {
        let _ = writeln!(
            out,
            "    {} {:<13}{:>8}  {}",
            mark(st.outcome),
            st.name,
            ms(st.elapsed),
            st.detail
        );
    }
}

fn status_word(a: &AccountReport) -> &'static str {
    if a.refused {
        "NOT PROBED"
    } else if a.failed() {
        "FAILED"
    } else {
        "OK"
    }
}

/// One account's block (its header line and a line per stage), followed by a blank line.
pub fn account_block(a: &AccountReport, sources: &Sources) -> String {
    let mut out = String::new();
    account(&mut out, a, sources);
    out.push('\n');
    out
}

/// One line per account in input order, whatever order they finished in.
pub fn summary(report: &Report, sources: &Sources) -> String {
    let mut out = String::from("summary:\n");
    for a in &report.accounts {
        let failed: Vec<String> = a
            .servers
            .iter()
            .filter_map(|s| {
                let st = s.stages.iter().find(|st| st.outcome == Outcome::Fail)?;
                Some(format!("{} {}", s.role.key(), st.name))
            })
            .chain(a.domains.iter().filter_map(|d| {
                let st = d.stages.iter().find(|st| st.outcome == Outcome::Fail)?;
                Some(format!("{} {}", d.domain, st.name))
            }))
            .collect();
        let why = if failed.is_empty() {
            String::new()
        } else {
            format!(" ({} failed)", failed.join(", "))
        };
        let _ = writeln!(
            out,
            "  {:<10} {:?} ({}){why}",
            status_word(a),
            a.name,
            sources.get(a.file).display_path()
        );
    }
    out
}

/// The table for every probed account, in input order.
pub fn render(report: &Report, sources: &Sources) -> String {
    let mut out = String::new();
    for a in &report.accounts {
        account(&mut out, a, sources);
        out.push('\n');
    }
    out
}

/// `probed 2 accounts in 0.3 s (1 not probed)`: only accounts whose servers were contacted
/// count as probed.
pub fn summary_line(report: &Report) -> String {
    let probed = report.accounts.iter().filter(|a| !a.refused).count();
    let refused = report.accounts.len() - probed;
    let mut s = format!(
        "probed {probed} account{} in {:.1} s",
        if probed == 1 { "" } else { "s" },
        report.elapsed.as_secs_f64()
    );
    if refused > 0 {
        s.push_str(&format!(" ({refused} not probed)"));
    }
    s.push('\n');
    s
}
