//! The fast path of lowering: a top-level KDL node straight into its typed model, without the
//! JSON value, the span table or the JSON Schema.
//!
//! It is a serde `Deserializer` over the parse tree that follows the same mapping as
//! [`super::lower`] (children blocks and properties become objects, a leaf's single argument
//! its value, list nodes arrays), but refuses everything the schema could object to: `#null`,
//! repeated nodes or properties, values the model types do not take. A refusal costs nothing:
//! the file then goes the full way (lower → schema → model), which names the problem with its
//! span. So the fast path only ever speeds up documents that are valid, and a test
//! (`tests/it/fast_path.rs`) holds it to giving the same model as the full way on every example,
//! fixture and generated document, and to never accepting what the schema rejects.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::model::{is_list_node, Account, Credential, System};
use crate::parse::{Entry, Node, Value};

/// A top-level node, typed.
#[derive(Clone)]
pub enum Item {
    Account(Account),
    Credential(Credential),
    System(System),
}

/// `None` when the node is not a valid `account`, `credential` or `system` (or is anything
/// else): the caller then takes the full way for the whole file.
pub fn item(node: &Node<'_>) -> Option<Item> {
    let name: &str = &node.name.value;
    let path = Path::root();
    match name {
        "account" => Account::deserialize(NodeDe::new(node, path.child(name), true))
            .ok()
            .map(Item::Account),
        "credential" => Credential::deserialize(NodeDe::new(node, path.child(name), true))
            .ok()
            .map(Item::Credential),
        "system" => System::deserialize(NodeDe::new(node, path.child(name), false))
            .ok()
            .map(Item::System),
        _ => None,
    }
}

/// Why the fast path gave up. Carries nothing: the full way finds and words the problem.
#[derive(Debug)]
pub struct Refused;

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not on the fast path")
    }
}

impl std::error::Error for Refused {}

impl de::Error for Refused {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Refused
    }
}

/// Node names from the root to here (list indices left out), as [`is_list_node`] wants them.
/// Valid documents are three levels deep; anything deeper is never a list node.
/// The stream reader (`super::stream`) walks the same paths.
#[derive(Clone, Copy)]
pub(super) struct Path<'p> {
    names: [&'p str; 4],
    len: usize,
}

impl<'p> Path<'p> {
    pub(super) fn root() -> Self {
        Path {
            names: [""; 4],
            len: 0,
        }
    }
    pub(super) fn child(mut self, name: &'p str) -> Self {
        if self.len < self.names.len() {
            self.names[self.len] = name;
        }
        self.len += 1;
        self
    }
    pub(super) fn is_list(&self, name: &str) -> bool {
        self.len <= self.names.len() && is_list_node(&self.names[..self.len], name)
    }
}

struct NodeDe<'n> {
    node: &'n Node<'n>,
    path: Path<'n>,
    /// List items always take the object form (see [`super::lower`]).
    list_item: bool,
}

impl<'n> NodeDe<'n> {
    fn new(node: &'n Node<'n>, path: Path<'n>, list_item: bool) -> Self {
        NodeDe {
            node,
            path,
            list_item,
        }
    }

    /// A leaf without properties stands for its argument(s).
    fn is_scalar_leaf(&self) -> bool {
        self.node.children.is_none() && !self.list_item && self.node.props().next().is_none()
    }
}

/// One value of an object being read.
enum Field<'n> {
    Scalar(&'n Value<'n>),
    Args(Vec<&'n Entry<'n>>),
    Node(&'n Node<'n>),
    List(Vec<&'n Node<'n>>),
}

