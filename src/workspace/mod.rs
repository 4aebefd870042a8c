//! The workspace: from what a command was given (paths, or stdin with the path it stands for) to
//! the files every command reads, the project they belong to and the configuration that applies.
//!
//! `check`, `check --fix`/`--diff`, `compile`, `probe` and the language server all plan through
//! [`Workspace::plan`], so they read the same files, resolve names against the same project and
//! reach the same verdict:
//!
//! - **Project root**: the nearest ancestor of a file holding `mailcfg.kdl` or `.git` (a named
//!   directory counts as its own ancestor). Without one, the named file's directory (the
//!   directory itself when a directory is named); such unmarked roots of one run form one
//!   project.
//! - **Nested projects**: a directory below a project root holding its own `mailcfg.kdl` or
//!   `.git` is a project of its own, as git and ruff treat nested roots. Walking a named
//!   directory still reports the nested project's files, each within its own project (its
//!   configuration, its context set); the walk of a project's context stops at them.
//! - **Identity**: a file is one file however it was named: a bare name, `./x`, `a/../x`, an
//!   absolute path, through a symbolic link, named twice, or named and also found by a walk.
//! - **Context set**: every account file of the project (the walk of its root, nested projects
//!   left out), so cross-file names and references resolve the same in a partial run as in a
//!   full one. Without a marker, the files beside the named ones (no subfolder).
//! - **Reported set**: the named files and the files under named directories. Findings are kept
//!   when they are in a reported file or point into one.
//! - **Configuration**: `--config` (for every project), or per project the first `mailcfg.kdl`
//!   walking up from its root.
//!   `mailcfg.kdl` is never an account file; named explicitly it is validated as configuration
//!   and its problems are reported at its own lines.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::diagnostics::Diagnostic;
use crate::facts;
use crate::pipeline::Input;
use crate::policy::config::{self, Config, ConfigError};
use crate::source::{self, FileId, SourceFile, Sources};

mod by_project;
mod configuration;
mod identity;
mod roots;
mod verdict;
mod walk;

pub use by_project::{check_projects, check_texts, plan_texts};
pub use configuration::is_config_file;
pub use identity::identity;
pub use roots::project_root;
pub use verdict::{SeveralProjects, Verdict};

use configuration::{load_config, validate_config};
use identity::{by_identity, identity_in, Dirs, Identities};
use roots::{has_marker, shown, Markers, ProjectGroups};
use walk::{context, walk_named};

/// The file that marks a project root (as `.git` does): the configuration, never an account file.
pub const PROJECT_FILE: &str = config::FILE_NAME;

/// What a command was asked to look at.
#[derive(Debug, Clone)]
pub enum Named {
    /// Files and directories (none = the current directory).
    Paths(Vec<PathBuf>),
    /// One document read from stdin; `filename` is the path it stands for (`--stdin-filename`),
    /// which places it in its project in place of the file on disk. Without one the document is
    /// checked alone, as `<stdin>`.
    Stdin {
        bytes: Vec<u8>,
        filename: Option<PathBuf>,
    },
}

/// One file of the context set.
#[derive(Debug, Clone)]
pub struct PlannedFile {
    /// What identifies the file across spellings (see [`identity`]).
    pub identity: PathBuf,
    /// How it is read and how it is shown: the spelling it was named by, or found by the walk.
    pub input: Input,
    /// Whether findings in it are reported.
    pub reported: bool,
    /// Its project, an index into [`Workspace::projects`].
    pub project: usize,
}

/// One project of a run: a root and the configuration its files are checked with.
#[derive(Debug, Clone)]
pub struct PlannedProject {
    /// The root, as walked and shown (relative to the current directory when inside it).
    pub root: PathBuf,
    pub config: Config,
    /// Where `config` was read from (`--config`, or found walking up from the root), valid or
    /// not.
    pub config_path: Option<PathBuf>,
}

/// A `mailcfg.kdl` named explicitly (as pre-commit does with a staged one): it is validated as
/// configuration, not checked as an account file.
#[derive(Debug, Clone)]
pub struct NamedConfig {
    pub source: SourceFile,
    /// Its problems, located in `FileId(0)` (its own file).
    pub diagnostics: Vec<Diagnostic>,
}

