//! GitHub Actions workflow commands: each finding becomes an annotation on the pull request,
//! `::error file=…,line=…,col=…,endLine=…,endColumn=…,title=rule::message`.
//!
//! Escaping follows the runner's rules (actions/toolkit `command.ts`): in the message `%`, `\r`
//! and `\n`; in property values additionally `:` and `,`.

use super::{place, sorted, Report, Scrub};
use crate::diagnostics::{Level, Summary};

pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn command(level: Level) -> &'static str {
    match level {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Info => "notice",
    }
}

pub fn render(report: &Report<'_>, scrub: &Scrub) -> String {
    let mut out = String::new();
    for d in sorted(report.diagnostics, report.sources) {
        let p = place(report.sources, &d.primary);
        let mut message = scrub.text(&d.message);
        if let Some(path) = &d.kdl_path {
            message.push_str(&format!("\nin: {}", scrub.text(path)));
        }
        if let Some(help) = &d.help {
            message.push_str(&format!("\nhelp: {}", scrub.text(help)));
        }
        for r in &d.related {
            let rp = place(report.sources, r);
            let text = scrub.opt(r.text.as_deref());
            message.push_str(&format!(
                "\nrelated: {}:{}:{}{}",
                rp.path,
                rp.line,
                rp.column,
                text.map(|t| format!(": {t}")).unwrap_or_default()
            ));
        }
        out.push_str(&format!(
            "::{} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
            command(d.level),
            escape_property(&p.path),
            p.line,
            p.column,
            p.end_line,
            p.end_column,
            escape_property(d.rule),
            escape_data(&message),
        ));
    }
    // Plain log lines are not commands; the summary shows in the job log.
    out.push_str(&Summary::of(report.diagnostics, report.files).to_string());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_the_runner_expects() {
        assert_eq!(escape_data("100% a\r\nb: c,d"), "100%25 a%0D%0Ab: c,d");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }
}
