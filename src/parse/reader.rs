//! The project's own KDL v2 reader, built for linting.
//!
//! One pass over the bytes; strings without escapes borrow from the source; an explicit stack
//! instead of recursion, so hostile nesting cannot overflow the thread's stack; every syntax
//! error becomes a diagnostic and reading resumes at the next node.
//!
//! Spans follow the kdl crate's conventions exactly (the differential test holds us to it):
//! - a node spans from its type annotation or name to just before its terminator, including
//!   trailing whitespace, comments and slashdashed entries or children blocks;
//! - a name or type spans its token (quotes included);
//! - an entry spans from its key, type annotation or value to the end of the value;
//! - a children block spans from its first node's start to its last node's end (or is empty at
//!   the closing brace when the block has no nodes).

use std::borrow::Cow;

use super::ast::{Children, Document, Entry, Ident, Node, Value};
use super::lexer::{
    self, is_disallowed, is_newline_char, is_space, Dialect, ErrorKind, LexError, StringForm,
    StringScan,
};
use super::{MAX_DEPTH, NESTING_TOO_DEEP, SYNTAX_ERROR};
use crate::diagnostics::{Diagnostic, Label, Level, Span};
use crate::source::FileId;

/// After this many syntax errors in one file the reader stops: the rest is noise.
pub const MAX_SYNTAX_ERRORS: usize = 50;

/// Longest string (name or value) accepted, in bytes of source. Account settings are short;
/// the limit keeps a runaway string (a missing closing quote in a generated file) from being
/// carried through every later stage.
pub const MAX_STRING_BYTES: usize = 64 * 1024;

pub const STRING_TOO_LONG: &str = "string-too-long";

pub struct Read<'a> {
    pub document: Document<'a>,
    /// Syntax errors (rule `syntax-error`) or one `nesting-too-deep`; empty when the text is
    /// a valid KDL v2 document.
    pub diagnostics: Vec<Diagnostic>,
    /// Set when reading stopped at the nesting limit.
    pub too_deep: bool,
}

pub fn read(file: FileId, text: &str) -> Read<'_> {
    let mut nodes = Vec::new();
    let (diagnostics, too_deep) = read_nodes(file, text, true, &mut |node| {
        nodes.push(node);
        None
    });
    if too_deep {
        nodes.clear();
    }
    Read {
        document: Document { nodes },
        diagnostics,
        too_deep,
    }
}

/// Reads `text`, showing each top-level node to `sink` as soon as it is complete; the node's
/// vectors are then reused for the next nodes, so reading a large file allocates little and
/// never holds more than one node's tree. Returns the diagnostics and whether reading stopped
/// at the nesting limit (nodes already shown then stand, but the document as a whole is
/// refused).
pub fn read_each<'a>(
    file: FileId,
    text: &'a str,
    mut sink: impl FnMut(&Node<'a>),
) -> (Vec<Diagnostic>, bool) {
    read_nodes(file, text, false, &mut |node| {
        sink(&node);
        Some(node)
    })
}

/// `compact`: the caller keeps the whole tree, so vectors are shrunk to fit as nodes complete
/// (a large document's tree becomes a fraction of the size; a streaming caller skips the cost).
fn read_nodes<'a>(
    file: FileId,
    text: &'a str,
    compact: bool,
    sink: &mut dyn FnMut(Node<'a>) -> Option<Node<'a>>,
) -> (Vec<Diagnostic>, bool) {
    let mut r = Reader::new(file, text, 0, compact, false);
    r.document(sink);
    (r.diagnostics, r.too_deep)
}

/// The one top-level node that starts at byte `start` of `text` (a node another read found
/// there), with spans into the whole text; `None` if it does not read cleanly.
pub fn read_one(file: FileId, text: &str, start: usize) -> Option<Node<'_>> {
    let mut r = Reader::new(file, text, start, true, true);
    let mut node = None;
    r.document(&mut |n| {
        node = Some(n);
        None
    });
    node.filter(|_| r.diagnostics.is_empty())
}

struct Error {
    rule: &'static str,
    span: Span,
    message: Cow<'static, str>,
    label: &'static str,
    help: Option<&'static str>,
}

type R<T> = Result<T, Error>;

fn err(span: Span, message: impl Into<Cow<'static, str>>, label: &'static str) -> Error {
    Error {
        rule: SYNTAX_ERROR,
        span,
        message: message.into(),
        label,
        help: None,
    }
}

impl Error {
    fn help(mut self, help: &'static str) -> Self {
        self.help = Some(help);
        self
    }
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    Entries,
    /// After a slashdashed children block: no more entries.
    SlashChildren,
    Children,
}

/// A node whose entries (and maybe children) are being read.
struct Partial<'a> {
    node: Node<'a>,
    phase: Phase,
    /// Slashdashed, or inside something slashdashed: read and checked, then dropped.
    discard: bool,
}

/// An open children block.
struct Frame<'a> {
    parent: Partial<'a>,
    nodes: Vec<Node<'a>>,
    /// `/- { … }`: the block is dropped.
    slashdashed: bool,
    open: usize,
    first_start: Option<usize>,
    last_end: usize,
}

