//! The streaming fast path: account text straight into the typed model, with no tree.
//!
//! A serde `Deserializer` over the text itself (as serde_json's is over bytes): it reads one
//! node's name and entries with the lexer's scanners ([`lexer::scan_string`],
//! [`lexer::ident_end`]) into a reused buffer, then hands them and the node's children, read as
//! the visitor asks for them, to the model's `Deserialize`. Strings without escapes are borrowed
//! from the text; nothing is allocated but what the model keeps.
//!
//! It reads a subset of KDL v2, the form files are written in: nodes, arguments and properties
//! separated by spaces or tabs, one-line quoted and raw strings, identifiers, numbers, `#true`
//! and `#false`, children blocks, `;`, newlines and `//` comments. Everything else (block
//! comments, slashdashes, type annotations, line continuations, multi-line strings, unicode
//! whitespace, `#null`, a repeated node or property, a value the model does not take) is
//! refused, and the file goes the way through the reader's tree ([`super::typed`]), then if need
//! be the full way, which find and word the problem. Within the subset it follows the mapping of
//! [`super::typed`] step for step, so it gives the same model or refuses: `tests/it/fast_path.rs`
//! holds it to that on generated documents, and the fuzz target `stream` on arbitrary text.

use std::borrow::Cow;

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::typed::{Item, Path, Refused};
use crate::model::{Account, Credential, System};
use crate::parse::lexer::{self, Dialect, StringForm};
use crate::parse::reader::{self, MAX_STRING_BYTES};
use crate::parse::Value;

type R<T> = Result<T, Refused>;

/// Deepest block nesting read here. Valid files nest three levels; deeper text can only be
/// refused by the model, and refusing it here keeps serde's recursion short.
const MAX_DEPTH: usize = 8;

/// The least text per part when a text is cut into parts read in parallel (at most one part per
/// worker): below it a part's set-up costs more than it saves.
pub const SPLIT_BYTES: usize = 512 * 1024;

/// Every top-level node of `text`, typed, with the offset where it starts (as the reader's span
/// gives it), in file order. A large text is cut at top-level node boundaries and the parts are
/// read in parallel ([`items_in_parts`]).
pub fn items(text: &str) -> R<Vec<(usize, Item)>> {
    let parts = rayon::current_num_threads().min(text.len() / SPLIT_BYTES);
    items_in_parts(text, parts)
}

/// [`items`] with `text` cut into (at most) `parts` parts. Each cut is a line start that looks
/// like a top-level node (a name at column 0); it is confirmed by the part before it, which must
/// read to exactly there with every node complete. Reading is local (one-line strings, no block
/// comments: nothing read here spans a newline unseen), so a part that ends cleanly at a cut
/// leaves the reading at top level there, exactly as reading the whole text would. When a cut
/// was not such a boundary, or anything is refused, the whole text is read again in one part,
/// which refuses or not on its own.
pub fn items_in_parts(text: &str, parts: usize) -> R<Vec<(usize, Item)>> {
    use rayon::prelude::*;
    let bounds = cuts(text, parts);
    if bounds.len() > 2 {
        let read: Vec<R<Vec<(usize, Item)>>> = bounds
            .par_windows(2)
            .map(|w| part(text, w[0], w[1]))
            .collect();
        if read.iter().all(Result::is_ok) {
            // The first part's buffer grown to exactly the whole (a large buffer grows in
            // place), each other part's freed as soon as it is moved: the file's items are
            // held once, without a doubled vector's unused half.
            let mut parts = read.into_iter().flatten();
            let mut all = parts.next().unwrap_or_default();
            let rest: Vec<_> = parts.collect();
            all.reserve_exact(rest.iter().map(Vec::len).sum());
            for items in rest {
                all.extend(items);
            }
            return Ok(all);
        }
    }
    part(text, 0, text.len())
}

