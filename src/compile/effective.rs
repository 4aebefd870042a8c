//! One account's effective settings, for `mailcfg show`: its part of the store (every default
//! resolved by the same code as `compile`) and, for every value, where it comes from — written
//! in a file (which line), a default, or derived from other settings.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Serialize;
use serde_json::Value as Json;

use super::store::{digest_of, is_secret_field, StoreAccount};
use crate::lower::escape_pointer;
use crate::model::{Account, Located};
use crate::pipeline::Checked;
use crate::source::FileId;

/// What a literal secret is shown as: the store's inline form with the value masked, so the
/// account's JSON keeps the store's shape and no value is ever printed.
pub const MASKED: &str = "********";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// Set in an account file (or, for the conversation prefix, in the `system` node).
    Written,
    /// Not set: the value is what CSM uses when the setting is left alone.
    Default,
    /// Follows from other settings (how the account logs in follows from its password or
    /// credential); there is no node for it.
    Derived,
}

/// Where one value of the account comes from.
#[derive(Debug, Clone, Serialize)]
pub struct FieldOrigin {
    /// JSON pointer into the account's store object, e.g. `/incoming/port`.
    pub pointer: String,
    pub origin: Origin,
    /// `file:line` of the node that sets it, for written values.
    pub at: Option<String>,
}

/// What `mailcfg show --format json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct Effective {
    /// The account exactly as the store holds it (literal secrets masked).
    pub account: StoreAccount,
    /// `file:line` of the account node as the other places are shown (the store's `source` is
    /// relative to the compiled directory instead).
    #[serde(skip)]
    pub place: String,
    /// Every value of `account` (but its name, source and digest), in document order.
    pub origins: Vec<FieldOrigin>,
}

/// The effective settings of `located`, whose store form is `account`.
pub fn effective(
    checked: &Checked,
    located: &Located<Account>,
    account: &StoreAccount,
) -> Effective {
    let mut json = serde_json::to_value(account).expect("a store account serializes");
    mask_secret_values(&mut json);
    let mut account: StoreAccount =
        serde_json::from_value(json).expect("a masked store account is a store account");
    // The digest covers the values: one over a literal password could be brute-forced.
    account.digest = digest_of(&account);
    let mut leaves = Vec::new();
    collect_leaves(&ordered(&account), String::new(), &mut leaves);
    let origins = leaves
        .into_iter()
        .filter(|p| {
            !matches!(
                p.as_str(),
                "/name" | "/source/file" | "/source/line" | "/digest"
            )
        })
        .map(|pointer| {
            let (origin, at) = origin_of(checked, located, &pointer);
            FieldOrigin {
                pointer,
                origin,
                at,
            }
        })
        .collect();
    let source = checked.sources.get(located.file);
    let start = checked
        .context()
        .span(located, "", crate::rules::Part::Node)
        .start;
    let place = format!("{}:{}", source.display_path(), source.line_col(start).0);
    Effective {
        account,
        place,
        origins,
    }
}

/// Replaces the value of every secret field (wherever the store's layout puts one) by [`MASKED`].
fn mask_secret_values(v: &mut Json) {
    match v {
        Json::Object(map) => {
            for (key, child) in map.iter_mut() {
                if is_secret_field(key) {
                    if let Some(value) = child.get_mut("value") {
                        *value = Json::String(MASKED.into());
                    }
                } else {
                    mask_secret_values(child);
                }
            }
        }
        Json::Array(items) => items.iter_mut().for_each(mask_secret_values),
        _ => {}
    }
}

/// Pointers of every scalar, null and secret in `v`, in document order.
fn collect_leaves(v: &Ordered, at: String, out: &mut Vec<String>) {
    let key = at.rsplit('/').next().unwrap_or("");
    match v {
        Ordered::Object(map) if !is_secret_field(key) => {
            for (k, child) in map {
                collect_leaves(child, format!("{at}/{}", escape_pointer(k)), out);
            }
        }
        Ordered::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                collect_leaves(child, format!("{at}/{i}"), out);
            }
        }
        _ => out.push(at),
    }
}

/// The nodes of the account files that can set the store value at `pointer`, the one that
/// wins first: (file, pointer into the file's lowered JSON). None for a derived value.
fn source_nodes(
    checked: &Checked,
    located: &Located<Account>,
    pointer: &str,
) -> Option<Vec<(FileId, String)>> {
    let segments: Vec<&str> = pointer.split('/').skip(1).collect();
    let in_account = |rel: String| (located.file, format!("{}{rel}", located.pointer));
    let one = |rel: String| Some(vec![in_account(rel)]);
    match segments.as_slice() {
        ["incoming", "authentication"] => None,
        ["conversation_id", "placement"] => one("/conversation-id".into()),
        ["conversation_id", "prefix"] => {
            let system = checked.project.systems.first()?;
            Some(vec![(
                system.file,
                format!("{}/conversation-prefix", system.pointer),
            )])
        }
        ["from", "addresses", i, "address"] => one(format!("/from/address/{i}/value")),
        ["from", "addresses", i, "default"] => one(format!("/from/address/{i}/default")),
        // `trusted-agent group="X"` (or `"any"`): one node, whatever the store makes of it.
        ["trusted_agent", ..] => one("/trusted-agent".into()),
        // A section's own padlock, else the account's `lock` (the shorthand for both sections).
        [section, "lock", switch] => Some(vec![
            in_account(format!("/{section}/lock/{switch}")),
            in_account(format!("/lock/{switch}")),
        ]),
        // Store keys are the file's node names in snake_case.
        _ => one(segments
            .iter()
            .map(|s| format!("/{}", s.replace('_', "-")))
            .collect()),
    }
}

