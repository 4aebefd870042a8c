//! KDL text → [`Document`] with spans, plus every syntax problem as a diagnostic.
//!
//! The kdl crate's parser recurses once per nesting level, so nesting is measured with a cheap
//! scan first and documents deeper than [`MAX_DEPTH`] are rejected before parsing; parsing also
//! runs on threads with a large stack (see `crate::pipeline`).

pub mod ast;
mod from_kdl;

pub use ast::{Children, Document, Entry, Ident, Node, Value};

use crate::diagnostics::{Diagnostic, Label, Level, Span};
use crate::source::FileId;

/// Deepest block nesting accepted. Account files need three levels; the limit only exists so
/// hostile input cannot exhaust the stack.
pub const MAX_DEPTH: usize = 64;

pub const SYNTAX_ERROR: &str = "syntax-error";
pub const KDL_V1: &str = "kdl-v1-syntax";
pub const NESTING_TOO_DEEP: &str = "nesting-too-deep";

pub struct Parsed<'a> {
    /// `None` when the text is not a KDL document.
    pub document: Option<Document<'a>>,
    pub diagnostics: Vec<Diagnostic>,
}

pub fn parse(file: FileId, text: &str) -> Parsed<'_> {
    if let Some(at) = too_deep(text, MAX_DEPTH) {
        return Parsed {
            document: None,
            diagnostics: vec![Diagnostic::new(
                NESTING_TOO_DEEP,
                Level::Error,
                Label::new(file, Span::new(at, at + 1)).with_text("too deep"),
                format!(
                    "blocks are nested more than {MAX_DEPTH} levels deep; the file is not parsed"
                ),
            )
            .with_help("account files need at most three levels (account › from › address)")],
        };
    }
    match kdl::KdlDocument::parse_v2(text) {
        Ok(doc) => Parsed {
            document: Some(from_kdl::convert(&doc, text)),
            diagnostics: Vec::new(),
        },
        Err(v2_error) => {
            // KDL v1 is still common; accept it with a hint instead of a wall of errors.
            if let Ok(doc) = kdl::KdlDocument::parse_v1(text) {
                let first = doc.nodes().first().map(|n| n.span().offset()).unwrap_or(0);
                let first_len = doc
                    .nodes()
                    .first()
                    .map(|n| n.name().span().len())
                    .unwrap_or(0);
                return Parsed {
                    document: Some(from_kdl::convert(&doc, text)),
                    diagnostics: vec![Diagnostic::new(
                        KDL_V1,
                        Level::Warning,
                        Label::new(file, Span::new(first, first + first_len)),
                        "this file uses KDL v1 syntax; it was read with the v1 parser",
                    )
                    .with_help(
                        "migrate to KDL v2: write #true/#false/#null instead of true/false/null and quote strings that are not plain identifiers",
                    )],
                };
            }
            let mut diagnostics: Vec<Diagnostic> = v2_error
                .diagnostics
                .iter()
                .map(|d| {
                    let start = d.span.offset().min(text.len());
                    let end = (start + d.span.len()).min(text.len());
                    let message = d
                        .message
                        .clone()
                        .or_else(|| d.label.clone())
                        .unwrap_or_else(|| "invalid KDL syntax".into());
                    let mut diag = Diagnostic::new(
                        SYNTAX_ERROR,
                        Level::Error,
                        Label::new(file, Span::new(start, end))
                            .with_text(d.label.clone().unwrap_or_else(|| "here".into())),
                        message,
                    );
                    if let Some(h) = &d.help {
                        diag = diag.with_help(h.clone());
                    }
                    diag
                })
                .collect();
            diagnostics.dedup_by(|a, b| a.primary.span == b.primary.span && a.message == b.message);
            if diagnostics.is_empty() {
                diagnostics.push(Diagnostic::new(
                    SYNTAX_ERROR,
                    Level::Error,
                    Label::new(file, Span::default()),
                    "invalid KDL syntax",
                ));
            }
            Parsed {
                document: None,
                diagnostics,
            }
        }
    }
}

/// Byte offset of the first `{` that opens a block deeper than `limit`, skipping strings and
/// comments. Linear, no recursion.
pub fn too_deep(text: &str, limit: usize) -> Option<usize> {
    let b = text.as_bytes();
    let mut i = 0;
    let mut depth = 0usize;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let multi = b[i..].starts_with(b"\"\"\"");
                i += if multi { 3 } else { 1 };
                while i < b.len() {
                    if b[i] == b'\\' {
                        i += 2;
                        continue;
                    }
                    if multi && b[i..].starts_with(b"\"\"\"") {
                        i += 3;
                        break;
                    }
                    if !multi && b[i] == b'"' {
                        i += 1;
                        break;
                    }
                    i += 1;
                }
                continue;
            }
            b'#' if b.get(i + 1).is_some_and(|&c| c == b'#' || c == b'"') => {
                // Raw string: #"..."#, ##"..."##, possibly multi-line with """.
                let hashes = b[i..].iter().take_while(|&&c| c == b'#').count();
                i += hashes;
                if b.get(i) != Some(&b'"') {
                    continue;
                }
                let mut close = vec![b'"'];
                close.extend(std::iter::repeat_n(b'#', hashes));
                i += 1;
                while i < b.len() && !b[i..].starts_with(&close) {
                    i += 1;
                }
                i += close.len();
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut level = 1;
                i += 2;
                while i < b.len() && level > 0 {
                    if b[i..].starts_with(b"/*") {
                        level += 1;
                        i += 2;
                    } else if b[i..].starts_with(b"*/") {
                        level -= 1;
                        i += 2;
                    } else {
                        i += 1;
                    }
                }
                continue;
            }
            b'{' => {
                depth += 1;
                if depth > limit {
                    return Some(i);
                }
            }
            b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}
