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

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::diagnostics::{Diagnostic, Level};
use crate::facts;
use crate::model::{Account, Credential, Located, Project};
use crate::pipeline::{Checked, Input};
use crate::policy::config::{self, Config, ConfigError};
use crate::source::{self, FileId, SourceFile, Sources};

mod by_project;
pub use by_project::{check_projects, check_texts, plan_texts};

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

    /// How many files the report is about (the summary line's count): the reported files and
    /// every other file a shown finding is located in (a second `system` node in a file read
    /// for context is shown, so its file is counted).
    pub fn reported_files(&self) -> usize {
        let mut counted = self.reported.clone();
        for d in &self.checked.diagnostics {
            if let Some(c) = counted.get_mut(d.primary.file.index()) {
                *c = true;
            }
        }
        counted.iter().filter(|r| **r).count()
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
    /// `system` nodes. Meant for a run over one project (see [`Workspace::single_project`]).
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

/// The named paths belong to more than one project while the command makes one result of one
/// project (a store, an account's effective settings, a probe run).
#[derive(Debug)]
pub struct SeveralProjects {
    /// The roots of the projects holding reported files.
    pub roots: Vec<PathBuf>,
}

impl std::fmt::Display for SeveralProjects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let roots: Vec<String> = self.roots.iter().map(|r| r.display().to_string()).collect();
        write!(
            f,
            "the paths belong to {} projects ({}), each with its own configuration and `system`; \
             name the files of one project at a time",
            self.roots.len(),
            roots.join(", ")
        )
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
        let mut seen: HashSet<PathBuf> = named.files.iter().map(|f| f.0.identity.clone()).collect();
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
        let mut files: Vec<PlannedFile> = named
            .files
            .into_iter()
            .map(|(mut f, root)| {
                f.project = groups.add(root, &mut markers);
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
        files.sort_by(|a, b| a.identity.cmp(&b.identity));
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
        let mut seen = HashSet::from([id.clone()]);
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
        files.sort_by(|a, b| a.identity.cmp(&b.identity));
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
        let mut dirs = HashMap::new();
        let mut seen = HashSet::new();
        let files = found
            .files
            .into_iter()
            .filter(|f| seen.insert(identity_in(f, &mut dirs)))
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

/// The files found under the named paths, each with the root of its project, and the paths
/// that could not be walked.
struct NamedFiles {
    files: Vec<(PlannedFile, PathBuf)>,
    problems: Vec<(PathBuf, String)>,
}

/// Walks the named paths. A file's project is the nearest directory holding a marker at or
/// above it; a walked file below a nested project root belongs to that project.
fn walk_named(paths: &[PathBuf], markers: &mut Markers) -> NamedFiles {
    let mut dirs = HashMap::new();
    let mut seen = HashSet::new();
    let mut out = NamedFiles {
        files: Vec::new(),
        problems: Vec::new(),
    };
    for path in paths {
        let found = source::discover(std::slice::from_ref(path), Some(PROJECT_FILE));
        out.problems.extend(found.problems);
        let root = project_root(path);
        let top = path.is_dir().then(|| source::absolute(path));
        for f in found.files {
            let id = identity_in(&f, &mut dirs);
            if !seen.insert(id.clone()) {
                continue;
            }
            let root = match &top {
                // A walked file is below the walked path: its absolute path is `top` joined with
                // the rest, without asking for the current directory once per file.
                Some(top) => {
                    let absolute = match f.strip_prefix(path) {
                        Ok(rest) => top.join(rest),
                        Err(_) => source::absolute(&f),
                    };
                    markers
                        .nearest_below(&absolute, top)
                        .unwrap_or_else(|| root.clone())
                }
                None => root.clone(),
            };
            let file = PlannedFile {
                identity: id,
                input: Input::file(f),
                reported: true,
                project: 0,
            };
            out.files.push((file, root));
        }
    }
    out
}

/// Which directories hold a project marker (`mailcfg.kdl` or `.git`), each asked once.
#[derive(Default)]
struct Markers {
    known: HashMap<PathBuf, bool>,
}

impl Markers {
    fn holds(&mut self, dir: &Path) -> bool {
        if let Some(known) = self.known.get(dir) {
            return *known;
        }
        let marked = has_marker(dir);
        self.known.insert(dir.to_path_buf(), marked);
        marked
    }

    /// The nearest directory holding a marker above the absolute `file` and strictly below
    /// `top`.
    fn nearest_below(&mut self, file: &Path, top: &Path) -> Option<PathBuf> {
        let dir = file.parent()?;
        dir.ancestors()
            .take_while(|d| *d != top && d.starts_with(top))
            .find(|d| self.holds(d))
            .map(Path::to_path_buf)
    }
}

fn has_marker(dir: &Path) -> bool {
    dir.join(PROJECT_FILE).is_file() || dir.join(".git").exists()
}

/// The projects of a run, built from the roots of the named files: a root holding a marker is
/// a project; the unmarked roots (no marker at or above them) form one project together, as
/// what was named together without a marker is all the run knows of the project.
#[derive(Default)]
struct ProjectGroups {
    /// (identity of the root, or `None` for the unmarked project; the roots as walked).
    projects: Vec<(Option<PathBuf>, Vec<PathBuf>)>,
    /// The project of each root already seen.
    known: HashMap<PathBuf, usize>,
}

impl ProjectGroups {
    fn add(&mut self, root: PathBuf, markers: &mut Markers) -> usize {
        // Every file of a walk names its root: resolve each root once.
        if let Some(index) = self.known.get(&root) {
            return *index;
        }
        let index = self.add_new(root.clone(), markers);
        self.known.insert(root, index);
        index
    }

    fn add_new(&mut self, root: PathBuf, markers: &mut Markers) -> usize {
        let key = markers
            .holds(&source::absolute(&root))
            .then(|| identity(&root));
        let index = match self.projects.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                self.projects.push((key, Vec::new()));
                self.projects.len() - 1
            }
        };
        let roots = &mut self.projects[index].1;
        if !roots.contains(&root) {
            roots.push(root);
        }
        index
    }

    /// Per project, whether its root holds a marker, and the roots to read for its context: a
    /// marked project's root (walked), or the unmarked project's folders of named files (each
    /// read without its subfolders).
    fn walk_roots(&self) -> Vec<(bool, Vec<PathBuf>)> {
        self.projects
            .iter()
            .map(|(key, roots)| {
                let mut roots: Vec<PathBuf> = roots.iter().map(|r| source::absolute(r)).collect();
                roots.sort();
                roots.dedup();
                (key.is_some(), roots)
            })
            .collect()
    }

    /// The projects with their configuration, and the first configuration in use that is
    /// invalid (and was not named).
    fn into_projects(
        self,
        explicit: Option<&Path>,
        named: &[NamedConfig],
    ) -> (Vec<PlannedProject>, Option<InvalidConfig>) {
        let mut invalid = None;
        let projects = self
            .projects
            .into_iter()
            .map(|(_, roots)| {
                let (config, config_path, bad) = load_config(&roots, explicit, named);
                invalid = invalid.take().or(bad);
                let root = roots
                    .iter()
                    .min_by_key(|r| r.components().count())
                    .map_or_else(|| PathBuf::from("."), |r| shown(r));
                PlannedProject {
                    root,
                    config,
                    config_path,
                }
            })
            .collect();
        (projects, invalid)
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
        .find(|d| has_marker(d))
        .unwrap_or(start)
        .to_path_buf()
}

/// The account files of `project` under `roots` not in `seen` yet (which they are added to).
/// Nested projects (directories below a root holding a marker) are not entered: their files
/// are their own project's. Directories in `walked` (absolute) were walked as named paths
/// already and are not entered again either: on 10,000 files under `accounts/` in a
/// repository, walking them twice cost ~50 % more time. Without a marker (`marked` false) the
/// context is the files beside the named ones, no subfolder: nothing says where such a project
/// ends, and a file checked in `~/Downloads` must not read (and answer for) everything below it.
fn context(
    roots: &[PathBuf],
    project: usize,
    marked: bool,
    walked: &[PathBuf],
    markers: &mut Markers,
    seen: &mut HashSet<PathBuf>,
) -> Vec<PlannedFile> {
    let shown: Vec<PathBuf> = roots.iter().map(|r| shown(r)).collect();
    let mut dirs = HashMap::new();
    let markers = std::cell::RefCell::new(markers);
    let prune = |dir: &Path| {
        let abs = source::absolute(dir);
        !marked || walked.contains(&abs) || markers.borrow_mut().holds(&abs)
    };
    source::discover_pruned(&shown, Some(PROJECT_FILE), &prune)
        .files
        .into_iter()
        .filter_map(|f| {
            let id = identity_in(&f, &mut dirs);
            seen.insert(id.clone()).then(|| PlannedFile {
                identity: id,
                input: Input::file(f),
                reported: false,
                project,
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
