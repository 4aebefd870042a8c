//! Suppression comments, applied to the diagnostics of a run after every rule has reported.
//!
//! ```kdl
//! // mailcfg-ignore-file: auto-security reason="lab servers, no TLS"   (top of the file: whole file)
//! // mailcfg-ignore: google-password-auth reason="app password"        (the next node and its children)
//! account "Support" { … }
//! ```
//!
//! Only rules of the catalogue can be suppressed (not syntax or schema errors). A suppression
//! without a reason still works but is reported; one that suppresses nothing is reported with a
//! fix that deletes it.

use crate::diagnostics::{Diagnostic, Edit, Fix, Label, Span};
use crate::lower::{Origin, SpanMap};
use crate::rules::{self, suppression_without_reason, unused_suppression};
use crate::schema::did_you_mean;
use crate::source::{FileId, SourceFile, Sources};

const NODE_MARK: &str = "mailcfg-ignore:";
const FILE_MARK: &str = "mailcfg-ignore-file:";

#[derive(Debug)]
struct Directive {
    /// The comment line including its newline: what a fix deletes.
    line: Span,
    /// From `//` to the end of the comment.
    comment: Span,
    file_level: bool,
    /// A file-level comment below the first node.
    misplaced: bool,
    names: Vec<(String, Span)>,
    reason: Option<String>,
    /// What the comment covers; `None` when no node follows it.
    covers: Option<Span>,
    used: Vec<bool>,
}

impl Directive {
    fn covers(&self, offset: usize) -> bool {
        if self.misplaced {
            return false;
        }
        if self.file_level {
            return true;
        }
        self.covers
            .is_some_and(|s| s.start <= offset && offset < s.end.max(s.start + 1))
    }
}

/// Removes suppressed diagnostics and adds `suppression-without-reason` / `unused-suppression`.
pub fn apply(diags: &mut Vec<Diagnostic>, sources: &Sources, spans: &[SpanMap]) {
    let mut all: Vec<(FileId, Vec<Directive>)> = Vec::new();
    for (id, file) in sources.iter() {
        if !file.text.contains("mailcfg-ignore") {
            continue;
        }
        let directives = parse(file, spans.get(id.index()));
        if !directives.is_empty() {
            all.push((id, directives));
        }
    }
    if all.is_empty() {
        return;
    }
    diags.retain(|d| {
        if rules::find(d.rule).is_none() {
            return true;
        }
        let Some((_, directives)) = all.iter_mut().find(|(f, _)| *f == d.primary.file) else {
            return true;
        };
        let mut suppressed = false;
        for dir in directives.iter_mut() {
            if !dir.covers(d.primary.span.start) {
                continue;
            }
            for (i, (name, _)) in dir.names.iter().enumerate() {
                if name == d.rule {
                    dir.used[i] = true;
                    suppressed = true;
                }
            }
        }
        !suppressed
    });
    for (file, directives) in all {
        for dir in directives {
            report(file, &dir, diags);
        }
    }
}

fn report(file: FileId, dir: &Directive, out: &mut Vec<Diagnostic>) {
    if dir.reason.is_none() && !dir.names.is_empty() {
        let m = &suppression_without_reason::META;
        out.push(
            Diagnostic::new(
                m.name,
                m.level,
                Label::new(file, dir.comment),
                "suppression comment without a reason",
            )
            .with_help("add `reason=\"…\"` saying why the finding does not apply here"),
        );
    }
    let m = &unused_suppression::META;
    if dir.names.is_empty() {
        out.push(
            Diagnostic::new(
                m.name,
                m.level,
                Label::new(file, dir.comment),
                "suppression comment names no rule",
            )
            .with_help("write `// mailcfg-ignore: rule-name reason=\"…\"`; `mailcfg rules` lists the names"),
        );
        return;
    }
    for (i, (name, span)) in dir.names.iter().enumerate() {
        if dir.used[i] {
            continue;
        }
        let (message, help) = if rules::find(name).is_none() {
            let hint = did_you_mean(name, rules::ALL.iter().map(|r| r.meta.name))
                .map(|s| format!("did you mean `{s}`? "))
                .unwrap_or_default();
            (
                format!("suppression names `{name}`, which is not a rule"),
                format!("{hint}`mailcfg rules` lists the names"),
            )
        } else if dir.misplaced {
            (
                format!("file-level suppression of `{name}` is not at the top of the file"),
                "move `mailcfg-ignore-file` above the first node, or use `mailcfg-ignore` directly above the node".to_string(),
            )
        } else if dir.covers.is_none() {
            (
                format!("suppression of `{name}` is not followed by a node"),
                "put the comment on the line(s) directly above the node it is meant for"
                    .to_string(),
            )
        } else {
            (
                format!("suppression of `{name}` suppresses nothing"),
                "the rule reports nothing here (fixed, or allowed in mailcfg.kdl); remove the comment"
                    .to_string(),
            )
        };
        let mut d = Diagnostic::new(
            m.name,
            m.level,
            Label::new(file, *span).with_text("suppresses nothing"),
            message,
        )
        .with_help(help);
        if dir.names.len() == 1 {
            d = d.with_fix(Fix {
                description: "remove the unused suppression comment".into(),
                edits: vec![Edit {
                    file,
                    span: dir.line,
                    replacement: String::new(),
                }],
            });
        }
        out.push(d);
    }
}