impl<'de, 'n> de::Deserializer<'de> for NodeDe<'n> {
    type Error = Refused;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refused> {
        let node = self.node;
        if self.is_scalar_leaf() {
            let mut args = node.args();
            return match (args.next(), args.next()) {
                (None, _) => Err(Refused), // `#null`: the schema never takes it
                (Some(a), None) => ScalarDe(&a.value).deserialize_any(visitor),
                (Some(_), Some(_)) => {
                    visitor.visit_seq(ArgsSeq(node.args().collect::<Vec<_>>().into_iter()))
                }
            };
        }
        let mut fields: Vec<(&'n str, Field<'n>)> = Vec::with_capacity(8);
        let arg_key = if node.children.is_some() {
            "name"
        } else {
            "value"
        };
        let args: Vec<&'n Entry<'n>> = node.args().collect();
        match args.len() {
            0 => {}
            1 => fields.push((arg_key, Field::Scalar(&args[0].value))),
            _ => fields.push((arg_key, Field::Args(args))),
        }
        for prop in node.props() {
            let Some(key) = &prop.name else { continue };
            let key: &'n str = &key.value;
            if fields.iter().any(|(k, _)| *k == key) {
                return Err(Refused);
            }
            fields.push((key, Field::Scalar(&prop.value)));
        }
        if let Some(children) = &node.children {
            for child in &children.nodes {
                let name: &'n str = &child.name.value;
                let existing = fields.iter_mut().find(|(k, _)| *k == name);
                if self.path.is_list(name) {
                    match existing {
                        Some((_, Field::List(items))) => items.push(child),
                        Some(_) => return Err(Refused),
                        None => fields.push((name, Field::List(vec![child]))),
                    }
                } else if existing.is_some() {
                    return Err(Refused);
                } else {
                    fields.push((name, Field::Node(child)));
                }
            }
        }
        visitor.visit_map(Fields {
            fields: fields.into_iter(),
            value: None,
            path: self.path,
        })
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refused> {
        visitor.visit_some(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Refused> {
        if self.is_scalar_leaf() {
            let mut args = self.node.args();
            if let (Some(a), None) = (args.next(), args.next()) {
                return ScalarDe(&a.value).deserialize_enum(name, variants, visitor);
            }
        }
        Err(Refused)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct newtype_struct seq tuple tuple_struct map struct identifier
        ignored_any
    }
}

struct Fields<'n> {
    fields: std::vec::IntoIter<(&'n str, Field<'n>)>,
    value: Option<(&'n str, Field<'n>)>,
    path: Path<'n>,
}

impl<'de, 'n> MapAccess<'de> for Fields<'n> {
    type Error = Refused;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Refused> {
        let Some((key, field)) = self.fields.next() else {
            return Ok(None);
        };
        self.value = Some((key, field));
        seed.deserialize(key.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Refused> {
        let (key, field) = self.value.take().ok_or(Refused)?;
        match field {
            Field::Scalar(v) => seed.deserialize(ScalarDe(v)),
            Field::Args(args) => seed.deserialize(SeqDe(ArgsSeq(args.into_iter()))),
            Field::Node(node) => seed.deserialize(NodeDe::new(node, self.path.child(key), false)),
            Field::List(nodes) => seed.deserialize(SeqDe(NodeSeq {
                nodes: nodes.into_iter(),
                path: self.path.child(key),
            })),
        }
    }
}

struct ArgsSeq<'n>(std::vec::IntoIter<&'n Entry<'n>>);

impl<'de, 'n> SeqAccess<'de> for ArgsSeq<'n> {
    type Error = Refused;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Refused> {
        self.0
            .next()
            .map(|e| seed.deserialize(ScalarDe(&e.value)))
            .transpose()
    }
}

struct NodeSeq<'n> {
    nodes: std::vec::IntoIter<&'n Node<'n>>,
    path: Path<'n>,
}

impl<'de, 'n> SeqAccess<'de> for NodeSeq<'n> {
    type Error = Refused;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Refused> {
        self.nodes
            .next()
            .map(|n| seed.deserialize(NodeDe::new(n, self.path, true)))
            .transpose()
    }
}

/// A sequence (several arguments, or a list node's items) as a deserializer.
struct SeqDe<S>(S);

impl<'de, S: SeqAccess<'de, Error = Refused>> de::Deserializer<'de> for SeqDe<S> {
    type Error = Refused;
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refused> {
        visitor.visit_seq(self.0)
    }
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refused> {
        visitor.visit_some(self)
    }
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier
        ignored_any
    }
}

/// One KDL value, seen the way its JSON form would be.
struct ScalarDe<'n>(&'n Value<'n>);

impl<'de, 'n> de::Deserializer<'de> for ScalarDe<'n> {
    type Error = Refused;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refused> {
        match self.0 {
            Value::String(s) => match s {
                Cow::Borrowed(s) => visitor.visit_str(s),
                Cow::Owned(s) => visitor.visit_str(s),
            },
            Value::Integer(i) => {
                if let Ok(i) = i64::try_from(*i) {
                    visitor.visit_i64(i)
                } else if let Ok(u) = u64::try_from(*i) {
                    visitor.visit_u64(u)
                } else {
                    Err(Refused)
                }
            }
            Value::Float(f) if f.is_finite() => visitor.visit_f64(*f),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Float(_) | Value::Null => Err(Refused),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refused> {
        match self.0 {
            Value::Null => Err(Refused),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Refused> {
        match self.0 {
            Value::String(s) => visitor.visit_enum(s.as_ref().into_deserializer()),
            _ => Err(Refused),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct newtype_struct seq tuple tuple_struct map struct identifier
        ignored_any
    }
}
