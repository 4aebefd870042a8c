//! The one KDL lexer: every reader of KDL text (the reader, the formatter, the editor's cursor
//! context, suppression comments, the nesting guard, redaction) sees the same tokens.
//!
//! Every byte of the input belongs to exactly one token, trivia included (whitespace, newlines,
//! comments, slashdashes, line continuations), so concatenating the tokens' texts gives the input
//! back. The lexer is tolerant: it never fails and never panics; what is not valid KDL becomes an
//! [`TokenKind::Error`] token that still covers the bytes it could not read (a broken string
//! still ends where a reader would say it ends), so text that does not parse is still understood.
//!
//! What the lexer checks is what decides where tokens begin and end, plus the characters KDL
//! forbids: escapes, disallowed code points, unterminated strings and comments, the placement of
//! a multi-line string's quotes, number syntax and keywords. The grammar (what may follow what)
//! and the dedenting of multi-line strings belong to the reader.
//!
//! KDL v1's raw strings (`r"…"`, `r#"…"#`) are recognised in both dialects (a bare `r` touching a
//! quote is never valid KDL v2, so nothing valid changes meaning); [`Dialect::V1`] also lets
//! one-line quoted strings span lines and accepts any escape, as v1 did.
//!
//! Scanning avoids per-byte work where it can: runs of plain string, comment and identifier bytes
//! are skipped with lookup tables or `memchr`, and no token allocates.

use crate::diagnostics::Span;
pub use crate::source::{is_newline_char, newline_len};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

impl Token {
    /// The token's text in the source it was lexed from.
    pub fn text<'a>(&self, src: &'a str) -> &'a str {
        &src[self.span.start..self.span.end]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// U+FEFF at the very start of the text.
    Bom,
    /// A run of unicode spaces (no newlines).
    Whitespace,
    /// One newline; CRLF is one.
    Newline,
    /// `//` up to (not including) the newline.
    LineComment,
    /// `/* … */`, nested.
    BlockComment,
    /// `/-`.
    Slashdash,
    /// `\`: the line continues on the next line.
    LineContinuation,
    String(StringForm),
    /// A bare identifier string (`imap`, `user@example.org`), including v1's bare keywords.
    Ident,
    Number,
    /// `#true`, `#false`, `#null`, `#inf`, `#-inf`, `#nan`.
    Keyword,
    OpenBrace,
    CloseBrace,
    OpenParen,
    CloseParen,
    Semicolon,
    Equals,
    /// Text that is not valid KDL; the span covers what belongs together (a whole broken string).
    Error(LexError),
}

impl TokenKind {
    /// Whitespace, comments and the byte-order mark: never meaningful for the grammar (newlines
    /// are, as node terminators).
    pub fn is_trivia(self) -> bool {
        matches!(
            self,
            TokenKind::Bom
                | TokenKind::Whitespace
                | TokenKind::LineComment
                | TokenKind::BlockComment
        )
    }

    /// A string in any form, identifier, number or keyword: what can be a value.
    pub fn is_value(self) -> bool {
        matches!(
            self,
            TokenKind::String(_) | TokenKind::Ident | TokenKind::Number | TokenKind::Keyword
        )
    }

    /// Something that can be a name or property key: a string or identifier.
    pub fn is_string_like(self) -> bool {
        matches!(self, TokenKind::String(_) | TokenKind::Ident)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringForm {
    /// `"…"`; `escapes` when the body holds a `\` (decoding must copy).
    Quoted { escapes: bool },
    /// `"""` newline … newline `"""`.
    MultiLine { escapes: bool },
    /// `#"…"#`, `##"…"##`, …
    Raw { hashes: u16 },
    /// `#"""` newline … `"""#`.
    RawMultiLine { hashes: u16 },
    /// KDL v1: `r"…"`, `r#"…"#`.
    V1Raw { hashes: u16 },
}

impl StringForm {
    /// The text between the delimiters of a token of this form (for multi-line strings: from
    /// just after the opening quotes to just before the closing ones, newlines included).
    pub fn body(self, token_text: &str) -> &str {
        let (open, close) = self.delimiters();
        token_text
            .get(open..token_text.len().saturating_sub(close).max(open))
            .unwrap_or("")
    }
}

impl StringForm {
    /// Bytes of the opening and of the closing delimiter (quotes, hashes, v1's `r`).
    pub fn delimiters(self) -> (usize, usize) {
        match self {
            StringForm::Quoted { .. } => (1, 1),
            StringForm::MultiLine { .. } => (3, 3),
            StringForm::Raw { hashes } => (1 + hashes as usize, 1 + hashes as usize),
            StringForm::RawMultiLine { hashes } => (3 + hashes as usize, 3 + hashes as usize),
            StringForm::V1Raw { hashes } => (2 + hashes as usize, 1 + hashes as usize),
        }
    }
}

/// What is wrong, and where (`at`, which may be narrower than the token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LexError {
    pub kind: ErrorKind,
    at_start: u32,
    at_end: u32,
}

impl LexError {
    fn new(kind: ErrorKind, start: usize, end: usize) -> Self {
        LexError {
            kind,
            at_start: start as u32,
            at_end: end as u32,
        }
    }

