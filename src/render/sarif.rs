//! SARIF 2.1.0, the format GitHub code scanning and most CI dashboards ingest.
//!
//! - `tool.driver.rules` lists every code of [`crate::registry`] (rules, built-in checks, probe
//!   checks) in its order, so each result's `ruleIndex` resolves, from `check` and `probe` alike.
//! - Regions are 1-based; columns count UTF-16 code units (`columnKind`), `endColumn` is
//!   exclusive; `byteOffset`/`byteLength` give the same region in bytes.
//! - `partialFingerprints["mailcfg/v1"]` hashes rule + file + KDL path (no line numbers), so
//!   alerts keep their identity when unrelated lines move.
//! - Paths are relative URI references (as given on the command line), which GitHub resolves
//!   against the repository root.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{fingerprints, place, sorted, Place, Report, Scrub};
use crate::diagnostics::{Label, Level};
use crate::registry::{self, Stage};

pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
pub const FINGERPRINT_KEY: &str = "mailcfg/v1";

fn level(l: Level) -> &'static str {
    match l {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Info => "note",
    }
}

/// A path as a URI reference: `/` separators, reserved bytes percent-encoded; absolute paths
/// become `file://` URIs.
pub fn uri(path: &str) -> String {
    let mut out = String::new();
    if path.starts_with('/') {
        out.push_str("file://");
    }
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The "What it checks" and "Why" sections of a rule's docs, without headings or examples.
fn description(docs: &str) -> String {
    let body = docs.split("## Example").next().unwrap_or(docs);
    body.lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

fn rule_descriptors() -> Vec<Value> {
    registry::all()
        .iter()
        .map(|c| {
            let (full, help) = match c.stage {
                Stage::Rule | Stage::Suppression | Stage::Probe => (
                    description(c.docs),
                    json!({ "text": c.docs, "markdown": c.docs }),
                ),
                _ => (
                    c.summary.to_string(),
                    json!({
                        "text": format!("{}. Built-in check of mailcfg; see docs/formats.md.", c.summary),
                    }),
                ),
            };
            let tag = match c.stage {
                Stage::Rule | Stage::Suppression => "rule",
                Stage::Probe => "probe",
                _ => "builtin",
            };
            json!({
                "id": c.name,
                "name": c.name,
                "shortDescription": { "text": c.summary },
                "fullDescription": { "text": full },
                "help": help,
                "defaultConfiguration": { "level": level(c.level) },
                "properties": { "tags": [tag], "stage": c.stage.as_str() },
            })
        })
        .collect()
}

fn region(p: &Place) -> Value {
    json!({
        "startLine": p.line,
        "startColumn": p.column_utf16,
        "endLine": p.end_line,
        "endColumn": p.end_column_utf16,
        "byteOffset": p.byte_start,
        "byteLength": p.byte_end - p.byte_start,
    })
}

fn physical(p: &Place) -> Value {
    json!({
        "artifactLocation": { "uri": uri(&p.path) },
        "region": region(p),
    })
}

pub fn render(report: &Report<'_>, scrub: &Scrub) -> String {
    let diags = sorted(report.diagnostics, report.sources);
    let prints = fingerprints(&diags, report.sources);
    let results: Vec<Value> = diags
        .iter()
        .zip(prints)
        .map(|(d, fingerprint)| {
            let p = place(report.sources, &d.primary);
            let mut text = scrub.text(&d.message);
            if let Some(help) = &d.help {
                text.push_str(&format!("\nhelp: {}", scrub.text(help)));
            }
            let mut location = json!({ "physicalLocation": physical(&p) });
            if let Some(path) = &d.kdl_path {
                location["logicalLocations"] = json!([{
                    "fullyQualifiedName": scrub.text(path),
                    "kind": "element",
                }]);
            }
            if let Some(label) = &d.primary.text {
                location["message"] = json!({ "text": scrub.text(label) });
            }
            let mut result = json!({
                "ruleId": d.rule,
                "level": level(d.level),
                "message": { "text": text },
                "locations": [location],
                "partialFingerprints": { FINGERPRINT_KEY: fingerprint },
            });
            if let Some(i) = registry::index(d.rule) {
                result["ruleIndex"] = json!(i);
            }
            if !d.related.is_empty() {
                result["relatedLocations"] = d
                    .related
                    .iter()
                    .enumerate()
                    .map(|(i, r)| {
                        let mut loc = json!({
                            "id": i + 1,
                            "physicalLocation": physical(&place(report.sources, r)),
                        });
                        if let Some(t) = &r.text {
                            loc["message"] = json!({ "text": scrub.text(t) });
                        }
                        loc
                    })
                    .collect();
            }
            if let Some(fix) = &d.fix {
                let mut by_file: BTreeMap<String, Vec<Value>> = BTreeMap::new();
                for e in &fix.edits {
                    let ep = place(report.sources, &Label::new(e.file, e.span));
                    by_file.entry(ep.path.clone()).or_default().push(json!({
                        "deletedRegion": region(&ep),
                        "insertedContent": { "text": scrub.text(&e.replacement) },
                    }));
                }
                result["fixes"] = json!([{
                    "description": { "text": scrub.text(&fix.description) },
                    "artifactChanges": by_file
                        .into_iter()
                        .map(|(path, replacements)| json!({
                            "artifactLocation": { "uri": uri(&path) },
                            "replacements": replacements,
                        }))
                        .collect::<Vec<_>>(),
                }]);
            }
            result
        })
        .collect();
    let doc = json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "mailcfg",
                    "version": env!("CARGO_PKG_VERSION"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "rules": rule_descriptors(),
                },
            },
            "invocations": [{
                "executionSuccessful": report.exit_code < 2,
                "exitCode": report.exit_code,
            }],
            "columnKind": "utf16CodeUnits",
            "results": results,
        }],
    });
    let mut s = serde_json::to_string_pretty(&doc).expect("JSON values serialize");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(uri("accounts/a b.kdl"), "accounts/a%20b.kdl");
        assert_eq!(uri("/srv/x%.kdl"), "file:///srv/x%25.kdl");
        assert_eq!(uri("ä.kdl"), "%C3%A4.kdl");
    }
}
