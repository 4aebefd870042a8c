//! Every edit of a user's file (`check --fix`, suppression fixes, `fmt`) is checked before it is
//! written: the edited text is read again, and what it means and what `check` finds in it must
//! equal the original's, except for what the edit was meant to change.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value as Json;

use crate::diagnostics::{Diagnostic, Level, Span};
use crate::lower::{self, Origin, SpanMap};
use crate::policy::config::Config;
use crate::source::FileId;
use crate::{check_with, parse, Input};

/// What a text means and what `check` reports about it (the file checked on its own).
pub struct Snapshot {
    /// The document in the reader's canonical form; `None` when the text does not parse.
    pub canonical: Option<String>,
    /// The lowered document (what the rules and the store are built from) and its spans.
    pub lowered: Option<(Json, SpanMap)>,
    pub findings: Vec<Diagnostic>,
    pub syntax_errors: usize,
}

impl Snapshot {
    pub fn of(path: &Path, text: &str, config: &Config) -> Snapshot {
        let parsed = parse::parse(FileId(0), text);
        let syntax_errors = parsed
            .diagnostics
            .iter()
            .filter(|d| d.level == Level::Error)
            .count();
        let canonical = parsed.document.as_ref().map(|d| d.canonical());
        let lowered = parsed.document.as_ref().map(|d| {
            let l = lower::lower(FileId(0), d);
            (l.value, l.spans)
        });
        let findings = check_with(vec![Input::text(path, text)], config).diagnostics;
        Snapshot {
            canonical,
            lowered,
            findings,
            syntax_errors,
        }
    }
}

/// How a finding is compared across an edit: everything but its position.
type Key = (&'static str, Level, String, Option<String>);

fn key(d: &Diagnostic) -> Key {
    (d.rule, d.level, d.message.clone(), d.kdl_path.clone())
}

/// The findings that differ: those only before (`gone`) and those only after (`new`).
fn finding_difference<'a>(
    before: impl Iterator<Item = &'a Diagnostic>,
    after: impl Iterator<Item = &'a Diagnostic>,
) -> (Vec<Key>, Vec<Key>) {
    let mut count: HashMap<Key, isize> = HashMap::new();
    for d in before {
        *count.entry(key(d)).or_default() += 1;
    }
    for d in after {
        *count.entry(key(d)).or_default() -= 1;
    }
    let (mut gone, mut new) = (Vec::new(), Vec::new());
    for (k, n) in count {
        for _ in 0..n.unsigned_abs() {
            if n > 0 {
                gone.push(k.clone());
            } else {
                new.push(k.clone());
            }
        }
    }
    gone.sort();
    new.sort();
    (gone, new)
}

fn describe(k: &Key) -> String {
    match &k.3 {
        Some(path) => format!("`{}` at {path}", k.0),
        None => format!("`{}` ({})", k.0, k.2),
    }
}

/// A text that must mean exactly what the original meant and have the same findings: what the
/// formatter produces. The error says why, and where in the original (a byte offset; 0 when
/// the difference has no place of its own).
pub fn same_meaning(before: &Snapshot, after: &Snapshot) -> Result<(), (String, usize)> {
    if after.syntax_errors > before.syntax_errors || after.canonical.is_none() {
        return Err(("the result would not parse".into(), 0));
    }
    if before.canonical != after.canonical {
        return Err((
            "the result would mean something else (nodes, arguments or values differ)".into(),
            0,
        ));
    }
    let (gone, new) = finding_difference(before.findings.iter(), after.findings.iter());
    if let Some(k) = gone.first() {
        let at = before
            .findings
            .iter()
            .find(|d| key(d) == *k)
            .map_or(0, |d| d.primary.span.start);
        return Err((
            format!("the result would no longer report {}", describe(k)),
            at,
        ));
    }
    if let Some(k) = new.first() {
        return Err((format!("the result would newly report {}", describe(k)), 0));
    }
    Ok(())
}

/// One edit of the original text, and where its replacement ends up in the edited text.
#[derive(Debug, Clone, Copy)]
pub struct Change {
    pub old: Span,
    pub new: Span,
}

/// The edits of a fix (sorted, not overlapping) as changes between the two texts.
pub fn changes(edits: &[(Span, &str)]) -> Vec<Change> {
    let mut shift: isize = 0;
    let mut out = Vec::new();
    for (span, replacement) in edits {
        let start = (span.start as isize + shift) as usize;
        out.push(Change {
            old: *span,
            new: Span::new(start, start + replacement.len()),
        });
        shift += replacement.len() as isize - span.len() as isize;
    }
    out
}