/// `0`, the cuts, `text.len()`: each cut just after a newline and before an ASCII letter or a
/// quote at column 0.
fn cuts(text: &str, parts: usize) -> Vec<usize> {
    let b = text.as_bytes();
    let mut bounds = vec![0];
    for k in 1..parts {
        let from = (b.len() / parts * k).max(bounds[bounds.len() - 1]);
        let cut = memchr::memchr_iter(b'\n', &b[from..])
            .map(|i| from + i + 1)
            .find(|&i| {
                b.get(i)
                    .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'"')
            });
        match cut {
            Some(cut) if cut > bounds[bounds.len() - 1] => bounds.push(cut),
            _ => break,
        }
    }
    bounds.push(b.len());
    bounds
}

fn part(text: &str, start: usize, end: usize) -> R<Vec<(usize, Item)>> {
    let mut items = Vec::new();
    read_range(text, start, end, |at, item| items.push((at, item)))?;
    Ok(items)
}

/// Reads every top-level node of `text` into the model, showing each (with the offset where it
/// starts, as the reader's span would give it) to `sink`. `Err` as soon as anything is outside
/// this path's subset or not a valid `account`, `credential` or `system`; what was shown
/// before then must be discarded.
pub fn each_item(text: &str, sink: impl FnMut(usize, Item)) -> R<()> {
    read_range(text, 0, text.len(), sink)
}

/// [`each_item`] on `text[start..end]` as if the text ended at `end` (`start` and `end` are
/// line starts, or the text's ends); offsets stay those of the whole text.
fn read_range(text: &str, start: usize, end: usize, mut sink: impl FnMut(usize, Item)) -> R<()> {
    let mut c = Cursor::new(text.get(..end).ok_or(Refused)?);
    c.pos = start;
    if start == 0 && text.starts_with('\u{FEFF}') {
        c.pos = 3;
    }
    loop {
        c.line_space();
        if c.pos >= c.b.len() {
            return Ok(());
        }
        let start = c.pos;
        let name = c.name()?;
        let path = Path::root().child(name);
        let item = match name {
            "account" => Item::Account(Account::deserialize(NodeDe::new(&mut c, path, true))?),
            "credential" => {
                Item::Credential(Credential::deserialize(NodeDe::new(&mut c, path, true))?)
            }
            "system" => Item::System(System::deserialize(NodeDe::new(&mut c, path, false))?),
            _ => return Err(Refused),
        };
        sink(start, item);
    }
}

/// One value as read: the forms the model can take (`#null`, `#nan` and `#inf` are refused
/// when read, as the tree's deserializer refuses them when visited).
enum Scalar<'a> {
    Str(Cow<'a, str>),
    Int(i128),
    Float(f64),
    Bool(bool),
}

/// An argument (`key` is `None`) or a property of the node being read.
struct Entry<'a> {
    key: Option<&'a str>,
    value: Scalar<'a>,
}

struct Cursor<'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    depth: usize,
    /// Entry and key buffers of finished nodes, for the next ones.
    spare_entries: Vec<Vec<Entry<'a>>>,
    spare_keys: Vec<Vec<&'a str>>,
}

impl<'a> Cursor<'a> {
    fn new(src: &'a str) -> Self {
        Cursor {
            src,
            b: src.as_bytes(),
            pos: 0,
            depth: 0,
            spare_entries: Vec::new(),
            spare_keys: Vec::new(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn peek_at(&self, at: usize) -> Option<u8> {
        self.b.get(at).copied()
    }

    /// Spaces and tabs; whether there were any.
    fn spaces(&mut self) -> bool {
        let start = self.pos;
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
        self.pos > start
    }

    /// Between nodes: spaces, `\n`/`\r` newlines and `//` comments. Other trivia stops it, and
    /// the name that must follow then refuses.
    fn line_space(&mut self) {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\n' | b'\r') => self.pos += 1,
                Some(b'/') if self.peek_at(self.pos + 1) == Some(b'/') => {
                    self.pos = lexer::line_comment_end(self.b, self.pos);
                }
                _ => return,
            }
        }
    }

    /// At a node's end: the end of the text, `;`, `}`, a newline or a `//` comment.
    fn at_terminator(&self) -> bool {
        match self.peek() {
            None | Some(b';' | b'}' | b'\n' | b'\r') => true,
            Some(b'/') => self.peek_at(self.pos + 1) == Some(b'/'),
            _ => false,
        }
    }

    /// Consumes the terminator the reader consumes (`}` and the end of the text stay).
    fn terminator(&mut self) -> R<()> {
        match self.peek() {
            None | Some(b'}') => {}
            Some(b';') => self.pos += 1,
            Some(b'/') if self.peek_at(self.pos + 1) == Some(b'/') => {
                self.pos = lexer::line_comment_end(self.b, self.pos);
                self.pos += lexer::newline_len(self.b, self.pos);
            }
            Some(b'\n' | b'\r') => self.pos += lexer::newline_len(self.b, self.pos),
            _ => return Err(Refused),
        }
        Ok(())
    }

    /// What may directly follow a value (the reader accepts a few more, all refused here later).
    fn value_end(&self) -> R<()> {
        match self.peek() {
            None | Some(b' ' | b'\t' | b'\n' | b'\r' | b'=' | b'{' | b'}' | b';') => Ok(()),
            Some(b'/') if self.peek_at(self.pos + 1) == Some(b'/') => Ok(()),
            _ => Err(Refused),
        }
    }

    /// A node name or property key: a string without escapes.
    fn name(&mut self) -> R<&'a str> {
        match self.value()? {
            (Scalar::Str(Cow::Borrowed(s)), true) => Ok(s),
            _ => Err(Refused),
        }
    }

