//! Where the cursor is, in a buffer that may be half typed: a tolerant, non-recursive scan
//! (strings, comments, blocks) that never fails, whatever the text.

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
    let b = t.as_bytes();
    let mut s = Scan::default();
    let mut i = 0;
    let mut escline = false;
    let finish = |s: &mut Scan, on: &mut dyn FnMut(&[Frame], &Statement)| {
        if !s.current.tokens.is_empty() {
            s.current.depth = s.frames.len();
            on(&s.frames, &s.current);
        }
        s.current = Statement::default();
    };
    while i < b.len() {
        s.touching = false;
        let c = b[i];
        match c {
            b'\n' | b'\r' | b';' => {
                if !(escline && c != b';') {
                    finish(&mut s, &mut on_statement);
                }
                escline = false;
                i += 1;
            }
            b' ' | b'\t' => i += 1,
            b'\\' => {
                escline = true;
                i += 1;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => match t[i..].find('\n') {
                Some(n) => i += n,
                None => {
                    s.in_comment = true;
                    i = b.len();
                }
            },
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let end = crate::parse::block_comment_end(b, i);
                s.in_comment = end.is_none();
                i = end.unwrap_or(b.len());
            }
            b'/' if b.get(i + 1) == Some(&b'-') => i += 2,
            b'{' => {
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
                    open: i,
                });
                i += 1;
            }
            b'}' => {
                finish(&mut s, &mut on_statement);
                s.frames.pop();
                i += 1;
            }
            b'(' => {
                // A type annotation: not part of what the cursor completes.
                i = t[i..].find(')').map_or(b.len(), |n| i + n + 1);
            }
            _ => {
                let (tok, next) = token(t, i);
                i = next;
                s.touching = i == b.len();
                if let Some(tok) = tok {
                    s.current.tokens.push(tok);
                }
            }
        }
    }
    s
}

/// A value (quoted, raw or bare) starting at `i`.
fn value(t: &str, i: usize) -> (String, usize, bool, bool) {
    let b = t.as_bytes();
    let hashes = b[i..].iter().take_while(|&&c| c == b'#').count();
    if b.get(i + hashes) == Some(&b'"') {
        let q = i + hashes;
        let multi = b[q..].starts_with(b"\"\"\"");
        let open = if multi { 3 } else { 1 };
        let mut close = if multi {
            "\"\"\"".to_string()
        } else {
            "\"".to_string()
        };
        close.push_str(&"#".repeat(hashes));
        let mut j = q + open;
        while j < b.len() {
            if hashes == 0 && b[j] == b'\\' {
                j += 2;
                continue;
            }
            if !multi && b[j] == b'\n' {
                break;
            }
            if b[j..].starts_with(close.as_bytes()) {
                let text = t[q + open..j].to_string();
                return (text, j + close.len(), true, true);
            }
            j += 1;
        }
        let j = j.min(b.len());
        return (t[(q + open).min(j)..j].to_string(), j, true, false);
    }
    let mut j = i;
    while j < b.len() {
        let c = b[j];
        if c.is_ascii_whitespace() || b"{};=()\"\\".contains(&c) || b[j..].starts_with(b"//") {
            break;
        }
        j += 1;
    }
    if j == i {
        // A character that starts nothing: skip it.
        let n = t[i..].chars().next().map_or(1, char::len_utf8);
        return (String::new(), i + n, false, false);
    }
    (t[i..j].to_string(), j, false, true)
}

fn token(t: &str, i: usize) -> (Option<Token>, usize) {
    let (text, j, quoted, closed) = value(t, i);
    if t.as_bytes().get(j) == Some(&b'=') {
        let v = j + 1;
        if v >= t.len() {
            return (
                Some(Token {
                    key: Some(text),
                    text: String::new(),
                    start: v,
                    end: v,
                    quoted: false,
                    closed: false,
                }),
                v,
            );
        }
        let (vtext, vend, vquoted, vclosed) = value(t, v);
        return (
            Some(Token {
                key: Some(text),
                text: vtext,
                start: v,
                end: vend,
                quoted: vquoted,
                closed: vclosed,
            }),
            vend,
        );
    }
    if text.is_empty() && !quoted {
        return (None, j);
    }
    (
        Some(Token {
            key: None,
            text,
            start: i,
            end: j,
            quoted,
            closed,
        }),
        j,
    )
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