enum Tail {
    End,
    Open { slashdashed: bool },
}

struct Reader<'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    file: FileId,
    diagnostics: Vec<Diagnostic>,
    too_deep: bool,
    compact: bool,
    /// Stop after the first top-level node ([`read_one`]).
    one: bool,
    /// Emptied vectors of nodes the caller is done with, for the next nodes ([`read_each`]).
    spare_entries: Vec<Vec<Entry<'a>>>,
    spare_nodes: Vec<Vec<Node<'a>>>,
    recycling: Vec<Node<'a>>,
}

impl<'a> Reader<'a> {
    fn new(file: FileId, text: &'a str, pos: usize, compact: bool, one: bool) -> Self {
        Reader {
            src: text,
            b: text.as_bytes(),
            pos,
            file,
            diagnostics: Vec::new(),
            too_deep: false,
            compact,
            one,
            spare_entries: Vec::new(),
            spare_nodes: Vec::new(),
            recycling: Vec::new(),
        }
    }

    /// Keeps the vectors of a finished node's tree (emptied) for the nodes still to read.
    fn recycle(&mut self, node: Node<'a>) {
        /// Enough for any account; more would only hoard memory after an unusual node.
        const KEEP: usize = 256;
        self.recycling.push(node);
        while let Some(mut n) = self.recycling.pop() {
            let mut entries = std::mem::take(&mut n.entries);
            entries.clear();
            if entries.capacity() > 0 && self.spare_entries.len() < KEEP {
                self.spare_entries.push(entries);
            }
            if let Some(children) = n.children.take() {
                let mut nodes = children.nodes;
                self.recycling.append(&mut nodes);
                if nodes.capacity() > 0 && self.spare_nodes.len() < KEEP {
                    self.spare_nodes.push(nodes);
                }
            }
        }
    }

    // ---- diagnostics -------------------------------------------------------------------

    fn report(&mut self, e: Error) {
        if self.diagnostics.len() == MAX_SYNTAX_ERRORS {
            return;
        }
        let mut d = Diagnostic::new(
            e.rule,
            Level::Error,
            Label::new(self.file, e.span).with_text(e.label),
            e.message,
        );
        if let Some(h) = e.help {
            d = d.with_help(h);
        }
        self.diagnostics.push(d);
        if self.diagnostics.len() == MAX_SYNTAX_ERRORS {
            let at = Span::new(self.pos, self.pos);
            self.diagnostics.push(
                Diagnostic::new(
                    SYNTAX_ERROR,
                    Level::Error,
                    Label::new(self.file, at),
                    format!("more than {MAX_SYNTAX_ERRORS} syntax errors; the rest of the file is not read"),
                )
                .with_help("fix the first errors; later ones are often consequences"),
            );
        }
    }

    fn gave_up(&self) -> bool {
        self.diagnostics.len() > MAX_SYNTAX_ERRORS
    }

    // ---- characters --------------------------------------------------------------------

    fn at_end(&self) -> bool {
        self.pos >= self.b.len()
    }