    /// Where the problem is.
    pub fn at(&self) -> Span {
        Span::new(self.at_start as usize, self.at_end as usize)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A string with no closing quote before the end of the text (`form` says which kind).
    UnterminatedString(StringForm),
    /// A one-line string reached a newline; the token ends before it.
    NewlineInString(StringForm),
    /// `"""` (or `#"""`) not followed by a newline.
    MultiLineOpening,
    /// A multi-line string's closing quotes with something before them on their line.
    MultiLineClosing,
    InvalidEscape,
    /// A code point KDL forbids anywhere (`at` is the character).
    DisallowedChar,
    UnterminatedComment,
    /// `#` followed by anything but a known keyword.
    UnknownKeyword,
    /// A bare word that starts like a number but is not one (`1x`, `.5`, `0xZ`).
    InvalidNumber,
    /// `#`s not followed by the `"` of a raw string.
    RawStringQuote,
    /// A character that cannot start any token here (`[`, a lone `/`, …).
    UnexpectedChar,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    #[default]
    V2,
    /// KDL v1's string rules: quoted strings may hold newlines, any `\x` is an escape.
    V1,
}

/// The tokens of `src`, lazily. Never fails: errors are tokens.
#[derive(Debug, Clone)]
pub struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    dialect: Dialect,
}

impl<'a> Lexer<'a> {
    pub fn new(src: &'a str) -> Self {
        Lexer {
            src,
            pos: 0,
            dialect: Dialect::V2,
        }
    }

    pub fn with_dialect(src: &'a str, dialect: Dialect) -> Self {
        Lexer {
            src,
            pos: 0,
            dialect,
        }
    }

    /// Byte offset of the next token.
    pub fn position(&self) -> usize {
        self.pos
    }
}

impl Iterator for Lexer<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        if self.pos >= self.src.len() {
            return None;
        }
        let t = token_at(self.src, self.pos, self.dialect);
        self.pos = t.span.end;
        Some(t)
    }
}

/// Every token of `src` (KDL v2 rules), errors included.
pub fn tokens(src: &str) -> Vec<Token> {
    Lexer::new(src).collect()
}

/// Every token of `src`, or the first error.
pub fn lex_strict(src: &str) -> Result<Vec<Token>, LexError> {
    let mut out = Vec::new();
    for t in Lexer::new(src) {
        if let TokenKind::Error(e) = t.kind {
            return Err(e);
        }
        out.push(t);
    }
    Ok(out)
}

/// The token that starts at byte `pos` of `src` (a char boundary before the end). The token is
/// never empty.
pub fn token_at(src: &str, pos: usize, dialect: Dialect) -> Token {
    let b = src.as_bytes();
    let c = b[pos];
    let one = |kind| Token {
        kind,
        span: Span::new(pos, pos + 1),
    };
    let tok = |kind, end: usize| Token {
        kind,
        span: Span::new(pos, end),
    };
    match c {
        b' ' | b'\t' => tok(TokenKind::Whitespace, whitespace_end(src, pos)),
        b'\n' | b'\r' | 0x0B | 0x0C => tok(TokenKind::Newline, pos + newline_len(b, pos)),
        b'{' => one(TokenKind::OpenBrace),
        b'}' => one(TokenKind::CloseBrace),
        b'(' => one(TokenKind::OpenParen),
        b')' => one(TokenKind::CloseParen),
        b';' => one(TokenKind::Semicolon),
        b'=' => one(TokenKind::Equals),
        b'\\' => one(TokenKind::LineContinuation),
        b'/' => match b.get(pos + 1) {
            Some(b'/') => tok(TokenKind::LineComment, line_comment_end(b, pos)),
            Some(b'*') => match block_comment_end(b, pos) {
                Some(end) => tok(TokenKind::BlockComment, end),
                None => tok(
                    TokenKind::Error(LexError::new(ErrorKind::UnterminatedComment, pos, pos + 2)),
                    b.len(),
                ),
            },
            Some(b'-') => tok(TokenKind::Slashdash, pos + 2),
            _ => one(TokenKind::Error(LexError::new(
                ErrorKind::UnexpectedChar,
                pos,
                pos + 1,
            ))),
        },
        b'"' => quoted(src, pos, dialect),
        b'#' => match b.get(pos + 1) {
            Some(b'#' | b'"') => raw(src, pos, pos, dialect),
            _ => keyword(src, pos),
        },
        _ => {
            if c >= 0x80 {
                let n = newline_len(b, pos);
                if n > 0 {
                    return tok(TokenKind::Newline, pos + n);
                }
                if space_len(src, pos) > 0 {
                    return tok(TokenKind::Whitespace, whitespace_end(src, pos));
                }
                if pos == 0 && src.starts_with('\u{FEFF}') {
                    return tok(TokenKind::Bom, 3);
                }
            }
            bare(src, pos, dialect)
        }
    }
}

// ---- characters ------------------------------------------------------------------------------

const SPACES: [char; 18] = [
    '\u{0009}', '\u{0020}', '\u{00A0}', '\u{1680}', '\u{2000}', '\u{2001}', '\u{2002}', '\u{2003}',
    '\u{2004}', '\u{2005}', '\u{2006}', '\u{2007}', '\u{2008}', '\u{2009}', '\u{200A}', '\u{202F}',
    '\u{205F}', '\u{3000}',
];

/// KDL's unicode space (not newline).
pub fn is_space(c: char) -> bool {
    if c.is_ascii() {
        c == ' ' || c == '\t'
    } else {
        SPACES.contains(&c)
    }
}

/// Code points KDL forbids anywhere in a document.
pub fn is_disallowed(c: char) -> bool {
    matches!(c,
        '\u{0000}'..='\u{0008}'
        | '\u{000E}'..='\u{001F}'
        | '\u{007F}'
        | '\u{200E}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2066}'..='\u{2069}'
        | '\u{FEFF}'
    )
}

