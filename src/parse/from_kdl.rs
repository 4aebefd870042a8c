//! Conversion from the kdl crate's document to ours.

use std::borrow::Cow;

use kdl::{KdlDocument, KdlEntry, KdlIdentifier, KdlNode, KdlValue};

use super::ast::{Children, Document, Entry, Ident, Node, Value};
use crate::diagnostics::Span;

pub fn convert<'a>(doc: &KdlDocument, text: &'a str) -> Document<'a> {
    Document {
        nodes: doc.nodes().iter().map(|n| node(n, text)).collect(),
    }
}

fn span_of(s: miette::SourceSpan) -> Span {
    Span::new(s.offset(), s.offset() + s.len())
}

fn ident<'a>(id: &KdlIdentifier) -> Ident<'a> {
    Ident {
        value: Cow::Owned(id.value().to_string()),
        span: span_of(id.span()),
    }
}

fn node<'a>(n: &KdlNode, text: &'a str) -> Node<'a> {
    Node {
        ty: n.ty().map(ident),
        name: ident(n.name()),
        entries: n.entries().iter().map(|e| entry(e, text)).collect(),
        children: n.children().map(|c| Children {
            nodes: c.nodes().iter().map(|n| node(n, text)).collect(),
            span: span_of(c.span()),
        }),
        span: span_of(n.span()),
    }
}

fn entry<'a>(e: &KdlEntry, text: &'a str) -> Entry<'a> {
    let span = span_of(e.span());
    Entry {
        name: e.name().map(ident),
        ty: e.ty().map(ident),
        value: value(e.value()),
        value_span: value_span(e, span, text),
        span,
    }
}

/// The kdl crate spans whole entries; the value is what follows `=` and any `(type)`.
pub(crate) fn value_span(e: &KdlEntry, span: Span, text: &str) -> Span {
    let Some(slice) = text.get(span.start..span.end) else {
        return span;
    };
    let mut start = 0;
    if let Some(name) = e.name() {
        let after_name = name.span().offset() + name.span().len();
        start = after_name.saturating_sub(span.start);
        if let Some(eq) = slice.get(start..).and_then(|s| s.find('=')) {
            start += eq + 1;
        }
    }
    if let Some(ty) = e.ty() {
        let after_ty = ty.span().offset() + ty.span().len();
        if let Some(close) = text
            .get(after_ty..span.end)
            .and_then(|s| s.find(')'))
            .map(|i| after_ty + i + 1 - span.start)
        {
            start = start.max(close);
        }
    }
    let mut rest = &slice[start.min(slice.len())..];
    // Space, block comments and line continuations may sit between `=` or `)` and the value.
    loop {
        let t = rest.trim_start();
        if let Some(body) = t.strip_prefix("/*") {
            rest = skip_block_comment(body);
        } else if let Some(after) = t.strip_prefix('\\') {
            rest = after.find('\n').map_or("", |i| &after[i + 1..]);
        } else {
            rest = t;
            break;
        }
    }
    let s = span.end - rest.len();
    Span::new(s, s + rest.trim_end().len())
}

fn value<'a>(v: &KdlValue) -> Value<'a> {
    match v {
        KdlValue::String(s) => Value::String(Cow::Owned(s.clone())),
        KdlValue::Integer(i) => Value::Integer(*i),
        KdlValue::Float(f) => Value::Float(*f),
        KdlValue::Bool(b) => Value::Bool(*b),
        KdlValue::Null => Value::Null,
    }
}

/// The text after a (nested) block comment whose opening `/*` was already removed.
fn skip_block_comment(mut s: &str) -> &str {
    let mut level = 1;
    while level > 0 {
        match (s.find("/*"), s.find("*/")) {
            (Some(o), Some(c)) if o < c => {
                level += 1;
                s = &s[o + 2..];
            }
            (_, Some(c)) => {
                level -= 1;
                s = &s[c + 2..];
            }
            _ => return "",
        }
    }
    s
}