fn origin_of(
    checked: &Checked,
    located: &Located<Account>,
    pointer: &str,
) -> (Origin, Option<String>) {
    let Some(candidates) = source_nodes(checked, located, pointer) else {
        return (Origin::Derived, None);
    };
    for (file, node) in candidates {
        if let Some(entry) = checked.spans[file.index()].get(&node) {
            let source = checked.sources.get(file);
            let (line, _) = source.line_col(entry.node.start);
            return (
                Origin::Written,
                Some(format!("{}:{line}", source.display_path())),
            );
        }
    }
    (Origin::Default, None)
}

impl Effective {
    fn origin(&self, pointer: &str) -> Option<&FieldOrigin> {
        self.origins.iter().find(|o| o.pointer == pointer)
    }

    /// The account in the account language, one setting per line, each marked with where its
    /// value comes from. Values left unset (null) are not shown.
    pub fn to_kdl(&self) -> String {
        let mut lines = vec![Line {
            depth: 0,
            text: format!("account {} {{", kdl_string(&self.account.name)),
            pointers: Vec::new(),
        }];
        if let Ordered::Object(map) = ordered(&self.account) {
            for (key, value) in &map {
                if matches!(key.as_str(), "name" | "source" | "digest") {
                    continue;
                }
                self.node(key, value, &format!("/{key}"), 1, &mut lines);
            }
        }
        lines.push(Line {
            depth: 0,
            text: "}".into(),
            pointers: Vec::new(),
        });
        let width = lines
            .iter()
            .filter(|l| !l.pointers.is_empty())
            .map(|l| l.depth * 4 + l.text.chars().count())
            .max()
            .unwrap_or(0);
        let mut out = format!(
            "// The effective settings of account {} ({}): every default filled in.\n\
             // Each line says where its value comes from: written (file:line), default, or derived.\n",
            kdl_string(&self.account.name),
            self.place
        );
        for l in &lines {
            let indented = format!("{}{}", "    ".repeat(l.depth), l.text);
            if l.pointers.is_empty() {
                out.push_str(&indented);
            } else {
                let pad = width - indented.chars().count();
                out.push_str(&format!(
                    "{indented}{}  // {}",
                    " ".repeat(pad),
                    self.marker(&l.pointers)
                ));
            }
            out.push('\n');
        }
        out
    }

