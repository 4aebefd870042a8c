//! The rule registry. Each rule lives in its own file with its documentation; adding a rule is
//! one new file plus one line in [`ALL`].

use crate::diagnostics::{Diagnostic, Label, Level, Span};
use crate::lower::SpanMap;
use crate::model::{Located, Project};
use crate::source::FileId;

mod duplicate_account_name;
mod password_with_credential;
mod port_security_mismatch;
mod security_imap_only;
mod unknown_credential;

/// What users see of a rule: its stable name, default level and documentation (Markdown with a
/// ```` ```kdl bad ```` and a ```` ```kdl good ```` example, both executed by the tests).
#[derive(Debug)]
pub struct RuleMeta {
    pub name: &'static str,
    pub level: Level,
    pub summary: &'static str,
    pub docs: &'static str,
}

pub type CheckFn = fn(&Context<'_>, &mut Vec<Diagnostic>);

pub struct Rule {
    pub meta: &'static RuleMeta,
    pub check: CheckFn,
}

pub static ALL: &[Rule] = &[
    Rule {
        meta: &duplicate_account_name::META,
        check: duplicate_account_name::check,
    },
    Rule {
        meta: &password_with_credential::META,
        check: password_with_credential::check,
    },
    Rule {
        meta: &port_security_mismatch::META,
        check: port_security_mismatch::check,
    },
    Rule {
        meta: &security_imap_only::META,
        check: security_imap_only::check,
    },
    Rule {
        meta: &unknown_credential::META,
        check: unknown_credential::check,
    },
];

pub fn find(name: &str) -> Option<&'static Rule> {
    ALL.iter().find(|r| r.meta.name == name)
}

/// What a rule sees: the typed model of the whole tree and, per file, where each value came from.
pub struct Context<'a> {
    pub project: &'a Project,
    pub spans: &'a [SpanMap],
}

/// Which part of a value's source to point at.
#[derive(Debug, Clone, Copy)]
pub enum Part {
    /// The node name or property key.
    Key,
    /// The value (a leaf's argument, or the whole node for blocks).
    Value,
    /// The whole node.
    Node,
}

impl Context<'_> {
    pub fn span_map(&self, file: FileId) -> &SpanMap {
        &self.spans[file.index()]
    }

    /// The span of `rel` (e.g. `incoming/port`) under `item`, or of its nearest ancestor.
    pub fn span<T>(&self, item: &Located<T>, rel: &str, part: Part) -> Span {
        let ptr = join(&item.pointer, rel);
        match self.span_map(item.file).nearest(&ptr) {
            Some((_, e)) => match part {
                Part::Key => e.key,
                Part::Value => e.value,
                Part::Node => e.node,
            },
            None => Span::default(),
        }
    }

    pub fn label<T>(&self, item: &Located<T>, rel: &str, part: Part) -> Label {
        Label::new(item.file, self.span(item, rel, part))
    }

    /// A diagnostic of `meta`'s rule at `rel` under `item`, with its KDL path filled in.
    pub fn diag<T>(
        &self,
        meta: &RuleMeta,
        item: &Located<T>,
        rel: &str,
        part: Part,
        message: impl Into<String>,
    ) -> Diagnostic {
        let ptr = join(&item.pointer, rel);
        Diagnostic::new(meta.name, meta.level, self.label(item, rel, part), message)
            .with_path(self.span_map(item.file).kdl_path(&ptr))
    }
}

fn join(base: &str, rel: &str) -> String {
    if rel.is_empty() {
        base.to_string()
    } else {
        format!("{base}/{rel}")
    }
}

/// Runs every rule over the project.
pub fn run(cx: &Context<'_>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for rule in ALL {
        (rule.check)(cx, &mut out);
    }
    out
}