    /// One value token and whether it is a string (a possible property key).
    fn value(&mut self) -> R<(Scalar<'a>, bool)> {
        let start = self.pos;
        let (value, string) = match self.peek() {
            Some(b'"') => (Scalar::Str(self.quoted()?), true),
            Some(b'#') => match self.peek_at(start + 1) {
                Some(b'#' | b'"') => (Scalar::Str(self.raw()?), true),
                _ => {
                    let end = lexer::ident_end(self.src, start + 1);
                    let value = match &self.src[start + 1..end] {
                        "true" => Scalar::Bool(true),
                        "false" => Scalar::Bool(false),
                        _ => return Err(Refused),
                    };
                    self.pos = end;
                    (value, false)
                }
            },
            _ => {
                let end = lexer::ident_end(self.src, start);
                if end == start {
                    return Err(Refused);
                }
                let tok = &self.src[start..end];
                // Names and most values start with a letter: a string unless it is one of the
                // words KDL v2 wants as keywords, which the reader reports (as `bare` decides).
                if self.b[start].is_ascii_alphabetic() {
                    if matches!(tok, "true" | "false" | "null" | "inf" | "nan") {
                        return Err(Refused);
                    }
                    self.pos = end;
                    if self.pos - start > MAX_STRING_BYTES {
                        return Err(Refused);
                    }
                    self.value_end()?;
                    return Ok((Scalar::Str(Cow::Borrowed(tok)), true));
                }
                let value = match reader::bare_value(tok) {
                    Some((Value::String(Cow::Borrowed(s)), true)) => Scalar::Str(Cow::Borrowed(s)),
                    Some((Value::Integer(i), false)) => Scalar::Int(i),
                    Some((Value::Float(f), false)) if f.is_finite() => Scalar::Float(f),
                    _ => return Err(Refused),
                };
                self.pos = end;
                let string = matches!(value, Scalar::Str(_));
                (value, string)
            }
        };
        if string && self.pos - start > MAX_STRING_BYTES {
            return Err(Refused);
        }
        self.value_end()?;
        Ok((value, string))
    }