    /// The marker of a line setting the values at `pointers`: one origin when they share it
    /// (`written accounts/a.kdl:7`), else each value's own.
    fn marker(&self, pointers: &[String]) -> String {
        let describe = |o: &FieldOrigin| match (&o.origin, &o.at) {
            (Origin::Written, Some(at)) => format!("written {at}"),
            (origin, _) => format!("{origin:?}").to_lowercase(),
        };
        let origins: Vec<&FieldOrigin> = pointers.iter().filter_map(|p| self.origin(p)).collect();
        let kinds: Vec<Origin> = origins.iter().map(|o| o.origin).collect();
        if kinds.windows(2).all(|w| w[0] == w[1]) {
            return origins.first().map(|o| describe(o)).unwrap_or_default();
        }
        origins
            .iter()
            .map(|o| {
                format!(
                    "{}: {}",
                    o.pointer.rsplit('/').next().unwrap_or(""),
                    describe(o)
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn node(&self, key: &str, value: &Ordered, pointer: &str, depth: usize, lines: &mut Vec<Line>) {
        let name = key.replace('_', "-");
        let leaf = |text: String, pointers: Vec<String>| Line {
            depth,
            text,
            pointers,
        };
        match (key, value) {
            (_, Ordered::Scalar(Json::Null)) => {}
            ("conversation_id", Ordered::Object(_)) => {
                let placement = value
                    .get("placement")
                    .and_then(Json::as_str)
                    .unwrap_or("none");
                // "none" is the store's word for a `conversation-id` left out; the node has no
                // such value.
                let text = match placement {
                    "none" => "// no conversation-id: no conversation IDs are added".to_string(),
                    _ => format!("conversation-id {}", kdl_string(placement)),
                };
                lines.push(leaf(text, vec![format!("{pointer}/placement")]));
                if placement != "none" {
                    let prefix = match value.get("prefix").and_then(Json::as_str) {
                        Some(p) => format!("// system conversation-prefix {}", kdl_string(p)),
                        None => "// no system conversation-prefix: CSM picks one".into(),
                    };
                    lines.push(leaf(prefix, vec![format!("{pointer}/prefix")]));
                }
            }
            ("trusted_agent", Ordered::Object(_)) => {
                let text = match (value.get("use").and_then(Json::as_str), value.get("group")) {
                    (_, Some(Json::String(group))) => {
                        format!("trusted-agent group={}", kdl_string(group))
                    }
                    (Some(choice), _) => format!("trusted-agent {}", kdl_string(choice)),
                    _ => "trusted-agent".into(),
                };
                let pointers = match value {
                    Ordered::Object(map) => {
                        map.iter().map(|(k, _)| format!("{pointer}/{k}")).collect()
                    }
                    _ => Vec::new(),
                };
                lines.push(leaf(text, pointers));
            }
            ("trusted_agent", Ordered::Scalar(Json::String(group))) => {
                lines.push(leaf(
                    format!("trusted-agent group={}", kdl_string(group)),
                    vec![pointer.into()],
                ));
            }
            ("addresses", Ordered::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    let address = item.get("address").and_then(Json::as_str).unwrap_or("");
                    let default = item.get("default").and_then(Json::as_bool) == Some(true);
                    lines.push(leaf(
                        format!(
                            "address {}{}",
                            kdl_string(address),
                            if default { " default=#true" } else { "" }
                        ),
                        vec![format!("{pointer}/{i}/address")],
                    ));
                }
            }
            (_, Ordered::Object(map)) if is_secret_field(key) => {
                let reference = map
                    .iter()
                    .filter_map(|(k, v)| match (k.as_str(), v) {
                        ("value", _) => Some(kdl_string(MASKED)),
                        (_, Ordered::Scalar(v)) => Some(format!("{k}={}", kdl_scalar(v))),
                        // `resolved_from` (never here: show does not resolve secrets).
                        _ => None,
                    })
                    .collect::<Vec<_>>()
                    .join(" ");
                lines.push(leaf(format!("{name} {reference}"), vec![pointer.into()]));
            }
            // Padlocks and other sets of switches: one node with a property per switch.
            (_, Ordered::Object(map))
                if map
                    .iter()
                    .all(|(_, v)| matches!(v, Ordered::Scalar(Json::Bool(_)))) =>
            {
                let props: Vec<String> = map
                    .iter()
                    .filter_map(|(k, v)| match v {
                        Ordered::Scalar(v) => {
                            Some(format!("{}={}", k.replace('_', "-"), kdl_scalar(v)))
                        }
                        _ => None,
                    })
                    .collect();
                let pointers = map.iter().map(|(k, _)| format!("{pointer}/{k}")).collect();
                lines.push(leaf(format!("{name} {}", props.join(" ")), pointers));
            }
            (_, Ordered::Object(map)) => {
                lines.push(leaf(format!("{name} {{"), Vec::new()));
                // `authentication` has no node: it follows from the password or credential.
                for (k, v) in map.iter().filter(|(k, _)| k != "authentication") {
                    self.node(k, v, &format!("{pointer}/{k}"), depth + 1, lines);
                }
                lines.push(leaf("}".into(), Vec::new()));
            }
            (_, Ordered::Array(_)) => {}
            (_, Ordered::Scalar(scalar)) => lines.push(leaf(
                format!("{name} {}", kdl_scalar(scalar)),
                vec![pointer.into()],
            )),
        }
    }
}

/// JSON with object keys in the order they were serialized (the store types' declaration
/// order, which is also the order of docs/format.md); serde_json's `Value` sorts them.
enum Ordered {
    Scalar(Json),
    Array(Vec<Ordered>),
    Object(Vec<(String, Ordered)>),
}

impl Ordered {
    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Ordered::Object(map) => map
                .iter()
                .find(|(k, _)| k == key)
                .and_then(|(_, v)| match v {
                    Ordered::Scalar(s) => Some(s),
                    _ => None,
                }),
            _ => None,
        }
    }
}

fn ordered<T: Serialize>(value: &T) -> Ordered {
    let text = serde_json::to_string(value).expect("store items serialize");
    serde_json::from_str(&text).expect("serde_json reads what it wrote")
}

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct OrderedVisitor;
        impl<'de> Visitor<'de> for OrderedVisitor {
            type Value = Ordered;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_bool<E>(self, v: bool) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(Json::Bool(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(Json::from(v)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(Json::from(v)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(Json::from(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(Json::String(v.to_string())))
            }
            fn visit_unit<E>(self) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(Json::Null))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Ordered, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Ordered::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, Ordered>()? {
                    entries.push(entry);
                }
                Ok(Ordered::Object(entries))
            }
        }
        d.deserialize_any(OrderedVisitor)
    }
}

struct Line {
    depth: usize,
    text: String,
    /// The store values this line sets (none for block braces).
    pointers: Vec<String>,
}

fn kdl_bool(b: bool) -> &'static str {
    if b {
        "#true"
    } else {
        "#false"
    }
}

fn kdl_scalar(v: &Json) -> String {
    match v {
        Json::Bool(b) => kdl_bool(*b).into(),
        Json::String(s) => kdl_string(s),
        Json::Null => "#null".into(),
        other => other.to_string(),
    }
}

/// A KDL v2 quoted string.
fn kdl_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
