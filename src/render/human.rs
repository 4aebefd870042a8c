//! The human view: miette snippets with labels, help and the rule name, then a summary line.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, NamedSource, Severity,
    SourceCode, SourceSpan, SpanContents,
};

use crate::diagnostics::{Diagnostic, Label, Level, Summary};
use crate::source::{redact, FileId, Sources};

/// A source with secrets masked: what snippets are cut from. Shared, so a file with many
/// findings is masked and held once.
#[derive(Debug)]
struct Masked(NamedSource<Arc<str>>);

impl SourceCode for Masked {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        self.0.read_span(span, before, after)
    }
}

#[derive(Debug)]
struct Report {
    message: String,
    code: String,
    severity: Severity,
    help: Option<String>,
    source: Masked,
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

struct Masker<'a> {
    sources: &'a Sources,
    cache: HashMap<FileId, Arc<str>>,
}

impl Masker<'_> {
    fn source(&mut self, file: FileId) -> Masked {
        let f = self.sources.get(file);
        let text = self
            .cache
            .entry(file)
            .or_insert_with(|| redact::mask(&f.text).into())
            .clone();
        Masked(NamedSource::new(f.display_path(), text).with_language("kdl"))
    }
}

fn labeled(label: &Label, primary: bool) -> LabeledSpan {
    let span = SourceSpan::from((label.span.start, label.span.len()));
    if primary {
        LabeledSpan::new_primary_with_span(label.text.clone(), span)
    } else {
        LabeledSpan::new_with_span(label.text.clone(), span)
    }
}

fn report(d: &Diagnostic, masker: &mut Masker<'_>) -> Report {
    let mut labels = vec![labeled(&d.primary, true)];
    let mut related = Vec::new();
    for r in &d.related {
        if r.file == d.primary.file {
            labels.push(labeled(r, false));
        } else {
            related.push(Report {
                message: r.text.clone().unwrap_or_else(|| "related location".into()),
                code: String::new(),
                severity: Severity::Advice,
                help: None,
                source: masker.source(r.file),
                labels: vec![labeled(r, true)],
                related: Vec::new(),
            });
        }
    }
    Report {
        message: d.message.clone(),
        code: d.rule.to_string(),
        severity: severity(d.level),
        help: d.help.clone(),
        source: masker.source(d.primary.file),
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
    let mut masker = Masker {
        sources,
        cache: Default::default(),
    };
    let mut out = String::new();
    for d in super::sorted(diags, sources) {
        let r = report(d, &mut masker);
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
