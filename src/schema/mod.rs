//! The JSON Schema, generated from the model types, and validation whose errors are phrased in
//! KDL terms on the exact span they concern.

use std::sync::LazyLock;

use serde_json::Value as Json;

use crate::diagnostics::{Diagnostic, Label, Level, Span};
use crate::lower::{Origin, SpanMap};
use crate::source::FileId;

pub const UNKNOWN_NODE: &str = "unknown-node";
pub const UNKNOWN_PROPERTY: &str = "unknown-property";
pub const UNEXPECTED_ARGUMENT: &str = "unexpected-argument";
pub const MISSING_NODE: &str = "missing-node";
pub const INVALID_VALUE: &str = "invalid-value";
pub const WRONG_TYPE: &str = "wrong-type";

/// The JSON Schema (draft 2020-12) of `T`, as schemars generates it.
pub fn schema_of<T: schemars::JsonSchema>() -> Json {
    let schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<T>();
    serde_json::to_value(schema).expect("a generated schema serializes")
}

/// The checked-in form of a schema: pretty JSON with a trailing newline.
pub fn pretty(schema: &Json) -> String {
    let mut s = serde_json::to_string_pretty(schema).expect("schema serializes");
    s.push('\n');
    s
}

/// The schema of one account file, as checked in under `schema/mailcfg.schema.json`.
pub fn generate() -> Json {
    let mut json = schema_of::<crate::model::File>();
    strip_null(&mut json);
    json
}

pub fn generate_pretty() -> String {
    pretty(&generate())
}

/// `Option<T>` means "the node may be absent", never "the node may be null": a KDL node without
/// a value must be reported, so drop the null alternatives schemars adds.
fn strip_null(v: &mut Json) {
    match v {
        Json::Object(map) => {
            if let Some(Json::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let t = types.remove(0);
                    map.insert("type".into(), t);
                }
            }
            if let Some(Json::Array(alts)) = map.get("anyOf") {
                let kept: Vec<Json> = alts
                    .iter()
                    .filter(|a| a.get("type").and_then(Json::as_str) != Some("null"))
                    .cloned()
                    .collect();
                if kept.len() == 1 && alts.len() == 2 {
                    map.remove("anyOf");
                    if let Json::Object(inner) = &kept[0] {
                        for (k, v) in inner {
                            map.insert(k.clone(), v.clone());
                        }
                    }
                }
            }
            if map.get("default") == Some(&Json::Null) {
                map.remove("default");
            }
            if let Some(Json::Array(e)) = map.get_mut("enum") {
                e.retain(|x| !x.is_null());
            }
            for v in map.values_mut() {
                strip_null(v);
            }
        }
        Json::Array(items) => items.iter_mut().for_each(strip_null),
        _ => {}
    }
}

/// Every node and property that stands for a control of the CSM GUI: (node names from the top
/// of a file, the control's label as the CSM page writes it). The labels live in the model
/// (`x-gui-label`), next to the fields they describe.
pub fn gui_labels() -> &'static [(Vec<String>, String)] {
    static LABELS: LazyLock<Vec<(Vec<String>, String)>> = LazyLock::new(|| {
        fn walk(
            schema: &Json,
            node: &Json,
            path: &mut Vec<String>,
            out: &mut Vec<(Vec<String>, String)>,
        ) {
            let node = resolve(schema, node);
            if path.len() > 6 {
                return;
            }
            if let Some(alts) = node.get("anyOf").and_then(Json::as_array) {
                for alt in alts {
                    walk(schema, alt, path, out);
                }
            }
            let Some(props) = node.get("properties").and_then(Json::as_object) else {
                return;
            };
            for (key, prop) in props {
                path.push(key.clone());
                if let Some(label) = prop.get("x-gui-label").and_then(Json::as_str) {
                    out.push((path.clone(), label.to_string()));
                }
                let value = match prop.get("items") {
                    Some(items) => items,
                    None => prop,
                };
                walk(schema, value, path, out);
                path.pop();
            }
        }
        let schema = &COMPILED.schema;
        let mut out = Vec::new();
        walk(schema, schema, &mut Vec::new(), &mut out);
        out
    });
    &LABELS
}