/// The configuration in use is invalid (and was not named, so there is no report to put its
/// problems in): the command cannot run. Callers print it and exit with 2.
#[derive(Debug)]
pub struct InvalidConfig {
    pub path: PathBuf,
    pub error: Box<ConfigError>,
}

#[derive(Debug)]
pub struct Workspace {
    /// The projects the files belong to, by root (usually one).
    pub projects: Vec<PlannedProject>,
    /// The context sets of every project in one order that does not depend on which files were
    /// named (by identity, as a walk of the whole project gives them), so order-sensitive rules
    /// such as duplicate names point at the same file in a partial run as in a full one.
    pub files: Vec<PlannedFile>,
    /// Paths that could not be walked: (path, message), reported as `io-error`.
    pub problems: Vec<(PathBuf, String)>,
    /// `mailcfg.kdl` files named explicitly.
    pub named_configs: Vec<NamedConfig>,
}

/// The files `mailcfg fmt` formats (see [`Workspace::plan_format`]).
#[derive(Debug, Default)]
pub struct FormatPlan {
    pub files: Vec<PathBuf>,
    /// Paths that could not be walked: (path, message).
    pub problems: Vec<(PathBuf, String)>,
}

impl Workspace {
    /// Plans a run. `explicit_config` is `--config`.
    pub fn plan(named: Named, explicit_config: Option<&Path>) -> Result<Workspace, InvalidConfig> {
        let (workspace, invalid) = Self::plan_lenient(named, explicit_config);
        match invalid {
            Some(e) => Err(e),
            None => Ok(workspace),
        }
    }

    /// The language server's plan of its workspace folders: like [`Workspace::plan`], but an
    /// invalid configuration leaves the default in place (the editor shows its problems in its
    /// own buffer). Paths are absolute.
    pub fn plan_editor(folders: &[PathBuf]) -> Workspace {
        let absolute: Vec<PathBuf> = folders.iter().map(|f| source::absolute(f)).collect();
        let (mut workspace, _) = Self::plan_lenient(Named::Paths(absolute), None);
        for f in &mut workspace.files {
            f.input.path = source::absolute(&f.input.path);
        }
        for p in &mut workspace.projects {
            p.root = source::absolute(&p.root);
            p.config_path = p.config_path.as_deref().map(source::absolute);
        }
        workspace
    }

    fn plan_lenient(
        named: Named,
        explicit_config: Option<&Path>,
    ) -> (Workspace, Option<InvalidConfig>) {
        match named {
            Named::Paths(paths) => {
                let paths = if paths.is_empty() {
                    vec![PathBuf::from(".")]
                } else {
                    paths
                };
                Self::plan_paths(&paths, explicit_config)
            }
            Named::Stdin { bytes, filename } => Self::plan_stdin(bytes, filename, explicit_config),
        }
    }

