//! The workspace: from what a command was given (paths, or stdin with the path it stands for) to
//! the files every command reads, the project they belong to and the configuration that applies.
//!
//! `check`, `check --fix`/`--diff`, `compile`, `probe` and the language server all plan through
//! [`Workspace::plan`], so they read the same files, resolve names against the same project and
//! reach the same verdict:
//!
//! - **Project root**: the nearest ancestor of a named path holding `mailcfg.kdl` or `.git` (a
//!   named directory counts as its own ancestor). Without one, the named file's directory (the
//!   directory itself when a directory is named).
//! - **Identity**: a file is one file however it was named: a bare name, `./x`, `a/../x`, an
//!   absolute path, through a symbolic link, named twice, or named and also found by a walk.
//! - **Context set**: every account file of the project (the walk of its root), so cross-file
//!   names and references resolve the same in a partial run as in a full one.
//! - **Reported set**: the named files and the files under named directories. Findings are kept
//!   when they are in a reported file or point into one.
//! - **Configuration**: `--config`, or the first `mailcfg.kdl` walking up from the named paths.
//!   `mailcfg.kdl` is never an account file; named explicitly it is validated as configuration
//!   and its problems are reported at its own lines.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::diagnostics::{Diagnostic, Level};
use crate::facts;
use crate::model::{Account, Credential, Located, Project};
use crate::pipeline::{check_with, Checked, Input};
use crate::policy::config::{self, Config, ConfigError};
use crate::source::{self, FileId, SourceFile};

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
    /// The project roots of the named paths (absolute; usually one).
    pub roots: Vec<PathBuf>,
    /// The context set in one order that does not depend on which files were named (by
    /// identity, as a walk of the whole project gives them), so order-sensitive rules such as
    /// duplicate names point at the same file in a partial run as in a full one.
    pub files: Vec<PlannedFile>,
    /// Paths that could not be walked: (path, message), reported as `io-error`.
    pub problems: Vec<(PathBuf, String)>,
    pub config: Config,
    /// Where `config` was read from (`--config`, or found walking up), valid or not.
    pub config_path: Option<PathBuf>,
    /// `mailcfg.kdl` files named explicitly.
    pub named_configs: Vec<NamedConfig>,
}

/// The result of checking a workspace: what every command reports and decides on.
pub struct Verdict {
    /// Every file of the context set (by [`FileId`], in the workspace's order), then one entry
    /// per path that could not be walked and per named configuration file. `diagnostics` holds
    /// only the findings in reported files or pointing into one.
    pub checked: Checked,
    /// Per file of `checked.sources`: is it reported on?
    pub reported: Vec<bool>,
}

impl Verdict {
    pub fn is_reported(&self, file: FileId) -> bool {
        self.reported.get(file.index()).copied().unwrap_or(false)
    }

    /// How many files the report is about (the summary line's count).
    pub fn reported_files(&self) -> usize {
        self.reported.iter().filter(|r| **r).count()
    }

    /// Whether a file could not be read or walked (exit code 2 for every command).
    pub fn has_io_errors(&self) -> bool {
        self.checked.has_io_errors()
    }

    /// Whether any reported finding is at or above `level`.
    pub fn fails_at(&self, level: Level) -> bool {
        self.checked.diagnostics.iter().any(|d| d.level >= level)
    }

