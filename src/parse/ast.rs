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

impl Document<'_> {
    /// The document's data with spans and formatting dropped, one node per line: names, types,
    /// arguments in order, properties deduplicated (rightmost wins) and sorted, non-empty
    /// children. Two readings of a text mean the same when their canonical forms are equal
    /// (the KDL specification's test suite compares documents this way).
    pub fn canonical(&self) -> String {
        let mut out = String::new();
        // Explicit stack: documents can be deep.
        let mut stack: Vec<(std::slice::Iter<'_, Node<'_>>, usize)> = vec![(self.nodes.iter(), 0)];
        while let Some((iter, depth)) = stack.last_mut() {
            let depth = *depth;
            let Some(node) = iter.next() else {
                stack.pop();
                if depth > 0 {
                    out.push_str(&"    ".repeat(depth - 1));
                    out.push_str("}\n");
                }
                continue;
            };
            out.push_str(&"    ".repeat(depth));
            if let Some(ty) = &node.ty {
                out.push_str(&format!("({:?})", ty.value));
            }
            out.push_str(&format!("{:?}", node.name.value));
            for arg in node.args() {
                out.push(' ');
                canonical_value(&mut out, arg);
            }
            let mut props: Vec<&Entry<'_>> = Vec::new();
            for p in node.props() {
                let key = &p.name.as_ref().map(|n| &n.value);
                props.retain(|q| &q.name.as_ref().map(|n| &n.value) != key);
                props.push(p);
            }
            props.sort_by(|a, b| {
                a.name
                    .as_ref()
                    .map(|n| &n.value)
                    .cmp(&b.name.as_ref().map(|n| &n.value))
            });
            for p in props {
                out.push_str(&format!(
                    " {:?}=",
                    p.name
                        .as_ref()
                        .map(|n| &n.value)
                        .unwrap_or(&Cow::Borrowed(""))
                ));
                canonical_value(&mut out, p);
            }
            match &node.children {
                Some(c) if !c.nodes.is_empty() => {
                    out.push_str(" {\n");
                    stack.push((c.nodes.iter(), depth + 1));
                }
                _ => out.push('\n'),
            }
        }
        out
    }
}

fn canonical_value(out: &mut String, e: &Entry<'_>) {
    if let Some(ty) = &e.ty {
        out.push_str(&format!("({:?})", ty.value));
    }
    match &e.value {
        Value::String(s) => out.push_str(&format!("{s:?}")),
        Value::Integer(i) => out.push_str(&i.to_string()),
        Value::Float(f) if f.is_nan() => out.push_str("#nan"),
        Value::Float(f) => out.push_str(&format!("{f:?}f")),
        Value::Bool(b) => out.push_str(if *b { "#true" } else { "#false" }),
        Value::Null => out.push_str("#null"),
    }
}
