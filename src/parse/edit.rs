//! Building fix edits from the lexer's tokens, so an edit never cuts into a comment or a string
//! and keeps the file's line endings (CRLF, a lone CR, NEL, …).

use crate::diagnostics::Span;
use crate::parse::lexer::{self, Dialect, Token, TokenKind};

/// The tokens of `text` from `start` to `end` (the token that crosses `end` included).
fn tokens_between(text: &str, start: usize, end: usize) -> Vec<Token> {
    let mut out = Vec::new();
    let mut at = start;
    while at < end.min(text.len()) {
        let t = lexer::token_at(text, at, Dialect::V2);
        at = t.span.end;
        out.push(t);
    }
    out
}

/// The token after byte `at`, skipping whitespace.
fn next_non_space(text: &str, mut at: usize) -> Option<Token> {
    while at < text.len() {
        let t = lexer::token_at(text, at, Dialect::V2);
        if t.kind != TokenKind::Whitespace {
            return Some(t);
        }
        at = t.span.end;
    }
    None
}

/// Where the line holding byte `at` starts, when only whitespace precedes `at` on it.
fn indent_start(text: &str, at: usize) -> Option<usize> {
    let before = &text[..at];
    let trimmed = before.trim_end_matches(lexer::is_space);
    let start = trimmed.len();
    match trimmed.chars().next_back() {
        None => Some(start),
        Some('\u{FEFF}') if start == '\u{FEFF}'.len_utf8() => Some(start),
        Some(c) if lexer::is_newline_char(c) => Some(start),
        _ => None,
    }
}

/// The end of the node's own text: its last token that is not trivia.
fn node_core_end(text: &str, node: Span) -> usize {
    tokens_between(text, node.start, node.end)
        .iter()
        .rev()
        .find(|t| !t.kind.is_trivia() && t.kind != TokenKind::Newline)
        .map_or(node.end, |t| t.span.end)
}

/// How to remove the node at `node`: `(span, replacement)`.
///
/// A node that holds comments or slash-dashed entries (`port 993 /* why */ /-995`) is
/// slash-dashed instead of deleted, so none of that text is lost. Otherwise the node goes with
/// its whole line when nothing else is on it (indentation and line end included, so no blank
/// line is left), or else with a following `;` and the space after it.
pub fn remove_node(text: &str, node: Span) -> (Span, String) {
    let core_end = node_core_end(text, node);
    let inner = tokens_between(text, node.start, core_end);
    if inner.iter().any(|t| {
        matches!(
            t.kind,
            TokenKind::BlockComment | TokenKind::LineComment | TokenKind::Slashdash
        )
    }) {
        return (Span::new(node.start, node.start), "/-".into());
    }
    let mut end = core_end;
    let mut after = next_non_space(text, end);
    if let Some(t) = after.filter(|t| t.kind == TokenKind::Semicolon) {
        end = t.span.end;
        after = next_non_space(text, end);
    }
    if let Some(line_start) = indent_start(text, node.start) {
        match after {
            Some(t) if t.kind == TokenKind::Newline => {
                return (Span::new(line_start, t.span.end), String::new())
            }
            None => return (Span::new(line_start, text.len()), String::new()),
            _ => {}
        }
    }
    // Not alone on its line. The last node of a line goes with the `;` before it
    // (`server "x"; port 993 // c` → `server "x" // c`); any other with its own `;` and the
    // space after them.
    let before = text[..node.start].trim_end_matches(lexer::is_space);
    if end == core_end && before.ends_with(';') {
        let last_on_line = after.is_none_or(|t| {
            matches!(
                t.kind,
                TokenKind::Newline | TokenKind::LineComment | TokenKind::CloseBrace
            )
        });
        if last_on_line {
            return (Span::new(before.len() - 1, core_end), String::new());
        }
    }
    let end = after.map_or(text.len(), |t| {
        if t.kind == TokenKind::Newline {
            end
        } else {
            t.span.start
        }
    });
    (Span::new(node.start, end), String::new())
}

/// Where to add a sibling node `new` after the node at `node`, and the text to insert: on a line
/// of its own below, with the same indentation and line ending, when the node has its line to
/// itself; otherwise right after the node on the same line, as `; new` (one-line blocks, a
/// trailing comment).
pub fn insert_after_node(text: &str, node: Span, new: &str) -> (Span, String) {
    let core_end = node_core_end(text, node);
    if let Some(line_start) = indent_start(text, node.start) {
        if let Some(nl) = next_non_space(text, core_end).filter(|t| t.kind == TokenKind::Newline) {
            let indent = &text[line_start..node.start];
            let newline = &text[nl.span.start..nl.span.end];
            return (
                Span::new(nl.span.end, nl.span.end),
                format!("{indent}{new}{newline}"),
            );
        }
    }
    (Span::new(core_end, core_end), format!("; {new}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(text: &str, (span, with): (Span, String)) -> String {
        format!("{}{with}{}", &text[..span.start], &text[span.end..])
    }

    fn remove(text: &str, node: &str) -> String {
        let start = text.find(node).unwrap();
        apply(
            text,
            remove_node(text, Span::new(start, start + node.len())),
        )
    }

    fn insert(text: &str, node: &str) -> String {
        let start = text.find(node).unwrap();
        apply(
            text,
            insert_after_node(text, Span::new(start, start + node.len()), "port 993"),
        )
    }

    #[test]
    fn removes_a_node_with_its_line_keeping_line_endings() {
        assert_eq!(
            remove("a {\r\n  port 1\r\n  b 2\r\n}", "port 1"),
            "a {\r\n  b 2\r\n}"
        );
        assert_eq!(remove("a {\r  port 1\r  b 2\r}", "port 1"), "a {\r  b 2\r}");
        assert_eq!(remove("a { port 1; b 2 }", "port 1"), "a { b 2 }");
        assert_eq!(remove("a { b 2; port 1 }", "port 1"), "a { b 2 }");
        assert_eq!(
            remove("a {\n  s 1; port 1 // c\n}", "port 1"),
            "a {\n  s 1 // c\n}"
        );
        assert_eq!(
            remove("x {\n  port 1 // old\n}", "port 1"),
            "x {\n  // old\n}"
        );
    }

    #[test]
    fn slashdashes_a_node_that_holds_comments_or_slashdashed_entries() {
        assert_eq!(
            remove(
                "a {\n  port 993 /* why */ /-995\n}",
                "port 993 /* why */ /-995"
            ),
            "a {\n  /-port 993 /* why */ /-995\n}"
        );
    }

    #[test]
    fn inserts_on_its_own_line_or_after_a_semicolon() {
        assert_eq!(
            insert("a {\r\n    server \"h\"\r\n}", "server \"h\""),
            "a {\r\n    server \"h\"\r\n    port 993\r\n}"
        );
        assert_eq!(
            insert("a { server \"h\"; security \"ssl\" }", "server \"h\""),
            "a { server \"h\"; port 993; security \"ssl\" }"
        );
        assert_eq!(
            insert("a {\n    server \"h\" // new\n}", "server \"h\""),
            "a {\n    server \"h\"; port 993 // new\n}"
        );
    }
}