/// `is_ident_char` for every ASCII byte, looked up instead of recomputed: identifiers and bare
/// values are most of a file's bytes.
static ASCII_IDENT: [bool; 128] = {
    let mut t = [false; 128];
    let mut i = 0;
    while i < 128 {
        let c = i as u8;
        t[i] = !matches!(
            c,
            b'\\'
                | b'/'
                | b'('
                | b')'
                | b'{'
                | b'}'
                | b'['
                | b']'
                | b';'
                | b'"'
                | b'#'
                | b'='
                | b' '
                | b'\t'
                | b'\r'
                | b'\n'
                | 0x0B
                | 0x0C
        ) && !matches!(c, 0x00..=0x08 | 0x0E..=0x1F | 0x7F);
        i += 1;
    }
    t
};

/// A character that may appear in a bare identifier.
pub fn is_ident_char(c: char) -> bool {
    if c.is_ascii() {
        ASCII_IDENT[c as usize]
    } else {
        !is_space(c) && !is_newline_char(c) && !is_disallowed(c)
    }
}

/// Bytes of a quoted string's body that need no look: printable ASCII but `"` and `\`.
static QUOTED_PLAIN: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0x20;
    while i < 0x7F {
        t[i] = i != b'"' as usize && i != b'\\' as usize;
        i += 1;
    }
    t
};

/// Bytes of a raw string's body that need no look: printable ASCII but `"`.
static RAW_PLAIN: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0x20;
    while i < 0x7F {
        t[i] = i != b'"' as usize;
        i += 1;
    }
    t
};

/// Bytes that may start a newline: `\n`, `\r`, VT, FF, and the lead bytes of NEL, LS and PS.
static NEWLINE_LEAD: [bool; 256] = {
    let mut t = [false; 256];
    t[b'\n' as usize] = true;
    t[b'\r' as usize] = true;
    t[0x0B] = true;
    t[0x0C] = true;
    t[0xC2] = true;
    t[0xE2] = true;
    t
};

/// Length of the unicode space at `at`, 0 if none.
pub fn space_len(src: &str, at: usize) -> usize {
    match src.as_bytes().get(at) {
        Some(b' ' | b'\t') => 1,
        Some(c) if *c >= 0x80 => match char_at(src, at) {
            Some(ch) if is_space(ch) => ch.len_utf8(),
            _ => 0,
        },
        _ => 0,
    }
}

fn char_at(src: &str, at: usize) -> Option<char> {
    match src.as_bytes().get(at) {
        None => None,
        Some(&c) if c < 0x80 => Some(c as char),
        Some(_) => src.get(at..).and_then(|s| s.chars().next()),
    }
}

fn whitespace_end(src: &str, mut i: usize) -> usize {
    let b = src.as_bytes();
    while i < b.len() {
        match b[i] {
            b' ' | b'\t' => i += 1,
            c if c >= 0x80 => match space_len(src, i) {
                0 => break,
                n => i += n,
            },
            _ => break,
        }
    }
    i
}

/// End of the line comment starting at `i` (at the newline that ends it, or the end of text).
pub fn line_comment_end(b: &[u8], mut i: usize) -> usize {
    loop {
        while i < b.len() && !NEWLINE_LEAD[b[i] as usize] {
            i += 1;
        }
        if i >= b.len() || newline_len(b, i) > 0 {
            return i;
        }
        i += 1;
    }
}

/// Where the (nested) block comment starting with `/*` at byte `i` ends: just after its closing
/// `*/`, or `None` if it is never closed.
pub fn block_comment_end(b: &[u8], i: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut j = i;
    while let Some(k) = memchr::memchr2(b'/', b'*', &b[j..]) {
        j += k;
        if b[j] == b'/' && b.get(j + 1) == Some(&b'*') {
            depth += 1;
            j += 2;
        } else if b[j] == b'*' && b.get(j + 1) == Some(&b'/') {
            depth = depth.saturating_sub(1);
            j += 2;
            if depth == 0 {
                return Some(j);
            }
        } else {
            j += 1;
        }
    }
    None
}

/// End of the run of identifier characters from `i`.
pub fn ident_end(src: &str, mut i: usize) -> usize {
    let b = src.as_bytes();
    while let Some(&c) = b.get(i) {
        if c < 0x80 {
            if !ASCII_IDENT[c as usize] {
                break;
            }
            i += 1;
        } else {
            let ch = char_at(src, i).unwrap_or(' ');
            if !is_ident_char(ch) {
                break;
            }
            i += ch.len_utf8();
        }
    }
    i
}

// ---- tokens ----------------------------------------------------------------------------------

fn error_token(kind: ErrorKind, at: (usize, usize), span: (usize, usize)) -> Token {
    Token {
        kind: TokenKind::Error(LexError::new(kind, at.0, at.1)),
        span: Span::new(span.0, span.1),
    }
}

/// `#` + name at `pos` (not a raw string).
fn keyword(src: &str, pos: usize) -> Token {
    let end = ident_end(src, pos + 1);
    match &src[pos + 1..end] {
        "true" | "false" | "null" | "nan" | "inf" | "-inf" => Token {
            kind: TokenKind::Keyword,
            span: Span::new(pos, end),
        },
        _ => {
            let end = end.max(pos + 1);
            error_token(ErrorKind::UnknownKeyword, (pos, end), (pos, end))
        }
    }
}

