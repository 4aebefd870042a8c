//! Finding account files and reading them with limits.

use std::fs;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use crate::diagnostics::{Diagnostic, Label, Level, Span};

/// What every secret value is shown as.
pub const MASK: &str = "********";

/// KDL's newline characters (CRLF is one newline made of two of them).
pub fn is_newline_char(c: char) -> bool {
    matches!(
        c,
        '\r' | '\n' | '\u{0085}' | '\u{000B}' | '\u{000C}' | '\u{2028}' | '\u{2029}'
    )
}

/// Length of the newline at `at`, 0 if none.
pub fn newline_len(b: &[u8], at: usize) -> usize {
    match b.get(at) {
        Some(b'\r') => {
            if b.get(at + 1) == Some(&b'\n') {
                2
            } else {
                1
            }
        }
        Some(b'\n' | 0x0B | 0x0C) => 1,
        Some(0xC2) if b.get(at + 1) == Some(&0x85) => 2,
        Some(0xE2)
            if b.get(at + 1) == Some(&0x80) && matches!(b.get(at + 2), Some(0xA8 | 0xA9)) =>
        {
            3
        }
        _ => 0,
    }
}

/// Files larger than this are reported, not parsed.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

pub use crate::diagnostics::FileId;

/// One input file. `text` is empty when the file could not be read as UTF-8 text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: PathBuf,
    /// Shared (not copied) with the span table of a file that took the fast path, which reads
    /// a node again when a finding asks where it is.
    pub text: std::sync::Arc<String>,
    /// Computed on first use: a valid file nobody reports on never needs it.
    line_starts: std::sync::OnceLock<Box<LineStarts>>,
    /// The text with its secrets masked, for everything shown to users; on first use.
    redacted: std::sync::OnceLock<Box<Redacted>>,
}

impl SourceFile {
    pub fn new(path: impl Into<PathBuf>, text: String) -> Self {
        SourceFile {
            path: path.into(),
            text: std::sync::Arc::new(text),
            line_starts: std::sync::OnceLock::new(),
            redacted: std::sync::OnceLock::new(),
        }
    }

    /// The cached masked view of the text, made by `make` on first use (see `parse::redact::view`).
    pub fn redacted_or_init(&self, make: impl FnOnce(&str) -> Redacted) -> &Redacted {
        self.redacted.get_or_init(|| Box::new(make(&self.text)))
    }

    fn line_index(&self) -> &LineStarts {
        self.line_starts.get_or_init(Box::default)
    }

    /// Where each line starts. Lines end at every KDL newline (LF, CRLF, a lone CR, NEL, VT, FF,
    /// U+2028, U+2029), so line numbers are those of the KDL specification.
    fn line_starts(&self) -> &[usize] {
        self.line_index()
            .kdl
            .get_or_init(|| line_starts(&self.text, newline_len))
    }

    /// Where each line starts for editors (see [`editor_line_starts`]).
    fn editor_line_starts(&self) -> &[usize] {
        self.line_index()
            .editor
            .get_or_init(|| editor_line_starts(&self.text))
    }

    /// Hands over where the editor's lines start, from a caller that keeps them up to date as
    /// the text is edited (the language server), so they are not found again from the text.
    /// They must be [`editor_line_starts`] of the text.
    pub fn set_editor_line_starts(&self, starts: Vec<usize>) {
        debug_assert_eq!(starts, editor_line_starts(&self.text));
        let _ = self.line_index().editor.set(starts);
    }

    /// The directory the file is in: where its relative `file=` secret references start.
    pub fn dir(&self) -> PathBuf {
        self.path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }

    /// The path as shown to users, with forward slashes.
    pub fn display_path(&self) -> String {
        let s = self.path.to_string_lossy().replace('\\', "/");
        s.strip_prefix("./").map(str::to_string).unwrap_or(s)
    }

    /// 1-based line and 1-based column counted in Unicode scalar values.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = self.clamp(offset);
        let line = self.line_of(offset);
        let start = self.line_starts()[line];
        let col = self.text[start..offset].chars().count() + 1;
        (line + 1, col)
    }

    /// 0-based line and 0-based column in UTF-16 code units (what LSP and SARIF count).
    pub fn line_col_utf16(&self, offset: usize) -> (usize, usize) {
        let offset = self.clamp(offset);
        let line = self.editor_line_of(offset);
        let start = self.editor_line_starts()[line];
        let col = self.text[start..offset].encode_utf16().count();
        (line, col)
    }

    /// Byte offset of a 0-based line and UTF-16 column (clamped to the line).
    pub fn offset_of_utf16(&self, line: usize, col: usize) -> usize {
        if line >= self.editor_line_starts().len() {
            return self.text.len();
        }
        let start = self.editor_line_starts()[line];
        // The line ends where the editor's next line starts: a NEL or U+2028 inside it is text
        // to the editor, not a line end.
        let end = self
            .editor_line_starts()
            .get(line + 1)
            .copied()
            .unwrap_or(self.text.len());
        let mut units = 0;
        for (i, ch) in self.text[start..end].char_indices() {
            if units >= col || ch == '\n' || ch == '\r' {
                return start + i;
            }
            units += ch.len_utf16();
        }
        end
    }

    pub fn line_count(&self) -> usize {
        self.line_starts().len()
    }

    fn editor_line_of(&self, offset: usize) -> usize {
        match self.editor_line_starts().binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        }
    }

    fn line_of(&self, offset: usize) -> usize {
        match self.line_starts().binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        }
    }

    fn clamp(&self, offset: usize) -> usize {
        let mut o = offset.min(self.text.len());
        while !self.text.is_char_boundary(o) {
            o -= 1;
        }
        o
    }
}