    fn plan_paths(
        paths: &[PathBuf],
        explicit_config: Option<&Path>,
    ) -> (Self, Option<InvalidConfig>) {
        let (config_paths, paths): (Vec<PathBuf>, Vec<PathBuf>) =
            paths.iter().cloned().partition(|p| is_config_file(p));
        let mut markers = Markers::default();
        let named = walk_named(&paths, &mut markers);
        let mut seen = named.seen;
        // Named directories are walked already: a root that is one of them (or inside one)
        // adds nothing.
        let walked: Vec<PathBuf> = paths
            .iter()
            .filter(|p| p.is_dir())
            .map(|p| identity(p))
            .collect();
        let walked_dirs: Vec<PathBuf> = paths
            .iter()
            .filter(|p| p.is_dir())
            .map(|p| source::absolute(p))
            .collect();
        let mut groups = ProjectGroups::default();
        let project_of_root: Vec<usize> = named
            .roots
            .into_iter()
            .map(|root| groups.add(root, &mut markers))
            .collect();
        let mut files: Vec<PlannedFile> = named
            .files
            .into_iter()
            .map(|(mut f, root)| {
                f.project = project_of_root[root];
                f
            })
            .collect();
        // Without an account file to report on, the context would be read for nothing.
        for (project, (marked, roots)) in groups.walk_roots().into_iter().enumerate() {
            let roots: Vec<PathBuf> = roots
                .into_iter()
                .filter(|r| {
                    let r = identity(r);
                    !walked.iter().any(|w| r.starts_with(w))
                })
                .collect();
            files.extend(context(
                &roots,
                project,
                marked,
                &walked_dirs,
                &mut markers,
                &mut seen,
            ));
        }
        // Identities are unique (`seen`): an unstable sort gives the one order, without a scratch
        // copy of the list.
        files.sort_unstable_by(|a, b| by_identity(&a.identity, &b.identity));
        let mut named_configs: Vec<NamedConfig> = Vec::new();
        let mut named_ids = HashSet::new();
        for p in &config_paths {
            if named_ids.insert(identity(p)) {
                named_configs.push(validate_config(p));
            }
        }
        let (mut projects, mut invalid) = groups.into_projects(explicit_config, &named_configs);
        if projects.is_empty() {
            // Only configuration files were named: the configuration in use is still loaded
            // (an invalid one that was not named stops the run).
            let from = if paths.is_empty() {
                &config_paths
            } else {
                &paths
            };
            let (config, config_path, bad) = load_config(from, explicit_config, &named_configs);
            invalid = bad;
            if config_path.is_some() || !paths.is_empty() {
                projects.push(PlannedProject {
                    root: paths
                        .first()
                        .map_or_else(|| PathBuf::from("."), |p| project_root(p)),
                    config,
                    config_path,
                });
            }
        }
        let workspace = Workspace {
            projects,
            files,
            problems: named.problems,
            named_configs,
        };
        (workspace, invalid)
    }

    fn plan_stdin(
        bytes: Vec<u8>,
        filename: Option<PathBuf>,
        explicit_config: Option<&Path>,
    ) -> (Self, Option<InvalidConfig>) {
        let Some(name) = filename else {
            let (config, config_path, invalid) =
                load_config(&[PathBuf::from(".")], explicit_config, &[]);
            let workspace = Workspace {
                projects: vec![PlannedProject {
                    root: PathBuf::from("."),
                    config,
                    config_path,
                }],
                files: vec![PlannedFile {
                    identity: PathBuf::from("<stdin>"),
                    input: Input {
                        path: PathBuf::from("<stdin>"),
                        content: Some(bytes),
                    },
                    reported: true,
                    project: 0,
                }],
                problems: Vec::new(),
                named_configs: Vec::new(),
            };
            return (workspace, invalid);
        };
        let id = identity(&name);
        let mut seen = Identities::from_iter([id.clone().into_os_string()]);
        let mut markers = Markers::default();
        let root = project_root(&name);
        let mut files = vec![PlannedFile {
            identity: id,
            input: Input {
                path: name.clone(),
                content: Some(bytes),
            },
            reported: true,
            project: 0,
        }];
        let marked = has_marker(&root);
        files.extend(context(
            std::slice::from_ref(&root),
            0,
            marked,
            &[],
            &mut markers,
            &mut seen,
        ));
        // Identities are unique (`seen`): an unstable sort gives the one order, without a scratch
        // copy of the list.
        files.sort_unstable_by(|a, b| by_identity(&a.identity, &b.identity));
        let (config, config_path, invalid) =
            load_config(std::slice::from_ref(&root), explicit_config, &[]);
        let workspace = Workspace {
            projects: vec![PlannedProject {
                root: shown(&root),
                config,
                config_path,
            }],
            files,
            problems: Vec::new(),
            named_configs: Vec::new(),
        };
        (workspace, invalid)
    }

    /// The configuration of the outermost project (the editor's folder's own).
    pub fn editor_config_path(&self) -> Option<PathBuf> {
        self.projects
            .iter()
            .min_by_key(|p| p.root.components().count())
            .and_then(|p| p.config_path.clone())
    }

