//! What the JSON Schema (generated from the model, the one source of node documentation) says
//! about a place in a KDL file: which nodes and properties may go there, their values and docs.

use std::sync::LazyLock;

use serde_json::Value as Json;

static SCHEMA: LazyLock<Json> = LazyLock::new(crate::schema::generate);

fn resolve(node: &'static Json) -> &'static Json {
    match node.get("$ref").and_then(Json::as_str) {
        Some(r) => r
            .strip_prefix('#')
            .and_then(|p| SCHEMA.pointer(p))
            .unwrap_or(node),
        None => node,
    }
}

/// The object alternatives of a schema (one for objects, several for `anyOf`).
fn objects(node: &'static Json) -> Vec<&'static Json> {
    let node = resolve(node);
    if let Some(alts) = node.get("anyOf").and_then(Json::as_array) {
        return alts.iter().flat_map(objects).collect();
    }
    if node.get("properties").is_some() {
        vec![node]
    } else {
        Vec::new()
    }
}

/// A node or property below `parent`: its own schema (with the description) and the schema of
/// one value (the items, for nodes that repeat).
fn child(parent: &'static Json, name: &str) -> Option<(&'static Json, &'static Json)> {
    objects(parent).into_iter().find_map(|o| {
        let prop = o.get("properties")?.get(name)?;
        let value = match prop.get("items") {
            Some(items) if prop.get("type").and_then(Json::as_str) == Some("array") => items,
            _ => prop,
        };
        Some((prop, value))
    })
}

/// The schema of the node at `path` (node names from the top of the file).
pub fn at(path: &[&str]) -> Option<&'static Json> {
    let mut cur: &'static Json = &SCHEMA;
    for name in path {
        cur = child(cur, name)?.1;
    }
    Some(cur)
}

/// The documentation of the node or property `path` (the model's doc comment).
pub fn description(path: &[&str]) -> Option<String> {
    let (last, parent) = path.split_last()?;
    let (prop, value) = child(at(parent)?, last)?;
    prop.get("description")
        .or_else(|| resolve(value).get("description"))
        .and_then(Json::as_str)
        .map(str::to_string)
}

/// Node (and property) names allowed inside the node at `path`, with their docs.
pub fn children(path: &[&str]) -> Vec<(String, Option<String>)> {
    let Some(node) = at(path) else {
        return Vec::new();
    };
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    for o in objects(node) {
        let Some(props) = o.get("properties").and_then(Json::as_object) else {
            continue;
        };
        for (name, prop) in props {
            if name == "name" || name == "value" || out.iter().any(|(n, _)| n == name) {
                continue;
            }
            let doc = prop
                .get("description")
                .and_then(Json::as_str)
                .map(str::to_string);
            out.push((name.clone(), doc));
        }
    }
    out
}

/// The values a node's argument (or a property) may take, when they are a fixed set; for a
/// node with alternatives (`trusted-agent "any"` or `trusted-agent group="…"`), those of the
/// alternatives that are values.
pub fn values(node: &'static Json) -> Vec<String> {
    let node = resolve(node);
    if let Some(alts) = node.get("anyOf").or_else(|| node.get("oneOf")) {
        let mut out: Vec<String> = Vec::new();
        for v in alts.as_array().into_iter().flatten().flat_map(values) {
            if !out.contains(&v) {
                out.push(v);
            }
        }
        return out;
    }
    if let Some(e) = node.get("enum").and_then(Json::as_array) {
        return e
            .iter()
            .filter_map(Json::as_str)
            .map(str::to_string)
            .collect();
    }
    if let Some(c) = node.get("const").and_then(Json::as_str) {
        return vec![c.to_string()];
    }
    if node.get("type").and_then(Json::as_str) == Some("boolean") {
        return vec!["#true".into(), "#false".into()];
    }
    Vec::new()
}
