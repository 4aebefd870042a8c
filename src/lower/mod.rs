//! KDL document → JSON value, plus a table from JSON pointer to the KDL spans it came from.
//!
//! The mapping (documented in docs/format.md):
//! - a node with a children block is an object: its first argument is `name`, its properties
//!   and children are keys;
//! - a leaf node with one argument is that value; with several, an array; with none, null;
//! - a leaf node with properties is an object of them, its argument (if any) under `value`;
//! - nodes listed by [`crate::model::is_list_node`] collect into arrays (leaf items always take the
//!   object form); any other repeated node or property is reported (KDL keeps the last one).

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use serde_json::{Map, Number, Value as Json};

use crate::diagnostics::{Diagnostic, Label, Level, Span};
use crate::model::is_list_node;
use crate::parse::{Document, Entry, Node, Value};
use crate::source::FileId;

pub mod stream;
pub mod typed;

pub const DUPLICATE_NODE: &str = "duplicate-node";
pub const DUPLICATE_PROPERTY: &str = "duplicate-property";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Node,
    Property,
    Argument,
}

/// Where one JSON value came from.
#[derive(Debug, Clone)]
pub struct SpanEntry {
    /// The node name or property key (for arguments: the value itself).
    pub key: Span,
    /// The value: a leaf's argument, a property's value, or the whole node.
    pub value: Span,
    /// The whole node (or entry).
    pub node: Span,
    /// This step of the KDL path when it is more than the key, e.g. `account "ServiceDesk"`;
    /// `None` means the pointer's last segment (`incoming`, `port`) — see [`SpanMap::label`].
    pub label: Option<String>,
    pub origin: Origin,
}

/// FxHash: the pointer table is built for every node of every file, and SipHash's DoS
/// resistance buys nothing for keys taken from the user's own files.
#[derive(Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
}

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            buf[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(buf));
        }
    }
    fn write_u8(&mut self, b: u8) {
        self.add(b as u64);
    }
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
    fn finish(&self) -> u64 {
        self.hash
    }
}

pub type FastMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<FxHasher>>;
pub type FastSet<K> = std::collections::HashSet<K, std::hash::BuildHasherDefault<FxHasher>>;

/// JSON pointer → where the value came from, for one file.
///
/// Files that took the fast path ([`typed`]) have no table until something asks for a span
/// (a finding, a fix, a hover); then only the top-level node the pointer lies in is read and
/// lowered again, once. A valid file that nobody asks about never pays for it, and one finding
/// in a large file costs one node, not the file.
#[derive(Debug, Clone)]
pub struct SpanMap(Spans);

#[derive(Debug, Clone)]
enum Spans {
    /// Lowered the full way: every entry is there.
    Built(Table),
    /// Took the fast path: entries are made per top-level node when first asked for.
    Deferred(Arc<Deferred>),
}

impl Default for SpanMap {
    fn default() -> Self {
        SpanMap(Spans::Built(Table::default()))
    }
}

#[derive(Debug)]
struct Deferred {
    file: FileId,
    /// The file's text, shared with its [`crate::source::SourceFile`] (held once).
    text: Arc<String>,
    /// Per top-level node, in file order.
    items: Vec<DeferredItem>,
    /// Item pointer → index in `items`, built at the first lookup (only files with findings
    /// pay for it), so each lookup is one hash probe whatever the file's size.
    index: OnceLock<FastMap<String, usize>>,
}

/// A top-level node that took the fast path.
#[derive(Debug)]
pub struct DeferredItem {
    /// `/account/3`, `/credential/0`, `/system`.
    pub pointer: String,
    /// Where the node starts in the file.
    pub start: usize,
    table: OnceLock<Table>,
}

impl DeferredItem {
    pub fn new(pointer: String, start: usize) -> Self {
        DeferredItem {
            pointer,
            start,
            table: OnceLock::new(),
        }
    }
}

#[derive(Debug, Clone, Default)]
struct Table {
    entries: FastMap<String, SpanEntry>,
}