fn parse(file: &SourceFile, spans: Option<&SpanMap>) -> Vec<Directive> {
    let text = file.text.as_str();
    let mut lines = Vec::new();
    let mut at = 0;
    for l in text.split_inclusive('\n') {
        lines.push((at, l));
        at += l.len();
    }
    let is_comment = |l: &str| l.trim_start().starts_with("//");
    let is_blank = |l: &str| l.trim().is_empty();
    let first_node_line = lines
        .iter()
        .position(|(_, l)| !is_comment(l) && !is_blank(l))
        .unwrap_or(lines.len());
    let mut out = Vec::new();
    for (idx, &(start, line)) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let Some(body) = trimmed.strip_prefix("//") else {
            continue;
        };
        let body_trim = body.trim_start();
        let (file_level, rest) = if let Some(r) = body_trim.strip_prefix(FILE_MARK) {
            (true, r)
        } else if let Some(r) = body_trim.strip_prefix(NODE_MARK) {
            (false, r)
        } else {
            continue;
        };
        let comment_start = start + (line.len() - trimmed.len());
        let rest_start = start + (line.len() - rest.len());
        let content = line.trim_end_matches(['\n', '\r']);
        let comment = Span::new(comment_start, start + content.len());
        let rest = &text[rest_start..comment.end.max(rest_start)];
        let (names_part, reason) = match rest.find("reason=") {
            Some(i) => (&rest[..i], parse_reason(&rest[i + "reason=".len()..])),
            None => (rest, None),
        };
        let mut names = Vec::new();
        let mut offset = rest_start;
        for piece in names_part.split_inclusive([',', ' ', '\t']) {
            let name = piece.trim_matches([',', ' ', '\t']);
            if !name.is_empty() {
                let s = offset + piece.find(name).unwrap_or(0);
                names.push((name.to_string(), Span::new(s, s + name.len())));
            }
            offset += piece.len();
        }
        let covers = if file_level {
            None
        } else {
            let next = lines[idx + 1..]
                .iter()
                .find(|(_, l)| !is_comment(l) && !is_blank(l));
            next.and_then(|&(ls, l)| node_on_line(spans?, ls, ls + l.len()))
        };
        out.push(Directive {
            line: Span::new(start, start + line.len()),
            comment,
            file_level,
            misplaced: file_level && idx > first_node_line,
            used: vec![false; names.len()],
            names,
            reason: reason.filter(|r| !r.trim().is_empty()),
            covers,
        });
    }
    out
}

/// `"text"` (with `\"` escapes) or the rest of the line.
fn parse_reason(s: &str) -> Option<String> {
    let s = s.trim();
    let Some(inner) = s.strip_prefix('"') else {
        return Some(s.to_string());
    };
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            '"' => return Some(out),
            c => out.push(c),
        }
    }
    Some(out)
}

/// The outermost node whose name starts on the line `[start, end)`: from the line's start to the
/// node's end.
fn node_on_line(spans: &SpanMap, start: usize, end: usize) -> Option<Span> {
    spans
        .iter()
        .filter(|(_, e)| e.origin == Origin::Node && e.key.start >= start && e.key.start < end)
        .map(|(_, e)| e.node)
        .max_by_key(|s| (s.end, std::cmp::Reverse(s.start)))
        .map(|n| Span::new(start, n.end))
}
