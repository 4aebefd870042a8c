//! Findings, and how they become diagnostics on the KDL node that causes them, with the fix
//! that carries out their advice.

use super::advice;
use crate::diagnostics::{Diagnostic, Edit, Fix, Level};
use crate::model::{Account, Located};
use crate::rules::{Context, Part, RuleMeta};

/// A finding before it is placed: `at` lists pointers relative to the account, the first that
/// exists in the file wins (e.g. `incoming/port`, else `incoming/server`).
#[derive(Debug, Clone)]
pub struct Finding {
    pub meta: &'static RuleMeta,
    pub level: Level,
    pub at: Vec<String>,
    pub message: String,
    pub help: Option<String>,
    /// The edits of the suggested fix: set each setting (a pointer relative to the account,
    /// e.g. `incoming/port`) to a KDL value, adding the node when the file does not have it.
    pub fix: Vec<(String, String)>,
}

impl Finding {
    pub fn new(meta: &'static RuleMeta, at: &[&str], message: impl Into<String>) -> Finding {
        Finding {
            meta,
            level: meta.level,
            at: at.iter().map(|s| s.to_string()).collect(),
            message: message.into(),
            help: None,
            fix: Vec::new(),
        }
    }
    pub fn help(mut self, help: impl Into<String>) -> Finding {
        self.help = Some(help.into());
        self
    }
    /// The help text and fix of a piece of [`advice`].
    pub fn advise(&mut self, a: advice::Advice) {
        self.help = Some(a.help);
        self.fix = a.edits;
    }
}

/// A finding as a diagnostic on the first of its candidate nodes that exists in the file.
pub(super) fn place(cx: &Context<'_>, item: &Located<Account>, f: &Finding) -> Diagnostic {
    let map = cx.span_map(item.file);
    let rel =
        f.at.iter()
            .find(|r| map.get(&format!("{}/{r}", item.pointer)).is_some())
            .cloned()
            .unwrap_or_default();
    let part = if rel.is_empty() {
        Part::Key
    } else {
        Part::Value
    };
    let mut d = cx.diag(f.meta, item, &rel, part, f.message.clone());
    d.level = f.level;
    if let Some(h) = &f.help {
        d = d.with_help(h.clone());
    }
    if let Some(fix) = fix_of(cx, item, &f.fix) {
        d = d.with_fix(fix);
    }
    d
}

/// The edits that set each `(pointer, value)`: the value of an existing node is replaced, a
/// missing leaf is added on its own line after the first child of its block (every server
/// block has `server`), indented like it.
fn fix_of(cx: &Context<'_>, item: &Located<Account>, sets: &[(String, String)]) -> Option<Fix> {
    if sets.is_empty() {
        return None;
    }
    let map = cx.span_map(item.file);
    let text = &cx.sources.get(item.file).text;
    let mut edits = Vec::new();
    let mut what = Vec::new();
    for (target, value) in sets {
        let (block, leaf) = target.rsplit_once('/').unwrap_or(("", target.as_str()));
        what.push(format!("{leaf} {value}"));
        if let Some(e) = map.get(&format!("{}/{target}", item.pointer)) {
            edits.push(Edit {
                file: item.file,
                span: e.value,
                replacement: value.clone(),
            });
            continue;
        }
        let anchor = ["server", "user", "protocol"].iter().find_map(|k| {
            let p = if block.is_empty() {
                format!("{}/{k}", item.pointer)
            } else {
                format!("{}/{block}/{k}", item.pointer)
            };
            map.get(&p)
        })?;
        let line_start = text[..anchor.node.start].rfind('\n').map_or(0, |i| i + 1);
        let indent: String = text[line_start..anchor.node.start]
            .chars()
            .take_while(|c| c.is_whitespace())
            .collect();
        let at = anchor.node.end;
        edits.push(Edit {
            file: item.file,
            span: crate::diagnostics::Span { start: at, end: at },
            replacement: format!("\n{indent}{leaf} {value}"),
        });
    }
    Some(Fix {
        description: format!("set {}", what.join(", ")),
        edits,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::{check, Input};

    const ACCOUNT: &str = "account \"A\" {\n    protocol \"imap\"\n    incoming {\n        server \"mail.example.com\"\n        security \"tls\"\n        user \"a\"\n        password env=\"A_PW\"\n    }\n}\n";

    /// A fix that sets a written node replaces its value; one for a node the block lacks adds
    /// a line after `server`, indented like it.
    #[test]
    fn fixes_replace_values_and_add_missing_lines() {
        let checked = check(vec![Input::text("a.kdl", ACCOUNT)]);
        let cx = checked.context();
        let item = &checked.project.accounts[0];
        let sets = vec![
            ("incoming/security".to_string(), "\"ssl\"".to_string()),
            ("incoming/port".to_string(), "993".to_string()),
        ];
        let fix = fix_of(&cx, item, &sets).expect("a fix");
        let mut text = ACCOUNT.to_string();
        let mut edits = fix.edits.clone();
        edits.sort_by_key(|e| std::cmp::Reverse(e.span.start));
        for e in edits {
            text.replace_range(e.span.start..e.span.end, &e.replacement);
        }
        assert!(
            text.contains(
                "        server \"mail.example.com\"\n        port 993\n        security \"ssl\"\n"
            ),
            "{text}"
        );
        assert_eq!(fix.description, "set security \"ssl\", port 993");
    }
}
