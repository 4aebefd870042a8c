//! Atomic replacement of the store: whatever happens (an error, a full disk, the process being
//! killed), the previous store stays intact and no temporary file is left behind.
//!
//! On Linux the new contents are written to an anonymous `O_TMPFILE` in the target directory,
//! so a process killed while writing leaves nothing; only once the data is fsynced is the file
//! given a (hidden, unique) name and renamed over the store. Elsewhere, and on file systems
//! without `O_TMPFILE`, a named temporary file is used and removed on every error.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically. `mode` (Unix permissions) is applied before the file
/// gets a name, so a store holding secrets is never readable by others, not even for a moment.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(io::Error::other(format!(
            "directory {} does not exist",
            dir.display()
        )));
    }
    #[cfg(target_os = "linux")]
    {
        if let Some(result) = linux::write_anonymous(path, &dir, bytes, mode) {
            return result;
        }
    }
    write_named(path, &dir, bytes, mode)
}

/// The permissions a store gets: 0600 when it holds secret values; otherwise those of the store
/// it replaces, or 0644 for a new one.
pub fn store_mode(path: &Path, holds_secrets: bool) -> u32 {
    if holds_secrets {
        return 0o600;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(m) = fs::metadata(path) {
            return m.permissions().mode() & 0o7777;
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    0o644
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "store".into())
}

fn write_named(path: &Path, dir: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let prefix = format!(".{}.", file_name(path));
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(mode));
    }
    #[cfg(not(unix))]
    let _ = mode;
    // Dropping the NamedTempFile on any error below removes it.
    let mut tmp = builder.tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // The umask may have narrowed the mode at creation; set it exactly.
        tmp.as_file()
            .set_permissions(fs::Permissions::from_mode(mode))?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir);
    Ok(())
}

/// Makes the rename durable. Some file systems cannot fsync a directory; the data itself is
/// already synced, so that is not an error.
fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::ffi::CString;
    use std::fs::{self, OpenOptions};
    use std::io::{self, Write};
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    use std::os::unix::io::AsRawFd;
    use std::path::Path;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// `None` when `O_TMPFILE` is not available here (the caller falls back to a named file).
    pub fn write_anonymous(
        path: &Path,
        dir: &Path,
        bytes: &[u8],
        mode: u32,
    ) -> Option<io::Result<()>> {
        let mut file = match OpenOptions::new()
            .write(true)
            .mode(mode)
            .custom_flags(libc::O_TMPFILE)
            .open(dir)
        {
            Ok(f) => f,
            Err(e) if unsupported(&e) => return None,
            Err(e) => return Some(Err(e)),
        };
        let result = (|| -> io::Result<Option<()>> {
            file.write_all(bytes)?;
            file.set_permissions(fs::Permissions::from_mode(mode))?;
            file.sync_all()?;
            let tmp = dir.join(format!(
                ".{}.{}-{}.tmp",
                super::file_name(path),
                std::process::id(),
                next_counter()
            ));
            if !link(&file, &tmp)? {
                return Ok(None);
            }
            if let Err(e) = fs::rename(&tmp, path) {
                let _ = fs::remove_file(&tmp);
                return Err(e);
            }
            super::sync_dir(dir);
            Ok(Some(()))
        })();
        match result {
            Ok(Some(())) => Some(Ok(())),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }

    fn unsupported(e: &io::Error) -> bool {
        matches!(
            e.raw_os_error(),
            Some(libc::EOPNOTSUPP) | Some(libc::EISDIR) | Some(libc::EINVAL)
        )
    }

    fn next_counter() -> u32 {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        COUNTER.fetch_add(1, Ordering::Relaxed)
    }

    /// Gives the anonymous file a name. `false` when neither way is permitted here.
    fn link(file: &fs::File, to: &Path) -> io::Result<bool> {
        let to_c = CString::new(to.as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in path"))?;
        let proc_path = CString::new(format!("/proc/self/fd/{}", file.as_raw_fd()))
            .expect("no NUL in a formatted path");
        // SAFETY: both paths are valid NUL-terminated strings that outlive the calls.
        let r = unsafe {
            libc::linkat(
                libc::AT_FDCWD,
                proc_path.as_ptr(),
                libc::AT_FDCWD,
                to_c.as_ptr(),
                libc::AT_SYMLINK_FOLLOW,
            )
        };
        if r == 0 {
            return Ok(true);
        }
        let empty = CString::new("").expect("empty string");
        // Without /proc, AT_EMPTY_PATH works for processes allowed to use it.
        // SAFETY: as above; the fd is open for the duration of the call.
        let r = unsafe {
            libc::linkat(
                file.as_raw_fd(),
                empty.as_ptr(),
                libc::AT_FDCWD,
                to_c.as_ptr(),
                libc::AT_EMPTY_PATH,
            )
        };
        if r == 0 {
            return Ok(true);
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::ENOENT) | Some(libc::EPERM) | Some(libc::EXDEV) | Some(libc::EINVAL) => {
                Ok(false)
            }
            _ => Err(e),
        }
    }
}