    /// What `compile` writes and `probe` tests: the accounts and credentials of the reported
    /// files, the credentials of the context those accounts reference, and the project's
    /// `system` nodes.
    pub fn reported_project(&self) -> Project {
        let project = &self.checked.project;
        let accounts: Vec<Located<Account>> = project
            .accounts
            .iter()
            .filter(|a| self.is_reported(a.file))
            .cloned()
            .collect();
        let referenced: HashSet<&str> = accounts
            .iter()
            .flat_map(|a| {
                let a = &a.value;
                a.incoming
                    .credential
                    .as_deref()
                    .into_iter()
                    .chain(a.outgoing.as_ref().and_then(|o| o.credential.as_deref()))
            })
            .collect();
        let credentials: Vec<Located<Credential>> = project
            .credentials
            .iter()
            .filter(|c| self.is_reported(c.file) || referenced.contains(c.value.name.as_str()))
            .cloned()
            .collect();
        Project {
            accounts,
            credentials,
            systems: project.systems.clone(),
        }
    }
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
        workspace.config_path = workspace.config_path.map(|p| source::absolute(&p));
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
        let found = source::discover(&paths, Some(PROJECT_FILE));
        let mut dirs = HashMap::new();
        let mut seen = HashSet::new();
        let mut files = Vec::new();
        for f in found.files {
            let id = identity_in(&f, &mut dirs);
            if seen.insert(id.clone()) {
                files.push(PlannedFile {
                    identity: id,
                    input: Input::file(f),
                    reported: true,
                });
            }
        }
        // Named directories are walked already: a root that is one of them (or inside one)
        // adds nothing.
        let walked: Vec<PathBuf> = paths
            .iter()
            .filter(|p| p.is_dir())
            .map(|p| identity(p))
            .collect();
        let named: Vec<PathBuf> = paths.iter().chain(&config_paths).cloned().collect();
        let roots = project_roots(&named);
        // Without an account file to report on, the context would be read for nothing.
        let context_roots: Vec<PathBuf> = roots
            .iter()
            .filter(|r| {
                let r = identity(r);
                !files.is_empty() && !walked.iter().any(|w| r.starts_with(w))
            })
            .cloned()
            .collect();
        let walked_dirs: Vec<PathBuf> = paths
            .iter()
            .filter(|p| p.is_dir())
            .map(|p| source::absolute(p))
            .collect();
        files.extend(context(&context_roots, &walked_dirs, &mut seen));
        files.sort_by(|a, b| a.identity.cmp(&b.identity));
        let config_from: Vec<PathBuf> = if paths.is_empty() {
            config_paths.clone()
        } else {
            paths.clone()
        };
        let mut named_configs: Vec<NamedConfig> = Vec::new();
        let mut named_ids = HashSet::new();
        for p in &config_paths {
            if named_ids.insert(identity(p)) {
                named_configs.push(validate_config(p));
            }
        }
        let (config, config_path, invalid) =
            load_config(&config_from, explicit_config, &named_configs);
        let workspace = Workspace {
            roots,
            files,
            problems: found.problems,
            config,
            config_path,
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
                roots: Vec::new(),
                files: vec![PlannedFile {
                    identity: PathBuf::from("<stdin>"),
                    input: Input {
                        path: PathBuf::from("<stdin>"),
                        content: Some(bytes),
                    },
                    reported: true,
                }],
                problems: Vec::new(),
                config,
                config_path,
                named_configs: Vec::new(),
            };
            return (workspace, invalid);
        };
        let id = identity(&name);
        let mut seen = HashSet::from([id.clone()]);
        let roots = project_roots(std::slice::from_ref(&name));
        let mut files = vec![PlannedFile {
            identity: id,
            input: Input {
                path: name.clone(),
                content: Some(bytes),
            },
            reported: true,
        }];
        files.extend(context(&roots, &[], &mut seen));
        files.sort_by(|a, b| a.identity.cmp(&b.identity));
        let (config, config_path, invalid) =
            load_config(std::slice::from_ref(&name), explicit_config, &[]);
        let workspace = Workspace {
            roots,
            files,
            problems: Vec::new(),
            config,
            config_path,
            named_configs: Vec::new(),
        };
        (workspace, invalid)
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

    /// Checks the context set with the configuration; keeps the findings in reported files or
    /// pointing into one, and adds the problems of walking and of named configuration files.
    pub fn check(&self) -> Verdict {
        self.check_inputs(self.inputs())
    }

    /// [`Workspace::check`] over other texts of the same files (`--fix` checks its fixed texts).
    pub fn check_inputs(&self, inputs: Vec<Input>) -> Verdict {
        let mut checked = check_with(inputs, &self.config);
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

/// Whether `path` names the configuration file (by its name: `mailcfg.kdl` is never an account
/// file).
pub fn is_config_file(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == PROJECT_FILE)
}

