//! `mailcfg.kdl`: per-rule levels for the whole tree and per-path overrides, applied to the
//! diagnostics of a run after every rule and suppression comment.
//!
//! ```kdl
//! rules {
//!     auto-security "allow"
//!     inline-secret "deny"
//! }
//! override "legacy/**" {
//!     cleartext-credentials "warn"
//! }
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use crate::diagnostics::{Diagnostic, Label, Level, Span};
use crate::parse::{self, Node, Value};
use crate::registry;
use crate::schema::did_you_mean;
use crate::source::{self, FileId, SourceFile, Sources};

/// The configuration file's name; discovery never checks it as an account file.
pub const FILE_NAME: &str = "mailcfg.kdl";

pub use crate::registry::builtin::{INVALID_CONFIG, UNKNOWN_RULE};

/// What a rule's findings become.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// Not reported at all.
    Allow,
    Info,
    Warn,
    Deny,
}

impl Setting {
    pub const NAMES: [&'static str; 4] = ["allow", "info", "warn", "deny"];

    pub fn parse(s: &str) -> Option<Setting> {
        Some(match s {
            "allow" => Setting::Allow,
            "info" => Setting::Info,
            "warn" => Setting::Warn,
            "deny" => Setting::Deny,
            _ => return None,
        })
    }

    /// The level findings get, `None` for `allow`.
    pub fn level(self) -> Option<Level> {
        match self {
            Setting::Allow => None,
            Setting::Info => Some(Level::Info),
            Setting::Warn => Some(Level::Warning),
            Setting::Deny => Some(Level::Error),
        }
    }
}

#[derive(Debug, Clone)]
struct Override {
    globs: GlobSet,
    levels: HashMap<&'static str, Setting>,
}

/// A loaded configuration. The default (no file) changes nothing.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The file it was read from.
    pub path: Option<PathBuf>,
    /// Override globs are relative to this directory (the file's).
    root: PathBuf,
    levels: HashMap<&'static str, Setting>,
    overrides: Vec<Override>,
}

/// A configuration that could not be used: its text (for snippets) and what is wrong.
#[derive(Debug)]
pub struct ConfigError {
    pub source: SourceFile,
    /// Located in `source`, whose id is `FileId(0)`.
    pub diagnostics: Vec<Diagnostic>,
}

/// The first `mailcfg.kdl` found walking up from each checked path in turn (from a directory
/// itself, from a file its directory).
pub fn find(paths: &[PathBuf]) -> Option<PathBuf> {
    for p in paths {
        let abs = absolute(p);
        let start = if abs.is_dir() {
            Some(abs.as_path())
        } else {
            abs.parent()
        };
        for dir in start.into_iter().flat_map(Path::ancestors) {
            let candidate = dir.join(FILE_NAME);
            if candidate.is_file() {
                // Shown to users: relative to the working directory when inside it.
                let cwd = std::env::current_dir().ok().map(|d| absolute(&d));
                return Some(
                    match cwd.and_then(|d| candidate.strip_prefix(d).ok().map(Path::to_path_buf)) {
                        Some(rel) => rel,
                        None => candidate,
                    },
                );
            }
        }
    }
    None
}

fn absolute(p: &Path) -> PathBuf {
    p.canonicalize()
        .or_else(|_| std::path::absolute(p))
        .unwrap_or_else(|_| p.to_path_buf())
}

/// Reads and validates a configuration file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let (file, problem) = source::read_file(path);
    if let Some((rule, message, span)) = problem {
        return Err(ConfigError {
            diagnostics: vec![source::input_diagnostic(FileId(0), rule, message, span)],
            source: file,
        });
    }
    match parse_config(path, &file.text) {
        Ok(c) => Ok(c),
        Err(diagnostics) => Err(ConfigError {
            source: file,
            diagnostics,
        }),
    }
}

/// Parses configuration text; diagnostics are located in `FileId(0)`.
pub fn parse_config(path: &Path, text: &str) -> Result<Config, Vec<Diagnostic>> {
    let id = FileId(0);
    let parsed = parse::parse(id, text);
    let mut errors: Vec<Diagnostic> = parsed
        .diagnostics
        .into_iter()
        .filter(|d| d.level == Level::Error)
        .collect();
    let Some(doc) = parsed.document else {
        return Err(errors);
    };
    let abs = absolute(path);
    let mut config = Config {
        path: Some(path.to_path_buf()),
        root: abs.parent().map(Path::to_path_buf).unwrap_or_default(),
        ..Config::default()
    };
    let err = |span: Span, rule: &'static str, msg: String| {
        Diagnostic::new(rule, Level::Error, Label::new(id, span), msg)
    };
    for node in &doc.nodes {
        match node.name.value.as_ref() {
            "rules" => {
                if !node.entries.is_empty() {
                    errors.push(err(
                        node.name.span,
                        INVALID_CONFIG,
                        "`rules` takes no arguments; list the rules in its block".into(),
                    ));
                }
                // Several `rules` blocks add up; a rule named twice keeps its last level.
                config.levels.extend(levels(node, &mut errors));
            }
            "override" => {
                let mut builder = GlobSetBuilder::new();
                let mut n = 0;
                for e in &node.entries {
                    match (&e.name, &e.value) {
                        (None, Value::String(p)) => {
                            match GlobBuilder::new(p).literal_separator(true).build() {
                                Ok(g) => {
                                    builder.add(g);
                                    n += 1;
                                }
                                Err(e2) => errors.push(err(
                                    e.value_span,
                                    INVALID_CONFIG,
                                    format!("invalid glob {p:?}: {}", e2.kind()),
                                )),
                            }
                        }
                        _ => errors.push(err(
                            e.span,
                            INVALID_CONFIG,
                            "`override` takes path globs as quoted strings, e.g. `override \"legacy/**\" { … }`".into(),
                        )),
                    }
                }
                if n == 0 && node.entries.is_empty() {
                    errors.push(err(
                        node.name.span,
                        INVALID_CONFIG,
                        "`override` needs at least one path glob, e.g. `override \"legacy/**\" { … }`".into(),
                    ));
                }
                let levels = levels(node, &mut errors);
                if let Ok(globs) = builder.build() {
                    config.overrides.push(Override { globs, levels });
                }
            }
            other => {
                let mut d = err(
                    node.name.span,
                    INVALID_CONFIG,
                    format!("unknown node `{other}` in {FILE_NAME}"),
                );
                d = d.with_help(match did_you_mean(other, ["rules", "override"]) {
                    Some(s) => format!("did you mean `{s}`? expected `rules {{ … }}` or `override \"glob\" {{ … }}`"),
                    None => "expected `rules { … }` or `override \"glob\" { … }`".into(),
                });
                errors.push(d);
            }
        }
    }
    if errors.is_empty() {
        Ok(config)
    } else {
        Err(errors)
    }
}

