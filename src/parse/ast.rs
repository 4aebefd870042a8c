//! The parse stage's data type: a KDL document with a byte span on every node, name, entry and
//! value. Strings borrow from the source where they can.

use std::borrow::Cow;

use crate::diagnostics::Span;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Document<'a> {
    pub nodes: Vec<Node<'a>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node<'a> {
    pub ty: Option<Ident<'a>>,
    pub name: Ident<'a>,
    pub entries: Vec<Entry<'a>>,
    pub children: Option<Children<'a>>,
    /// The whole node, as the kdl crate reports it.
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Children<'a> {
    pub nodes: Vec<Node<'a>>,
    /// The block's contents between the braces, as the kdl crate reports it.
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Ident<'a> {
    pub value: Cow<'a, str>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry<'a> {
    /// Set for properties (`key=value`), `None` for arguments.
    pub name: Option<Ident<'a>>,
    pub ty: Option<Ident<'a>>,
    pub value: Value<'a>,
    /// Just the value (after `=` for a property, after the type annotation if any).
    pub value_span: Span,
    /// The whole entry, as the kdl crate reports it.
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    String(Cow<'a, str>),
    Integer(i128),
    Float(f64),
    Bool(bool),
    Null,
}

impl Value<'_> {
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::String(_) => "string",
            Value::Integer(_) => "integer",
            Value::Float(_) => "number",
            Value::Bool(_) => "boolean",
            Value::Null => "null",
        }
    }
}

impl Node<'_> {
    pub fn args(&self) -> impl Iterator<Item = &Entry<'_>> {
        self.entries.iter().filter(|e| e.name.is_none())
    }
    pub fn props(&self) -> impl Iterator<Item = &Entry<'_>> {
        self.entries.iter().filter(|e| e.name.is_some())
    }
}
