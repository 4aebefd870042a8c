//! Renderers: every output format is produced from [`Diagnostic`]s and the sources, nothing else.
//!
//! Machine formats (everything but `human`) never contain ANSI escapes, and every renderer's
//! text goes through [`redact::scrub`] twice: field by field before it is encoded (a secret with
//! a `"` or `%` in it would otherwise survive as `\"` or `%25`), and over the finished output.

pub mod concise;
pub mod github;
pub mod gitlab;
pub mod human;
pub mod json;
pub mod sarif;
pub mod snippet;

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use crate::diagnostics::{Diagnostic, Label};
use crate::parse::redact;
use crate::source::Sources;

/// Literal secrets of every file, for [`redact::scrub`] on anything printed.
pub fn secrets(sources: &Sources) -> Vec<String> {
    sources
        .iter()
        .flat_map(|(_, f)| redact::view(f).secret_values().iter().cloned())
        .collect()
}

/// Diagnostics in the order users read them: by file path, then position.
pub fn sorted<'a>(diags: &'a [Diagnostic], sources: &Sources) -> Vec<&'a Diagnostic> {
    let mut v: Vec<&Diagnostic> = diags.iter().collect();
    v.sort_by(|a, b| {
        let pa = &sources.get(a.primary.file).path;
        let pb = &sources.get(b.primary.file).path;
        (pa, a.primary.span.start, a.rule).cmp(&(pb, b.primary.span.start, b.rule))
    });
    v
}

/// The output formats of `mailcfg check --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Human,
    Concise,
    Json,
    Sarif,
    Github,
    Gitlab,
}

impl Format {
    pub const ALL: &'static [Format] = &[
        Format::Human,
        Format::Concise,
        Format::Json,
        Format::Sarif,
        Format::Github,
        Format::Gitlab,
    ];
    pub const NAMES: &'static [&'static str] =
        &["human", "concise", "json", "sarif", "github", "gitlab"];

    pub fn name(self) -> &'static str {
        match self {
            Format::Human => "human",
            Format::Concise => "concise",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Github => "github",
            Format::Gitlab => "gitlab",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Format::ALL
            .iter()
            .copied()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown format {s:?}; expected one of: {}",
                    Format::NAMES.join(", ")
                )
            })
    }
}

/// One finished run, as every renderer sees it.
pub struct Report<'a> {
    /// The diagnostics to show (already limited to the files reported on).
    pub diagnostics: &'a [Diagnostic],
    /// Every file the run read, including project files loaded only for context.
    pub sources: &'a Sources,
    /// How many files the run reports on (for the summary).
    pub files: usize,
    /// The exit code the run ends with (SARIF and JSON record it).
    pub exit_code: u8,
}

/// Renders `report` as `format`; `color` only affects `human`.
pub fn render(format: Format, report: &Report<'_>, color: bool) -> String {
    // With no finding, nothing taken from a file is printed: no need to look for secrets.
    let scrub = Scrub(if report.diagnostics.is_empty() {
        Vec::new()
    } else {
        secrets(report.sources)
    });
    let out = match format {
        Format::Human => {
            human::render_files(report.diagnostics, report.sources, color, report.files)
        }
        Format::Concise => concise::render(report, &scrub),
        Format::Json => json::render(report, &scrub),
        Format::Sarif => sarif::render(report, &scrub),
        Format::Github => github::render(report, &scrub),
        Format::Gitlab => gitlab::render(report, &scrub),
    };
    scrub.text(&out)
}

/// What `--quiet` prints for a run that passes: the findings of the text formats (human,
/// concise) without their summary line; the machine formats in full.
pub fn render_quiet(format: Format, report: &Report<'_>, color: bool) -> String {
    match format {
        Format::Human => human::render_findings(report.diagnostics, report.sources, color),
        Format::Concise => {
            let scrub = Scrub(secrets(report.sources));
            scrub.text(&concise::findings(report, &scrub))
        }
        _ => render(format, report, color),
    }
}

/// Masks literal secrets in one piece of text before a renderer encodes it.
pub struct Scrub(pub Vec<String>);

impl Scrub {
    pub fn text(&self, s: &str) -> String {
        redact::scrub(s, &self.0)
    }
    pub fn opt(&self, s: Option<&str>) -> Option<String> {
        s.map(|s| self.text(s))
    }
}

/// Where a label is, in every unit some format needs. Lines and columns are 1-based; `end_*` is
/// the position just after the last character (exclusive), as SARIF and LSP count it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    /// Columns counted in UTF-16 code units (SARIF's default `columnKind`).
    pub column_utf16: usize,
    pub end_column_utf16: usize,
    pub byte_start: usize,
    pub byte_end: usize,
}

pub fn place(sources: &Sources, label: &Label) -> Place {
    let f = sources.get(label.file);
    let (line, column) = f.line_col(label.span.start);
    let (end_line, end_column) = f.line_col(label.span.end);
    let (_, c16) = f.line_col_utf16(label.span.start);
    let (_, e16) = f.line_col_utf16(label.span.end);
    let byte_start = label.span.start.min(f.text.len());
    Place {
        path: f.display_path(),
        line,
        column,
        end_line,
        end_column,
        column_utf16: c16 + 1,
        end_column_utf16: e16 + 1,
        byte_start,
        byte_end: label
            .span
            .end
            .clamp(byte_start, f.text.len().max(byte_start)),
    }
}

/// Fingerprints that survive unrelated edits: rule, file and KDL path (never line numbers), with
/// an ordinal when the same triple occurs more than once. Given in the order of `diags`.
pub fn fingerprints(diags: &[&Diagnostic], sources: &Sources) -> Vec<String> {
    let mut seen = std::collections::HashMap::<String, usize>::new();
    diags
        .iter()
        .map(|d| {
            let anchor = d.kdl_path.clone().unwrap_or_else(|| d.message.clone());
            let key = format!(
                "{}\0{}\0{}",
                d.rule,
                sources.get(d.primary.file).display_path(),
                anchor
            );
            let n = seen.entry(key.clone()).or_default();
            *n += 1;
            let mut h = Sha256::new();
            h.update(key.as_bytes());
            if *n > 1 {
                h.update(format!("\0{n}").as_bytes());
            }
            h.finalize()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        })
        .collect()
}
