//! KDL text → [`Document`] with spans, plus every syntax problem as a diagnostic.
//!
//! KDL v2 is read by the project's own reader ([`reader`]): one pass, no recursion, every syntax
//! error located. Only when that fails is the kdl crate's KDL v1 parser tried, so v1 files are
//! accepted with a migration hint.

pub mod ast;
pub mod cst;
pub mod edit;
mod from_kdl;
pub mod lexer;
pub mod reader;
pub mod redact;

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
    let mut parsed = parse_unmasked(file, text);
    // A syntax error quotes the token it could not read, which may be a secret's value.
    crate::parse::redact::mask_messages(text, &mut parsed.diagnostics);
    parsed
}

fn parse_unmasked(file: FileId, text: &str) -> Parsed<'_> {
    let read = reader::read(file, text);
    if read.diagnostics.is_empty() {
        return Parsed {
            document: Some(read.document),
            diagnostics: Vec::new(),
        };
    }
    // Limits are not syntax: the v1 parser must not "accept" what the reader refused.
    if read.too_deep || read.diagnostics.iter().any(|d| d.rule != SYNTAX_ERROR) {
        return Parsed {
            document: None,
            diagnostics: read.diagnostics,
        };
    }
    // KDL v1 is still common; accept it with a hint instead of a wall of errors. The kdl
    // crate's v1 parser recurses per nesting level, but the v2 reader has already checked
    // the nesting against MAX_DEPTH (v1 and v2 share the block syntax).
    if too_deep(text, MAX_DEPTH).is_none() {
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
    }
    Parsed {
        document: None,
        diagnostics: read.diagnostics,
    }
}

pub use lexer::block_comment_end;

/// The kdl crate's reading of a KDL v2 text, converted to our AST: the oracle the reader is
/// tested against.
pub fn parse_with_kdl_crate(text: &str) -> Result<Document<'_>, kdl::KdlError> {
    kdl::KdlDocument::parse_v2(text).map(|doc| from_kdl::convert(&doc, text))
}

/// Byte offset of the first `{` that opens a block deeper than `limit` (strings and comments
/// are skipped by the lexer). Linear, no recursion.
pub fn too_deep(text: &str, limit: usize) -> Option<usize> {
    let mut depth = 0usize;
    for t in lexer::Lexer::new(text) {
        match t.kind {
            lexer::TokenKind::OpenBrace => {
                depth += 1;
                if depth > limit {
                    return Some(t.span.start);
                }
            }
            lexer::TokenKind::CloseBrace => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}