/// A bare word at `pos`: identifier, number, v1 raw string, or an error for a character that
/// starts nothing.
fn bare(src: &str, pos: usize, dialect: Dialect) -> Token {
    let b = src.as_bytes();
    let end = ident_end(src, pos);
    if end == pos {
        let c = char_at(src, pos).unwrap_or('\u{0}');
        let kind = if is_disallowed(c) {
            ErrorKind::DisallowedChar
        } else {
            ErrorKind::UnexpectedChar
        };
        let end = pos + c.len_utf8().max(1);
        return error_token(kind, (pos, end), (pos, end));
    }
    if end == pos + 1 && b[pos] == b'r' {
        let hashes = b[end..].iter().take_while(|&&c| c == b'#').count();
        if b.get(end + hashes) == Some(&b'"') {
            return v1_raw(src, pos, hashes, dialect);
        }
    }
    let word = &b[pos..end];
    let unsigned = match word[0] {
        b'+' | b'-' => &word[1..],
        _ => word,
    };
    let numeric = unsigned.first().is_some_and(u8::is_ascii_digit)
        || (unsigned.first() == Some(&b'.') && unsigned.get(1).is_some_and(u8::is_ascii_digit));
    let kind = if !numeric {
        TokenKind::Ident
    } else if is_number(word) {
        TokenKind::Number
    } else {
        TokenKind::Error(LexError::new(ErrorKind::InvalidNumber, pos, end))
    };
    Token {
        kind,
        span: Span::new(pos, end),
    }
}

/// KDL number syntax: `[+-]? (0x hex | 0o oct | 0b bin | int ('.' int)? ([eE] [+-]? int)?)`,
/// where digits after the first may be `_`.
pub fn is_number(word: &[u8]) -> bool {
    let body = match word.first() {
        Some(b'+' | b'-') => &word[1..],
        _ => word,
    };
    let radix = match body.get(..2) {
        Some(b"0x" | b"0X") => Some(16),
        Some(b"0o" | b"0O") => Some(8),
        Some(b"0b" | b"0B") => Some(2),
        _ => None,
    };
    if let Some(radix) = radix {
        let digits = &body[2..];
        return digits.first().is_some_and(|&c| (c as char).is_digit(radix))
            && digits
                .iter()
                .all(|&c| c == b'_' || (c as char).is_digit(radix));
    }
    let int = |mut i: usize| -> Option<usize> {
        if !body.get(i)?.is_ascii_digit() {
            return None;
        }
        while body
            .get(i)
            .is_some_and(|c| c.is_ascii_digit() || *c == b'_')
        {
            i += 1;
        }
        Some(i)
    };
    let Some(mut i) = int(0) else {
        return false;
    };
    if body.get(i) == Some(&b'.') {
        match int(i + 1) {
            Some(j) => i = j,
            None => return false,
        }
    }
    if matches!(body.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(body.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        match int(i) {
            Some(j) => i = j,
            None => return false,
        }
    }
    i == body.len()
}

/// The value of a quoted string's body (between the quotes): the escapes `\n \r \t \b \f \s
/// \" \\ \/ \u{hex}` decoded, a v2 whitespace escape dropped, any other escaped character kept
/// as itself. Tolerant: a bad escape never fails, so redaction can read a broken file.
pub fn decode_escapes(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('s') => out.push(' '),
            Some('u') => {
                let rest = chars.as_str();
                let hex: String = rest
                    .trim_start_matches('{')
                    .chars()
                    .take_while(|c| c.is_ascii_hexdigit())
                    .collect();
                if let Some(ch) = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    out.push(ch);
                }
                let skip = rest.find('}').map_or(0, |i| i + 1);
                chars = rest[skip..].chars();
            }
            Some(c) if is_space(c) || is_newline_char(c) => {
                let rest = chars.as_str();
                let kept = rest.trim_start_matches(|c: char| is_space(c) || is_newline_char(c));
                chars = kept.chars();
            }
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// Length of the escape at `at` (a `\` inside a quoted string), or the end of the bad escape.
pub fn escape_len(src: &str, at: usize, dialect: Dialect) -> Result<usize, usize> {
    let b = src.as_bytes();
    let next = at + 1;
    if dialect == Dialect::V1 {
        return match char_at(src, next) {
            Some(c) => Ok(1 + c.len_utf8()),
            None => Err(next),
        };
    }
    match b.get(next) {
        Some(b'\\' | b'"' | b'b' | b'f' | b'n' | b'r' | b't' | b's') => Ok(2),
        Some(b'u') => {
            let bad = Err(next + 1);
            if b.get(next + 1) != Some(&b'{') {
                return bad;
            }
            let digits = next + 2;
            let mut i = digits;
            while b.get(i).is_some_and(u8::is_ascii_hexdigit) {
                i += 1;
            }
            if i == digits || i - digits > 6 || b.get(i) != Some(&b'}') {
                return bad;
            }
            let valid = u32::from_str_radix(&src[digits..i], 16)
                .ok()
                .and_then(char::from_u32)
                .is_some();
            if valid {
                Ok(i + 1 - at)
            } else {
                bad
            }
        }
        _ => {
            // Whitespace escape: `\` then spaces and newlines, all dropped.
            let mut i = next;
            loop {
                let n = space_len(src, i).max(newline_len(b, i));
                if n == 0 {
                    break;
                }
                i += n;
            }
            if i > next {
                Ok(i - at)
            } else {
                Err(next + char_at(src, next).map_or(0, char::len_utf8))
            }
        }
    }
}

/// Just past the escape at `i` (a `\\` in a string), noting a bad one.
fn past_escape(src: &str, i: usize, dialect: Dialect, first_error: &mut Option<LexError>) -> usize {
    match escape_len(src, i, dialect) {
        Ok(n) => i + n,
        Err(end) => {
            first_error.get_or_insert(LexError::new(ErrorKind::InvalidEscape, i, end));
            end.max(i + 1)
        }
    }
}

/// Advances over one character that is not plain ASCII, noting a disallowed one.
fn other_char(src: &str, i: usize, first_error: &mut Option<LexError>) -> usize {
    let c = char_at(src, i).unwrap_or('\u{FFFD}');
    let n = c.len_utf8();
    if is_disallowed(c) && first_error.is_none() {
        *first_error = Some(LexError::new(ErrorKind::DisallowedChar, i, i + n));
    }
    n
}

fn finish(form: StringForm, start: usize, end: usize, error: Option<LexError>) -> Token {
    Token {
        kind: match error {
            Some(e) => TokenKind::Error(e),
            None => TokenKind::String(form),
        },
        span: Span::new(start, end),
    }
}

/// A one-line string (quoted or raw) as scanned: where it ends and what is wrong with it. For
/// readers that stop at a string's first problem; the token ([`token_at`]) reports how the
/// string ended when it did not end well, since that decides where the next token starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StringScan {
    pub form: StringForm,
    /// Just after the closing quote (and hashes), or where the string was cut off.
    pub end: usize,
    /// The first problem inside the string: a bad escape or a disallowed character.
    pub first_error: Option<LexError>,
    /// No closing quote before a newline (v2) or the end of the text.
    pub end_error: Option<LexError>,
}