    fn byte(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn byte_at(&self, at: usize) -> Option<u8> {
        self.b.get(at).copied()
    }

    fn char_at(&self, at: usize) -> Option<char> {
        match self.b.get(at) {
            None => None,
            Some(&c) if c < 0x80 => Some(c as char),
            Some(_) => self.src[at..].chars().next(),
        }
    }

    fn starts_with(&self, s: &[u8]) -> bool {
        self.b[self.pos.min(self.b.len())..].starts_with(s)
    }

    /// Length of the newline at `at`, 0 if none.
    fn newline_len(&self, at: usize) -> usize {
        lexer::newline_len(self.b, at)
    }

    /// Length of the unicode space at `at`, 0 if none.
    fn space_len(&self, at: usize) -> usize {
        lexer::space_len(self.src, at)
    }

    fn unexpected(&self, what: &'static str) -> Error {
        match self.char_at(self.pos) {
            None => err(
                Span::new(self.pos, self.pos),
                format!("unexpected end of file; expected {what}"),
                "here",
            ),
            Some(c) => {
                let span = Span::new(self.pos, self.pos + c.len_utf8());
                if is_disallowed(c) {
                    err(
                        span,
                        format!("character U+{:04X} is not allowed in KDL", c as u32),
                        "not allowed",
                    )
                } else {
                    err(
                        span,
                        format!("unexpected {}; expected {what}", describe(c)),
                        "unexpected",
                    )
                }
            }
        }
    }

    // ---- whitespace and comments -------------------------------------------------------

    /// `/* … */`, nested. `self.pos` is at `/*`.
    fn block_comment(&mut self) -> R<()> {
        let open = self.pos;
        match lexer::block_comment_end(self.b, open) {
            Some(end) => {
                self.pos = end;
                Ok(())
            }
            None => {
                self.pos = self.b.len();
                Err(err(
                    Span::new(open, open + 2),
                    "unterminated comment: no closing */",
                    "opened here",
                ))
            }
        }
    }

    /// `//` to the end of the line, newline included.
    fn line_comment(&mut self) {
        self.pos = lexer::line_comment_end(self.b, self.pos);
        self.pos += self.newline_len(self.pos);
    }

    /// `ws*`: unicode spaces and block comments.
    fn wss(&mut self) -> R<()> {
        loop {
            let n = self.space_len(self.pos);
            if n > 0 {
                self.pos += n;
            } else if self.starts_with(b"/*") {
                self.block_comment()?;
            } else {
                return Ok(());
            }
        }
    }

    /// `node-space*`: whitespace, block comments and line continuations.
    fn node_space(&mut self) -> R<()> {
        loop {
            self.wss()?;
            if self.byte() != Some(b'\\') {
                return Ok(());
            }
            let at = self.pos;
            self.pos += 1;
            self.wss()?;
            if self.starts_with(b"//") {
                self.line_comment();
            } else {
                let n = self.newline_len(self.pos);
                if n > 0 {
                    self.pos += n;
                } else if !self.at_end() {
                    return Err(err(
                        Span::new(at, at + 1),
                        "a line continuation `\\` must be followed by a newline or a comment",
                        "line continuation",
                    ));
                }
            }
        }
    }

    /// `line-space*` without slashdashes: node space, newlines and line comments.
    fn line_space(&mut self) -> R<()> {
        loop {
            self.node_space()?;
            let n = self.newline_len(self.pos);
            if n > 0 {
                self.pos += n;
            } else if self.starts_with(b"//") {
                self.line_comment();
            } else {
                return Ok(());
            }
        }
    }

    fn at_terminator(&self) -> bool {
        match self.byte() {
            None | Some(b';' | b'}') => true,
            Some(b'/') => self.byte_at(self.pos + 1) == Some(b'/'),
            _ => self.newline_len(self.pos) > 0,
        }
    }

    /// After a value: what may follow it directly.
    fn check_value_end(&self, start: usize) -> R<()> {
        match self.byte() {
            None | Some(b'=' | b')' | b'{' | b'}' | b';' | b'\\') => Ok(()),
            Some(b'/') if matches!(self.byte_at(self.pos + 1), Some(b'/' | b'*' | b'-')) => Ok(()),
            _ if self.space_len(self.pos) > 0 || self.newline_len(self.pos) > 0 => Ok(()),
            _ => {
                let c = self.char_at(self.pos).unwrap_or(' ');
                Err(err(
                    Span::new(start, self.pos + c.len_utf8()),
                    format!("unexpected {} right after a value", describe(c)),
                    "needs a space before it",
                )
                .help("separate values, properties and children with whitespace"))
            }
        }
    }

    // ---- document structure ------------------------------------------------------------

    fn document(&mut self, sink: &mut dyn FnMut(Node<'a>) -> Option<Node<'a>>) {
        if self.pos == 0 && self.starts_with("\u{FEFF}".as_bytes()) {
            self.pos += 3;
        }
        let mut stack: Vec<Frame<'a>> = Vec::new();
        // A node whose children block just closed, to be continued.
        let mut resume: Option<Partial<'a>> = None;
        loop {
            if self.gave_up() {
                break;
            }
            let mut partial = match resume.take() {
                Some(p) => p,
                None => match self.node_start(&mut stack) {
                    Ok(Some(p)) => p,
                    Ok(None) => {
                        // `}` or end of file.
                        if self.at_end() {
                            break;
                        }
                        match stack.pop() {
                            Some(frame) => {
                                let close = self.pos;
                                self.pos += 1;
                                resume = Some(close_block(frame, close, self.compact));
                            }
                            None => {
                                self.report(err(
                                    Span::new(self.pos, self.pos + 1),
                                    "unexpected `}`: no block is open here",
                                    "unmatched",
                                ));
                                self.pos += 1;
                            }
                        }
                        continue;
                    }
                    Err(e) => {
                        self.report(e);
                        self.recover();
                        continue;
                    }
                },
            };
            match self.node_tail(&mut partial) {
                Ok(Tail::Open { slashdashed }) => {
                    if stack.len() >= MAX_DEPTH {
                        self.nesting_too_deep();
                        return;
                    }
                    let open = self.pos;
                    self.pos += 1;
                    stack.push(Frame {
                        parent: partial,
                        nodes: self.spare_nodes.pop().unwrap_or_default(),
                        slashdashed,
                        open,
                        first_start: None,
                        last_end: 0,
                    });
                }
                Ok(Tail::End) => {
                    // The terminator: `;`, a newline, a line comment; `}` and EOF stay.
                    match self.byte() {
                        Some(b';') => self.pos += 1,
                        Some(b'/') => self.line_comment(),
                        Some(b'}') | None => {}
                        Some(_) => self.pos += self.newline_len(self.pos),
                    }
                    if partial.discard {
                        continue;
                    }
                    let mut node = partial.node;
                    // Vec growth leaves room for 4 entries; most nodes have one. Shrinking in
                    // place keeps a large document's tree a fraction of the size.
                    if self.compact {
                        node.entries.shrink_to_fit();
                    }
                    match stack.last_mut() {
                        Some(frame) => {
                            frame.first_start.get_or_insert(node.span.start);
                            frame.last_end = node.span.end;
                            frame.nodes.push(node);
                        }
                        None => {
                            if let Some(done) = sink(node) {
                                self.recycle(done);
                            }
                            if self.one {
                                return;
                            }
                        }
                    }
                }
                Err(e) => {
                    self.report(e);
                    self.recover();
                }
            }
        }
        for frame in stack.iter().rev() {
            self.report(err(
                Span::new(frame.open, frame.open + 1),
                "no closing `}` for this block",
                "opened here",
            ));
        }
    }

    fn nesting_too_deep(&mut self) {
        self.too_deep = true;
        self.diagnostics.clear();
        self.diagnostics.push(
            Diagnostic::new(
                NESTING_TOO_DEEP,
                Level::Error,
                Label::new(self.file, Span::new(self.pos, self.pos + 1)).with_text("too deep"),
                format!(
                    "blocks are nested more than {MAX_DEPTH} levels deep; the file is not parsed"
                ),
            )
            .with_help("account files need at most three levels (account › from › address)"),
        );
    }

    /// Skips space and slashdashed nodes, then reads a node's type and name. `None` at `}` or
    /// the end of the file.
    fn node_start(&mut self, stack: &mut [Frame<'a>]) -> R<Option<Partial<'a>>> {
        self.line_space()?;
        let mut discard = stack
            .last()
            .is_some_and(|f| f.slashdashed || f.parent.discard);
        if self.starts_with(b"/-") {
            let at = self.pos;
            self.pos += 2;
            self.line_space()?;
            if self.at_end() || self.byte() == Some(b'}') {
                return Err(err(
                    Span::new(at, at + 2),
                    "`/-` must be followed by the node, entry or block it comments out",
                    "slashdash",
                ));
            }
            discard = true;
        }
        if self.at_end() || self.byte() == Some(b'}') {
            return Ok(None);
        }
        let start = self.pos;
        let ty = if self.byte() == Some(b'(') {
            let t = self.type_annotation()?;
            self.node_space()?;
            Some(t)
        } else {
            None
        };
        let name = self.ident("a node name")?;
        Ok(Some(Partial {
            node: Node {
                ty,
                name,
                entries: self.spare_entries.pop().unwrap_or_default(),
                children: None,
                span: Span::new(start, start),
            },
            phase: Phase::Entries,
            discard,
        }))
    }

    /// Entries and children markers up to the node's end or its next `{`.
    fn node_tail(&mut self, p: &mut Partial<'a>) -> R<Tail> {
        loop {
            let before = self.pos;
            self.node_space()?;
            let spaced = self.pos > before;
            if self.at_terminator() {
                p.node.span.end = self.pos;
                return Ok(Tail::End);
            }
            if self.starts_with(b"/-") {
                let at = self.pos;
                self.pos += 2;
                self.line_space()?;
                if self.byte() == Some(b'{') {
                    if p.phase == Phase::Entries {
                        p.phase = Phase::SlashChildren;
                    }
                    return Ok(Tail::Open { slashdashed: true });
                }
                if p.phase != Phase::Entries {
                    return Err(err(
                        Span::new(at, self.pos),
                        "entries must come before the node's children block",
                        "after children",
                    ));
                }
                if self.at_end() || self.at_terminator() {
                    return Err(err(
                        Span::new(at, at + 2),
                        "`/-` must be followed by the entry or block it comments out",
                        "slashdash",
                    ));
                }
                self.entry()?;
                continue;
            }
            if self.byte() == Some(b'{') {
                if p.phase == Phase::Children {
                    return Err(err(
                        Span::new(self.pos, self.pos + 1),
                        "a node has at most one children block",
                        "second block",
                    ));
                }
                p.phase = Phase::Children;
                return Ok(Tail::Open { slashdashed: false });
            }
            if p.phase != Phase::Entries {
                return Err(err(
                    Span::new(self.pos, self.pos + 1),
                    "entries must come before the node's children block",
                    "after children",
                )
                .help("move the value or property before the `{`, or end the node first"));
            }
            if !spaced {
                return Err(self.unexpected("whitespace, `;` or a newline"));
            }
            let e = self.entry()?;
            if !p.discard {
                p.node.entries.push(e);
            }
        }
    }

    /// After an error: skip to the next node at the same level.
    fn recover(&mut self) {
        let mut depth = 0usize;
        while let Some(c) = self.byte() {
            match c {
                b'"' => {
                    // Skip a one-line string so its braces and semicolons do not count.
                    self.pos += 1;
                    while let Some(c) = self.byte() {
                        if c == b'\\' {
                            self.pos += 2;
                        } else if c == b'"' || c == b'\n' {
                            break;
                        } else {
                            self.pos += 1;
                        }
                    }
                    if self.byte() == Some(b'"') {
                        self.pos += 1;
                    }
                }
                b'{' => {
                    depth += 1;
                    self.pos += 1;
                }
                b'}' => {
                    if depth == 0 {
                        return;
                    }
                    depth -= 1;
                    self.pos += 1;
                }
                b';' if depth == 0 => {
                    self.pos += 1;
                    return;
                }
                _ => {
                    let n = self.newline_len(self.pos);
                    if n > 0 && depth == 0 {
                        self.pos += n;
                        return;
                    }
                    self.pos += n.max(1);
                }
            }
        }
        self.pos = self.pos.min(self.b.len());
    }

    // ---- entries and values ------------------------------------------------------------

    fn entry(&mut self) -> R<Entry<'a>> {
        let start = self.pos;
        if self.byte() == Some(b'(') {
            let ty = self.type_annotation()?;
            self.node_space()?;
            let (value, value_span) = self.value()?;
            return Ok(Entry {
                name: None,
                ty: Some(ty),
                value,
                value_span,
                span: Span::new(start, self.pos),
            });
        }
        let (value, value_span, string) = self.value_token()?;
        if string {
            let after = self.pos;
            self.node_space()?;
            if self.byte() == Some(b'=') {
                self.pos += 1;
                self.node_space()?;
                let Value::String(key) = value else {
                    unreachable!("string tokens are strings")
                };
                let name = Ident {
                    value: key,
                    span: value_span,
                };
                let ty = if self.byte() == Some(b'(') {
                    let t = self.type_annotation()?;
                    self.node_space()?;
                    Some(t)
                } else {
                    None
                };
                let (value, value_span) = self.value()?;
                return Ok(Entry {
                    name: Some(name),
                    ty,
                    value,
                    value_span,
                    span: Span::new(start, self.pos),
                });
            }
            self.pos = after;
        }
        Ok(Entry {
            name: None,
            ty: None,
            value,
            value_span,
            span: Span::new(start, self.pos),
        })
    }

    fn value(&mut self) -> R<(Value<'a>, Span)> {
        let (v, s, _) = self.value_token()?;
        Ok((v, s))
    }

    /// `(type)`; `self.pos` is at `(`.
    fn type_annotation(&mut self) -> R<Ident<'a>> {
        let open = self.pos;
        self.pos += 1;
        self.node_space()?;
        let id = self.ident("a type name")?;
        self.node_space()?;
        if self.byte() != Some(b')') {
            return Err(err(
                Span::new(open, self.pos),
                "type annotation is not closed with `)`",
                "type annotation",
            ));
        }
        self.pos += 1;
        Ok(id)
    }

    /// A string used as a name: identifier, quoted or raw string.
    fn ident(&mut self, what: &'static str) -> R<Ident<'a>> {
        let start = self.pos;
        let (value, span, string) = self.value_token().map_err(|mut e| {
            if e.label == "unexpected" {
                e.message = format!("expected {what}: {}", e.message).into();
            }
            e
        })?;
        match value {
            Value::String(s) if string => Ok(Ident { value: s, span }),
            other => Err(err(
                Span::new(start, self.pos),
                format!(
                    "expected {what}, found a {}; quote it to use it as a name",
                    other.type_name()
                ),
                "not a string",
            )),
        }
    }

    /// One value token, checked for what follows it. The flag says it is a string (so it may
    /// be a property key or a name).
    fn value_token(&mut self) -> R<(Value<'a>, Span, bool)> {
        let start = self.pos;
        let (value, string) = match self.byte() {
            Some(b'"') => (Value::String(self.quoted_string()?), true),
            Some(b'#') => match self.byte_at(self.pos + 1) {
                Some(b'#' | b'"') => (Value::String(self.raw_string()?), true),
                _ => (self.keyword()?, false),
            },
            _ => {
                let end = self.ident_run(self.pos);
                if end == self.pos {
                    return Err(self.unexpected("a value"));
                }
                let tok = &self.src[self.pos..end];
                self.pos = end;
                bare(tok, Span::new(start, end))?
            }
        };
        let span = Span::new(start, self.pos);
        if string && span.len() > MAX_STRING_BYTES {
            let mut e = err(
                Span::new(start, start + 1),
                format!(
                    "string is {} bytes long; the limit is {MAX_STRING_BYTES}",
                    span.len()
                ),
                "string starts here",
            );
            e.rule = STRING_TOO_LONG;
            return Err(e);
        }
        self.check_value_end(start)?;
        Ok((value, span, string))
    }

    fn ident_run(&self, from: usize) -> usize {
        lexer::ident_end(self.src, from)
    }

    fn keyword(&mut self) -> R<Value<'a>> {
        let start = self.pos;
        let end = self.ident_run(self.pos + 1);
        let v = match &self.src[start + 1..end] {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            "null" => Value::Null,
            "nan" => Value::Float(f64::NAN),
            "inf" => Value::Float(f64::INFINITY),
            "-inf" => Value::Float(f64::NEG_INFINITY),
            _ => {
                return Err(err(
                    Span::new(start, end.max(start + 1)),
                    "unknown keyword",
                    "keyword",
                )
                .help("KDL keywords are #true, #false, #null, #inf, #-inf and #nan"))
            }
        };
        self.pos = end;
        Ok(v)
    }

    // ---- strings -----------------------------------------------------------------------

    /// `"…"` or `"""` multi-line; `self.pos` is at the first quote.
    fn quoted_string(&mut self) -> R<Cow<'a, str>> {
        let start = self.pos;
        if self.starts_with(b"\"\"\"") {
            self.pos += 3;
            let n = self.newline_len(self.pos);
            if n == 0 {
                return Err(err(
                    Span::new(start, start + 3),
                    "multi-line string opening quotes must be followed by a newline",
                    "multi-line string",
                )
                .help("for a one-line string use single quotes: \"…\""));
            }
            self.pos += n;
            return self.multiline(start, None).map(Cow::Owned);
        }
        let scan = self.one_line_string(start)?;
        let raw = &self.src[start + 1..scan.end - 1];
        if scan.form == (StringForm::Quoted { escapes: false }) {
            return Ok(Cow::Borrowed(raw));
        }
        let mut out = String::with_capacity(raw.len());
        unescape(raw, &mut out);
        Ok(Cow::Owned(out))
    }

    /// The one-line string at `start`, as the lexer scans it; its first problem is the error.
    fn one_line_string(&mut self, start: usize) -> R<StringScan> {
        let Some(scan) = lexer::scan_string(self.src, start, Dialect::V2) else {
            self.pos = start;
            return Err(self.unexpected("a string"));
        };
        match scan.first_error.or(scan.end_error) {
            None => {
                self.pos = scan.end;
                Ok(scan)
            }
            Some(e) => Err(self.string_error(start, e)),
        }
    }

    fn string_error(&mut self, start: usize, e: LexError) -> Error {
        let at = e.at();
        let raw = matches!(
            e.kind,
            ErrorKind::NewlineInString(StringForm::Raw { .. })
                | ErrorKind::UnterminatedString(StringForm::Raw { .. })
        );
        match e.kind {
            ErrorKind::InvalidEscape => {
                self.pos = at.start;
                match self.skip_escape(start) {
                    Err(e) => e,
                    Ok(()) => err(at, "invalid escape sequence", "escape"),
                }
            }
            ErrorKind::NewlineInString(_) if raw => {
                self.pos = at.end;
                err(
                    Span::new(start, at.end),
                    "newline in a one-line raw string",
                    "raw string",
                )
                .help("use a multi-line raw string: #\"\"\" followed by a newline")
            }
            ErrorKind::NewlineInString(_) => {
                self.pos = at.end;
                err(Span::new(start, at.end), "newline in a one-line string", "string")
                    .help("close the string on this line, or use a multi-line string: \"\"\" on its own line")
            }
            ErrorKind::UnterminatedString(_) => {
                self.pos = self.b.len();
                if raw {
                    err(
                        Span::new(start, at.end),
                        "unterminated raw string",
                        "opened here",
                    )
                } else {
                    err(
                        Span::new(start, start + 1),
                        "unterminated string: no closing quote",
                        "opened here",
                    )
                }
            }
            _ => {
                self.pos = at.start;
                self.unexpected("a string character")
            }
        }
    }

    /// Advances over one non-escape character of a string body, rejecting disallowed ones.
    fn string_char(&mut self) -> R<()> {
        let c = self.char_at(self.pos).unwrap_or(' ');
        if is_disallowed(c) {
            return Err(self.unexpected("a string character"));
        }
        self.pos += c.len_utf8();
        Ok(())
    }

    /// Validates and skips one `\` escape (including a whitespace escape spanning lines).
    fn skip_escape(&mut self, _string_start: usize) -> R<()> {
        let at = self.pos;
        match lexer::escape_len(self.src, at, lexer::Dialect::V2) {
            Ok(n) => {
                self.pos += n;
                Ok(())
            }
            Err(end) => {
                self.pos = at + 1;
                if self.byte() == Some(b'u') {
                    return Err(err(
                        Span::new(at, at + 2),
                        "invalid unicode escape: write \\u{…} with 1 to 6 hex digits of a valid code point",
                        "escape",
                    ));
                }
                Err(err(
                    Span::new(at, end),
                    "invalid escape sequence",
                    "escape",
                )
                .help("valid escapes: \\n \\r \\t \\\\ \\\" \\b \\f \\s \\u{…}, or \\ before whitespace"))
            }
        }
    }

    /// `#"…"#`, `##"…"##`, multi-line `#"""…"""#`; `self.pos` is at the first `#`.
    fn raw_string(&mut self) -> R<Cow<'a, str>> {
        let start = self.pos;
        let mut hashes = 0;
        while self.byte() == Some(b'#') {
            hashes += 1;
            self.pos += 1;
        }
        if self.byte() != Some(b'"') {
            return Err(self.unexpected("`\"` of a raw string"));
        }
        if self.starts_with(b"\"\"\"") {
            self.pos += 3;
            let n = self.newline_len(self.pos);
            if n == 0 {
                return Err(err(
                    Span::new(start, self.pos),
                    "multi-line raw string opening quotes must be followed by a newline",
                    "multi-line raw string",
                ));
            }
            self.pos += n;
            return self.multiline(start, Some(hashes)).map(Cow::Owned);
        }
        let scan = self.one_line_string(start)?;
        let raw = &self.src[start + hashes + 1..scan.end - 1 - hashes];
        if raw == "\"" {
            return Err(err(
                Span::new(start, scan.end),
                "a one-line raw string cannot look like a multi-line one",
                "triple quotes",
            ));
        }
        Ok(Cow::Borrowed(raw))
    }

