//! Where the cursor is, in a buffer that may be half typed: the lexer's tokens (strings,
//! comments, blocks) read tolerantly and without recursion, so it never fails, whatever the text.

use crate::parse::lexer::{self, ErrorKind, TokenKind as K};

/// One word of a node line: its name, an argument or a property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Property key, for `key=value`.
    pub key: Option<String>,
    /// The value as written, quotes removed (escapes are left alone).
    pub text: String,
    pub start: usize,
    pub end: usize,
    /// Quoted (or raw) string; `closed` is false when the string runs to the scan's end.
    pub quoted: bool,
    pub closed: bool,
}

/// An enclosing block: the node that opened it and its first argument (`account "Sales"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub name: String,
    pub arg: Option<String>,
    /// Byte offset of the `{`.
    pub open: usize,
}

/// A node line: its tokens, the first being the node name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Statement {
    pub tokens: Vec<Token>,
    /// How many blocks enclose it.
    pub depth: usize,
}

#[derive(Debug, Default)]
pub struct Scan {
    /// Blocks enclosing the end of the scan, outermost first.
    pub frames: Vec<Frame>,
    /// The node line being written at the end of the scan.
    pub current: Statement,
    /// The scan ended inside a comment (nothing to complete there).
    pub in_comment: bool,
    /// The scan ended right after a token (no whitespace between it and the end).
    pub touching: bool,
}

impl Scan {
    pub fn path(&self) -> Vec<&str> {
        self.frames.iter().map(|f| f.name.as_str()).collect()
    }
}

/// Scans `text[..end]`; with `on_statement`, every finished node line is reported.
pub fn scan(text: &str, end: usize, mut on_statement: impl FnMut(&[Frame], &Statement)) -> Scan {
    let mut end = end.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let t = &text[..end];
    let toks: Vec<lexer::Token> = lexer::Lexer::new(t).collect();
    let mut s = Scan::default();
    let mut escline = false;
    let finish = |s: &mut Scan, on: &mut dyn FnMut(&[Frame], &Statement)| {
        if !s.current.tokens.is_empty() {
            s.current.depth = s.frames.len();
            on(&s.frames, &s.current);
        }
        s.current = Statement::default();
    };
    let mut i = 0;
    while i < toks.len() {
        s.touching = false;
        let tok = toks[i];
        i += 1;
        match tok.kind {
            K::Newline | K::Semicolon => {
                if !(escline && tok.kind == K::Newline) {
                    finish(&mut s, &mut on_statement);
                }
                escline = false;
            }
            K::LineContinuation => escline = true,
            K::LineComment => s.in_comment = tok.span.end == t.len(),
            K::Error(e) if e.kind == ErrorKind::UnterminatedComment => s.in_comment = true,
            K::OpenBrace => {
                let name = s.current.tokens.first().map(|t| t.text.clone());
                let arg = s
                    .current
                    .tokens
                    .iter()
                    .skip(1)
                    .find(|t| t.key.is_none())
                    .map(|t| t.text.clone());
                finish(&mut s, &mut on_statement);
                s.frames.push(Frame {
                    name: name.unwrap_or_default(),
                    arg,
                    open: tok.span.start,
                });
            }
            K::CloseBrace => {
                finish(&mut s, &mut on_statement);
                s.frames.pop();
            }
            // A type annotation: not part of what the cursor completes.
            K::OpenParen => {
                while i < toks.len()
                    && !matches!(
                        toks[i].kind,
                        K::CloseParen | K::Newline | K::OpenBrace | K::CloseBrace
                    )
                {
                    i += 1;
                }
                if toks.get(i).is_some_and(|t| t.kind == K::CloseParen) {
                    i += 1;
                }
            }
            _ => {
                let Some(first) = value(t, tok) else {
                    continue;
                };
                let mut end = tok.span.end;
                let token = if toks.get(i).is_some_and(|n| n.kind == K::Equals) {
                    let v = toks[i].span.end;
                    i += 1;
                    match toks.get(i).and_then(|n| value(t, *n).map(|val| (n, val))) {
                        Some((n, (text, quoted, closed))) => {
                            i += 1;
                            end = n.span.end;
                            Token {
                                key: Some(first.0),
                                text,
                                start: v,
                                end,
                                quoted,
                                closed,
                            }
                        }
                        None => {
                            end = v;
                            Token {
                                key: Some(first.0),
                                text: String::new(),
                                start: v,
                                end: v,
                                quoted: false,
                                closed: false,
                            }
                        }
                    }
                } else {
                    Token {
                        key: None,
                        text: first.0,
                        start: tok.span.start,
                        end,
                        quoted: first.1,
                        closed: first.2,
                    }
                };
                s.touching = end == t.len();
                s.current.tokens.push(token);
            }
        }
    }
    s
}