/// `rule-name "level"` children of `node`.
fn levels(node: &Node<'_>, errors: &mut Vec<Diagnostic>) -> HashMap<&'static str, Setting> {
    let mut out = HashMap::new();
    let id = FileId(0);
    let Some(children) = &node.children else {
        errors.push(Diagnostic::new(
            INVALID_CONFIG,
            Level::Error,
            Label::new(id, node.name.span),
            format!(
                "`{}` needs a block of `rule-name \"level\"` lines",
                node.name.value
            ),
        ));
        return out;
    };
    for child in &children.nodes {
        let name = child.name.value.as_ref();
        let rule = match registry::find(name) {
            Some(code) if code.configurable => code.name,
            Some(code) => {
                errors.push(
                    Diagnostic::new(
                        INVALID_CONFIG,
                        Level::Error,
                        Label::new(id, child.name.span).with_text("cannot be configured"),
                        format!(
                            "`{name}` is a built-in check of the {} stage; its level cannot be configured",
                            code.stage
                        ),
                    )
                    .with_help(
                        "only catalogue rules and probe checks can be levelled; `mailcfg rules` shows which",
                    ),
                );
                continue;
            }
            None => {
                let mut d = Diagnostic::new(
                    UNKNOWN_RULE,
                    Level::Error,
                    Label::new(id, child.name.span).with_text("unknown rule"),
                    format!("`{name}` is not a rule"),
                );
                d = d.with_help(match did_you_mean(name, registry::configurable_names()) {
                    Some(s) => format!("did you mean `{s}`? `mailcfg rules` lists the names"),
                    None => "`mailcfg rules` lists the names".into(),
                });
                errors.push(d);
                continue;
            }
        };
        let value = match child.entries.as_slice() {
            [e] if e.name.is_none() => match &e.value {
                Value::String(s) => Setting::parse(s).ok_or((e.value_span, Some(s.to_string()))),
                _ => Err((e.value_span, None)),
            },
            _ => Err((child.span, None)),
        };
        match value {
            Ok(s) => {
                out.insert(rule, s);
            }
            Err((span, given)) => {
                let hint = given
                    .as_deref()
                    .and_then(|g| did_you_mean(g, Setting::NAMES))
                    .map(|s| format!("did you mean \"{s}\"? "))
                    .unwrap_or_default();
                errors.push(
                    Diagnostic::new(
                        INVALID_CONFIG,
                        Level::Error,
                        Label::new(id, span),
                        format!(
                            "`{name}` needs one level: \"allow\", \"info\", \"warn\" or \"deny\""
                        ),
                    )
                    .with_help(format!("{hint}e.g. `{name} \"warn\"`")),
                );
            }
        }
    }
    out
}

impl Config {
    /// The setting for `rule` in the file at `path` (relative to the config's directory), if the
    /// configuration changes it. Later overrides win over earlier ones and over `rules`.
    pub fn setting(&self, rule: &str, relative: Option<&str>) -> Option<Setting> {
        let mut found = self.levels.get(rule).copied();
        if let Some(rel) = relative {
            for o in &self.overrides {
                if let Some(s) = o.levels.get(rule) {
                    if o.globs.is_match(rel) {
                        found = Some(*s);
                    }
                }
            }
        }
        found
    }

    /// `path` relative to the configuration's directory, with `/` separators.
    fn relative(&self, path: &Path) -> Option<String> {
        let abs = absolute(path);
        let rel = abs.strip_prefix(&self.root).ok()?;
        Some(rel.to_string_lossy().replace('\\', "/"))
    }

    pub fn is_empty(&self) -> bool {
        self.levels.is_empty() && self.overrides.is_empty()
    }

    /// Changes levels and drops `allow`ed findings. Only configurable codes (catalogue rules,
    /// suppression findings, probe checks) are affected.
    pub fn apply(&self, diags: &mut Vec<Diagnostic>, sources: &Sources) {
        if self.is_empty() {
            return;
        }
        let mut relative: HashMap<FileId, Option<String>> = HashMap::new();
        diags.retain_mut(|d| {
            if registry::configurable(d.rule).is_none() {
                return true;
            }
            let file = d.primary.file;
            let rel = relative
                .entry(file)
                .or_insert_with(|| {
                    (file.index() < sources.len())
                        .then(|| self.relative(&sources.get(file).path))
                        .flatten()
                })
                .as_deref();
            match self.setting(d.rule, rel).map(Setting::level) {
                None => true,
                Some(None) => false,
                Some(Some(level)) => {
                    d.level = level;
                    true
                }
            }
        });
    }
}