/// Line starts, boxed so that a file stays small until they are needed.
#[derive(Debug, Clone, Default)]
struct LineStarts {
    kdl: std::sync::OnceLock<Vec<usize>>,
    editor: std::sync::OnceLock<Vec<usize>>,
}

/// Where each line of `text` starts for editors: LSP counts only LF, CRLF and a lone CR as
/// line ends (see [`is_editor_line_start`]).
pub fn editor_line_starts(text: &str) -> Vec<usize> {
    line_starts(text, |b, at| match b[at] {
        b'\r' if b.get(at + 1) == Some(&b'\n') => 2,
        b'\r' | b'\n' => 1,
        _ => 0,
    })
}

/// Whether an editor's line starts at byte `at` of `b` (0 < `at` ≤ `b.len()`): after an LF, or
/// after a CR not followed by an LF. It depends on the two bytes around `at` only, so an edit
/// changes the line starts near it and moves the others.
pub fn is_editor_line_start(b: &[u8], at: usize) -> bool {
    match b[at - 1] {
        b'\n' => true,
        b'\r' => b.get(at) != Some(&b'\n'),
        _ => false,
    }
}

/// The start of every line of `text`; `newline_len(bytes, at)` is the length of the line end at
/// `at` (0 when there is none).
pub(crate) fn line_starts(text: &str, newline_len: impl Fn(&[u8], usize) -> usize) -> Vec<usize> {
    let b = text.as_bytes();
    let mut starts = vec![0];
    let mut i = 0;
    while i < b.len() {
        // Every newline starts with one of these bytes; skip the rest quickly.
        if matches!(b[i], b'\n' | b'\r' | 0x0B | 0x0C | 0xC2 | 0xE2) {
            let n = newline_len(b, i);
            if n > 0 {
                i += n;
                starts.push(i);
                continue;
            }
        }
        i += 1;
    }
    starts
}

/// All files of one run; `FileId` indexes into it.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    pub fn add(&mut self, file: SourceFile) -> FileId {
        self.files.push(file);
        FileId((self.files.len() - 1) as u32)
    }
    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.index()]
    }
    pub fn len(&self) -> usize {
        self.files.len()
    }
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }
}

/// Rule names of problems found while finding and reading files.
pub const IO_ERROR: &str = "io-error";
pub const INVALID_UTF8: &str = "invalid-utf8";
pub const BINARY_FILE: &str = "binary-file";
pub const FILE_TOO_LARGE: &str = "file-too-large";

/// What discovery found: files to check, and problems with paths that have no readable text.
#[derive(Debug, Default)]
pub struct Discovered {
    pub files: Vec<PathBuf>,
    /// (path, message): paths that could not be walked at all.
    pub problems: Vec<(PathBuf, String)>,
}

fn is_skipped_dir(name: &str) -> bool {
    (name.starts_with('.') && name != "." && name != "..") || name == "target"
}

/// Walks `paths` for `*.kdl` files. Directories are walked (hidden and `target/` folders skipped,
/// symlinks followed with loop detection); files named explicitly are always taken.
pub fn discover(paths: &[PathBuf], exclude_name: Option<&str>) -> Discovered {
    discover_pruned(paths, exclude_name, &|_| false)
}

