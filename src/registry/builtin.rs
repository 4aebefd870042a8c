//! Diagnostic names that are not rules in [`crate::rules::ALL`]: problems found while reading,
//! parsing, lowering and schema-checking a file, about the whole project, in the configuration,
//! and while compiling. They cannot be configured or suppressed. They appear in every output
//! format exactly like rule names, so they are as stable as rule names. [`crate::registry`]
//! lists them with every other code; docs/formats.md documents them.

use crate::diagnostics::Level;
use crate::registry::Stage;
use crate::{facts, lower, parse, schema, source};

// The codes of stages above the registry (they import it, it cannot import them) are defined
// here; the stages below define their own and are listed by path.

/// A file with no account, credential or system node.
pub const EMPTY_FILE: &str = "empty-file";
/// A file's findings were cut at the per-file limit.
pub const TOO_MANY_DIAGNOSTICS: &str = "too-many-diagnostics";
/// A rule name in `mailcfg.kdl` or a suppression comment that is not a code.
pub const UNKNOWN_RULE: &str = "unknown-rule";
/// A problem in the configuration file itself.
pub const INVALID_CONFIG: &str = "invalid-config";
/// A literal secret in a file while `--allow-inline-secrets` was not given.
pub const STORE_INLINE_SECRET: &str = "store-inline-secret";
/// `--resolve-secrets` could not read a referenced variable or file.
pub const SECRET_UNRESOLVED: &str = "secret-unresolved";

/// A built-in check: stable name, the level it is reported at, one-line summary.
#[derive(Debug)]
pub struct Builtin {
    pub name: &'static str,
    pub stage: Stage,
    pub level: Level,
    pub summary: &'static str,
}

pub static BUILTIN: &[Builtin] = &[
    Builtin {
        name: parse::SYNTAX_ERROR,
        stage: Stage::Syntax,
        level: Level::Error,
        summary: "the file is not valid KDL v2; the location and the parser's message say what is wrong",
    },
    Builtin {
        name: parse::KDL_V1,
        stage: Stage::Syntax,
        level: Level::Warning,
        summary: "the file uses KDL v1 syntax and was read with the v1 parser; migrate it to KDL v2",
    },
    Builtin {
        name: parse::NESTING_TOO_DEEP,
        stage: Stage::Limits,
        level: Level::Error,
        summary: "blocks are nested deeper than the limit; the file is not parsed",
    },
    Builtin {
        name: parse::reader::STRING_TOO_LONG,
        stage: Stage::Limits,
        level: Level::Error,
        summary: "a string is longer than the limit; the file is not checked further",
    },
    Builtin {
        name: schema::UNKNOWN_NODE,
        stage: Stage::Schema,
        level: Level::Error,
        summary: "a node that does not exist at this place (see docs/format.md); a did-you-mean is offered",
    },
    Builtin {
        name: schema::UNKNOWN_PROPERTY,
        stage: Stage::Schema,
        level: Level::Error,
        summary: "a property that does not exist on this node (see docs/format.md)",
    },
    Builtin {
        name: schema::UNEXPECTED_ARGUMENT,
        stage: Stage::Schema,
        level: Level::Error,
        summary: "a node that takes no argument was given one",
    },
    Builtin {
        name: schema::MISSING_NODE,
        stage: Stage::Schema,
        level: Level::Error,
        summary: "a required node or argument is missing (e.g. `server` in `incoming`)",
    },
    Builtin {
        name: schema::INVALID_VALUE,
        stage: Stage::Schema,
        level: Level::Error,
        summary: "a value outside the allowed set or range (e.g. `security \"starttls\"`, port 99300)",
    },
    Builtin {
        name: schema::WRONG_TYPE,
        stage: Stage::Schema,
        level: Level::Error,
        summary: "a value of the wrong type (e.g. `port \"993\"` instead of `port 993`)",
    },
    Builtin {
        name: lower::DUPLICATE_NODE,
        stage: Stage::Schema,
        level: Level::Error,
        summary: "a node given twice where only one is allowed; KDL would keep the last",
    },
    Builtin {
        name: lower::DUPLICATE_PROPERTY,
        stage: Stage::Schema,
        level: Level::Error,
        summary: "a property given twice on one node; KDL would keep the last",
    },
    Builtin {
        name: EMPTY_FILE,
        stage: Stage::Io,
        level: Level::Warning,
        summary: "the file defines no account, credential or system node",
    },
    Builtin {
        name: TOO_MANY_DIAGNOSTICS,
        stage: Stage::Limits,
        level: Level::Info,
        summary: "a file has more findings than are shown; the rest are counted",
    },
    Builtin {
        name: source::IO_ERROR,
        stage: Stage::Io,
        level: Level::Error,
        summary: "a path could not be read or walked",
    },
    Builtin {
        name: source::INVALID_UTF8,
        stage: Stage::Io,
        level: Level::Error,
        summary: "the file is not UTF-8 text; the byte offset of the first invalid byte is named",
    },
    Builtin {
        name: source::BINARY_FILE,
        stage: Stage::Io,
        level: Level::Error,
        summary: "the file is binary (it contains NUL bytes)",
    },
    Builtin {
        name: source::FILE_TOO_LARGE,
        stage: Stage::Limits,
        level: Level::Error,
        summary: "the file is larger than the limit and is not checked",
    },
    Builtin {
        name: UNKNOWN_RULE,
        stage: Stage::Config,
        level: Level::Error,
        summary: "mailcfg.kdl names a rule that does not exist (see docs/configuration.md)",
    },
    Builtin {
        name: INVALID_CONFIG,
        stage: Stage::Config,
        level: Level::Error,
        summary: "mailcfg.kdl is not a valid configuration (see docs/configuration.md)",
    },
    Builtin {
        name: STORE_INLINE_SECRET,
        stage: Stage::Compile,
        level: Level::Error,
        summary: "compile: a literal secret would be copied into the store (see docs/compile.md)",
    },
    Builtin {
        name: SECRET_UNRESOLVED,
        stage: Stage::Compile,
        level: Level::Error,
        summary: "compile --resolve-secrets: an env= or file= secret could not be read",
    },
    Builtin {
        name: facts::MULTIPLE_SYSTEM,
        stage: Stage::Project,
        level: Level::Error,
        summary: "more than one `system` node in the project; only one can apply",
    },
    Builtin {
        name: facts::DUPLICATE_CREDENTIAL_NAME,
        stage: Stage::Project,
        level: Level::Error,
        summary: "two credentials whose names are equal ignoring case; a reference could mean either",
    },
];

/// The built-in check named `name`.
pub fn find(name: &str) -> Option<&'static Builtin> {
    BUILTIN.iter().find(|b| b.name == name)
}