/// The GUI label of the node or property at `path` (node names from the top of a file), with
/// its page when it lies on one: `Incoming Server page › Security` for
/// `account › incoming › security`.
pub fn gui_label(path: &[&str]) -> Option<String> {
    composed_labels().get(&path.join("/")).cloned()
}

/// [`gui_label`] for every labelled path, keyed by the node names joined with `/`: built once,
/// so naming the control in each of many findings is one hash lookup.
fn composed_labels() -> &'static crate::lower::FastMap<String, String> {
    static COMPOSED: LazyLock<crate::lower::FastMap<String, String>> = LazyLock::new(|| {
        let labels = gui_labels();
        let find = |p: &[String]| {
            labels
                .iter()
                .find(|(k, _)| k.as_slice() == p)
                .map(|(_, label)| label.as_str())
        };
        labels
            .iter()
            .map(|(path, label)| {
                let page = path
                    .split_last()
                    .and_then(|(_, parent)| find(parent))
                    .filter(|l| l.ends_with(" page"));
                let composed = match page {
                    Some(page) => format!("{page} › {label}"),
                    None => label.clone(),
                };
                (path.join("/"), composed)
            })
            .collect()
    });
    &COMPOSED
}

/// [`gui_label`] for a KDL path as diagnostics show it (`account "A" › incoming › security`).
pub fn gui_label_of_kdl_path(kdl_path: &str) -> Option<&'static str> {
    let mut key = String::with_capacity(kdl_path.len());
    for step in kdl_path.split(" › ") {
        if !key.is_empty() {
            key.push('/');
        }
        key.push_str(step.split(' ').next().unwrap_or(step));
    }
    composed_labels().get(&key).map(String::as_str)
}

/// ` (`outgoing` — "Outgoing Server page" in CSM)` for a required `prop` missing at `ptr`.
fn gui_note_for_missing(ptr: &str, prop: &str) -> String {
    let mut names: Vec<&str> = ptr
        .split('/')
        .skip(1)
        .filter(|s| !s.bytes().all(|b| b.is_ascii_digit()))
        .collect();
    names.push(prop);
    gui_label(&names)
        .map(|label| format!(" (`{prop}` — \"{label}\" in CSM)"))
        .unwrap_or_default()
}

/// Names the GUI control of the node a finding is on, next to its KDL node, at the end of the
/// help: `` `available-to-users` — "Make Account Available to Users" in CSM ``.
pub fn add_gui_label(mut d: Diagnostic) -> Diagnostic {
    let Some(path) = d.kdl_path.as_deref() else {
        return d;
    };
    if d.help.as_deref().is_some_and(|h| h.ends_with(" in CSM)")) {
        return d;
    }
    let Some(label) = gui_label_of_kdl_path(path) else {
        return d;
    };
    let node = path.split_once(" › ").map_or(path, |(_, rest)| rest);
    let note = format!("`{node}` — \"{label}\" in CSM");
    d.help = Some(match d.help.take() {
        Some(help) => format!("{help} ({note})"),
        None => note,
    });
    d
}

struct Compiled {
    schema: Json,
    validator: jsonschema::Validator,
}

static COMPILED: LazyLock<Compiled> = LazyLock::new(|| {
    let schema = generate();
    let validator = jsonschema::validator_for(&schema).expect("the generated schema compiles");
    Compiled { schema, validator }
});