    /// What `mailcfg fmt` formats: the files `check` would report on for `paths` (the same
    /// walk and exclusions, one entry per file however it is named) and the `mailcfg.kdl`
    /// files among them or under them: the configuration is KDL in the same style. No context
    /// is read (formatting a file needs no other), in the order the paths were named.
    pub fn plan_format(paths: &[PathBuf]) -> FormatPlan {
        let found = source::discover(paths, None);
        let mut dirs = Dirs::default();
        let mut seen = Identities::default();
        let files = found
            .files
            .into_iter()
            .zip(found.is_link)
            .filter(|(f, is_link)| {
                seen.insert(identity_in(f, *is_link, &mut dirs).into_os_string())
            })
            .map(|(f, _)| f)
            .collect();
        FormatPlan {
            files,
            problems: found.problems,
        }
    }

    /// The files reported on (named, or under a named directory).
    pub fn reported(&self) -> impl Iterator<Item = &PlannedFile> {
        self.files.iter().filter(|f| f.reported)
    }

    /// Nothing to check or validate was found (and nothing failed to be walked): exit code 2.
    pub fn is_empty(&self) -> bool {
        self.reported().next().is_none()
            && self.problems.is_empty()
            && self.named_configs.is_empty()
    }

    /// The inputs of the context set, in the workspace's order.
    pub fn inputs(&self) -> Vec<Input> {
        self.files.iter().map(|f| f.input.clone()).collect()
    }

    /// The configuration the file `self.files[file]` is checked with (its project's).
    pub fn config_of(&self, file: usize) -> &Config {
        static NONE: std::sync::LazyLock<Config> = std::sync::LazyLock::new(Config::default);
        self.files
            .get(file)
            .and_then(|f| self.projects.get(f.project))
            .map_or(&NONE, |p| &p.config)
    }

    /// Applies each file's project configuration to findings located in the context set (as
    /// `check` does for its own; `probe` levels its checks with it).
    pub fn apply_config(&self, diagnostics: &mut Vec<Diagnostic>, sources: &Sources) {
        if self.projects.len() <= 1 {
            if let Some(p) = self.projects.first() {
                p.config.apply(diagnostics, sources);
            }
            return;
        }
        let mut by_project: Vec<Vec<Diagnostic>> = vec![Vec::new(); self.projects.len()];
        let mut rest = Vec::new();
        for d in diagnostics.drain(..) {
            match self.files.get(d.primary.file.index()) {
                Some(f) => by_project[f.project].push(d),
                None => rest.push(d),
            }
        }
        for (p, mut group) in by_project.into_iter().enumerate() {
            self.projects[p].config.apply(&mut group, sources);
            diagnostics.extend(group);
        }
        diagnostics.extend(rest);
    }

    /// The one project the reported files belong to; an error naming the projects when there
    /// are several (`compile`, `show` and `probe` make one result of one project).
    pub fn single_project(&self) -> Result<(), SeveralProjects> {
        let mut projects: Vec<usize> = self.reported().map(|f| f.project).collect();
        projects.sort_unstable();
        projects.dedup();
        if projects.len() <= 1 {
            return Ok(());
        }
        Err(SeveralProjects {
            roots: projects
                .into_iter()
                .map(|p| self.projects[p].root.clone())
                .collect(),
        })
    }

    /// Checks the context set with the configuration; keeps the findings in reported files or
    /// pointing into one, and adds the problems of walking and of named configuration files.
    pub fn check(&self) -> Verdict {
        self.check_inputs(self.inputs())
    }