impl StringScan {
    fn token(self, start: usize) -> Token {
        Token {
            kind: match self.end_error.or(self.first_error) {
                Some(e) => TokenKind::Error(e),
                None => TokenKind::String(self.form),
            },
            span: Span::new(start, self.end),
        }
    }
}

/// The one-line quoted (`"…"`) or raw (`#"…"#`) string starting at `pos`; `None` when no such
/// string starts there (a multi-line string's `"""` included).
pub fn scan_string(src: &str, pos: usize, dialect: Dialect) -> Option<StringScan> {
    let b = src.as_bytes();
    let hashes = b[pos..].iter().take_while(|&&c| c == b'#').count();
    let q = pos + hashes;
    if b.get(q) != Some(&b'"') || b[q..].starts_with(b"\"\"\"") {
        return None;
    }
    Some(if hashes == 0 {
        scan_quoted(src, pos, dialect)
    } else {
        scan_raw(src, pos, pos, hashes, dialect)
    })
}

/// A string starting with `"` at `pos`.
fn quoted(src: &str, pos: usize, dialect: Dialect) -> Token {
    if src.as_bytes()[pos..].starts_with(b"\"\"\"") {
        return multiline(src, pos, 0, false, dialect);
    }
    scan_quoted(src, pos, dialect).token(pos)
}

fn scan_quoted(src: &str, pos: usize, dialect: Dialect) -> StringScan {
    let b = src.as_bytes();
    let mut i = pos + 1;
    let mut escapes = false;
    let mut error = None;
    loop {
        while i < b.len() && QUOTED_PLAIN[b[i] as usize] {
            i += 1;
        }
        let form = StringForm::Quoted { escapes };
        let scan = |end, end_error| StringScan {
            form,
            end,
            first_error: error,
            end_error,
        };
        let Some(&c) = b.get(i) else {
            let e = LexError::new(ErrorKind::UnterminatedString(form), pos, pos + 1);
            return scan(i, Some(e));
        };
        match c {
            b'"' => return scan(i + 1, None),
            b'\\' => {
                escapes = true;
                i = past_escape(src, i, dialect, &mut error);
            }
            _ => {
                let n = newline_len(b, i);
                if n > 0 {
                    if dialect == Dialect::V1 {
                        i += n;
                        continue;
                    }
                    let e = LexError::new(ErrorKind::NewlineInString(form), pos, i);
                    return scan(i, Some(e));
                }
                i += other_char(src, i, &mut error);
            }
        }
    }
}

/// A raw string at `pos` (`start` is where the token starts: the `r` of a v1 raw string).
fn raw(src: &str, start: usize, pos: usize, dialect: Dialect) -> Token {
    let b = src.as_bytes();
    let hashes = b[pos..].iter().take_while(|&&c| c == b'#').count();
    let q = pos + hashes;
    if b.get(q) != Some(&b'"') {
        return error_token(ErrorKind::RawStringQuote, (q, q), (start, q));
    }
    if b[q..].starts_with(b"\"\"\"") {
        return multiline(src, start, hashes, true, dialect);
    }
    scan_raw(src, start, pos, hashes, dialect).token(start)
}

fn scan_raw(src: &str, start: usize, pos: usize, hashes: usize, dialect: Dialect) -> StringScan {
    let b = src.as_bytes();
    let q = pos + hashes;
    let form = StringForm::Raw {
        hashes: hashes.min(u16::MAX as usize) as u16,
    };
    let mut i = q + 1;
    let mut error = None;
    loop {
        while i < b.len() && RAW_PLAIN[b[i] as usize] {
            i += 1;
        }
        let scan = |end, end_error| StringScan {
            form,
            end,
            first_error: error,
            end_error,
        };
        let Some(&c) = b.get(i) else {
            let e = LexError::new(ErrorKind::UnterminatedString(form), start, q + 1);
            return scan(i, Some(e));
        };
        if c == b'"' {
            if closes_raw(b, i + 1, hashes) {
                return scan(i + 1 + hashes, None);
            }
            i += 1;
            continue;
        }
        let n = newline_len(b, i);
        if n > 0 {
            if dialect == Dialect::V1 {
                i += n;
                continue;
            }
            let e = LexError::new(ErrorKind::NewlineInString(form), start, i);
            return scan(i, Some(e));
        }
        i += other_char(src, i, &mut error);
    }
}