/// Validates one lowered file. Returns the diagnostics and the pointers that had errors.
pub fn validate(file: FileId, value: &Json, spans: &SpanMap) -> (Vec<Diagnostic>, Vec<String>) {
    let compiled = &*COMPILED;
    if compiled.validator.is_valid(value) {
        return (Vec::new(), Vec::new());
    }
    let mut diags = Vec::new();
    let mut pointers = Vec::new();
    let errors: Vec<_> = compiled.validator.iter_errors(value).collect();
    // A misspelt required node is reported once, as the misspelling ("did you mean `server`?"),
    // not also as "`server` is required".
    let misspelt: Vec<(String, String)> = errors
        .iter()
        .filter_map(|e| match e.kind() {
            jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } => Some(
                unexpected
                    .iter()
                    .map(|k| (e.instance_path().as_str().to_string(), k.clone()))
                    .collect::<Vec<_>>(),
            ),
            _ => None,
        })
        .flatten()
        .collect();
    // A value of the wrong type for an enumeration (`protocol 1`) fails both `type` and `enum`:
    // it is reported once, as the wrong type, with the allowed values.
    let wrong_type: Vec<String> = errors
        .iter()
        .filter(|e| {
            matches!(
                e.kind(),
                jsonschema::error::ValidationErrorKind::Type { .. }
            )
        })
        .map(|e| e.instance_path().as_str().to_string())
        .collect();
    for error in errors {
        let ptr = error.instance_path().as_str().to_string();
        if matches!(
            error.kind(),
            jsonschema::error::ValidationErrorKind::Enum { .. }
        ) && wrong_type.contains(&ptr)
        {
            pointers.push(ptr);
            continue;
        }
        // Every unknown node or property of a block is reported, not only the first.
        if let jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } =
            error.kind()
        {
            let schema_path = error.schema_path().as_str().to_string();
            for key in unexpected {
                diags.push(unknown_key(
                    file,
                    &compiled.schema,
                    &ptr,
                    &schema_path,
                    key,
                    spans,
                ));
            }
            pointers.push(ptr);
            continue;
        }
        if let jsonschema::error::ValidationErrorKind::Required { property } = error.kind() {
            let prop = property.as_str().unwrap_or_default();
            if misspelt
                .iter()
                .any(|(p, k)| *p == ptr && did_you_mean(k, [prop]).is_some())
            {
                pointers.push(ptr);
                continue;
            }
        }
        let schema_path = error.schema_path().as_str().to_string();
        let d = phrase(
            file,
            &compiled.schema,
            &ptr,
            &schema_path,
            error.kind(),
            error.instance(),
            spans,
        );
        pointers.push(ptr);
        diags.push(d);
    }
    let mut diags: Vec<Diagnostic> = diags.into_iter().map(add_gui_label).collect();
    diags.sort_by_key(|d| d.primary.span);
    diags.dedup_by(|a, b| a.primary.span == b.primary.span && a.message == b.message);
    (diags, pointers)
}

fn parent_pointer(p: &str) -> &str {
    p.rfind('/').map_or("", |i| &p[..i])
}

fn last_segment(p: &str) -> String {
    p.rsplit('/')
        .next()
        .unwrap_or("")
        .replace("~1", "/")
        .replace("~0", "~")
}

/// Resolves `$ref` so that `properties` of the object schema can be listed.
fn resolve<'s>(schema: &'s Json, node: &'s Json) -> &'s Json {
    match node.get("$ref").and_then(Json::as_str) {
        Some(r) => r
            .strip_prefix('#')
            .and_then(|p| schema.pointer(p))
            .unwrap_or(node),
        None => node,
    }
}