/// A fix's result: the meaning may change only in nodes the edits touch; the fixed findings,
/// findings about the text the edits replace, and findings in an account whose meaning the fix
/// changes may go; findings about the new text and in such an account may appear; and
/// `suppressed_rules` (rule names an edit writes into a suppression) may go. Nothing else may
/// change.
pub fn only_intended_change(
    before: &Snapshot,
    after: &Snapshot,
    changes: &[Change],
    fixed: &[&Diagnostic],
    suppressed_rules: &[&str],
) -> Result<(), String> {
    if after.syntax_errors > before.syntax_errors {
        return Err("the fixed text would not parse".into());
    }
    // The accounts (top-level nodes) whose meaning the fix changes: their other findings may
    // change with it (a port moved out of `server` is a different port for every rule).
    let (mut old_scopes, mut new_scopes): (Vec<Span>, Vec<Span>) = (Vec::new(), Vec::new());
    match (&before.lowered, &after.lowered) {
        (Some((old, old_spans)), Some((new, new_spans))) => {
            let mut differing = Vec::new();
            json_difference(old, new, String::new(), &mut differing);
            for p in &differing {
                let top: String = p.split('/').take(3).collect::<Vec<_>>().join("/");
                old_scopes.extend(old_spans.get(&top).map(|e| e.node));
                new_scopes.extend(new_spans.get(&top).map(|e| e.node));
            }
            let allowed = |pointer: &str| {
                touched(old_spans, pointer, changes.iter().map(|c| c.old))
                    || touched(new_spans, pointer, changes.iter().map(|c| c.new))
            };
            if let Some(p) = differing.iter().find(|p| !allowed(p)) {
                let where_ = old_spans.kdl_path(p).chars().take(200).collect::<String>();
                return Err(format!(
                    "the fix would also change `{where_}`, which it does not edit"
                ));
            }
        }
        (Some(_), None) => return Err("the fixed text would not parse".into()),
        _ => {}
    }
    // A finding is about a changed account when any of its labels is in one (a duplicate
    // reported at another account points at it too). Rules that report about a changed account
    // compare it with others (duplicates): their findings elsewhere may move with it.
    let in_scope = |d: &Diagnostic, new: bool| {
        let scopes = if new { &new_scopes } else { &old_scopes };
        std::iter::once(&d.primary)
            .chain(&d.related)
            .any(|l| scopes.iter().any(|&s| overlaps(s, l.span)))
    };
    let moved_rules: Vec<&str> = before
        .findings
        .iter()
        .filter(|d| in_scope(d, false))
        .chain(after.findings.iter().filter(|d| in_scope(d, true)))
        .map(|d| d.rule)
        .collect();
    let inside = |d: &Diagnostic, new: bool| {
        changes.iter().any(|c| {
            let s = if new { c.new } else { c.old };
            overlaps(s, d.primary.span)
        }) || in_scope(d, new)
            || moved_rules.contains(&d.rule)
    };
    let before_kept = before.findings.iter().filter(|d| {
        !inside(d, false)
            && !suppressed_rules.contains(&d.rule)
            && !fixed
                .iter()
                .any(|f| f.rule == d.rule && f.primary.span == d.primary.span)
    });
    let after_kept = after
        .findings
        .iter()
        .filter(|d| !inside(d, true) && !suppressed_rules.contains(&d.rule));
    let (gone, new) = finding_difference(before_kept, after_kept);
    if let Some(k) = gone.first() {
        return Err(format!("the fix would also hide {}", describe(k)));
    }
    if let Some(k) = new.first() {
        return Err(format!("the fix would newly cause {}", describe(k)));
    }
    Ok(())
}

fn overlaps(a: Span, b: Span) -> bool {
    (a.start < b.end && b.start < a.end)
        || (a.is_empty() && b.start <= a.start && a.start < b.end)
        || (b.is_empty() && a.start <= b.start && b.start < a.end)
}

/// Whether the node at `pointer` (or one of its ancestors that is a leaf) is edited: a leaf
/// overlapping an edit, or a block that an edit covers whole. A block merely containing an edit
/// is not touched (its other children must stay as they are).
fn touched(spans: &SpanMap, pointer: &str, edits: impl Iterator<Item = Span> + Clone) -> bool {
    let mut p = pointer;
    loop {
        if let Some(e) = spans.get(p) {
            let leaf = e.origin != Origin::Node || e.value != e.node;
            if edits.clone().any(|s| {
                (s.start <= e.node.start && e.node.end <= s.end) || (leaf && overlaps(s, e.node))
            }) {
                return true;
            }
        }
        match p.rfind('/') {
            Some(i) if i > 0 => p = &p[..i],
            _ => return false,
        }
    }
}

/// JSON pointers at which `a` and `b` differ (the shallowest point of each difference).
fn json_difference(a: &Json, b: &Json, at: String, out: &mut Vec<String>) {
    match (a, b) {
        (Json::Object(x), Json::Object(y)) => {
            for (k, v) in x {
                let p = format!("{at}/{}", lower::escape_pointer(k));
                match y.get(k) {
                    Some(w) => json_difference(v, w, p, out),
                    None => out.push(p),
                }
            }
            for k in y.keys().filter(|k| !x.contains_key(*k)) {
                out.push(format!("{at}/{}", lower::escape_pointer(k)));
            }
        }
        (Json::Array(x), Json::Array(y)) if x.len() == y.len() => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                json_difference(v, w, format!("{at}/{i}"), out);
            }
        }
        _ if a != b => out.push(at),
        _ => {}
    }
}
