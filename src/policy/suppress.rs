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
use crate::parse::cst::{Item, Tokens, Tree};
use crate::parse::lexer::{Dialect, Lexer, Token, TokenKind};
use crate::rules::{self, suppression_without_reason, unused_suppression};
use crate::schema::did_you_mean;
use crate::source::{FileId, SourceFile, Sources};

const NODE_MARK: &str = "mailcfg-ignore:";
const FILE_MARK: &str = "mailcfg-ignore-file:";

#[derive(Debug)]
struct Directive {
    /// The comment token with the indentation before it and the newline after it: what a fix
    /// deletes.
    removal: Span,
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
        let correction = rules::find(name)
            .is_none()
            .then(|| meant_rule(name))
            .flatten();
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
        if let Some(meant) = correction {
            d = d.with_fix(Fix {
                description: format!("correct the rule name to `{meant}`"),
                edits: vec![Edit {
                    file,
                    span: *span,
                    replacement: meant.to_string(),
                }],
            });
        } else if dir.names.len() == 1 {
            d = d.with_fix(Fix {
                description: "remove the unused suppression comment".into(),
                edits: vec![Edit {
                    file,
                    span: dir.removal,
                    replacement: String::new(),
                }],
            });
        }
        out.push(d);
    }
}

fn parse(file: &SourceFile, spans: Option<&SpanMap>) -> Vec<Directive> {
    let text = file.text.as_str();
    // The tree knows which comments stand between nodes (not inside a slash-dashed node) and
    // which node follows each; a text that does not parse still has its comments matched,
    // through the lexer's tokens and the nodes the v1 reader found.
    let (tokens, comments) = match Tree::parse(text) {
        Ok(tree) => {
            let mut found = Vec::new();
            list_comments(&tree, &tree.items, &mut found);
            let first_node = tree
                .items
                .iter()
                .find_map(Item::node_tokens)
                .map(|r| tree.span(&r).start);
            let tokens = tree.tokens.clone();
            let comments = found
                .into_iter()
                .map(|(i, covers)| (i, covers.map(|r| tree.span(&r)), first_node))
                .collect::<Vec<_>>();
            (tokens, comments)
        }
        Err(_) => {
            let tokens: Vec<Token> = Lexer::with_dialect(text, Dialect::V1).collect();
            let first_node = spans.and_then(|m| {
                m.iter()
                    .filter(|(_, e)| e.origin == Origin::Node)
                    .map(|(_, e)| e.node.start)
                    .min()
            });
            let comments = (0..tokens.len())
                .filter(|&i| tokens[i].kind == TokenKind::LineComment)
                .map(|i| {
                    let covers = spans.and_then(|m| next_node_by_spans(m, tokens[i].span.end));
                    (i, covers, first_node)
                })
                .collect();
            (tokens, comments)
        }
    };
    let mut out = Vec::new();
    for (i, covers, first_node) in comments {
        let comment = tokens[i].span;
        if !first_on_its_line(&tokens, i) {
            continue;
        }
        let body = text[comment.start + 2..comment.end].trim_start();
        let (file_level, rest) = if let Some(r) = body.strip_prefix(FILE_MARK) {
            (true, r)
        } else if let Some(r) = body.strip_prefix(NODE_MARK) {
            (false, r)
        } else {
            continue;
        };
        let rest_start = comment.end - rest.len();
        let rest = rest.trim_end();
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
        out.push(Directive {
            removal: removal_span(&tokens, i),
            comment: Span::new(
                comment.start,
                comment.start + text[comment.start..comment.end].trim_end().len(),
            ),
            file_level,
            misplaced: file_level && first_node.is_some_and(|n| n < comment.start),
            used: vec![false; names.len()],
            names,
            reason: reason.filter(|r| suppression_without_reason::is_a_reason(r)),
            covers: if file_level { None } else { covers },
        });
    }
    out
}

/// Every line comment that stands between nodes (in the document or a block, never inside a
/// slash-dashed node or a node's entries), with the nodes it covers: the next node, and the
/// nodes that follow it on the same line (`user "x"; password "p"`).
fn list_comments(tree: &Tree, items: &[Item], out: &mut Vec<(usize, Option<Tokens>)>) {
    for (k, item) in items.iter().enumerate() {
        match item {
            Item::Trivia(i) if tree.kind(*i) == TokenKind::LineComment => {
                out.push((*i, covered(tree, &items[k + 1..])));
            }
            Item::Node(n) => {
                if let Some(b) = &n.children {
                    list_comments(tree, &b.items, out);
                }
            }
            _ => {}
        }
    }
}

fn covered(tree: &Tree, after: &[Item]) -> Option<Tokens> {
    let mut rest = after.iter();
    let first = rest.find_map(Item::node_tokens)?;
    let mut end = first.end;
    for item in rest {
        match item {
            Item::Trivia(i) if tree.kind(*i) == TokenKind::Newline => break,
            Item::Trivia(_) => {}
            other => end = other.node_tokens().map_or(end, |r| r.end),
        }
    }
    Some(first.start..end)
}

/// Only whitespace (or the byte-order mark) before token `i` on its line.
fn first_on_its_line(tokens: &[Token], i: usize) -> bool {
    tokens[..i]
        .iter()
        .rev()
        .find(|t| !matches!(t.kind, TokenKind::Whitespace | TokenKind::Bom))
        .is_none_or(|t| t.kind == TokenKind::Newline)
}

/// The comment token `i`, the whitespace before it and the newline after it: what removing
/// the comment deletes (never more, so a `*/` or a string on the same line cannot be cut).
fn removal_span(tokens: &[Token], i: usize) -> Span {
    let mut start = tokens[i].span.start;
    if i > 0 && tokens[i - 1].kind == TokenKind::Whitespace {
        start = tokens[i - 1].span.start;
    }
    let end = match tokens.get(i + 1) {
        Some(t) if t.kind == TokenKind::Newline => t.span.end,
        _ => tokens[i].span.end,
    };
    Span::new(start, end)
}

/// For text the tree cannot read (KDL v1): the first node the lowering located after `offset`.
fn next_node_by_spans(spans: &SpanMap, offset: usize) -> Option<Span> {
    spans
        .iter()
        .filter(|(_, e)| e.origin == Origin::Node && e.node.start >= offset)
        .map(|(_, e)| e.node)
        .min_by_key(|s| (s.start, std::cmp::Reverse(s.end)))
}

/// The rule a misspelt name means, when only one rule is close: the did-you-mean, and no
/// other rule nearly as close (`redundant-prot` → `redundant-port`).
fn meant_rule(name: &str) -> Option<&'static str> {
    let best = did_you_mean(name, rules::ALL.iter().map(|r| r.meta.name))?;
    let score = |c: &str| strsim::jaro_winkler(&name.to_lowercase(), &c.to_lowercase());
    let best_score = score(best);
    let close = rules::ALL
        .iter()
        .filter(|r| r.meta.name != best && score(r.meta.name) > best_score - 0.05)
        .count();
    (close == 0).then_some(best)
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