fn closes_raw(b: &[u8], at: usize, hashes: usize) -> bool {
    b.len() >= at + hashes && b[at..at + hashes].iter().all(|&c| c == b'#')
}

/// KDL v1 raw string: `r`, `hashes` `#`s, `"`, any text (newlines included), `"`, the `#`s.
fn v1_raw(src: &str, pos: usize, hashes: usize, _dialect: Dialect) -> Token {
    let b = src.as_bytes();
    let form = StringForm::V1Raw {
        hashes: hashes.min(u16::MAX as usize) as u16,
    };
    let mut i = pos + 2 + hashes;
    let mut error = None;
    loop {
        let Some(k) = memchr::memchr(b'"', &b[i..]) else {
            let e = LexError::new(ErrorKind::UnterminatedString(form), pos, pos + 2 + hashes);
            return finish(form, pos, b.len(), Some(e));
        };
        // Disallowed characters are still flagged, as everywhere.
        if error.is_none() {
            if let Some(bad) = src[i..i + k]
                .char_indices()
                .find(|(_, c)| is_disallowed(*c))
            {
                let at = i + bad.0;
                error = Some(LexError::new(
                    ErrorKind::DisallowedChar,
                    at,
                    at + bad.1.len_utf8(),
                ));
            }
        }
        i += k + 1;
        if closes_raw(b, i, hashes) {
            return finish(form, pos, i + hashes, error);
        }
    }
}

/// A multi-line string whose opening quotes (after `hashes` `#`s for raw ones) start at `pos`.
fn multiline(src: &str, pos: usize, hashes: usize, raw: bool, dialect: Dialect) -> Token {
    let b = src.as_bytes();
    let h = hashes.min(u16::MAX as usize) as u16;
    let open_end = pos + hashes + 3;
    let mut escapes = false;
    let form = |escapes| {
        if raw {
            StringForm::RawMultiLine { hashes: h }
        } else {
            StringForm::MultiLine { escapes }
        }
    };
    let mut error = None;
    if newline_len(b, open_end) == 0 {
        error = Some(LexError::new(ErrorKind::MultiLineOpening, pos, open_end));
    }
    let mut i = open_end;
    // Start of the current logical line (newlines swallowed by a whitespace escape do not
    // start one); `None` on the opening line.
    let mut line_start: Option<usize> = None;
    loop {
        let plain = if raw { &RAW_PLAIN } else { &QUOTED_PLAIN };
        while i < b.len() && plain[b[i] as usize] {
            i += 1;
        }
        let Some(&c) = b.get(i) else {
            let e = LexError::new(ErrorKind::UnterminatedString(form(escapes)), pos, open_end);
            return finish(form(escapes), pos, i, Some(e));
        };
        match c {
            b'"' if b[i..].starts_with(b"\"\"\"") && closes_raw(b, i + 3, hashes) => {
                let own_line = line_start.is_some_and(|s| closing_prefix_ok(src, s, i, raw));
                if !own_line {
                    error.get_or_insert(LexError::new(ErrorKind::MultiLineClosing, i, i + 3));
                }
                return finish(form(escapes), pos, i + 3 + hashes, error);
            }
            b'"' => i += 1,
            b'\\' if !raw => {
                escapes = true;
                i = past_escape(src, i, dialect, &mut error);
            }
            _ => {
                let n = newline_len(b, i);
                if n > 0 {
                    i += n;
                    line_start = Some(i);
                } else {
                    i += other_char(src, i, &mut error);
                }
            }
        }
    }
}

