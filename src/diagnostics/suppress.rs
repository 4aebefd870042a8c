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

use std::collections::HashMap;

use crate::diagnostics::{Diagnostic, Edit, Fix, Label, Span};
use crate::lower::{Origin, SpanMap};
use crate::parse::lexer::{Lexer, TokenKind};
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
    let mut all: HashMap<FileId, Vec<Directive>> = HashMap::new();
    for (id, file) in sources.iter() {
        if !file.text.contains("mailcfg-ignore") {
            continue;
        }
        let directives = parse(file, spans.get(id.index()));
        if !directives.is_empty() {
            all.insert(id, directives);
        }
    }
    if all.is_empty() {
        return;
    }
    diags.retain(|d| {
        if rules::find(d.rule).is_none() {
            return true;
        }
        let Some(directives) = all.get_mut(&d.primary.file) else {
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
    let mut files: Vec<_> = all.into_iter().collect();
    files.sort_by_key(|(f, _)| *f);
    for (file, directives) in files {
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

/// A `//` comment that is alone on its line (only whitespace before it), as the lexer sees it:
/// text inside a string (a multi-line one included) is never a comment.
struct CommentLine {
    /// From the line's start to after its newline.
    line: Span,
    comment: Span,
}

/// The comment lines of `text`, and where its first node (anything but space and comments)
/// starts.
fn comment_lines(text: &str) -> (Vec<CommentLine>, Vec<usize>) {
    let mut comments = Vec::new();
    let mut code = Vec::new();
    let mut line_start = 0;
    let mut alone = true;
    let mut open: Option<(usize, Span)> = None;
    for t in Lexer::new(text) {
        match t.kind {
            TokenKind::Newline => {
                if let Some((start, comment)) = open.take() {
                    comments.push(CommentLine {
                        line: Span::new(start, t.span.end),
                        comment,
                    });
                }
                line_start = t.span.end;
                alone = true;
            }
            TokenKind::Whitespace | TokenKind::Bom => {}
            TokenKind::LineComment if alone => open = Some((line_start, t.span)),
            TokenKind::LineComment | TokenKind::BlockComment => alone = false,
            _ => {
                alone = false;
                code.push(t.span.start);
            }
        }
    }
    if let Some((start, comment)) = open {
        comments.push(CommentLine {
            line: Span::new(start, text.len()),
            comment,
        });
    }
    (comments, code)
}

fn parse(file: &SourceFile, spans: Option<&SpanMap>) -> Vec<Directive> {
    let text = file.text.as_str();
    let (comments, code) = comment_lines(text);
    let first_node = code.first().copied().unwrap_or(text.len());
    let mut out = Vec::new();
    let mut node_ends: Option<HashMap<usize, usize>> = None;
    for c in comments {
        let body = &text[c.comment.start + 2..c.comment.end];
        let body_trim = body.trim_start();
        let (file_level, rest) = if let Some(r) = body_trim.strip_prefix(FILE_MARK) {
            (true, r)
        } else if let Some(r) = body_trim.strip_prefix(NODE_MARK) {
            (false, r)
        } else {
            continue;
        };
        let comment = c.comment;
        let rest_start = comment.end - rest.len();
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
            let next = code.get(code.partition_point(|&at| at < comment.end));
            next.and_then(|&at| {
                let ls = text[..at].rfind('\n').map_or(0, |i| i + 1);
                let ends = node_ends.get_or_insert_with(|| {
                    spans
                        .map(|m| node_ends_by_line(text, m))
                        .unwrap_or_default()
                });
                ends.get(&ls).map(|&end| Span::new(ls, end))
            })
        };
        out.push(Directive {
            line: c.line,
            comment,
            file_level,
            misplaced: file_level && comment.start > first_node,
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

/// For each line start (byte offset), the end of the outermost node whose name starts on that
/// line. Built once per file with suppressions, so matching comments to nodes stays linear.
fn node_ends_by_line(text: &str, spans: &SpanMap) -> HashMap<usize, usize> {
    let mut ends: HashMap<usize, usize> = HashMap::new();
    for (_, e) in spans.iter() {
        if e.origin != Origin::Node {
            continue;
        }
        let at = e.key.start.min(text.len());
        let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        let end = ends.entry(line_start).or_insert(e.node.end);
        *end = (*end).max(e.node.end);
    }
    ends
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use crate::{check, fix, Input};

    const FRAGMENTS: &[&str] = &[
        "// mailcfg-ignore: redundant-port reason=\"r\"\n",
        "// mailcfg-ignore: auto-security, inline-secret\n",
        "// mailcfg-ignore-file: redundant-port reason=\"\n",
        "//mailcfg-ignore:\n",
        "// mailcfg-ignore: reason=\"only\"\r\n",
        "account \"A\" {\n",
        "account \"Ä😀\" {\r\n",
        "protocol \"imap\"\n",
        "incoming {\n",
        "incoming { server \"x:993\"; port 993; }\n",
        "server \"imap.example.com:993\"\n",
        "security \"ssl\"\n",
        "port 993\n",
        "port 995 // old\n",
        "password \"pw\"\n",
        "}\n",
        "}",
        "\n",
        "  ",
        "\"",
        "/*",
    ];

    #[test]
    fn a_comment_line_inside_a_multi_line_string_is_not_a_suppression() {
        let text = "account \"A\" {\n    protocol \"imap\"\n    incoming {\n        server \"imap.example.com\"\n        security \"ssl\"\n        port 993\n        user \"\"\"\n            // mailcfg-ignore: redundant-port reason=\"in a string\"\n            \"\"\"\n    }\n}\n";
        let checked = check(vec![Input::text("p.kdl", text.to_string())]);
        let rules: Vec<&str> = checked.diagnostics.iter().map(|d| d.rule).collect();
        assert!(rules.contains(&"redundant-port"), "{rules:?}");
        assert!(!rules.contains(&"unused-suppression"), "{rules:?}");
        // The same comment outside the string suppresses the finding.
        let outside = text.replace(
            "        port 993\n",
            "        // mailcfg-ignore: redundant-port reason=\"r\"\n        port 993\n",
        );
        let checked = check(vec![Input::text("p.kdl", outside)]);
        assert!(!checked
            .diagnostics
            .iter()
            .any(|d| d.rule == "redundant-port"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// Arbitrary arrangements of comments, nodes and broken syntax never panic, and every
        /// diagnostic and fix edit stays inside its file on character boundaries.
        #[test]
        fn suppressions_and_fixes_never_panic(parts in proptest::collection::vec(0..FRAGMENTS.len(), 0..40)) {
            let text: String = parts.iter().map(|&i| FRAGMENTS[i]).collect();
            let checked = check(vec![Input::text("p.kdl", text.clone())]);
            for d in &checked.diagnostics {
                for span in std::iter::once(d.primary.span).chain(d.fix.iter().flat_map(|f| f.edits.iter().map(|e| e.span))) {
                    prop_assert!(span.start <= span.end && span.end <= text.len());
                    prop_assert!(text.is_char_boundary(span.start) && text.is_char_boundary(span.end));
                }
            }
            let _ = fix::apply(&checked.diagnostics, &checked.sources);
        }
    }
}