    /// When the line at `line` is a multi-line string's closing line (whitespace, and for
    /// non-raw strings whitespace escapes, then the closing quotes): its indentation and the
    /// offset of the quotes.
    fn closing_line(&self, line: usize, raw: Option<usize>) -> Option<(String, usize)> {
        let mut prefix = String::new();
        let mut i = line;
        loop {
            let n = self.space_len(i);
            if n > 0 {
                prefix.push_str(&self.src[i..i + n]);
                i += n;
                continue;
            }
            if raw.is_none() && self.byte_at(i) == Some(b'\\') {
                let mut j = i + 1;
                while let n @ 1.. = self.space_len(j).max(self.newline_len(j)) {
                    j += n;
                }
                if j > i + 1 {
                    i = j;
                    continue;
                }
            }
            break;
        }
        let closes = self.b[i.min(self.b.len())..].starts_with(b"\"\"\"")
            && raw.is_none_or(|h| self.closes_raw(i + 3, h));
        closes.then_some((prefix, i))
    }

    fn closes_raw(&self, at: usize, hashes: usize) -> bool {
        (0..hashes).all(|i| self.byte_at(at + i) == Some(b'#'))
    }

    /// The body of a multi-line string, just after the opening quotes' newline. `raw` holds
    /// the number of hashes for raw strings. Lines are dedented by the closing line's
    /// indentation, then (for non-raw strings) escapes are processed.
    fn multiline(&mut self, start: usize, raw: Option<usize>) -> R<String> {
        let body = self.pos;
        let unterminated = || {
            err(
                Span::new(start, start + 3 + raw.unwrap_or(0)),
                "unterminated multi-line string",
                "opened here",
            )
        };
        // Pass 1: find the logical lines and the closing line.
        let mut lines: Vec<(usize, usize)> = Vec::new();
        let prefix: String;
        loop {
            let line = self.pos;
            if let Some((p, close)) = self.closing_line(line, raw) {
                prefix = p;
                self.pos = close + 3 + raw.unwrap_or(0);
                break;
            }
            // Scan one logical line.
            loop {
                let Some(c) = self.byte() else {
                    return Err(unterminated());
                };
                let n = self.newline_len(self.pos);
                if n > 0 {
                    lines.push((line, self.pos));
                    self.pos += n;
                    break;
                }
                if c == b'"'
                    && self.starts_with(b"\"\"\"")
                    && raw.is_none_or(|h| self.closes_raw(self.pos + 3, h))
                {
                    return Err(err(
                        Span::new(self.pos, self.pos + 3),
                        "multi-line string closing quotes must be on their own line",
                        "closing quotes",
                    ));
                }
                if c == b'\\' && raw.is_none() {
                    self.skip_escape(start)?;
                } else {
                    self.string_char()?;
                }
            }
        }
        let _ = body;
        // Pass 2: dedent and unescape.
        let mut out = String::new();
        for (k, &(s, e)) in lines.iter().enumerate() {
            if k > 0 {
                out.push('\n');
            }
            let text = &self.src[s..e];
            if blank(text, raw.is_none()) {
                continue;
            }
            let Some(rest) = text.strip_prefix(prefix.as_str()) else {
                return Err(err(
                    Span::new(s, e),
                    "multi-line string line does not start with the closing line's indentation",
                    "bad indentation",
                )
                .help("every line must start with the same whitespace as the line of the closing quotes"));
            };
            if raw.is_some() {
                out.push_str(rest);
            } else {
                unescape(rest, &mut out);
            }
        }
        Ok(out)
    }
}

