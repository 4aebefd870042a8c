//! The plan between two stores, for reviewers: which accounts (and credentials, and the system
//! settings) are added, removed or changed, and for each change the field path with its old and
//! new value. Secret values never appear: a secret field shows its reference (`env`, `file`) or
//! `********`, and the rendered text is scrubbed with every value both stores hold.

use serde::Serialize;
use serde_json::Value as Json;

use super::store::{is_secret_field, SourceRef, Store};
use crate::parse::redact;

/// What `--format json` prints: `{"format": "mailcfg-plan", "version": 1, ...}`.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub format: &'static str,
    pub version: u32,
    pub identical: bool,
    pub summary: Summary,
    /// Accounts, then credentials, then system; each sorted by name.
    pub changes: Vec<ItemChange>,
}

#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub added: usize,
    pub removed: usize,
    pub changed: usize,
    /// Only the source location differs: nothing to deploy.
    pub moved: usize,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Account,
    Credential,
    System,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Added,
    Removed,
    Changed,
    Moved,
}

#[derive(Debug, Clone, Serialize)]
pub struct ItemChange {
    pub kind: Kind,
    /// The account or credential name; null for system.
    pub name: Option<String>,
    pub action: Action,
    /// Where the item is defined in OLD (null when added).
    pub old_source: Option<SourceRef>,
    /// Where the item is defined in NEW (null when removed).
    pub new_source: Option<SourceRef>,
    /// Changed fields (for added items: every field, with `old` null).
    pub fields: Vec<FieldChange>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FieldChange {
    /// Dotted path, e.g. `incoming.port` or `from.addresses[0].address`.
    pub path: String,
    /// Null when the field did not exist.
    pub old: Json,
    pub new: Json,
    /// The field holds a secret: `old` / `new` are references or `"********"`.
    pub secret: bool,
}

pub fn plan(old: &Store, new: &Store) -> Plan {
    let mut changes = Vec::new();
    items(
        Kind::Account,
        &named(&old.accounts, |a| (&a.name, &a.source)),
        &named(&new.accounts, |a| (&a.name, &a.source)),
        &mut changes,
    );
    items(
        Kind::Credential,
        &named(&old.credentials, |c| (&c.name, &c.source)),
        &named(&new.credentials, |c| (&c.name, &c.source)),
        &mut changes,
    );
    let (os, ns) = (to_json(&old.system), to_json(&new.system));
    let mut sys = Vec::new();
    fields("", &os, &ns, &mut sys);
    if !sys.is_empty() {
        changes.push(ItemChange {
            kind: Kind::System,
            name: None,
            action: Action::Changed,
            old_source: None,
            new_source: None,
            fields: sys,
        });
    }
    let mut summary = Summary::default();
    for c in &changes {
        match c.action {
            Action::Added => summary.added += 1,
            Action::Removed => summary.removed += 1,
            Action::Changed => summary.changed += 1,
            Action::Moved => summary.moved += 1,
        }
    }
    Plan {
        format: "mailcfg-plan",
        version: 1,
        identical: changes.is_empty(),
        summary,
        changes,
    }
}

struct Named {
    name: String,
    source: SourceRef,
    /// The item without name, source and digest.
    body: Json,
}

fn to_json<T: Serialize>(v: &T) -> Json {
    serde_json::to_value(v).expect("store items serialize")
}

fn named<T: Serialize>(list: &[T], key: impl Fn(&T) -> (&String, &SourceRef)) -> Vec<Named> {
    let mut out: Vec<Named> = list
        .iter()
        .map(|item| {
            let (name, source) = key(item);
            let mut body = to_json(item);
            if let Json::Object(m) = &mut body {
                m.remove("name");
                m.remove("source");
                // The digest follows from the fields; a changed digest says nothing new.
                m.remove("digest");
            }
            Named {
                name: name.clone(),
                source: source.clone(),
                body,
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn items(kind: Kind, old: &[Named], new: &[Named], out: &mut Vec<ItemChange>) {
    let mut names: Vec<&str> = old
        .iter()
        .chain(new.iter())
        .map(|n| n.name.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    let find = |list: &'_ [Named], name: &str| -> Option<usize> {
        list.binary_search_by(|n| n.name.as_str().cmp(name)).ok()
    };
    let empty = Json::Object(Default::default());
    for name in names {
        let o = find(old, name).map(|i| &old[i]);
        let n = find(new, name).map(|i| &new[i]);
        let change = |action, fields| ItemChange {
            kind,
            name: Some(name.to_string()),
            action,
            old_source: o.map(|x| x.source.clone()),
            new_source: n.map(|x| x.source.clone()),
            fields,
        };
        match (o, n) {
            (None, Some(n)) => {
                let mut f = Vec::new();
                fields("", &empty, &n.body, &mut f);
                out.push(change(Action::Added, f));
            }
            (Some(_), None) => out.push(change(Action::Removed, Vec::new())),
            (Some(o), Some(n)) => {
                let mut f = Vec::new();
                fields("", &o.body, &n.body, &mut f);
                if !f.is_empty() {
                    out.push(change(Action::Changed, f));
                } else if o.source != n.source {
                    out.push(change(Action::Moved, f));
                }
            }
            (None, None) => {}
        }
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// The leaf differences between two values. Missing values count as null, so a whole block
/// appearing (an added account, a new `outgoing`) lists each of its fields.
fn fields(path: &str, old: &Json, new: &Json, out: &mut Vec<FieldChange>) {
    let is_secret = path.rsplit('.').next().is_some_and(is_secret_field);
    if is_secret {
        if old != new {
            out.push(FieldChange {
                path: path.to_string(),
                old: redact_secret(old),
                new: redact_secret(new),
                secret: true,
            });
        }
        return;
    }
    let object_like = |v: &Json| v.is_object() || v.is_null();
    let array_like = |v: &Json| v.is_array() || v.is_null();
    if (old.is_object() || new.is_object()) && object_like(old) && object_like(new) {
        let none = serde_json::Map::new();
        let o = old.as_object().unwrap_or(&none);
        let n = new.as_object().unwrap_or(&none);
        let mut keys: Vec<&String> = o.keys().chain(n.keys()).collect();
        keys.sort();
        keys.dedup();
        for k in keys {
            fields(
                &join(path, k),
                o.get(k).unwrap_or(&Json::Null),
                n.get(k).unwrap_or(&Json::Null),
                out,
            );
        }
    } else if (old.is_array() || new.is_array()) && array_like(old) && array_like(new) {
        let none = Vec::new();
        let o = old.as_array().unwrap_or(&none);
        let n = new.as_array().unwrap_or(&none);
        for i in 0..o.len().max(n.len()) {
            fields(
                &format!("{path}[{i}]"),
                o.get(i).unwrap_or(&Json::Null),
                n.get(i).unwrap_or(&Json::Null),
                out,
            );
        }
    } else if old != new {
        out.push(FieldChange {
            path: path.to_string(),
            old: old.clone(),
            new: new.clone(),
            secret: false,
        });
    }
}

/// A secret as the plan may show it: references as they are, values as `********`.
fn redact_secret(v: &Json) -> Json {
    match v {
        Json::Object(m) if m.contains_key("value") => {
            let mut out = serde_json::Map::new();
            out.insert("value".into(), Json::String("********".into()));
            if let Some(from) = m.get("resolved_from") {
                out.insert("resolved_from".into(), redact_secret(from));
            }
            Json::Object(out)
        }
        Json::Object(m) => {
            let mut out = serde_json::Map::new();
            for key in ["env", "file"] {
                if let Some(Json::String(s)) = m.get(key) {
                    out.insert(key.into(), Json::String(s.clone()));
                }
            }
            Json::Object(out)
        }
        Json::Null => Json::Null,
        _ => Json::String("********".into()),
    }
}

/// Every secret value either store holds, for [`redact::scrub`]: a last line of defence, as the
/// plan never holds a value in the first place (fields are redacted structurally).
fn secrets(old: &Store, new: &Store) -> Vec<String> {
    let mut all = old.secret_values();
    all.extend(new.secret_values());
    all
}

fn show(v: &Json, secret: bool) -> String {
    if v.is_null() {
        return "(none)".into();
    }
    if secret {
        let from = |m: &serde_json::Map<String, Json>| {
            if let Some(Json::String(e)) = m.get("env") {
                Some(format!("env={e:?}"))
            } else if let Some(Json::String(f)) = m.get("file") {
                Some(format!("file={f:?}"))
            } else {
                None
            }
        };
        if let Json::Object(m) = v {
            if m.contains_key("value") {
                return match m
                    .get("resolved_from")
                    .and_then(Json::as_object)
                    .and_then(from)
                {
                    Some(r) => format!("(secret value, resolved from {r})"),
                    None => "(inline secret value)".into(),
                };
            }
            if let Some(r) = from(m) {
                return r;
            }
        }
        return "(secret)".into();
    }
    v.to_string()
}

fn title(c: &ItemChange) -> String {
    match (c.kind, &c.name) {
        (Kind::System, _) | (_, None) => "system".into(),
        (Kind::Account, Some(n)) => format!("account {n:?}"),
        (Kind::Credential, Some(n)) => format!("credential {n:?}"),
    }
}

/// The plan as text for reviewers; the last line is the summary.
pub fn render_human(plan: &Plan, old: &Store, new: &Store) -> String {
    let mut out = String::new();
    for c in &plan.changes {
        let (mark, at) = match c.action {
            Action::Added => ("+", c.new_source.as_ref().map(|s| format!(" ({s})"))),
            Action::Removed => ("-", c.old_source.as_ref().map(|s| format!(" (was {s})"))),
            Action::Changed => ("~", c.new_source.as_ref().map(|s| format!(" ({s})"))),
            Action::Moved => (
                ">",
                match (&c.old_source, &c.new_source) {
                    (Some(o), Some(n)) => Some(format!(" moved: {o} → {n}")),
                    _ => None,
                },
            ),
        };
        out.push_str(&format!("{mark} {}{}\n", title(c), at.unwrap_or_default()));
        for f in &c.fields {
            let line = match c.action {
                Action::Added => format!("{}: {}", f.path, show(&f.new, f.secret)),
                _ => {
                    let note =
                        if f.secret && f.old.get("value").is_some() && f.new.get("value").is_some()
                        {
                            " (value changed)"
                        } else {
                            ""
                        };
                    format!(
                        "{}: {} → {}{note}",
                        f.path,
                        show(&f.old, f.secret),
                        show(&f.new, f.secret)
                    )
                }
            };
            out.push_str(&format!("    {line}\n"));
        }
    }
    let s = plan.summary;
    if plan.identical {
        out.push_str("No changes: the stores are identical.\n");
    } else {
        out.push_str(&format!(
            "Plan: {} to add, {} to change, {} to remove{}.\n",
            s.added,
            s.changed,
            s.removed,
            if s.moved > 0 {
                format!(", {} moved (source location only)", s.moved)
            } else {
                String::new()
            }
        ));
    }
    redact::scrub(&out, &secrets(old, new))
}

/// The plan as JSON (pretty, trailing newline).
pub fn render_json(plan: &Plan, old: &Store, new: &Store) -> String {
    let mut s = serde_json::to_string_pretty(plan).expect("a plan serializes");
    s.push('\n');
    redact::scrub(&s, &secrets(old, new))
}
