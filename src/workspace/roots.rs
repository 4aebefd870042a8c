//! Project roots: which directories hold a marker, the root of a named path, the projects of a run.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::configuration::load_config;
use super::identity::identity;
use super::{InvalidConfig, NamedConfig, PlannedProject, PROJECT_FILE};
use crate::source;

/// Which directories hold a project marker (`mailcfg.kdl` or `.git`), each asked once.
#[derive(Default)]
pub(super) struct Markers {
    known: HashMap<PathBuf, bool>,
}

impl Markers {
    pub(super) fn holds(&mut self, dir: &Path) -> bool {
        if let Some(known) = self.known.get(dir) {
            return *known;
        }
        let marked = has_marker(dir);
        self.known.insert(dir.to_path_buf(), marked);
        marked
    }

    /// The nearest directory holding a marker above the absolute `file` and strictly below
    /// `top`.
    pub(super) fn nearest_below(&mut self, file: &Path, top: &Path) -> Option<PathBuf> {
        let dir = file.parent()?;
        dir.ancestors()
            .take_while(|d| *d != top && d.starts_with(top))
            .find(|d| self.holds(d))
            .map(Path::to_path_buf)
    }
}

pub(super) fn has_marker(dir: &Path) -> bool {
    dir.join(PROJECT_FILE).is_file() || dir.join(".git").exists()
}

/// The projects of a run, built from the roots of the named files: a root holding a marker is
/// a project; the unmarked roots (no marker at or above them) form one project together, as
/// what was named together without a marker is all the run knows of the project.
#[derive(Default)]
pub(super) struct ProjectGroups {
    /// (identity of the root, or `None` for the unmarked project; the roots as walked).
    projects: Vec<(Option<PathBuf>, Vec<PathBuf>)>,
    /// The project of each root already seen.
    known: HashMap<PathBuf, usize>,
}

impl ProjectGroups {
    pub(super) fn add(&mut self, root: PathBuf, markers: &mut Markers) -> usize {
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
    pub(super) fn walk_roots(&self) -> Vec<(bool, Vec<PathBuf>)> {
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
    pub(super) fn into_projects(
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

/// A path for display: relative to the current directory when it is inside it.
pub(super) fn shown(path: &Path) -> PathBuf {
    match std::env::current_dir() {
        Ok(cwd) => match path.strip_prefix(&cwd) {
            Ok(rel) if rel.as_os_str().is_empty() => PathBuf::from("."),
            Ok(rel) => rel.to_path_buf(),
            Err(_) => path.to_path_buf(),
        },
        Err(_) => path.to_path_buf(),
    }
}
