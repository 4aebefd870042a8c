//! The one registry of every diagnostic code mailcfg can emit: the catalogue rules
//! ([`crate::rules::ALL`]), the built-in checks of reading, syntax, schema, limits, the project,
//! the configuration and compile ([`crate::registry::builtin::BUILTIN`]) and the checks of
//! `mailcfg probe` ([`crate::registry::probe::ALL`]). Each code is defined next to the stage that
//! emits it; this list is what every consumer reads: `mailcfg rules`, `mailcfg explain`, the
//! configuration (which codes can be levelled), suppression comments and SARIF's
//! `tool.driver.rules`. A test fails when any command emits a code missing here.

pub mod builtin;
pub mod catalogue;
pub mod probe;

use std::sync::LazyLock;

use serde::Serialize;

use crate::diagnostics::Level;
use crate::registry::builtin::BUILTIN;
use crate::rules::{self, RuleMeta};

/// Where in the pipeline a code is emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// Finding and reading files (I/O, encoding).
    Io,
    /// KDL syntax.
    Syntax,
    /// The account format: nodes, properties, values.
    Schema,
    /// Limits that keep a damaged or generated file from costing unbounded time.
    Limits,
    /// Facts about the whole project (one `system`, unique credential names).
    Project,
    /// The catalogue rules (CSM requirements and best practice).
    Rule,
    /// Suppression comments.
    Suppression,
    /// The configuration file `mailcfg.kdl`.
    Config,
    /// `mailcfg compile`.
    Compile,
    /// `mailcfg probe`, against the live servers.
    Probe,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Io => "io",
            Stage::Syntax => "syntax",
            Stage::Schema => "schema",
            Stage::Limits => "limits",
            Stage::Project => "project",
            Stage::Rule => "rule",
            Stage::Suppression => "suppression",
            Stage::Config => "config",
            Stage::Compile => "compile",
            Stage::Probe => "probe",
        }
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One diagnostic code.
#[derive(Debug, Serialize)]
pub struct Code {
    /// The stable kebab-case name shown with every finding.
    pub name: &'static str,
    pub stage: Stage,
    /// The level it is reported at unless the configuration changes it.
    pub level: Level,
    /// Whether `mailcfg.kdl` can change its level (and a suppression comment silence it).
    pub configurable: bool,
    /// Whether its findings carry a fix that `mailcfg check --fix` applies.
    pub fixable: bool,
    pub summary: &'static str,
    /// The documentation (Markdown); for built-in checks, the summary's longer form.
    #[serde(skip)]
    pub docs: &'static str,
    /// The exact source the requirement comes from, where the code has one (a rule's CSM page
    /// step or RFC section; for probe checks, what the server answered).
    pub source: Option<&'static str>,
    /// The rule's own metadata (rules, suppression findings, probe checks), for its full page.
    #[serde(skip)]
    pub meta: Option<&'static RuleMeta>,
}

impl Code {
    /// Whether the finding is reported by `mailcfg check` (and the editor), not by a later
    /// command.
    pub fn is_check(&self) -> bool {
        !matches!(self.stage, Stage::Compile | Stage::Probe)
    }
}

fn from_meta(meta: &'static RuleMeta, stage: Stage) -> Code {
    Code {
        name: meta.name,
        stage,
        level: meta.level,
        configurable: true,
        fixable: meta.fixable,
        summary: meta.summary,
        docs: meta.docs,
        source: Some(meta.source),
        meta: Some(meta),
    }
}

static ALL: LazyLock<Vec<Code>> = LazyLock::new(|| {
    let catalogue = rules::ALL.iter().map(|r| {
        let suppression = r.check.is_none();
        from_meta(
            r.meta,
            if suppression {
                Stage::Suppression
            } else {
                Stage::Rule
            },
        )
    });
    let builtin = BUILTIN.iter().map(|b| Code {
        name: b.name,
        stage: b.stage,
        level: b.level,
        configurable: false,
        fixable: false,
        summary: b.summary,
        docs: b.summary,
        source: None,
        meta: None,
    });
    let probe = crate::registry::probe::ALL
        .iter()
        .map(|m| from_meta(m, Stage::Probe));
    catalogue.chain(builtin).chain(probe).collect()
});

/// Every code: the catalogue rules (in their documented order), the built-in checks, the probe
/// checks. SARIF's `ruleIndex` is the position in this list.
pub fn all() -> &'static [Code] {
    &ALL
}

pub fn find(name: &str) -> Option<&'static Code> {
    all().iter().find(|c| c.name == name)
}

/// The position of `name` in [`all`].
pub fn index(name: &str) -> Option<usize> {
    all().iter().position(|c| c.name == name)
}

/// The code named `name` if its level can be configured.
pub fn configurable(name: &str) -> Option<&'static Code> {
    find(name).filter(|c| c.configurable)
}

/// The names of the codes whose level can be configured (for did-you-mean hints).
pub fn configurable_names() -> impl Iterator<Item = &'static str> {
    all().iter().filter(|c| c.configurable).map(|c| c.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_every_stage_is_represented() {
        let mut names: Vec<&str> = all().iter().map(|c| c.name).collect();
        names.sort_unstable();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n, "a code is registered twice");
        for stage in [
            Stage::Io,
            Stage::Syntax,
            Stage::Schema,
            Stage::Limits,
            Stage::Project,
            Stage::Rule,
            Stage::Suppression,
            Stage::Config,
            Stage::Compile,
            Stage::Probe,
        ] {
            assert!(all().iter().any(|c| c.stage == stage), "no {stage} code");
        }
    }

    #[test]
    fn a_rule_names_its_source() {
        let c = find("unknown-credential").unwrap();
        assert_eq!(c.source, Some(c.meta.unwrap().source));
        assert!(!c.source.unwrap().is_empty());
        assert!(find("syntax-error").unwrap().source.is_none());
        assert!(!find("syntax-error").unwrap().configurable);
        assert!(find("probe-cleartext").unwrap().configurable);
    }
}
