//! The JSON report: `{"version": 1, "tool", "diagnostics": [...], "summary", "exit_code"}`.
//!
//! The structs below are the contract; `schema/output.schema.json` is generated from them
//! ([`schema_pretty`]) and a test fails when the checked-in copy is stale. Incompatible changes
//! bump [`VERSION`].

use schemars::JsonSchema;
use serde::Serialize;

use super::{place, sorted, Report, Scrub};
use crate::diagnostics::{Label, Level, Summary};

/// The version of this document's shape.
pub const VERSION: u32 = 1;

/// A `mailcfg check --format json` report.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "mailcfg check report", deny_unknown_fields)]
pub struct Document {
    /// Version of the report format; incremented on incompatible changes.
    #[schemars(extend("const" = 1))]
    pub version: u32,
    pub tool: Tool,
    /// Findings, sorted by file and position.
    pub diagnostics: Vec<JsonDiagnostic>,
    pub summary: JsonSummary,
    /// The exit code of the run (0 clean or below the threshold, 1 findings, 2 usage/IO error).
    pub exit_code: u8,
}

#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Tool {
    /// Always `mailcfg`.
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum JsonLevel {
    Error,
    Warning,
    Info,
}

impl From<Level> for JsonLevel {
    fn from(l: Level) -> Self {
        match l {
            Level::Error => JsonLevel::Error,
            Level::Warning => JsonLevel::Warning,
            Level::Info => JsonLevel::Info,
        }
    }
}

/// A place in a file. Lines and columns are 1-based; columns count Unicode scalar values;
/// `end_line`/`end_column` is the position just after the region (exclusive); byte offsets are
/// 0-based and half-open.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Location {
    /// Path as given on the command line (or found by walking a directory), with `/` separators.
    pub file: String,
    #[schemars(range(min = 1))]
    pub line: usize,
    #[schemars(range(min = 1))]
    pub column: usize,
    #[schemars(range(min = 1))]
    pub end_line: usize,
    #[schemars(range(min = 1))]
    pub end_column: usize,
    pub byte_start: usize,
    pub byte_end: usize,
}

#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct JsonDiagnostic {
    /// Stable kebab-case rule name (see `mailcfg explain` and docs/formats.md).
    pub rule: String,
    pub level: JsonLevel,
    pub message: String,
    pub help: Option<String>,
    /// Where the finding is.
    pub location: Location,
    /// Short text shown under the primary location, if any.
    pub label: Option<String>,
    /// Position in the KDL tree, e.g. `account "X" › incoming › port`.
    pub kdl_path: Option<String>,
    /// Other places that explain the finding (e.g. the first definition of a duplicate).
    pub related: Vec<Related>,
    /// A mechanical fix, if the finding has one.
    pub fix: Option<JsonFix>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Related {
    pub location: Location,
    pub message: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct JsonFix {
    pub description: String,
    /// Replacements applied together.
    pub edits: Vec<JsonEdit>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct JsonEdit {
    /// The region replaced.
    pub location: Location,
    pub replacement: String,
}

#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct JsonSummary {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    /// Files reported on.
    pub files: usize,
}

fn location(report: &Report<'_>, label: &Label) -> Location {
    let p = place(report.sources, label);
    Location {
        file: p.path,
        line: p.line,
        column: p.column,
        end_line: p.end_line,
        end_column: p.end_column,
        byte_start: p.byte_start,
        byte_end: p.byte_end,
    }
}

pub fn document(report: &Report<'_>, scrub: &Scrub) -> Document {
    let diagnostics = sorted(report.diagnostics, report.sources)
        .into_iter()
        .map(|d| JsonDiagnostic {
            rule: d.rule.to_string(),
            level: d.level.into(),
            message: scrub.text(&d.message),
            help: scrub.opt(d.help.as_deref()),
            location: location(report, &d.primary),
            label: scrub.opt(d.primary.text.as_deref()),
            kdl_path: scrub.opt(d.kdl_path.as_deref()),
            related: d
                .related
                .iter()
                .map(|r| Related {
                    location: location(report, r),
                    message: scrub.opt(r.text.as_deref()),
                })
                .collect(),
            fix: d.fix.as_ref().map(|f| JsonFix {
                description: scrub.text(&f.description),
                edits: f
                    .edits
                    .iter()
                    .map(|e| JsonEdit {
                        location: location(report, &Label::new(e.file, e.span)),
                        replacement: scrub.text(&e.replacement),
                    })
                    .collect(),
            }),
        })
        .collect();
    let s = Summary::of(report.diagnostics, report.files);
    Document {
        version: VERSION,
        tool: Tool {
            name: "mailcfg".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        diagnostics,
        summary: JsonSummary {
            errors: s.errors,
            warnings: s.warnings,
            infos: s.infos,
            files: s.files,
        },
        exit_code: report.exit_code,
    }
}

pub fn render(report: &Report<'_>, scrub: &Scrub) -> String {
    let mut s = serde_json::to_string_pretty(&document(report, scrub)).expect("report serializes");
    s.push('\n');
    s
}

/// The JSON Schema of [`Document`], as checked in under `schema/output.schema.json`.
pub fn schema_pretty() -> String {
    let schema = schemars::schema_for!(Document);
    let mut s = serde_json::to_string_pretty(&schema).expect("schema serializes");
    s.push('\n');
    s
}