fn property_names(schema: &Json, object_schema: &Json) -> Vec<String> {
    resolve(schema, object_schema)
        .get("properties")
        .and_then(Json::as_object)
        .map(|m| {
            m.keys()
                .filter(|k| *k != "name" && *k != "value")
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

/// "did you mean `x`?" when one candidate is close enough.
pub fn did_you_mean<'c>(
    word: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    let word_l = word.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&word_l, &c.to_lowercase()), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

fn json_type_name(v: &Json) -> &'static str {
    match v {
        Json::Null => "no value",
        Json::Bool(_) => "a boolean",
        Json::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "several values",
        Json::Object(_) => "a block or properties",
    }
}

fn expected_type_phrase(t: &Json) -> String {
    let one = |s: &str| match s {
        "string" => "a string".to_string(),
        "integer" => "an integer".to_string(),
        "number" => "a number".to_string(),
        "boolean" => "#true or #false".to_string(),
        "object" => "a block `{ … }` or properties".to_string(),
        "array" => "a list".to_string(),
        other => other.to_string(),
    };
    match t {
        Json::String(s) => one(s),
        Json::Array(a) => a
            .iter()
            .filter_map(Json::as_str)
            .map(one)
            .collect::<Vec<_>>()
            .join(" or "),
        _ => "another kind of value".into(),
    }
}

/// A value as a message quotes it: never a secret's (by the field's name), never long.
fn show_value(name: &str, v: &Json) -> String {
    if crate::parse::redact::SECRET_NAMES.contains(&name) {
        return crate::parse::redact::MASK.into();
    }
    match v {
        Json::String(s) => format!("{:?}", crate::parse::redact::clip(s)),
        Json::Bool(b) => format!("#{b}"),
        Json::Null => "#null".into(),
        other => other.to_string(),
    }
}

/// An unknown node or property `key` of the block at `ptr`, or an argument where none is taken.
fn unknown_key(
    file: FileId,
    schema: &Json,
    ptr: &str,
    schema_path: &str,
    key: &str,
    spans: &SpanMap,
) -> Diagnostic {
    let here = spans.nearest(ptr);
    let key_span = here.map(|(_, e)| e.key).unwrap_or_default();
    let path = spans.kdl_path(ptr);
    let at = if path.is_empty() {
        "at the top level".to_string()
    } else {
        format!("in {path}")
    };
    let diag = |rule, span: Span, label: &str, msg: String| {
        Diagnostic::new(
            rule,
            Level::Error,
            Label::new(file, span).with_text(label),
            msg,
        )
        .with_path(path.clone())
    };
    let child = format!("{ptr}/{}", crate::lower::escape_pointer(key));
    let entry = spans.get(&child);
    let span = entry.map(|e| e.key).unwrap_or(key_span);
    let object_schema = schema
        .pointer(parent_pointer(schema_path))
        .unwrap_or(schema);
    let allowed = property_names(schema, object_schema);
    let origin = entry.map(|e| e.origin).unwrap_or(Origin::Node);
    if origin == Origin::Argument || key == "name" || key == "value" {
        return diag(
            UNEXPECTED_ARGUMENT,
            span,
            "unexpected argument",
            format!(
                "`{}` takes no argument here ({at})",
                spans.label(ptr).unwrap_or("this node".into())
            ),
        )
        .with_help("remove the argument, or write it as a child node or property");
    }
    let (rule, what) = match origin {
        Origin::Property => (UNKNOWN_PROPERTY, "property"),
        _ => (UNKNOWN_NODE, "node"),
    };
    let mut d = diag(
        rule,
        span,
        &format!("unknown {what}"),
        format!("unknown {what} `{key}` {at}"),
    );
    let mut help = Vec::new();
    if let Some(s) = did_you_mean(key, allowed.iter().map(String::as_str)) {
        help.push(format!("did you mean `{s}`?"));
    }
    if !allowed.is_empty() {
        help.push(format!("expected one of: {}", allowed.join(", ")));
    }
    if !help.is_empty() {
        d = d.with_help(help.join(" "));
    }
    d
}

#[allow(clippy::too_many_arguments)]
fn phrase(
    file: FileId,
    schema: &Json,
    ptr: &str,
    schema_path: &str,
    kind: &jsonschema::error::ValidationErrorKind,
    instance: &Json,
    spans: &SpanMap,
) -> Diagnostic {
    use jsonschema::error::ValidationErrorKind as K;
    let here = spans.nearest(ptr);
    let (value_span, key_span) = here
        .map(|(_, e)| (e.value, e.key))
        .unwrap_or((Span::default(), Span::default()));
    let path = spans.kdl_path(ptr);
    let at = if path.is_empty() {
        "at the top level".to_string()
    } else {
        format!("in {path}")
    };
    let name = last_segment(ptr);
    let diag = |rule, span: Span, label: &str, msg: String| {
        Diagnostic::new(
            rule,
            Level::Error,
            Label::new(file, span).with_text(label),
            msg,
        )
        .with_path(path.clone())
    };
    match kind {
        K::Required { property } => {
            let prop = property.as_str().unwrap_or_default();
            let owner = spans
                .label(ptr)
                .map(|l| l.into_owned())
                .unwrap_or_else(|| "the file".into());
            if prop == "name" || prop == "value" {
                return diag(
                    MISSING_NODE,
                    key_span,
                    "needs an argument",
                    format!("`{owner}` needs an argument ({at})"),
                )
                .with_help(format!(
                    "write it as `{owner} \"…\"{}`",
                    if prop == "name" { " { … }" } else { "" }
                ));
            }
            diag(
                MISSING_NODE,
                key_span,
                &format!("missing `{prop}`"),
                format!("`{prop}` is required {at}"),
            )
            .with_help(format!(
                "add {} `{prop}` node inside `{owner}`{}",
                if prop.starts_with(['a', 'e', 'i', 'o', 'u']) {
                    "an"
                } else {
                    "a"
                },
                gui_note_for_missing(ptr, prop)
            ))
        }
        K::Enum { options } => {
            let opts: Vec<String> = options
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|o| o.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            let mut help = String::new();
            if let Some(s) = instance
                .as_str()
                .and_then(|v| did_you_mean(v, opts.iter().map(String::as_str)))
            {
                help = format!("did you mean \"{s}\"? ");
            }
            diag(
                INVALID_VALUE,
                value_span,
                "invalid value",
                format!(
                    "invalid value {} for `{name}` {at}",
                    show_value(&name, instance)
                ),
            )
            .with_help(format!("{help}expected one of: {}", opts.join(", ")))
        }
        K::Type { .. } => {
            let expected = schema
                .pointer(schema_path)
                .map(expected_type_phrase)
                .unwrap_or_else(|| "another kind of value".into());
            if instance.is_null() {
                return diag(
                    WRONG_TYPE,
                    key_span,
                    "no value",
                    format!("`{name}` needs a value {at}: expected {expected}"),
                );
            }
            let d = diag(
                WRONG_TYPE,
                value_span,
                &format!("expected {expected}"),
                format!(
                    "`{name}` must be {expected}, found {} {at}",
                    json_type_name(instance)
                ),
            );
            let options: Vec<&str> = schema
                .pointer(parent_pointer(schema_path))
                .and_then(|n| n.get("enum"))
                .and_then(Json::as_array)
                .map(|e| e.iter().filter_map(Json::as_str).collect())
                .unwrap_or_default();
            if options.is_empty() {
                d
            } else {
                d.with_help(format!("expected one of: {}", options.join(", ")))
            }
        }
        K::Minimum { limit } | K::ExclusiveMinimum { limit } => diag(
            INVALID_VALUE,
            value_span,
            "too small",
            format!(
                "`{name}` is {} but must be at least {limit} {at}",
                show_value(&name, instance)
            ),
        ),
        K::Maximum { limit } | K::ExclusiveMaximum { limit } => diag(
            INVALID_VALUE,
            value_span,
            "too large",
            format!(
                "`{name}` is {} but must be at most {limit} {at}",
                show_value(&name, instance)
            ),
        ),
        K::MinLength { limit } => diag(
            INVALID_VALUE,
            value_span,
            "too short",
            format!("`{name}` must be at least {limit} characters long {at}"),
        ),
        K::MaxLength { limit } => diag(
            INVALID_VALUE,
            value_span,
            "too long",
            format!("`{name}` must be at most {limit} characters long {at}"),
        ),
        K::AnyOf { .. } | K::OneOfNotValid { .. } | K::OneOfMultipleValid { .. } => {
            let node = schema.pointer(parent_pointer(schema_path));
            let expected = node
                .and_then(|n| n.get("x-expected"))
                .and_then(Json::as_str)
                .unwrap_or("a different value");
            diag(
                WRONG_TYPE,
                value_span,
                "wrong shape",
                format!("`{name}` must be {expected} {at}"),
            )
        }
        _ => diag(
            INVALID_VALUE,
            value_span,
            "invalid value",
            format!(
                "invalid value {} for `{name}` {at}",
                show_value(&name, instance)
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::redact::SECRET_NAMES;

    /// The model's `Secret` fields and the names `redact` masks are the same list: a new secret
    /// field cannot be added without its literal values being masked in every output.
    #[test]
    fn redact_masks_exactly_the_models_secret_fields() {
        fn walk(v: &Json, found: &mut Vec<String>) {
            if let Some(props) = v.get("properties").and_then(Json::as_object) {
                for (k, p) in props {
                    if p.to_string().contains("#/$defs/Secret\"") {
                        found.push(k.clone());
                    }
                }
            }
            match v {
                Json::Object(m) => m.values().for_each(|x| walk(x, found)),
                Json::Array(a) => a.iter().for_each(|x| walk(x, found)),
                _ => {}
            }
        }
        let mut found = Vec::new();
        walk(&generate(), &mut found);
        found.sort();
        found.dedup();
        let mut names: Vec<&str> = SECRET_NAMES.to_vec();
        names.sort_unstable();
        assert_eq!(found, names);
    }
}