/// A multi-line string line holding only whitespace (and whitespace escapes).
fn blank(text: &str, escapes: bool) -> bool {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\'
            && escapes
            && chars
                .peek()
                .is_some_and(|&n| is_space(n) || is_newline_char(n))
        {
            continue;
        }
        if !is_space(c) && !is_newline_char(c) {
            return false;
        }
    }
    true
}

fn close_block<'a>(mut frame: Frame<'a>, close: usize, compact: bool) -> Partial<'a> {
    if !frame.slashdashed {
        if compact {
            frame.nodes.shrink_to_fit();
        }
        let span = match frame.first_start {
            Some(s) => Span::new(s, frame.last_end),
            None => Span::new(close, close),
        };
        frame.parent.node.children = Some(Children {
            nodes: frame.nodes,
            span,
        });
    }
    frame.parent
}

/// Decodes escapes in a string body already validated by the reader.
fn unescape(raw: &str, out: &mut String) {
    let mut chars = raw.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c != '\\' {
            // Newlines in a multi-line string's logical line (after a whitespace escape) are
            // never reached here: the escape swallowed them.
            out.push(c);
            continue;
        }
        match chars.next() {
            Some((_, 'n')) => out.push('\n'),
            Some((_, 'r')) => out.push('\r'),
            Some((_, 't')) => out.push('\t'),
            Some((_, 'b')) => out.push('\u{0008}'),
            Some((_, 'f')) => out.push('\u{000C}'),
            Some((_, 's')) => out.push(' '),
            Some((_, '\\')) => out.push('\\'),
            Some((_, '"')) => out.push('"'),
            Some((i, 'u')) => {
                let rest = &raw[i + 1..];
                let close = rest.find('}').unwrap_or(rest.len());
                let hex = rest.get(1..close).unwrap_or("");
                if let Some(ch) = u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
                    out.push(ch);
                }
                for _ in 0..=close {
                    chars.next();
                }
            }
            Some(_) => {
                // Whitespace escape: drop the run of whitespace and newlines.
                while chars
                    .peek()
                    .is_some_and(|&(_, c)| is_space(c) || is_newline_char(c))
                {
                    chars.next();
                }
            }
            None => {}
        }
    }
}