    /// A one-line `"…"` string.
    fn quoted(&mut self) -> R<Cow<'a, str>> {
        let start = self.pos;
        // Most strings are printable ASCII without escapes: one run to the closing quote,
        // without the lexer's scan (which reads them the same way).
        let plain = self.b[start + 1..]
            .iter()
            .position(|&c| !matches!(c, b' ' | b'!' | b'#'..=b'[' | b']'..=b'~'));
        if let Some(n) = plain {
            if self.b[start + 1 + n] == b'"' {
                self.pos = start + n + 2;
                return Ok(Cow::Borrowed(&self.src[start + 1..start + 1 + n]));
            }
        }
        let scan = self.one_line_string()?;
        let body = &self.src[start + 1..scan.end - 1];
        if scan.form == (StringForm::Quoted { escapes: false }) {
            return Ok(Cow::Borrowed(body));
        }
        let mut out = String::with_capacity(body.len());
        reader::unescape(body, &mut out);
        Ok(Cow::Owned(out))
    }

    /// A one-line `#"…"#` string.
    fn raw(&mut self) -> R<Cow<'a, str>> {
        let start = self.pos;
        let scan = self.one_line_string()?;
        let StringForm::Raw { hashes } = scan.form else {
            return Err(Refused);
        };
        let hashes = hashes as usize;
        let body = &self.src[start + hashes + 1..scan.end - 1 - hashes];
        if body == "\"" {
            return Err(Refused);
        }
        Ok(Cow::Borrowed(body))
    }

    fn one_line_string(&mut self) -> R<lexer::StringScan> {
        let scan = lexer::scan_string(self.src, self.pos, Dialect::V2).ok_or(Refused)?;
        if scan.first_error.is_some() || scan.end_error.is_some() {
            return Err(Refused);
        }
        self.pos = scan.end;
        Ok(scan)
    }

    /// The entries of the node whose name was just read, up to its terminator (not consumed)
    /// or its `{` (consumed). Whether it has a children block.
    fn entries(&mut self, out: &mut Vec<Entry<'a>>) -> R<bool> {
        loop {
            let spaced = self.spaces();
            if self.at_terminator() {
                return Ok(false);
            }
            if self.peek() == Some(b'{') {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return Err(Refused);
                }
                self.pos += 1;
                return Ok(true);
            }
            if !spaced {
                return Err(Refused);
            }
            let (value, string) = self.value()?;
            if string {
                let after = self.pos;
                self.spaces();
                if self.peek() == Some(b'=') {
                    self.pos += 1;
                    self.spaces();
                    let Scalar::Str(Cow::Borrowed(key)) = value else {
                        return Err(Refused);
                    };
                    let (value, _) = self.value()?;
                    out.push(Entry {
                        key: Some(key),
                        value,
                    });
                    continue;
                }
                self.pos = after;
            }
            out.push(Entry { key: None, value });
        }
    }

    /// After a children block's `}`: the node must end there.
    fn after_block(&mut self) -> R<()> {
        self.spaces();
        if !self.at_terminator() {
            return Err(Refused);
        }
        self.terminator()
    }

    /// The next child's name inside a block, or `None` at its `}` (consumed, with the rest of
    /// the parent node).
    fn child(&mut self) -> R<Option<&'a str>> {
        self.line_space();
        match self.peek() {
            Some(b'}') => {
                self.pos += 1;
                self.depth -= 1;
                self.after_block()?;
                Ok(None)
            }
            None => Err(Refused),
            Some(_) => self.name().map(Some),
        }
    }
}

/// The node whose name was just read.
struct NodeDe<'c, 'a> {
    c: &'c mut Cursor<'a>,
    path: Path<'a>,
    /// List items always take the object form (see [`super::lower`]).
    list_item: bool,
}

impl<'c, 'a> NodeDe<'c, 'a> {
    fn new(c: &'c mut Cursor<'a>, path: Path<'a>, list_item: bool) -> Self {
        NodeDe { c, path, list_item }
    }

    /// Reads the node's entries; a leaf without properties (which stands for its arguments)
    /// is read to its end.
    fn header(&mut self) -> R<Header<'a>> {
        let mut entries = self.c.spare_entries.pop().unwrap_or_default();
        let children = self.c.entries(&mut entries)?;
        let scalar_leaf = !children && !self.list_item && entries.iter().all(|e| e.key.is_none());
        if scalar_leaf {
            self.c.terminator()?;
        }
        Ok(Header {
            entries,
            children,
            scalar_leaf,
        })
    }
}

struct Header<'a> {
    /// Arguments and properties in text order.
    entries: Vec<Entry<'a>>,
    children: bool,
    scalar_leaf: bool,
}

impl<'a> Header<'a> {
    fn args(&self) -> impl Iterator<Item = &Scalar<'a>> {
        self.entries
            .iter()
            .filter(|e| e.key.is_none())
            .map(|e| &e.value)
    }
}