fn validate_config(path: &Path) -> NamedConfig {
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
fn load_config(
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

/// The project root of a named path: the nearest ancestor holding `mailcfg.kdl` or `.git` (a
/// directory is its own first ancestor); without one, the file's directory or the directory.
pub fn project_root(path: &Path) -> PathBuf {
    let abs = source::absolute(path);
    let is_dir = abs.is_dir();
    let start = if is_dir {
        abs.as_path()
    } else {
        abs.parent().unwrap_or(&abs)
    };
    start
        .ancestors()
        .find(|d| d.join(PROJECT_FILE).is_file() || d.join(".git").exists())
        .unwrap_or(start)
        .to_path_buf()
}

/// The project roots of `paths`, without roots inside another one (walked with it already).
fn project_roots(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = paths.iter().map(|p| project_root(p)).collect();
    roots.sort();
    roots.dedup();
    roots
        .iter()
        .filter(|r| !roots.iter().any(|o| o != *r && r.starts_with(o)))
        .cloned()
        .collect()
}

/// The account files under `roots` not in `seen` yet (which they are added to). Directories in
/// `walked` (absolute) were walked as named paths already and are not entered again: on 10,000
/// files under `accounts/` in a repository, walking them twice cost ~50 % more time.
fn context(roots: &[PathBuf], walked: &[PathBuf], seen: &mut HashSet<PathBuf>) -> Vec<PlannedFile> {
    let shown: Vec<PathBuf> = roots.iter().map(|r| shown(r)).collect();
    let mut dirs = HashMap::new();
    let prune = |dir: &Path| !walked.is_empty() && walked.contains(&source::absolute(dir));
    source::discover_pruned(&shown, Some(PROJECT_FILE), &prune)
        .files
        .into_iter()
        .filter_map(|f| {
            let id = identity_in(&f, &mut dirs);
            seen.insert(id.clone()).then(|| PlannedFile {
                identity: id,
                input: Input::file(f),
                reported: false,
            })
        })
        .collect()
}

/// A path for display: relative to the current directory when it is inside it.
fn shown(path: &Path) -> PathBuf {
    match std::env::current_dir() {
        Ok(cwd) => match path.strip_prefix(&cwd) {
            Ok(rel) if rel.as_os_str().is_empty() => PathBuf::from("."),
            Ok(rel) => rel.to_path_buf(),
            Err(_) => path.to_path_buf(),
        },
        Err(_) => path.to_path_buf(),
    }
}

/// What identifies a file across spellings (symbolic links, a bare name, `./`, `..`): its
/// canonical path, or for a file that does not exist (a `--stdin-filename`), its canonical
/// directory plus its name.
pub fn identity(path: &Path) -> PathBuf {
    let abs = source::absolute(path);
    if let Ok(p) = std::fs::canonicalize(&abs) {
        return p;
    }
    match (abs.parent(), abs.file_name()) {
        (Some(dir), Some(name)) => std::fs::canonicalize(dir)
            .map(|d| d.join(name))
            .unwrap_or(abs),
        _ => abs,
    }
}

/// [`identity`] for many files: a file that is not a symbolic link is its directory's identity
/// (resolved once per directory) joined with its name, which saves resolving every path
/// component of every file again. Directories are keyed as the paths spell them, and which of
/// their entries are symbolic links is read from one listing per directory: on 10,000 files the
/// per-file `lstat`, `getcwd` and lexical normalisation cost 74 M instructions and 20,000
/// system calls of the (serial) planning.
fn identity_in(path: &Path, dirs: &mut HashMap<std::ffi::OsString, DirInfo>) -> PathBuf {
    let (Some(parent), Some(name), Some(std::path::Component::Normal(_))) = (
        path.parent(),
        path.file_name(),
        path.components().next_back(),
    ) else {
        return identity(path);
    };
    // `a.kdl` is in `.`; made absolute, a path's directory is its spelled directory made
    // absolute, since both are normalised lexically component by component.
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    // Keyed by the bytes (a `Path` hashes component by component).
    if let Some(dir) = dirs.get(parent.as_os_str()) {
        return dir.identity_of(path, name);
    }
    let dir = DirInfo::of(parent);
    let identity = dir.identity_of(path, name);
    dirs.insert(parent.as_os_str().to_owned(), dir);
    identity
}

/// A directory as [`identity_in`] sees it.
struct DirInfo {
    identity: PathBuf,
    /// Its entries' names, each with whether it is a symbolic link; `None` when it cannot be
    /// listed (each file is then asked on its own).
    entries: Option<HashMap<std::ffi::OsString, bool>>,
}

impl DirInfo {
    fn of(dir: &Path) -> Self {
        // The entry types come with the listing on most file systems (no call per entry).
        let entries = std::fs::read_dir(dir).ok().and_then(|listing| {
            listing
                .map(|entry| {
                    let entry = entry.ok()?;
                    Some((entry.file_name(), entry.file_type().ok()?.is_symlink()))
                })
                .collect()
        });
        DirInfo {
            identity: identity(dir),
            entries,
        }
    }

    /// The identity of `path`, named `name` in this directory.
    fn identity_of(&self, path: &Path, name: &std::ffi::OsStr) -> PathBuf {
        // A name the listing did not have (a file made since) is asked on its own.
        let is_link = match self.entries.as_ref().and_then(|e| e.get(name)) {
            Some(&is_link) => is_link,
            None => std::fs::symlink_metadata(path).map_or(true, |m| m.file_type().is_symlink()),
        };
        if is_link {
            return identity(path);
        }
        let dir = self.identity.as_os_str();
        let mut joined = PathBuf::with_capacity(dir.len() + 1 + name.len());
        joined.push(dir);
        joined.push(name);
        joined
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
        assert_eq!(ws.config_path, Some(abs(PROJECT_FILE)));
        assert!(ws.files.iter().all(|f| f.input.path.is_absolute()));
    }

    #[test]
    fn a_bare_name_and_its_other_spellings_are_one_identity() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("a.kdl"), "").unwrap();
        let canonical = identity(&d.join("a.kdl"));
        let mut dirs = HashMap::new();
        for spelling in [d.join("a.kdl"), d.join("./a.kdl"), d.join("sub/../a.kdl")] {
            assert_eq!(identity(&spelling), canonical, "{spelling:?}");
            assert_eq!(identity_in(&spelling, &mut dirs), canonical, "{spelling:?}");
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(d.join("a.kdl"), d.join("link.kdl")).unwrap();
            assert_eq!(identity(&d.join("link.kdl")), canonical);
            assert_eq!(identity_in(&d.join("link.kdl"), &mut dirs), canonical);
        }
    }
}
