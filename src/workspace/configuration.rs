//! The configuration of each project: found walking up from its root, or `--config`, or named.

use std::path::{Path, PathBuf};

use super::identity::identity;
use super::{InvalidConfig, NamedConfig, PROJECT_FILE};
use crate::policy::config::{self, Config};
use crate::source;

/// Whether `path` names the configuration file (by its name: `mailcfg.kdl` is never an account
/// file).
pub fn is_config_file(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == PROJECT_FILE)
}

pub(super) fn validate_config(path: &Path) -> NamedConfig {
    match config::load(path) {
        Ok(_) => NamedConfig {
            source: source::read_file(path).0,
            diagnostics: Vec::new(),
        },
        Err(e) => NamedConfig {
            source: e.source,
            diagnostics: e.diagnostics,
        },
    }
}

/// `--config`, or the first `mailcfg.kdl` walking up from `paths`. An invalid one that was named
/// explicitly is reported with the findings (and the run uses no configuration); otherwise it
/// stops the run.
pub(super) fn load_config(
    paths: &[PathBuf],
    explicit: Option<&Path>,
    named: &[NamedConfig],
) -> (Config, Option<PathBuf>, Option<InvalidConfig>) {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => match config::find(paths) {
            Some(p) => p,
            None => return (Config::default(), None, None),
        },
    };
    match config::load(&path) {
        Ok(c) => (c, Some(path), None),
        Err(error) => {
            let id = identity(&path);
            let invalid =
                (!named.iter().any(|n| identity(&n.source.path) == id)).then(|| InvalidConfig {
                    path: path.clone(),
                    error: Box::new(error),
                });
            (Config::default(), Some(path), invalid)
        }
    }
}
