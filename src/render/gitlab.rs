//! GitLab Code Quality report: a JSON array of Code Climate issues (`description`, `check_name`,
//! `fingerprint`, `severity`, `location.path`, `location.lines.begin`), shown in merge requests
//! when uploaded as `artifacts:reports:codequality`.

use serde_json::{json, Value};

use super::{fingerprints, place, sorted, Report, Scrub};
use crate::diagnostics::Level;

fn severity(level: Level) -> &'static str {
    match level {
        Level::Error => "major",
        Level::Warning => "minor",
        Level::Info => "info",
    }
}

pub fn render(report: &Report<'_>, scrub: &Scrub) -> String {
    let diags = sorted(report.diagnostics, report.sources);
    let prints = fingerprints(&diags, report.sources);
    let issues: Vec<Value> = diags
        .iter()
        .zip(prints)
        .map(|(d, fingerprint)| {
            let p = place(report.sources, &d.primary);
            let mut issue = json!({
                "type": "issue",
                "description": scrub.text(&d.message),
                "check_name": d.rule,
                "fingerprint": fingerprint,
                "severity": severity(d.level),
                "categories": ["Bug Risk"],
                "location": {
                    "path": p.path,
                    "lines": { "begin": p.line, "end": p.end_line },
                },
            });
            if let Some(help) = &d.help {
                issue["content"] = json!({ "body": scrub.text(help) });
            }
            issue
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&issues).expect("JSON values serialize");
    s.push('\n');
    s
}
