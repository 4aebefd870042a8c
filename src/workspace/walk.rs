//! The walks: the named paths (the reported set) and each project's context.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::identity::{identity_in, Identities};
use super::roots::{project_root, shown, Markers};
use super::{PlannedFile, PROJECT_FILE};
use crate::lower::FastMap;
use crate::pipeline::Input;
use crate::source;

/// The files found under the named paths, each with the root of its project, and the paths
/// that could not be walked.
pub(super) struct NamedFiles {
    /// Each file with its project's root, an index into `roots`.
    pub(super) files: Vec<(PlannedFile, usize)>,
    /// The project roots of `files`, in the order the files first name them.
    pub(super) roots: Vec<PathBuf>,
    /// The identities of `files`.
    pub(super) seen: Identities,
    pub(super) problems: Vec<(PathBuf, String)>,
}

/// Walks the named paths. A file's project is the nearest directory holding a marker at or
/// above it; a walked file below a nested project root belongs to that project.
pub(super) fn walk_named(paths: &[PathBuf], markers: &mut Markers) -> NamedFiles {
    let mut dirs = FastMap::default();
    let mut out = NamedFiles {
        files: Vec::new(),
        roots: Vec::new(),
        seen: Identities::default(),
        problems: Vec::new(),
    };
    for path in paths {
        let found = source::discover(std::slice::from_ref(path), Some(PROJECT_FILE));
        out.problems.extend(found.problems);
        let root = project_root(path);
        let top = path.is_dir().then(|| source::absolute(path));
        // A file's root depends only on its directory: found once per directory (keyed by the
        // directory as spelled), not once per file.
        let mut root_of_dir: FastMap<OsString, usize> = FastMap::default();
        for (f, is_link) in found.files.into_iter().zip(found.is_link) {
            let id = identity_in(&f, is_link, &mut dirs);
            if !out.seen.insert(id.clone().into_os_string()) {
                continue;
            }
            let dir = f.parent().unwrap_or(Path::new("")).as_os_str();
            let root = match root_of_dir.get(dir) {
                Some(&root) => root,
                None => {
                    let root = match &top {
                        // A walked file is below the walked path: its absolute path is `top`
                        // joined with the rest, without asking for the current directory.
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
                    let index = match out.roots.iter().position(|r| *r == root) {
                        Some(index) => index,
                        None => {
                            out.roots.push(root);
                            out.roots.len() - 1
                        }
                    };
                    root_of_dir.insert(dir.to_owned(), index);
                    index
                }
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

/// The account files of `project` under `roots` not in `seen` yet (which they are added to).
/// Nested projects (directories below a root holding a marker) are not entered: their files
/// are their own project's. Directories in `walked` (absolute) were walked as named paths
/// already and are not entered again either: on 10,000 files under `accounts/` in a
/// repository, walking them twice cost ~50 % more time. Without a marker (`marked` false) the
/// context is the files beside the named ones, no subfolder: nothing says where such a project
/// ends, and a file checked in `~/Downloads` must not read (and answer for) everything below it.
pub(super) fn context(
    roots: &[PathBuf],
    project: usize,
    marked: bool,
    walked: &[PathBuf],
    markers: &mut Markers,
    seen: &mut Identities,
) -> Vec<PlannedFile> {
    let shown: Vec<PathBuf> = roots.iter().map(|r| shown(r)).collect();
    let mut dirs = FastMap::default();
    let markers = std::cell::RefCell::new(markers);
    let prune = |dir: &Path| {
        let abs = source::absolute(dir);
        !marked || walked.contains(&abs) || markers.borrow_mut().holds(&abs)
    };
    let found = source::discover_pruned(&shown, Some(PROJECT_FILE), &prune);
    found
        .files
        .into_iter()
        .zip(found.is_link)
        .filter_map(|(f, is_link)| {
            let id = identity_in(&f, is_link, &mut dirs);
            seen.insert(id.clone().into_os_string())
                .then(|| PlannedFile {
                    identity: id,
                    input: Input::file(f),
                    reported: false,
                    project,
                })
        })
        .collect()
}