impl SpanMap {
    /// A table built piece by piece on first use, by reading `items` of `text` again.
    pub fn deferred(file: FileId, text: Arc<String>, items: Vec<DeferredItem>) -> Self {
        SpanMap(Spans::Deferred(Arc::new(Deferred {
            file,
            text,
            items,
            index: OnceLock::new(),
        })))
    }

    fn built(table: Table) -> Self {
        SpanMap(Spans::Built(table))
    }

    /// The table that holds `pointer`, if any can.
    fn table_for(&self, pointer: &str) -> Option<&Table> {
        let d = match &self.0 {
            Spans::Built(table) => return Some(table),
            Spans::Deferred(d) => d,
        };
        let index = d.index.get_or_init(|| {
            d.items
                .iter()
                .enumerate()
                .map(|(i, item)| (item.pointer.clone(), i))
                .collect()
        });
        // `/account/3/incoming/port` lies in `/account/3`; `/system/…` in `/system`.
        let prefix = |segments: usize| {
            let end = pointer
                .match_indices('/')
                .nth(segments)
                .map_or(pointer.len(), |(i, _)| i);
            &pointer[..end]
        };
        let at = index.get(prefix(2)).or_else(|| index.get(prefix(1)))?;
        let item = &d.items[*at];
        Some(item.table.get_or_init(|| d.build(item)))
    }

    pub fn get(&self, pointer: &str) -> Option<&SpanEntry> {
        self.table_for(pointer)?.entries.get(pointer)
    }

    /// The entry for `pointer`, or for its nearest ancestor that has one.
    pub fn nearest(&self, pointer: &str) -> Option<(&str, &SpanEntry)> {
        let entries = &self.table_for(pointer)?.entries;
        let mut p = pointer;
        loop {
            if let Some((k, e)) = entries.get_key_value(p) {
                return Some((k.as_str(), e));
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return None,
            }
        }
    }

    /// `account "ServiceDesk" › incoming › port` for `/account/0/incoming/port`.
    pub fn kdl_path(&self, pointer: &str) -> String {
        self.table_for(pointer)
            .map(|t| t.kdl_path(pointer))
            .unwrap_or_default()
    }

    /// This step of the KDL path for `pointer` (`account "ServiceDesk"`, `incoming`, `port`).
    pub fn label(&self, pointer: &str) -> Option<std::borrow::Cow<'_, str>> {
        let (k, e) = self.table_for(pointer)?.entries.get_key_value(pointer)?;
        Some(label_of(k, e))
    }

    /// Every (pointer, entry), in no particular order.
    pub fn iter(&self) -> Box<dyn Iterator<Item = (&str, &SpanEntry)> + '_> {
        let tables: Vec<&Table> = match &self.0 {
            Spans::Built(table) => vec![table],
            Spans::Deferred(d) => d
                .items
                .iter()
                .map(|i| i.table.get_or_init(|| d.build(i)))
                .collect(),
        };
        Box::new(
            tables
                .into_iter()
                .flat_map(|t| t.entries.iter().map(|(k, v)| (k.as_str(), v))),
        )
    }
}

impl Deferred {
    fn build(&self, item: &DeferredItem) -> Table {
        let Some(node) = crate::parse::reader::read_one(self.file, &self.text, item.start) else {
            return Table::default();
        };
        let mut l = Lowerer::new(self.file);
        let name: &str = &node.name.value;
        let mut names = vec![name];
        let list_item = is_list_node(&[], name);
        l.node(&node, &item.pointer, &mut names, list_item);
        l.spans
    }
}

impl Table {
    fn get(&self, pointer: &str) -> Option<&SpanEntry> {
        self.entries.get(pointer)
    }

    fn kdl_path(&self, pointer: &str) -> String {
        let mut parts = Vec::new();
        let mut end = 0;
        while end < pointer.len() {
            end = pointer[end + 1..]
                .find('/')
                .map(|i| end + 1 + i)
                .unwrap_or(pointer.len());
            if let Some((k, e)) = self.entries.get_key_value(&pointer[..end]) {
                if e.origin != Origin::Argument {
                    parts.push(label_of(k, e).into_owned());
                }
            }
        }
        parts.join(" › ")
    }