/// A token that can be a value or name, as written with its quotes removed (escapes are left
/// alone), whether it is a string and whether it is closed; `None` for anything else.
fn value(t: &str, tok: lexer::Token) -> Option<(String, bool, bool)> {
    let raw = tok.text(t);
    match tok.kind {
        K::String(form) => Some((form.body(raw).to_string(), true, true)),
        K::Ident | K::Number | K::Keyword => Some((raw.to_string(), false, true)),
        K::Error(e) => match e.kind {
            ErrorKind::UnterminatedString(form) | ErrorKind::NewlineInString(form) => Some((
                raw.get(form.delimiters().0..).unwrap_or("").to_string(),
                true,
                false,
            )),
            ErrorKind::InvalidNumber | ErrorKind::UnknownKeyword | ErrorKind::RawStringQuote => {
                Some((raw.to_string(), false, true))
            }
            ErrorKind::InvalidEscape
            | ErrorKind::MultiLineOpening
            | ErrorKind::MultiLineClosing
            | ErrorKind::DisallowedChar
                if raw.len() > 1 =>
            {
                let body = raw.trim_start_matches(['r', '#']).trim_matches('"');
                Some((
                    body.trim_end_matches('#').trim_end_matches('"').to_string(),
                    true,
                    true,
                ))
            }
            _ => None,
        },
        _ => None,
    }
}

/// The byte range of the word (node name or property key) at `offset`.
pub fn word_at(text: &str, offset: usize) -> Option<(usize, usize)> {
    let is_word = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let start = text[..offset]
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_word(*c))
        .last()
        .map_or(offset, |(i, _)| i);
    let end = offset
        + text[offset..]
            .char_indices()
            .find(|(_, c)| !is_word(*c))
            .map_or(text.len() - offset, |(i, _)| i);
    (start < end).then_some((start, end))
}

/// The statements directly inside the block opened at `open` (or the top level for `None`).
pub fn block_statements(text: &str, open: Option<usize>) -> Vec<Statement> {
    let mut out = Vec::new();
    let depth = match open {
        Some(o) => scan(text, o + 1, |_, _| {}).frames.len(),
        None => 0,
    };
    scan(text, text.len(), |frames, st| {
        let ours = match open {
            None => frames.is_empty(),
            Some(o) => frames.len() == depth && frames.last().is_some_and(|f| f.open == o),
        };
        if ours {
            out.push(st.clone());
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_enclosing_blocks_and_the_current_line() {
        let text = "account \"A\" {\n    protocol \"pop\"\n    incoming {\n        security \"ss";
        let s = scan(text, text.len(), |_, _| {});
        assert_eq!(s.path(), vec!["account", "incoming"]);
        assert_eq!(s.frames[0].arg.as_deref(), Some("A"));
        assert_eq!(s.current.tokens.len(), 2);
        assert_eq!(s.current.tokens[1].text, "ss");
        assert!(!s.current.tokens[1].closed);
    }

    #[test]
    fn properties_comments_and_strings_with_braces() {
        let text = "a \"{\" /* { */ b { // {\n lock server=#true cred";
        let s = scan(text, text.len(), |_, _| {});
        assert_eq!(s.path(), vec!["a"]);
        let toks = &s.current.tokens;
        assert_eq!(toks[1].key.as_deref(), Some("server"));
        assert_eq!(toks[1].text, "#true");
        assert_eq!(toks[2].text, "cred");
        assert!(s.touching);
    }

    #[test]
    fn deep_nesting_and_garbage_do_not_break_it() {
        let deep = "a {".repeat(100_000);
        assert_eq!(scan(&deep, deep.len(), |_, _| {}).frames.len(), 100_000);
        let junk = "}}}\"\\=#(((=\u{0}é😀/*";
        let s = scan(junk, junk.len(), |_, _| {});
        assert!(s.frames.is_empty());
    }

    #[test]
    fn statements_of_a_block() {
        let text = "account \"A\" {\n  protocol \"pop\"\n  incoming { security \"tls\" }\n}\naccount \"B\" { protocol \"imap\" }";
        let open = text.find('{').unwrap();
        let st = block_statements(text, Some(open));
        let names: Vec<&str> = st.iter().map(|s| s.tokens[0].text.as_str()).collect();
        assert_eq!(names, vec!["protocol", "incoming"]);
    }
}