/// [`discover`], not entering the directories `prune` accepts (below the given paths).
pub fn discover_pruned(
    paths: &[PathBuf],
    exclude_name: Option<&str>,
    prune: &dyn Fn(&Path) -> bool,
) -> Discovered {
    let mut out = Discovered::default();
    for root in paths {
        let meta = match fs::metadata(root) {
            Ok(m) => m,
            Err(e) => {
                out.problems.push((root.clone(), io_message(&e)));
                continue;
            }
        };
        if !meta.is_dir() {
            out.files.push(root.clone());
            continue;
        }
        let walker = walkdir::WalkDir::new(root)
            .follow_links(true)
            // By name, as `sort_by_file_name` does: siblings' paths are one directory path
            // joined with their names, so comparing the whole paths' bytes orders them by name,
            // without parsing each path into components for every comparison (which made
            // sorting 10,000 siblings cost 83 M instructions, as much as reading them).
            .sort_by(|a, b| path_bytes(a).cmp(path_bytes(b)))
            .into_iter()
            .filter_entry(|e| {
                e.depth() == 0
                    || !(e.file_type().is_dir()
                        && (is_skipped_dir(&e.file_name().to_string_lossy()) || prune(e.path())))
            });
        for entry in walker {
            match entry {
                Ok(e) => {
                    let name = e.file_name().to_string_lossy();
                    if e.file_type().is_file()
                        && name.ends_with(".kdl")
                        && Some(name.as_ref()) != exclude_name
                    {
                        out.files.push(e.into_path());
                    }
                }
                Err(e) => {
                    let path = e
                        .path()
                        .map(Path::to_path_buf)
                        .unwrap_or_else(|| root.clone());
                    let msg = if e.loop_ancestor().is_some() {
                        "symbolic link loop; not followed".to_string()
                    } else if let Some(io) = e.io_error() {
                        io_message(io)
                    } else {
                        e.to_string()
                    };
                    out.problems.push((path, msg));
                }
            }
        }
    }
    out
}

fn path_bytes(entry: &walkdir::DirEntry) -> &[u8] {
    entry.path().as_os_str().as_encoded_bytes()
}

/// `path` made absolute against the current directory, with `.` and `..` resolved lexically
/// (without touching the file system, so symbolic links keep the name they were given by).
pub fn absolute(path: &Path) -> PathBuf {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

pub fn io_message(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => {
            let s = e.to_string();
            // Drop the "(os error N)" tail: it helps nobody reading a lint report.
            match s.find(" (os error") {
                Some(i) => s[..i].to_string(),
                None => s,
            }
        }
    }
}

/// Reads one file into `sources`. Returns the id and, when the file has no usable text,
/// the diagnostic that says why (the file is then registered with empty text).
pub fn read_file(path: &Path) -> (SourceFile, Option<(&'static str, String, Span)>) {
    let empty = || SourceFile::new(path, String::new());
    let mut f = match fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            return (
                empty(),
                Some((
                    IO_ERROR,
                    format!("cannot read file: {}", io_message(&e)),
                    Span::default(),
                )),
            )
        }
    };
    // Sized from the file's length, the read takes one call plus the one that sees the end,
    // instead of a series of growing reads.
    let hint = f.metadata().map_or(0, |m| m.len().min(MAX_FILE_BYTES + 1)) as usize;
    let mut bytes = Vec::with_capacity(hint + 1);
    if let Err(e) = (&mut f).take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes) {
        let msg = if e.raw_os_error() == Some(21) {
            "is a directory".to_string()
        } else {
            io_message(&e)
        };
        return (
            empty(),
            Some((
                IO_ERROR,
                format!("cannot read file: {msg}"),
                Span::default(),
            )),
        );
    }
    from_bytes(path, bytes)
}

/// Turns raw bytes into a source file, rejecting what is not KDL text.
pub fn from_bytes(
    path: &Path,
    bytes: Vec<u8>,
) -> (SourceFile, Option<(&'static str, String, Span)>) {
    let empty = || SourceFile::new(path, String::new());
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return (
            empty(),
            Some((
                FILE_TOO_LARGE,
                format!(
                    "file is larger than the {} MiB limit; not checked",
                    MAX_FILE_BYTES / (1024 * 1024)
                ),
                Span::default(),
            )),
        );
    }
    let head = &bytes[..bytes.len().min(8192)];
    if let Some(nul) = memchr::memchr(0, head) {
        // A NUL in valid UTF-8 text is still a control character KDL forbids; most often the
        // file is binary, so say that rather than pointing at one byte.
        if std::str::from_utf8(&bytes).is_err() || nul == 0 {
            return (
                empty(),
                Some((
                    BINARY_FILE,
                    format!("binary file (NUL byte at offset {nul}); not checked"),
                    Span::default(),
                )),
            );
        }
    }
    match String::from_utf8(bytes) {
        Ok(text) => (SourceFile::new(path, text), None),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            // Keep the valid prefix so the location can be shown with line and column.
            let text = String::from_utf8_lossy(&bytes[..at]).into_owned();
            let file = SourceFile::new(path, text);
            let end = file.text.len();
            (
                file,
                Some((
                    INVALID_UTF8,
                    format!(
                        "file is not valid UTF-8: invalid byte 0x{:02X} at byte offset {at}; KDL files must be UTF-8",
                        bytes[at]
                    ),
                    Span::new(end, end),
                )),
            )
        }
    }
}

