//! File identity: one file however it is named.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use crate::lower::{FastMap, FastSet};
use crate::source;

/// A set of identities, keyed by their bytes: an identity is a canonical path, so one file has
/// one spelling, and FxHash over the bytes costs a fraction of hashing a `Path` component by
/// component with SipHash (21 M instructions of the serial planning of 10,000 files).
pub(super) type Identities = FastSet<OsString>;

/// The directories [`identity_in`] has resolved, keyed by their bytes as spelled.
pub(super) type Dirs = FastMap<OsString, DirInfo>;

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

/// The order of `Path`'s comparison (component by component) for identities, on their bytes:
/// an identity is a canonical path (no `.`, no repeated or trailing separator), so comparing it
/// component by component is comparing its bytes with the separator below every other byte.
/// `Path`'s comparison parses both paths into components: ~770 instructions per pair, 7.7 M
/// of sorting 10,000 identities that are already in order.
pub(super) fn by_identity(a: &Path, b: &Path) -> std::cmp::Ordering {
    if !cfg!(unix) {
        return a.cmp(b);
    }
    let (a, b) = (
        a.as_os_str().as_encoded_bytes(),
        b.as_os_str().as_encoded_bytes(),
    );
    let same = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let rank = |byte: u8| if byte == b'/' { 0 } else { u16::from(byte) + 1 };
    match (a.get(same), b.get(same)) {
        (Some(&x), Some(&y)) => rank(x).cmp(&rank(y)),
        _ => a.len().cmp(&b.len()),
    }
}

/// [`identity`] for many files: a file that is not a symbolic link is its directory's identity
/// (resolved once per directory) joined with its name, which saves resolving every path
/// component of every file again. Directories are keyed as the paths spell them. Whether a file
/// is a symbolic link is `is_link`, what the walk's listing of its directory said; when the
/// walk did not list it (a file named on the command line), one listing per directory tells:
/// on 10,000 files the per-file `lstat`, `getcwd` and lexical normalisation cost 74 M
/// instructions and 20,000 system calls of the (serial) planning, and a second listing of a
/// walked directory another 12 M and one `getdents` per 400 files.
pub(super) fn identity_in(path: &Path, is_link: Option<bool>, dirs: &mut Dirs) -> PathBuf {
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
    if let Some(dir) = dirs.get(parent.as_os_str()) {
        return dir.identity_of(path, name, is_link);
    }
    let dir = DirInfo::of(parent);
    let identity = dir.identity_of(path, name, is_link);
    dirs.insert(parent.as_os_str().to_owned(), dir);
    identity
}

/// A directory as [`identity_in`] sees it.
pub(super) struct DirInfo {
    path: PathBuf,
    identity: PathBuf,
    /// Its entries' names, each with whether it is a symbolic link, listed on first use; `None`
    /// when it cannot be listed (each file is then asked on its own).
    entries: std::cell::OnceCell<Option<FastMap<OsString, bool>>>,
}

impl DirInfo {
    fn of(dir: &Path) -> Self {
        DirInfo {
            path: dir.to_path_buf(),
            identity: identity(dir),
            entries: std::cell::OnceCell::new(),
        }
    }

    fn entries(&self) -> Option<&FastMap<OsString, bool>> {
        self.entries
            .get_or_init(|| {
                // The entry types come with the listing on most file systems (no call per
                // entry).
                std::fs::read_dir(&self.path).ok().and_then(|listing| {
                    listing
                        .map(|entry| {
                            let entry = entry.ok()?;
                            Some((entry.file_name(), entry.file_type().ok()?.is_symlink()))
                        })
                        .collect()
                })
            })
            .as_ref()
    }

    /// The identity of `path`, named `name` in this directory.
    fn identity_of(&self, path: &Path, name: &OsStr, is_link: Option<bool>) -> PathBuf {
        // A name the listing did not have (a file made since) is asked on its own.
        let is_link = match is_link.or_else(|| self.entries()?.get(name).copied()) {
            Some(is_link) => is_link,
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
    fn a_bare_name_and_its_other_spellings_are_one_identity() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("a.kdl"), "").unwrap();
        let canonical = identity(&d.join("a.kdl"));
        let mut dirs = Dirs::default();
        for spelling in [d.join("a.kdl"), d.join("./a.kdl"), d.join("sub/../a.kdl")] {
            assert_eq!(identity(&spelling), canonical, "{spelling:?}");
            assert_eq!(
                identity_in(&spelling, None, &mut dirs),
                canonical,
                "{spelling:?}"
            );
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(d.join("a.kdl"), d.join("link.kdl")).unwrap();
            assert_eq!(identity(&d.join("link.kdl")), canonical);
            assert_eq!(identity_in(&d.join("link.kdl"), None, &mut dirs), canonical);
            let walked = crate::source::discover(&[d.to_path_buf()], None);
            for (file, is_link) in walked.files.iter().zip(walked.is_link) {
                assert_eq!(identity_in(file, is_link, &mut Dirs::default()), canonical);
            }
        }
    }

    #[test]
    fn identities_are_ordered_as_paths_are() {
        let names = [
            "/a",
            "/a/b",
            "/a/b/c",
            "/a-b",
            "/a.b",
            "/a/b-c",
            "/a/b.c",
            "/a/bc",
            "/ab",
            "/a/b/c.kdl",
            "/a/b-c/d",
            "/a/b/d",
            "/A",
            "/a/ä",
            "/a/z",
            "/a/ b",
            "/",
        ];
        for a in names {
            for b in names {
                let (a, b) = (Path::new(a), Path::new(b));
                assert_eq!(by_identity(a, b), a.cmp(b), "{a:?} {b:?}");
            }
        }
    }
}