    fn insert(&mut self, pointer: String, entry: SpanEntry) {
        self.entries.insert(pointer, entry);
    }
}

fn label_of<'s>(pointer: &'s str, e: &'s SpanEntry) -> std::borrow::Cow<'s, str> {
    match &e.label {
        Some(l) => l.as_str().into(),
        None => unescape_pointer(pointer.rsplit('/').next().unwrap_or("")),
    }
}

pub struct Lowered {
    pub value: Json,
    pub spans: SpanMap,
    pub diagnostics: Vec<Diagnostic>,
}

pub fn escape_pointer(key: &str) -> std::borrow::Cow<'_, str> {
    if key.contains(['~', '/']) {
        key.replace('~', "~0").replace('/', "~1").into()
    } else {
        key.into()
    }
}

fn unescape_pointer(segment: &str) -> std::borrow::Cow<'_, str> {
    if segment.contains('~') {
        segment.replace("~1", "/").replace("~0", "~").into()
    } else {
        segment.into()
    }
}

pub fn lower(file: FileId, doc: &Document<'_>) -> Lowered {
    let mut l = Lowerer::new(file);
    let mut root = Map::new();
    let mut names = Vec::new();
    l.nodes(&doc.nodes, "", &mut names, &mut root);
    Lowered {
        value: Json::Object(root),
        spans: SpanMap::built(l.spans),
        diagnostics: l.diagnostics,
    }
}

struct Lowerer {
    file: FileId,
    spans: Table,
    diagnostics: Vec<Diagnostic>,
    /// pointer → span of the first definition, kept only for repeated pointers (the span table
    /// knows every other one, and its entry is replaced by the repetition).
    first_seen: FastMap<String, Span>,
}

impl Lowerer {
    fn new(file: FileId) -> Self {
        Lowerer {
            file,
            spans: Table::default(),
            diagnostics: Vec::new(),
            first_seen: FastMap::default(),
        }
    }
}

fn scalar(v: &Value<'_>) -> Json {
    match v {
        Value::String(s) => Json::String(s.to_string()),
        Value::Integer(i) => {
            if let Ok(i) = i64::try_from(*i) {
                Json::Number(i.into())
            } else if let Ok(u) = u64::try_from(*i) {
                Json::Number(u.into())
            } else {
                Number::from_f64(*i as f64).map_or(Json::Null, Json::Number)
            }
        }
        Value::Float(f) => Number::from_f64(*f).map_or(Json::Null, Json::Number),
        Value::Bool(b) => Json::Bool(*b),
        Value::Null => Json::Null,
    }
}

fn node_label(node: &Node<'_>) -> Option<String> {
    match (node.children.is_some(), node.args().next()) {
        (
            true,
            Some(Entry {
                value: Value::String(s),
                ..
            }),
        ) => {
            let name = &node.name.value;
            // The label names a block in paths and messages: never by a secret, never at length.
            if crate::parse::redact::SECRET_NAMES.contains(&name.as_ref()) {
                return Some(format!("{name} {}", crate::parse::redact::MASK));
            }
            Some(format!("{name} {:?}", crate::parse::redact::clip(s)))
        }
        _ => None,
    }
}