/// A diagnostic for a problem reading a file.
pub fn input_diagnostic(
    file: FileId,
    rule: &'static str,
    message: String,
    span: Span,
) -> Diagnostic {
    Diagnostic::new(rule, Level::Error, Label::new(file, span), message)
}

/// A text with its secrets masked, and the way from offsets in the original to offsets in it.
#[derive(Debug, Clone, Default)]
pub struct Redacted {
    /// The masked text; empty when nothing was masked (the original is the text then).
    masked: String,
    /// (original span, masked span) of each replaced secret, in order.
    replaced: Vec<(Span, Span)>,
    line_starts: std::sync::OnceLock<Vec<usize>>,
    /// The literal secrets' values in the original text.
    values: Vec<String>,
}

impl Redacted {
    /// Made by the redaction of the syntax (`parse::redact`), which knows where secrets are.
    pub fn from_parts(masked: String, replaced: Vec<(Span, Span)>, values: Vec<String>) -> Self {
        Redacted {
            masked,
            replaced,
            line_starts: Default::default(),
            values,
        }
    }

    /// The secrets' values, for [`scrub`] (see [`secret_values`]).
    pub fn secret_values(&self) -> &[String] {
        &self.values
    }

    /// The masked text of `original` (the text this was made from).
    pub fn text<'a>(&'a self, original: &'a str) -> &'a str {
        if self.replaced.is_empty() {
            original
        } else {
            &self.masked
        }
    }

    /// Byte offsets where the masked text's lines start (the same lines as the original's).
    pub fn line_starts(&self, original: &str) -> &[usize] {
        self.line_starts
            .get_or_init(|| line_starts(self.text(original), newline_len))
    }

    /// Where byte `offset` of the original text is in the masked text. An offset inside a
    /// secret maps to the start of its mask (or its end, for an offset at the secret's end).
    pub fn offset(&self, offset: usize) -> usize {
        let k = self.replaced.partition_point(|(o, _)| o.start < offset);
        // `k` replacements start before `offset`; the last of them may contain it.
        match k.checked_sub(1).map(|j| self.replaced[j]) {
            None => offset,
            Some((o, m)) if offset >= o.end => offset - o.end + m.end,
            Some((_, m)) => m.start,
        }
        .min(
            self.replaced
                .last()
                .map_or(usize::MAX, |_| self.masked.len()),
        )
    }

    /// A span of the original text, in the masked text. A span that ends inside a secret, or
    /// at its end, ends just after its mask (not after the line breaks kept behind it).
    pub fn span(&self, span: Span) -> Span {
        let start = self.offset(span.start);
        let k = self.replaced.partition_point(|(o, _)| o.start < span.end);
        let end = match k.checked_sub(1).map(|j| self.replaced[j]) {
            Some((o, m)) if span.end <= o.end && span.end > o.start => m.start + MASK.len(),
            _ => self.offset(span.end),
        };
        Span::new(start, end.max(start))
    }

    /// Whether nothing was masked.
    pub fn is_unchanged(&self) -> bool {
        self.replaced.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_orders_siblings_by_name_as_walkdir_does() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for sub in ["a", "a b", "a-b", "B"] {
            std::fs::create_dir_all(d.join(sub)).unwrap();
        }
        let names = [
            "b.kdl",
            "a.kdl",
            "a b.kdl",
            "a-b.kdl",
            "a/c.kdl",
            "a/b.kdl",
            "a b/x.kdl",
            "a-b/y.kdl",
            "B/z.kdl",
            "A.kdl",
            "ä.kdl",
            "a.kdl.kdl",
            "_.kdl",
            "0.kdl",
        ];
        for name in names {
            std::fs::write(d.join(name), "").unwrap();
        }
        let expected: Vec<PathBuf> = walkdir::WalkDir::new(d)
            .sort_by_file_name()
            .into_iter()
            .map(|e| e.unwrap().into_path())
            .filter(|p| p.is_file())
            .collect();
        assert_eq!(expected.len(), names.len());
        assert_eq!(discover(&[d.to_path_buf()], None).files, expected);
    }
}

#[cfg(test)]
mod editor_positions {
    use super::SourceFile;

    #[test]
    fn a_nel_inside_an_editor_line_does_not_end_it() {
        // KDL ends a line at NEL (U+0085); an editor does not, so line 0 runs to the `\n`.
        let text = "// a\u{0085}b\nport 1\n";
        let file = SourceFile::new("x.kdl", text.to_string());
        let newline = text.find('\n').unwrap();
        assert_eq!(file.offset_of_utf16(0, 6), newline);
        assert_eq!(file.offset_of_utf16(0, 5), text.find('b').unwrap());
        assert_eq!(file.offset_of_utf16(1, 4), newline + 1 + 4);
    }
}
