//! The rule catalogue as text: the table of `mailcfg rules`, its JSON form, and docs/rules.md.

use serde::Serialize;

use super::{RuleMeta, ALL};
use crate::diagnostics::{config, Level};
use crate::{compile, lower, parse, pipeline, schema, source};

/// Findings that are not catalogue rules: syntax, schema, file and configuration problems. They
/// have stable names too, but cannot be configured or suppressed.
pub static BUILTIN: &[(&str, &str)] = &[
    (
        parse::SYNTAX_ERROR,
        "the file is not valid KDL v2; the location and the parser's message say what is wrong",
    ),
    (
        parse::KDL_V1,
        "the file uses KDL v1 syntax and was read with the v1 parser; migrate it to KDL v2",
    ),
    (
        parse::NESTING_TOO_DEEP,
        "blocks are nested deeper than the limit; the file is not parsed",
    ),
    (
        parse::reader::STRING_TOO_LONG,
        "a string is longer than the limit; the file is not checked further",
    ),
    (
        schema::UNKNOWN_NODE,
        "a node that does not exist at this place (see docs/format.md); a did-you-mean is offered",
    ),
    (
        schema::UNKNOWN_PROPERTY,
        "a property that does not exist on this node (see docs/format.md)",
    ),
    (
        schema::UNEXPECTED_ARGUMENT,
        "a node that takes no argument was given one",
    ),
    (
        schema::MISSING_NODE,
        "a required node or argument is missing (e.g. `server` in `incoming`)",
    ),
    (
        schema::INVALID_VALUE,
        "a value outside the allowed set or range (e.g. `security \"starttls\"`, port 99300)",
    ),
    (
        schema::WRONG_TYPE,
        "a value of the wrong type (e.g. `port \"993\"` instead of `port 993`)",
    ),
    (
        lower::DUPLICATE_NODE,
        "a node given twice where only one is allowed; KDL would keep the last",
    ),
    (
        lower::DUPLICATE_PROPERTY,
        "a property given twice on one node; KDL would keep the last",
    ),
    (
        pipeline::EMPTY_FILE,
        "the file defines no account, credential or system node",
    ),
    (
        pipeline::TOO_MANY_DIAGNOSTICS,
        "a file has more findings than are shown; the rest are counted",
    ),
    (source::IO_ERROR, "a path could not be read or walked"),
    (
        source::INVALID_UTF8,
        "the file is not UTF-8 text; the byte offset of the first invalid byte is named",
    ),
    (
        source::BINARY_FILE,
        "the file is binary (it contains NUL bytes)",
    ),
    (
        source::FILE_TOO_LARGE,
        "the file is larger than the limit and is not checked",
    ),
    (
        config::UNKNOWN_RULE,
        "mailcfg.kdl names a rule that does not exist (see docs/configuration.md)",
    ),
    (
        config::INVALID_CONFIG,
        "mailcfg.kdl is not a valid configuration (see docs/configuration.md)",
    ),
    (
        compile::STORE_INLINE_SECRET,
        "compile: a literal secret would be copied into the store (see docs/compile.md)",
    ),
    (
        compile::SECRET_UNRESOLVED,
        "compile --resolve-secrets: an env= or file= secret could not be read",
    ),
    (
        compile::MULTIPLE_SYSTEM,
        "compile: more than one `system` node in the tree",
    ),
];

/// The one-line description of a built-in finding.
pub fn builtin(name: &str) -> Option<&'static str> {
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, d)| *d)
}

/// One row of `mailcfg rules --format json`.
#[derive(Debug, Serialize)]
pub struct Entry {
    pub name: &'static str,
    pub level: Level,
    pub fixable: bool,
    pub summary: &'static str,
}

pub fn entries() -> Vec<Entry> {
    ALL.iter()
        .map(|r| Entry {
            name: r.meta.name,
            level: r.meta.level,
            fixable: r.meta.fixable,
            summary: r.meta.summary,
        })
        .collect()
}

/// The plain-text table: name, default level, fix, summary.
pub fn table() -> String {
    let width = ALL.iter().map(|r| r.meta.name.len()).max().unwrap_or(4);
    let mut out = format!("{:width$}  {:7}  {:3}  SUMMARY\n", "NAME", "LEVEL", "FIX");
    for r in ALL {
        out.push_str(&format!(
            "{:width$}  {:7}  {:3}  {}\n",
            r.meta.name,
            r.meta.level.as_str(),
            if r.meta.fixable { "yes" } else { "" },
            r.meta.summary
        ));
    }
    out
}

/// What `mailcfg explain NAME` prints.
pub fn explain(meta: &RuleMeta) -> String {
    format!(
        "# {}\n\nDefault level: {}{}\n\n{}\n\n{}",
        meta.name,
        meta.level,
        if meta.fixable {
            " · fixable with `mailcfg check --fix`"
        } else {
            ""
        },
        capitalized(meta.summary),
        meta.docs
    )
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => format!("{}{}.", f.to_uppercase(), c.as_str()),
        None => String::new(),
    }
}

/// docs/rules.md: the table and every rule's documentation (headings one level down).
pub fn markdown() -> String {
    let mut out = String::from(
        "# Rules\n\n\
         <!-- Generated by `mailcfg rules --format markdown`; do not edit by hand. Regenerate with\n\
         `cargo run -q -- rules --format markdown > docs/rules.md` (a test keeps this file in sync). -->\n\n\
         Every finding of `mailcfg check` names its rule. Rule names are stable; use them to change a\n\
         rule's level in `mailcfg.kdl` or to suppress one finding with a comment (see\n\
         [configuration.md](configuration.md)). `mailcfg explain NAME` prints one rule's page.\n\
         Each rule's bad and good example below is checked by the test suite: the bad one triggers the\n\
         rule, the good one is free of findings.\n\n\
         | rule | default level | fix | summary |\n|---|---|---|---|\n",
    );
    for r in ALL {
        out.push_str(&format!(
            "| [`{0}`](#{0}) | {1} | {2} | {3} |\n",
            r.meta.name,
            r.meta.level,
            if r.meta.fixable { "yes" } else { "" },
            r.meta.summary.replace('|', "\\|")
        ));
    }
    for r in ALL {
        let m = r.meta;
        out.push_str(&format!(
            "\n## {}\n\nDefault level: **{}**{}. {}\n\n",
            m.name,
            m.level,
            if m.fixable {
                " · fixable with `mailcfg check --fix`"
            } else {
                ""
            },
            capitalized(m.summary)
        ));
        for line in m.docs.lines() {
            if line.starts_with('#') {
                out.push('#');
            }
            out.push_str(line);
            out.push('\n');
        }
    }
    out.push_str(
        "\n## Built-in checks\n\n\
         These findings come from reading, parsing and the schema rather than from the catalogue.\n\
         Their names are stable too, but they cannot be configured or suppressed.\n\n\
         | name | meaning |\n|---|---|\n",
    );
    for (name, what) in BUILTIN {
        out.push_str(&format!("| `{name}` | {} |\n", what.replace('|', "\\|")));
    }
    out
}