impl Lowerer {
    fn nodes<'d>(
        &mut self,
        nodes: &'d [Node<'d>],
        parent: &str,
        names: &mut Vec<&'d str>,
        obj: &mut Map<String, Json>,
    ) {
        for node in nodes {
            let name: &str = &node.name.value;
            let key_ptr = format!("{parent}/{}", escape_pointer(name));
            if is_list_node(names, name) {
                let arr = obj
                    .entry(name.to_string())
                    .or_insert_with(|| Json::Array(Vec::new()));
                if !arr.is_array() {
                    *arr = Json::Array(Vec::new());
                }
                let index = arr.as_array().map_or(0, Vec::len);
                let ptr = format!("{key_ptr}/{index}");
                names.push(name);
                let value = self.node(node, &ptr, names, true);
                names.pop();
                if let Some(a) = obj.get_mut(name).and_then(Json::as_array_mut) {
                    a.push(value);
                }
                continue;
            }
            self.check_duplicate(&key_ptr, node.name.span, DUPLICATE_NODE, "node", name);
            names.push(name);
            let value = self.node(node, &key_ptr, names, false);
            names.pop();
            obj.insert(name.to_string(), value);
        }
    }

    fn check_duplicate(
        &mut self,
        ptr: &str,
        span: Span,
        rule: &'static str,
        what: &str,
        name: &str,
    ) {
        let first = match self.first_seen.get(ptr) {
            Some(first) => Some(*first),
            None => self.spans.get(ptr).map(|e| e.key),
        };
        if let Some(first) = first {
            self.first_seen.entry(ptr.to_string()).or_insert(first);
            let d = Diagnostic::new(
                rule,
                Level::Error,
                Label::new(self.file, span).with_text("repeated here"),
                format!("`{name}` is given more than once; KDL would silently keep only the last {what}"),
            )
            .with_related(Label::new(self.file, first).with_text("first given here"))
            .with_help(format!("keep one `{name}` {what}"))
            .with_path(self.spans.kdl_path(ptr));
            self.diagnostics.push(d);
        }
    }

    fn node<'d>(
        &mut self,
        node: &'d Node<'d>,
        ptr: &str,
        names: &mut Vec<&'d str>,
        list_item: bool,
    ) -> Json {
        let args: Vec<&Entry<'_>> = node.args().collect();
        let has_props = node.props().next().is_some();
        let leaf_single = node.children.is_none() && !has_props && args.len() == 1 && !list_item;
        self.spans.insert(
            ptr.to_string(),
            SpanEntry {
                key: node.name.span,
                value: if leaf_single {
                    args[0].value_span
                } else {
                    node.span
                },
                node: node.span,
                label: node_label(node),
                origin: Origin::Node,
            },
        );
        if node.children.is_none() && !has_props && !list_item {
            return match args.len() {
                0 => Json::Null,
                1 => scalar(&args[0].value),
                _ => self.arg_list(ptr, &args),
            };
        }
        let mut obj = Map::new();
        let arg_key = if node.children.is_some() {
            "name"
        } else {
            "value"
        };
        match args.len() {
            0 => {}
            1 => {
                self.arg_span(format!("{ptr}/{arg_key}"), args[0]);
                obj.insert(arg_key.into(), scalar(&args[0].value));
            }
            _ => {
                let list = self.arg_list(&format!("{ptr}/{arg_key}"), &args);
                obj.insert(arg_key.into(), list);
            }
        }
        for prop in node.props() {
            let Some(key) = &prop.name else { continue };
            let kp = format!("{ptr}/{}", escape_pointer(&key.value));
            self.check_duplicate(&kp, key.span, DUPLICATE_PROPERTY, "property", &key.value);
            self.spans.insert(
                kp,
                SpanEntry {
                    key: key.span,
                    value: prop.value_span,
                    node: prop.span,
                    label: None,
                    origin: Origin::Property,
                },
            );
            obj.insert(key.value.to_string(), scalar(&prop.value));
        }
        if let Some(children) = &node.children {
            self.nodes(&children.nodes, ptr, names, &mut obj);
        }
        Json::Object(obj)
    }

    /// Several arguments: an array at `ptr`, each item with its own span.
    fn arg_list(&mut self, ptr: &str, args: &[&Entry<'_>]) -> Json {
        Json::Array(
            args.iter()
                .enumerate()
                .map(|(i, a)| {
                    self.arg_span(format!("{ptr}/{i}"), a);
                    scalar(&a.value)
                })
                .collect(),
        )
    }

    fn arg_span(&mut self, ptr: String, a: &Entry<'_>) {
        self.spans.insert(
            ptr,
            SpanEntry {
                key: a.value_span,
                value: a.value_span,
                node: a.span,
                label: None,
                origin: Origin::Argument,
            },
        );
    }
}
