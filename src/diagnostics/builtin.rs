//! Diagnostic names that are not rules in [`crate::rules::ALL`]: problems found while reading,
//! parsing, lowering and schema-checking a file. They appear in every output format exactly like
//! rule names (SARIF lists them in `tool.driver.rules`), so they are as stable as rule names.
//! docs/formats.md lists them; a test fails when a stage emits a name missing here.

use crate::diagnostics::config;
use crate::diagnostics::Level;
use crate::{lower, parse, pipeline, schema, source};

/// A built-in check: stable name, the level it is reported at, one-line summary.
#[derive(Debug)]
pub struct Builtin {
    pub name: &'static str,
    pub level: Level,
    pub summary: &'static str,
}

pub static BUILTIN: &[Builtin] = &[
    Builtin {
        name: source::IO_ERROR,
        level: Level::Error,
        summary: "a path could not be read (missing, permission denied, symbolic link loop)",
    },
    Builtin {
        name: source::INVALID_UTF8,
        level: Level::Error,
        summary: "the file is not valid UTF-8 text",
    },
    Builtin {
        name: source::BINARY_FILE,
        level: Level::Error,
        summary: "the file is binary (contains NUL bytes) and is not checked",
    },
    Builtin {
        name: source::FILE_TOO_LARGE,
        level: Level::Error,
        summary: "the file is larger than the 16 MiB limit and is not checked",
    },
    Builtin {
        name: pipeline::EMPTY_FILE,
        level: Level::Warning,
        summary: "the file defines no account, credential or system node",
    },
    Builtin {
        name: pipeline::TOO_MANY_DIAGNOSTICS,
        level: Level::Info,
        summary: "more findings than the per-file limit (100); the rest are counted, not listed",
    },
    Builtin {
        name: parse::SYNTAX_ERROR,
        level: Level::Error,
        summary: "the file is not a valid KDL v2 document",
    },
    Builtin {
        name: parse::KDL_V1,
        level: Level::Warning,
        summary: "the file uses KDL v1 syntax (it is still read, with the v1 parser)",
    },
    Builtin {
        name: parse::NESTING_TOO_DEEP,
        level: Level::Error,
        summary: "blocks are nested more than 64 levels deep; the file is not parsed",
    },
    Builtin {
        name: lower::DUPLICATE_NODE,
        level: Level::Error,
        summary: "a node that may appear once is given more than once",
    },
    Builtin {
        name: lower::DUPLICATE_PROPERTY,
        level: Level::Error,
        summary: "a property is given more than once on one node",
    },
    Builtin {
        name: schema::UNKNOWN_NODE,
        level: Level::Error,
        summary: "a node the account format does not define",
    },
    Builtin {
        name: schema::UNKNOWN_PROPERTY,
        level: Level::Error,
        summary: "a property the node does not take",
    },
    Builtin {
        name: schema::UNEXPECTED_ARGUMENT,
        level: Level::Error,
        summary: "an argument on a node that takes none (or takes fewer)",
    },
    Builtin {
        name: schema::MISSING_NODE,
        level: Level::Error,
        summary: "a required node is missing",
    },
    Builtin {
        name: schema::INVALID_VALUE,
        level: Level::Error,
        summary: "a value outside the allowed set or range",
    },
    Builtin {
        name: schema::WRONG_TYPE,
        level: Level::Error,
        summary: "a value of the wrong type (e.g. a string where a number is expected)",
    },
    Builtin {
        name: config::UNKNOWN_RULE,
        level: Level::Error,
        summary: "mailcfg.kdl names a rule that does not exist (the run stops with exit code 2)",
    },
    Builtin {
        name: config::INVALID_CONFIG,
        level: Level::Error,
        summary: "mailcfg.kdl is not a valid configuration (the run stops with exit code 2)",
    },
];

/// Name, default level and summary of every diagnostic mailcfg can emit: rules first, then the
/// built-in checks.
pub fn all() -> Vec<(&'static str, Level, &'static str)> {
    crate::rules::ALL
        .iter()
        .map(|r| (r.meta.name, r.meta.level, r.meta.summary))
        .chain(BUILTIN.iter().map(|b| (b.name, b.level, b.summary)))
        .collect()
}