    /// [`Workspace::check`] over other texts of the same files (`--fix` checks its fixed texts).
    pub fn check_inputs(&self, inputs: Vec<Input>) -> Verdict {
        let project_of: Vec<usize> = self.files.iter().map(|f| f.project).collect();
        let configs: Vec<&Config> = self.projects.iter().map(|p| &p.config).collect();
        let mut checked = check_projects(inputs, &project_of, &configs);
        let mut reported: Vec<bool> = self.files.iter().map(|f| f.reported).collect();
        let is_reported = |f: FileId| reported.get(f.index()).copied().unwrap_or(false);
        // A second `system` node anywhere in the project changes every account's store entry,
        // so it is reported by every run over the project, as `compile` would refuse it.
        checked.diagnostics.retain(|d| {
            is_reported(d.primary.file)
                || d.related.iter().any(|r| is_reported(r.file))
                || d.rule == facts::MULTIPLE_SYSTEM
        });
        for (path, msg) in &self.problems {
            let id = checked.sources.add(SourceFile::new(path, String::new()));
            reported.push(true);
            checked.diagnostics.push(source::input_diagnostic(
                id,
                source::IO_ERROR,
                msg.clone(),
                Default::default(),
            ));
        }
        for named in &self.named_configs {
            let id = checked.sources.add(named.source.clone());
            reported.push(true);
            checked
                .diagnostics
                .extend(named.diagnostics.iter().cloned().map(|mut d| {
                    d.primary.file = id;
                    for r in &mut d.related {
                        r.file = id;
                    }
                    d
                }));
        }
        Verdict { checked, reported }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_editor_plans_its_folder_within_the_project_with_absolute_paths() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join(".git")).unwrap();
        std::fs::create_dir_all(d.join("sub")).unwrap();
        std::fs::write(d.join("a.kdl"), "").unwrap();
        std::fs::write(d.join("sub/b.kdl"), "").unwrap();
        std::fs::write(d.join(PROJECT_FILE), "").unwrap();
        let ws = Workspace::plan_editor(&[d.join("sub")]);
        let files: Vec<(PathBuf, bool)> = ws
            .files
            .iter()
            .map(|f| (f.input.path.clone(), f.reported))
            .collect();
        let abs = |p: &str| source::absolute(&d.join(p));
        // The folder's file is reported; the rest of the project is read for context.
        assert_eq!(files, vec![(abs("a.kdl"), false), (abs("sub/b.kdl"), true)]);
        assert_eq!(ws.editor_config_path(), Some(abs(PROJECT_FILE)));
        assert!(ws.files.iter().all(|f| f.input.path.is_absolute()));
    }

    #[test]
    fn a_nested_project_is_planned_apart_and_left_out_of_the_outer_context() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join(".git")).unwrap();
        std::fs::create_dir_all(d.join("team/sub")).unwrap();
        std::fs::write(d.join("a.kdl"), "").unwrap();
        std::fs::write(d.join("team/b.kdl"), "").unwrap();
        std::fs::write(d.join("team/sub/c.kdl"), "").unwrap();
        std::fs::write(d.join("team").join(PROJECT_FILE), "").unwrap();
        let project_of = |ws: &Workspace| -> Vec<(String, String, bool)> {
            ws.files
                .iter()
                .map(|f| {
                    let name = f.input.path.file_name().unwrap().to_string_lossy();
                    let root = &ws.projects[f.project].root;
                    let root = root.file_name().unwrap_or_default().to_string_lossy();
                    (name.into_owned(), root.into_owned(), f.reported)
                })
                .collect()
        };
        let outer = d.file_name().unwrap().to_string_lossy().into_owned();
        // The walk of the outer root reports every file, each in its own project.
        let ws = Workspace::plan_editor(&[d.to_path_buf()]);
        assert_eq!(
            project_of(&ws),
            [
                ("a.kdl".into(), outer.clone(), true),
                ("b.kdl".into(), "team".into(), true),
                ("c.kdl".into(), "team".into(), true),
            ]
        );
        assert_eq!(
            ws.projects[ws.files[1].project].config_path,
            Some(source::absolute(&d.join("team").join(PROJECT_FILE)))
        );
        assert_eq!(ws.projects[ws.files[0].project].config_path, None);
        // A file of the outer project: its context stops at the nested project.
        let ws = Workspace::plan_editor(&[d.join("a.kdl")]);
        assert_eq!(project_of(&ws), [("a.kdl".into(), outer, true)]);
        // A file of the nested one: its context is the nested project alone.
        let ws = Workspace::plan_editor(&[d.join("team/sub/c.kdl")]);
        assert_eq!(
            project_of(&ws),
            [
                ("b.kdl".into(), "team".into(), false),
                ("c.kdl".into(), "team".into(), true),
            ]
        );
    }
}
