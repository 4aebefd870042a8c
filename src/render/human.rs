//! The human view: miette snippets with labels, help and the rule name, then a summary line.

use std::fmt;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, Severity, SourceCode, SourceSpan,
};

use super::snippet::Snippet;
use crate::diagnostics::{Diagnostic, Label, Level, Span, Summary};
use crate::parse::redact;
use crate::source::{FileId, Sources};

#[derive(Debug)]
struct Report {
    message: String,
    code: String,
    severity: Severity,
    help: Option<String>,
    source: Snippet,
    labels: Vec<LabeledSpan>,
    related: Vec<Report>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        if self.code.is_empty() {
            None
        } else {
            Some(Box::new(&self.code))
        }
    }
    fn severity(&self) -> Option<Severity> {
        Some(self.severity)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(
                self.related.iter().map(|r| r as &dyn miette::Diagnostic),
            ))
        }
    }
}

fn severity(level: Level) -> Severity {
    match level {
        Level::Error => Severity::Error,
        Level::Warning => Severity::Warning,
        Level::Info => Severity::Advice,
    }
}

fn labeled(label: &Label, span: Span, primary: bool) -> LabeledSpan {
    let span = SourceSpan::from((span.start, span.len()));
    if primary {
        LabeledSpan::new_primary_with_span(label.text.clone(), span)
    } else {
        LabeledSpan::new_with_span(label.text.clone(), span)
    }
}

/// The snippet of `file` for `labels`, and the labels placed in it.
fn snippet(sources: &Sources, file: FileId, labels: &[&Label]) -> (Snippet, Vec<Span>) {
    let f = sources.get(file);
    let spans: Vec<Span> = labels.iter().map(|l| l.span).collect();
    Snippet::new(f, f.display_path(), &spans)
}

fn report(d: &Diagnostic, sources: &Sources) -> Report {
    let mut here = vec![&d.primary];
    let mut related = Vec::new();
    for r in &d.related {
        if r.file == d.primary.file {
            here.push(r);
        } else {
            let (source, spans) = snippet(sources, r.file, &[r]);
            related.push(Report {
                message: r.text.clone().unwrap_or_else(|| "related location".into()),
                code: String::new(),
                severity: Severity::Advice,
                help: None,
                source,
                labels: vec![labeled(r, spans[0], true)],
                related: Vec::new(),
            });
        }
    }
    let (source, spans) = snippet(sources, d.primary.file, &here);
    let labels = here
        .iter()
        .zip(spans)
        .enumerate()
        .map(|(i, (l, s))| labeled(l, s, i == 0))
        .collect();
    Report {
        message: d.message.clone(),
        code: d.rule.to_string(),
        severity: severity(d.level),
        help: d.help.clone(),
        source,
        labels,
        related,
    }
}

/// Renders all diagnostics and the summary line. `color` selects ANSI styling.
pub fn render(diags: &[Diagnostic], sources: &Sources, color: bool) -> String {
    let out = render_files(diags, sources, color, sources.len());
    redact::scrub(&out, &super::secrets(sources))
}

/// [`render`] before scrubbing, with the summary counting `files` files (a partial run reads more
/// than it reports). The caller scrubs the result.
pub(super) fn render_files(
    diags: &[Diagnostic],
    sources: &Sources,
    color: bool,
    files: usize,
) -> String {
    let mut out = findings(diags, sources, color);
    out.push_str(&Summary::of(diags, files).to_string());
    out.push('\n');
    out
}

/// The findings without the summary line (`--quiet` on a passing run), scrubbed.
pub fn render_findings(diags: &[Diagnostic], sources: &Sources, color: bool) -> String {
    if diags.is_empty() {
        return String::new();
    }
    redact::scrub(&findings(diags, sources, color), &super::secrets(sources))
}

/// Every finding as a snippet, in reading order, unscrubbed.
fn findings(diags: &[Diagnostic], sources: &Sources, color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_context_lines(1);
    let mut out = String::new();
    for d in super::sorted(diags, sources) {
        let r = report(d, sources);
        if handler.render_report(&mut out, &r).is_err() {
            let p = super::place(sources, &d.primary);
            out.push_str(&format!(
                "{}:{}:{}: {}[{}] {}\n",
                p.path, p.line, p.column, d.level, d.rule, d.message
            ));
        }
        out.push('\n');
    }
    out
}
