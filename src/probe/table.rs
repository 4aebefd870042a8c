//! The human per-account, per-stage table printed before the diagnostics.

use std::fmt::Write;
use std::time::Duration;

use super::{AccountReport, Outcome, Report, Role};
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
    let path = sources.get(a.file).display_path();
    let status = if a.refused {
        "NOT PROBED".to_string()
    } else if a.servers.iter().any(|s| s.failed()) {
        "FAILED".to_string()
    } else {
        "OK".to_string()
    };
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
        for st in &s.stages {
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
    if !a.refused && !a.servers.iter().any(|s| s.role == Role::Outgoing) {
        let _ = writeln!(
            out,
            "  outgoing: not configured (no `outgoing` block), not probed"
        );
    }
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