impl<'de, 'c> de::Deserializer<'de> for NodeDe<'c, 'de> {
    type Error = Refused;

    fn deserialize_any<V: Visitor<'de>>(mut self, visitor: V) -> R<V::Value> {
        let header = self.header()?;
        if header.scalar_leaf {
            let value = {
                let mut args = header.args();
                match (args.next(), args.next()) {
                    (None, _) => Err(Refused), // `#null`: the schema never takes it
                    (Some(a), None) => ScalarDe(a).deserialize_any(visitor),
                    (Some(_), Some(_)) => visitor.visit_seq(ArgsSeq(header.args())),
                }
            };
            self.c.spare_entries.push(recycle(header.entries));
            return value;
        }
        let nargs = header.args().count();
        let mut keys = self.c.spare_keys.pop().unwrap_or_default();
        if nargs > 0 {
            keys.push(if header.children { "name" } else { "value" });
        }
        for e in &header.entries {
            if let Some(key) = e.key {
                if keys.contains(&key) {
                    return Err(Refused);
                }
                keys.push(key);
            }
        }
        if !header.children {
            self.c.terminator()?;
        }
        let mut map = NodeMap {
            c: self.c,
            path: self.path,
            header,
            nargs,
            next: Next::Args,
            keys,
            child: None,
        };
        let value = visitor.visit_map(&mut map)?;
        if !matches!(map.next, Next::Done) {
            return Err(Refused);
        }
        map.c.spare_entries.push(recycle(map.header.entries));
        map.keys.clear();
        map.c.spare_keys.push(map.keys);
        Ok(value)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> R<V::Value> {
        visitor.visit_some(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        mut self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> R<V::Value> {
        let header = self.header()?;
        if !header.scalar_leaf {
            return Err(Refused);
        }
        let value = {
            let mut args = header.args();
            match (args.next(), args.next()) {
                (Some(a), None) => ScalarDe(a).deserialize_enum(name, variants, visitor),
                _ => Err(Refused),
            }
        };
        self.c.spare_entries.push(recycle(header.entries));
        value
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct newtype_struct seq tuple tuple_struct map struct identifier
        ignored_any
    }
}

/// An emptied buffer whose lifetime is free again.
fn recycle<'a>(mut entries: Vec<Entry<'a>>) -> Vec<Entry<'a>> {
    entries.clear();
    entries
}

/// Where a node's object stands: its arguments' key, then its properties (by index into the
/// entries), then its children.
#[derive(Clone, Copy)]
enum Next {
    Args,
    Prop(usize),
    Children,
    Done,
}

