//! One line per finding, `path:line:col: level[rule] message` (the shape compilers use, so
//! editors' error parsers and `grep` work on it), then the summary line.

use super::{place, sorted, Report, Scrub};
use crate::diagnostics::Summary;

pub fn render(report: &Report<'_>, scrub: &Scrub) -> String {
    let mut out = findings(report, scrub);
    out.push_str(&Summary::of(report.diagnostics, report.files).to_string());
    out.push('\n');
    out
}

/// The finding lines without the summary line.
pub fn findings(report: &Report<'_>, scrub: &Scrub) -> String {
    let mut out = String::new();
    for d in sorted(report.diagnostics, report.sources) {
        let p = place(report.sources, &d.primary);
        // A message is one line by contract; fold any newline so one finding stays one line.
        let message = scrub.text(&d.message).replace(['\r', '\n'], " ");
        out.push_str(&format!(
            "{}:{}:{}: {}[{}] {}\n",
            p.path, p.line, p.column, d.level, d.rule, message
        ));
    }
    out
}
