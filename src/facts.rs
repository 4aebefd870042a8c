//! Facts about the whole project that no single file shows, checked by every command through
//! the pipeline (so `check`, `compile`, `probe` and the editor agree): at most one `system`
//! node, and credential names unique ignoring case. They are built-in checks, not catalogue
//! rules: mailcfg itself relies on them (the store holds one `system`; a reference must name
//! one credential), so they cannot be configured or suppressed.

use crate::diagnostics::{Diagnostic, Level};
use crate::lower::FastMap;
use crate::rules::keys::Lowercase;
use crate::rules::{Context, Part};

/// More than one `system` node across the project: which one applies would depend on the
/// order files are found in.
pub const MULTIPLE_SYSTEM: &str = "multiple-system";
/// Two credentials whose names are equal ignoring case: a reference could mean either.
pub const DUPLICATE_CREDENTIAL_NAME: &str = "duplicate-credential-name";

/// The findings of both facts, in project order (files by path, then position).
pub fn check(cx: &Context<'_>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let systems = &cx.project.systems;
    if let [first, extras @ ..] = systems.as_slice() {
        // Locating a value builds the file's span index: only when there is a finding.
        let first_label = || {
            cx.label(first, "", Part::Key)
                .with_text("first `system` node")
        };
        for extra in extras {
            out.push(
                Diagnostic::new(
                    MULTIPLE_SYSTEM,
                    Level::Error,
                    cx.label(extra, "", Part::Key)
                        .with_text("another `system` node"),
                    "more than one `system` node in the project; only one can apply",
                )
                .with_related(first_label())
                .with_help("merge the `system` nodes into one file"),
            );
        }
    }
    let mut seen = FastMap::default();
    for cred in &cx.project.credentials {
        let key = Lowercase(&cred.value.name);
        match seen.get(&key) {
            None => {
                seen.insert(key, cred);
            }
            Some(prev) => out.push(
                Diagnostic::new(
                    DUPLICATE_CREDENTIAL_NAME,
                    Level::Error,
                    cx.label(cred, "name", Part::Value),
                    format!(
                        "credential name {:?} is already used by credential {:?}",
                        cred.value.name, prev.value.name
                    ),
                )
                .with_path(cx.kdl_path(cred, "name"))
                .with_related(
                    cx.label(prev, "name", Part::Value)
                        .with_text("first defined here"),
                )
                .with_help(
                    "credential names are unique across all files, ignoring case; rename or merge one of them",
                ),
            ),
        }
    }
    out
}