/// The value of the key just given.
enum Child<'a> {
    Args,
    Prop(usize),
    Node(&'a str),
    List(&'a str),
}

struct NodeMap<'c, 'a> {
    c: &'c mut Cursor<'a>,
    path: Path<'a>,
    header: Header<'a>,
    nargs: usize,
    next: Next,
    /// Keys given so far: a repeated one is refused, as the tree's deserializer refuses it.
    keys: Vec<&'a str>,
    child: Option<Child<'a>>,
}

impl<'de> MapAccess<'de> for NodeMap<'_, 'de> {
    type Error = Refused;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> R<Option<K::Value>> {
        loop {
            match self.next {
                Next::Args => {
                    self.next = Next::Prop(0);
                    if self.nargs > 0 {
                        self.child = Some(Child::Args);
                        let key = if self.header.children {
                            "name"
                        } else {
                            "value"
                        };
                        return seed
                            .deserialize(BorrowedStrDeserializer::new(key))
                            .map(Some);
                    }
                }
                Next::Prop(i) => match self.header.entries.get(i) {
                    None => {
                        self.next = if self.header.children {
                            Next::Children
                        } else {
                            Next::Done
                        };
                    }
                    Some(e) => {
                        self.next = Next::Prop(i + 1);
                        if let Some(key) = e.key {
                            self.child = Some(Child::Prop(i));
                            return seed
                                .deserialize(BorrowedStrDeserializer::new(key))
                                .map(Some);
                        }
                    }
                },
                Next::Children => {
                    let Some(name) = self.c.child()? else {
                        self.next = Next::Done;
                        return Ok(None);
                    };
                    // A list's items are read together; meeting its name again means they
                    // were not adjacent, which the tree's reading groups and this one refuses.
                    if self.keys.contains(&name) {
                        return Err(Refused);
                    }
                    self.keys.push(name);
                    self.child = Some(if self.path.is_list(name) {
                        Child::List(name)
                    } else {
                        Child::Node(name)
                    });
                    return seed
                        .deserialize(BorrowedStrDeserializer::new(name))
                        .map(Some);
                }
                Next::Done => return Ok(None),
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> R<V::Value> {
        match self.child.take().ok_or(Refused)? {
            Child::Args => {
                let mut args = self.header.args();
                match (args.next(), args.next()) {
                    (Some(a), None) => seed.deserialize(ScalarDe(a)),
                    _ => seed.deserialize(SeqDe(ArgsSeq(self.header.args()))),
                }
            }
            Child::Prop(i) => seed.deserialize(ScalarDe(&self.header.entries[i].value)),
            Child::Node(name) => {
                seed.deserialize(NodeDe::new(self.c, self.path.child(name), false))
            }
            Child::List(name) => {
                let mut seq = NodeSeq {
                    c: self.c,
                    name,
                    path: self.path.child(name),
                    first: true,
                    ended: false,
                };
                let value = seed.deserialize(SeqDe(&mut seq))?;
                if !seq.ended {
                    return Err(Refused);
                }
                Ok(value)
            }
        }
    }
}

struct ArgsSeq<I>(I);

impl<'s, 'de: 's, I: Iterator<Item = &'s Scalar<'de>>> SeqAccess<'de> for ArgsSeq<I> {
    type Error = Refused;
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> R<Option<T::Value>> {
        self.0
            .next()
            .map(|v| seed.deserialize(ScalarDe(v)))
            .transpose()
    }
}

/// The adjacent items of a list node (`address` in `from`); the first one's name is read.
struct NodeSeq<'c, 'a> {
    c: &'c mut Cursor<'a>,
    name: &'a str,
    path: Path<'a>,
    first: bool,
    ended: bool,
}

impl<'de> SeqAccess<'de> for NodeSeq<'_, 'de> {
    type Error = Refused;
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> R<Option<T::Value>> {
        if self.ended {
            return Ok(None);
        }
        if !std::mem::take(&mut self.first) {
            let at = self.c.pos;
            self.c.line_space();
            let same = self.c.peek() != Some(b'}') && self.c.name().ok() == Some(self.name);
            if !same {
                self.c.pos = at;
                self.ended = true;
                return Ok(None);
            }
        }
        seed.deserialize(NodeDe::new(self.c, self.path, true))
            .map(Some)
    }
}

/// A sequence (several arguments, or a list node's items) as a deserializer.
struct SeqDe<S>(S);

impl<'de, S: SeqAccess<'de, Error = Refused>> de::Deserializer<'de> for SeqDe<S> {
    type Error = Refused;
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> R<V::Value> {
        visitor.visit_seq(self.0)
    }
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> R<V::Value> {
        visitor.visit_some(self)
    }
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier
        ignored_any
    }
}

/// One value, seen the way its JSON form would be (as [`super::typed`] sees it).
struct ScalarDe<'s, 'a>(&'s Scalar<'a>);

impl<'de> de::Deserializer<'de> for ScalarDe<'_, 'de> {
    type Error = Refused;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> R<V::Value> {
        match self.0 {
            Scalar::Str(Cow::Borrowed(s)) => visitor.visit_borrowed_str(s),
            Scalar::Str(Cow::Owned(s)) => visitor.visit_str(s),
            Scalar::Int(i) => {
                if let Ok(i) = i64::try_from(*i) {
                    visitor.visit_i64(i)
                } else if let Ok(u) = u64::try_from(*i) {
                    visitor.visit_u64(u)
                } else {
                    Err(Refused)
                }
            }
            Scalar::Float(f) => visitor.visit_f64(*f),
            Scalar::Bool(b) => visitor.visit_bool(*b),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> R<V::Value> {
        visitor.visit_some(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> R<V::Value> {
        match self.0 {
            Scalar::Str(s) => visitor.visit_enum(s.as_ref().into_deserializer()),
            _ => Err(Refused),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct newtype_struct seq tuple tuple_struct map struct identifier
        ignored_any
    }
}