/// A bare token: identifier string or number.
fn bare(tok: &str, span: Span) -> R<(Value<'_>, bool)> {
    let b = tok.as_bytes();
    let (sign, rest) = match b[0] {
        b'+' | b'-' => (true, &b[1..]),
        _ => (false, b),
    };
    let numeric = rest.first().is_some_and(u8::is_ascii_digit);
    if numeric {
        return number(tok).map(|v| (v, false)).ok_or_else(|| {
            err(
                span,
                format!("invalid number `{}`", crate::parse::redact::clip(tok)),
                "number",
            )
            .help("numbers look like 42, -7, 1_000, 3.25, 1.5e10, 0x1F, 0o17 or 0b1010")
        });
    }
    if rest.first() == Some(&b'.') && rest.get(1).is_some_and(u8::is_ascii_digit) {
        return Err(err(
            span,
            format!(
                "invalid number `{}`: a leading digit is required",
                crate::parse::redact::clip(tok)
            ),
            "number",
        )
        .help("write 0.5, not .5"));
    }
    if !sign && matches!(tok, "true" | "false" | "null" | "inf" | "nan") {
        return Err(err(
            span,
            format!("`{tok}` is a keyword in KDL v2: write #{tok}, or quote it for a string"),
            "bare keyword",
        ));
    }
    Ok((Value::String(Cow::Borrowed(tok)), true))
}