/// Whether only whitespace (and, in non-raw strings, whitespace escapes) lies between a line's
/// start and the closing quotes at `quotes`.
fn closing_prefix_ok(src: &str, line: usize, quotes: usize, raw: bool) -> bool {
    let b = src.as_bytes();
    let mut i = line;
    while i < quotes {
        let n = space_len(src, i);
        if n > 0 {
            i += n;
            continue;
        }
        let whitespace_escape =
            !raw && b[i] == b'\\' && (space_len(src, i + 1) > 0 || newline_len(b, i + 1) > 0);
        if whitespace_escape {
            if let Ok(n) = escape_len(src, i, Dialect::V2) {
                i += n;
                continue;
            }
        }
        return false;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use TokenKind as K;

    #[test]
    fn decode_escapes_reads_both_dialects_and_never_fails() {
        assert_eq!(
            decode_escapes(r#"a\nb\t\u{e9}\s\\\"/"#),
            "a\nb\t\u{e9} \\\"/"
        );
        assert_eq!(decode_escapes("x\\   \n  y"), "xy");
        assert_eq!(decode_escapes(r"\b\f\/"), "\u{8}\u{c}/");
        assert_eq!(decode_escapes(r"end\"), r"end\");
        assert_eq!(decode_escapes(r"\u{zz"), "{zz");
    }

    fn kinds(src: &str) -> Vec<(TokenKind, &str)> {
        tokens(src)
            .into_iter()
            .map(|t| (t.kind, t.text(src)))
            .collect()
    }

    fn round_trips(src: &str) {
        let toks = tokens(src);
        let mut at = 0;
        for t in &toks {
            assert_eq!(t.span.start, at, "{src:?}: tokens are contiguous");
            assert!(t.span.end > t.span.start, "{src:?}: no empty token");
            at = t.span.end;
        }
        assert_eq!(at, src.len(), "{src:?}: tokens cover the text");
    }

    #[test]
    fn a_node_line_in_tokens() {
        let src = "(t)node 1 key=\"v\" #true /-x { } ; // c\n";
        assert_eq!(
            kinds(src),
            vec![
                (K::OpenParen, "("),
                (K::Ident, "t"),
                (K::CloseParen, ")"),
                (K::Ident, "node"),
                (K::Whitespace, " "),
                (K::Number, "1"),
                (K::Whitespace, " "),
                (K::Ident, "key"),
                (K::Equals, "="),
                (K::String(StringForm::Quoted { escapes: false }), "\"v\""),
                (K::Whitespace, " "),
                (K::Keyword, "#true"),
                (K::Whitespace, " "),
                (K::Slashdash, "/-"),
                (K::Ident, "x"),
                (K::Whitespace, " "),
                (K::OpenBrace, "{"),
                (K::Whitespace, " "),
                (K::CloseBrace, "}"),
                (K::Whitespace, " "),
                (K::Semicolon, ";"),
                (K::Whitespace, " "),
                (K::LineComment, "// c"),
                (K::Newline, "\n"),
            ]
        );
    }

    #[test]
    fn every_string_form() {
        let cases: &[(&str, StringForm)] = &[
            ("\"a\\\"b\"", StringForm::Quoted { escapes: true }),
            ("#\"a\"b\"#", StringForm::Raw { hashes: 1 }),
            ("##\"a\"#b\"##", StringForm::Raw { hashes: 2 }),
            (
                "\"\"\"\n  x \"\" y\n  \"\"\"",
                StringForm::MultiLine { escapes: false },
            ),
            (
                "#\"\"\"\n  \\x\n  \"\"\"#",
                StringForm::RawMultiLine { hashes: 1 },
            ),
            ("r\"a\\b\"", StringForm::V1Raw { hashes: 0 }),
            ("r#\"a\"\nb\"#", StringForm::V1Raw { hashes: 1 }),
        ];
        for (src, form) in cases {
            let t = tokens(src);
            assert_eq!(t.len(), 1, "{src:?}: {t:?}");
            assert_eq!(t[0].kind, K::String(*form), "{src:?}");
        }
        assert_eq!(StringForm::Raw { hashes: 2 }.body("##\"a\"#b\"##"), "a\"#b");
        assert_eq!(StringForm::V1Raw { hashes: 1 }.body("r#\"x\"#"), "x");
        assert_eq!(StringForm::Quoted { escapes: false }.body("\"x\""), "x");
    }

    #[test]
    fn newlines_are_the_spec_set_and_crlf_is_one() {
        let src = "a\r\nb\rc\nd\u{85}e\u{b}f\u{c}g\u{2028}h\u{2029}i";
        let newlines: Vec<&str> = tokens(src)
            .iter()
            .filter(|t| t.kind == K::Newline)
            .map(|t| t.text(src))
            .collect();
        assert_eq!(
            newlines,
            ["\r\n", "\r", "\n", "\u{85}", "\u{b}", "\u{c}", "\u{2028}", "\u{2029}"]
        );
        // A line comment stops before any of them.
        assert_eq!(kinds("// x\u{2028}y")[0], (K::LineComment, "// x"));
    }

    #[test]
    fn nested_block_comments_and_unicode_space() {
        assert_eq!(
            kinds("/* a /* b */ c */\u{3000}x"),
            vec![
                (K::BlockComment, "/* a /* b */ c */"),
                (K::Whitespace, "\u{3000}"),
                (K::Ident, "x"),
            ]
        );
    }

    #[test]
    fn tolerant_errors_cover_what_belongs_together() {
        // An unterminated one-line string ends at the newline; the next line is lexed afresh.
        let k = kinds("a \"open\nb");
        assert!(matches!(
            k[2],
            (
                K::Error(LexError {
                    kind: ErrorKind::NewlineInString(_),
                    ..
                }),
                "\"open"
            )
        ));
        assert_eq!(k[3], (K::Newline, "\n"));
        assert_eq!(k[4], (K::Ident, "b"));
        // A bad escape keeps the whole string one token.
        let k = kinds("\"a\\qb\" c");
        assert!(
            matches!(k[0].0, K::Error(e) if e.kind == ErrorKind::InvalidEscape && e.at() == Span::new(2, 4))
        );
        assert_eq!(k[0].1, "\"a\\qb\"");
        // Unterminated multi-line strings and comments run to the end.
        let k = kinds("x \"\"\"\nsecret\n");
        assert_eq!(k.len(), 3);
        assert!(
            matches!(k[2].0, K::Error(e) if matches!(e.kind, ErrorKind::UnterminatedString(_)))
        );
        assert!(
            matches!(kinds("/* /* */")[0].0, K::Error(e) if e.kind == ErrorKind::UnterminatedComment)
        );
        // Closing quotes after text on their line still close the string.
        let k = kinds("\"\"\"\n  a \"\"\" b");
        assert_eq!(k[0].1, "\"\"\"\n  a \"\"\"");
        assert!(matches!(k[0].0, K::Error(e) if e.kind == ErrorKind::MultiLineClosing));
        // Numbers and keywords.
        assert!(matches!(kinds("1x")[0].0, K::Error(e) if e.kind == ErrorKind::InvalidNumber));
        assert!(matches!(kinds(".5")[0].0, K::Error(e) if e.kind == ErrorKind::InvalidNumber));
        assert_eq!(kinds("-0x1_F")[0].0, K::Number);
        assert_eq!(kinds("+1.5e-3")[0].0, K::Number);
        assert_eq!(kinds("-inf")[0].0, K::Ident);
        assert_eq!(kinds("#-inf")[0].0, K::Keyword);
        assert!(matches!(kinds("#yes")[0].0, K::Error(e) if e.kind == ErrorKind::UnknownKeyword));
        assert!(matches!(kinds("##x")[0].0, K::Error(e) if e.kind == ErrorKind::RawStringQuote));
        assert!(matches!(kinds("[")[0].0, K::Error(e) if e.kind == ErrorKind::UnexpectedChar));
        assert!(
            matches!(kinds("\u{202A}")[0].0, K::Error(e) if e.kind == ErrorKind::DisallowedChar)
        );
        assert!(lex_strict("a \"b").is_err());
        assert_eq!(lex_strict("a \"b\"").map(|t| t.len()), Ok(3));
    }

    #[test]
    fn v1_dialect_lets_quoted_strings_span_lines() {
        let src = "password \"line1\nline2\" next";
        let k: Vec<_> = Lexer::with_dialect(src, Dialect::V1)
            .map(|t| (t.kind, t.text(src)))
            .collect();
        assert_eq!(
            k[2],
            (
                K::String(StringForm::Quoted { escapes: false }),
                "\"line1\nline2\""
            )
        );
        assert_eq!(k[4], (K::Ident, "next"));
    }

    #[test]
    fn hostile_inputs_round_trip_without_panicking() {
        let cases = [
            "",
            "\"",
            "#",
            "##",
            "r",
            "r#",
            "r\"",
            "\\",
            "/",
            "\"\"\"",
            "#\"\"\"#",
            "\"\\u{",
            "\"\\u{110000}\"",
            "\u{FEFF}a",
            "a\u{FEFF}",
            "\r",
            "\u{c2}",
            "é\"\\",
            "/*/",
            "*/",
            "#\"\"\"\n\"\"\"",
            "\"\"\"\n\\",
            "0x",
            "-",
            "+.",
            "r##\"a\"#",
            "\"\\\n\"",
        ];
        for c in cases {
            round_trips(c);
        }
        assert_eq!(kinds("\u{FEFF}a")[0], (K::Bom, "\u{FEFF}"));
    }

    #[test]
    fn every_spec_input_round_trips_and_every_valid_one_lexes_cleanly() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/kdl-spec/test_cases/input");
        let mut seen = 0;
        let mut unclean = Vec::new();
        for entry in std::fs::read_dir(&dir).expect("spec suite present") {
            let path = entry.unwrap().path();
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            seen += 1;
            round_trips(&text);
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let errors: Vec<_> = tokens(&text)
                .into_iter()
                .filter(|t| matches!(t.kind, K::Error(_)))
                .collect();
            let valid = !name.trim_end_matches(".kdl").ends_with("_fail");
            if valid && !errors.is_empty() {
                unclean.push((name.clone(), errors.clone()));
            }
            let read = crate::parse::reader::read(crate::source::FileId(0), &text);
            // A lexical error is always a syntax error for the reader too.
            if !errors.is_empty() {
                assert!(
                    !read.diagnostics.is_empty(),
                    "{name}: lexer errs, reader accepts"
                );
            }
            // And every name, type and value the reader read is exactly one token.
            if read.diagnostics.is_empty() {
                let starts: std::collections::HashMap<usize, Token> = tokens(&text)
                    .into_iter()
                    .map(|t| (t.span.start, t))
                    .collect();
                let mut spans = Vec::new();
                collect_spans(&read.document.nodes, &mut spans);
                for span in spans {
                    let t = starts.get(&span.start);
                    assert!(
                        t.is_some_and(|t| t.span == span && t.kind.is_value()),
                        "{name}: reader's {span:?} is not one token ({t:?})"
                    );
                }
            }
        }
        assert!(seen > 300, "the suite has 336 inputs");
        assert!(
            unclean.is_empty(),
            "valid inputs with error tokens: {unclean:#?}"
        );
    }

    fn collect_spans(nodes: &[crate::parse::Node<'_>], out: &mut Vec<Span>) {
        for n in nodes {
            out.push(n.name.span);
            out.extend(n.ty.as_ref().map(|t| t.span));
            for e in &n.entries {
                out.push(e.value_span);
                out.extend(e.name.as_ref().map(|k| k.span));
                out.extend(e.ty.as_ref().map(|t| t.span));
            }
            if let Some(c) = &n.children {
                collect_spans(&c.nodes, out);
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn any_kdl_like_text_round_trips(parts in proptest::collection::vec(
            proptest::sample::select(vec![
                "a", "r", "#", "\"", "\"\"\"", "\\", "/", "*", "-", "=", "{", "}", "(", ")", ";",
                " ", "\n", "\r", "\u{2028}", "\u{85}", "é", "\u{FEFF}", "\u{0}", "1", ".", "u", "{", "x",
            ]),
            0..40,
        )) {
            let src: String = parts.concat();
            round_trips(&src);
            let v1: Vec<Token> = Lexer::with_dialect(&src, Dialect::V1).collect();
            proptest::prop_assert_eq!(v1.last().map_or(0, |t| t.span.end), src.len());
        }
    }
}