fn number(tok: &str) -> Option<Value<'static>> {
    let (neg, body) = match tok.as_bytes()[0] {
        b'-' => (true, &tok[1..]),
        b'+' => (false, &tok[1..]),
        _ => (false, tok),
    };
    let radix = match body.get(..2) {
        Some("0x" | "0X") => Some(16),
        Some("0o" | "0O") => Some(8),
        Some("0b" | "0B") => Some(2),
        _ => None,
    };
    if let Some(radix) = radix {
        let digits = &body[2..];
        if !digits.as_bytes().first()?.is_ascii_alphanumeric()
            || !digits
                .bytes()
                .all(|c| c == b'_' || (c as char).is_digit(radix))
            || !(digits.as_bytes()[0] as char).is_digit(radix)
        {
            return None;
        }
        let clean: String = digits.chars().filter(|&c| c != '_').collect();
        let v = i128::from_str_radix(&clean, radix).ok()?;
        return Some(Value::Integer(if neg { -v } else { v }));
    }
    // decimal: int ('.' int)? ([eE] [+-]? int)?, where int := digit (digit | '_')*
    let b = body.as_bytes();
    let int = |mut i: usize| -> Option<usize> {
        if !b.get(i)?.is_ascii_digit() {
            return None;
        }
        while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'_') {
            i += 1;
        }
        Some(i)
    };
    let mut i = int(0)?;
    let mut float = false;
    if b.get(i) == Some(&b'.') {
        i = int(i + 1)?;
        float = true;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        i = int(i)?;
        float = true;
    }
    if i != b.len() {
        return None;
    }
    let clean: String = body.chars().filter(|&c| c != '_').collect();
    if float {
        let v: f64 = clean.parse().ok()?;
        Some(Value::Float(if neg { -v } else { v }))
    } else {
        let v: i128 = clean.parse().ok()?;
        Some(Value::Integer(if neg { -v } else { v }))
    }
}

fn describe(c: char) -> String {
    match c {
        '\n' | '\r' => "newline".into(),
        c if c.is_control() || is_space(c) => format!("character U+{:04X}", c as u32),
        c => format!("`{c}`"),
    }
}
