//! Applying fixes: byte-span edits on the original text, so everything a fix does not touch
//! (comments, blank lines, indentation, quoting) stays exactly as written.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::diagnostics::config::Config;
use crate::diagnostics::{Diagnostic, Edit, Level};
use crate::source::{redact, FileId, Sources};
use crate::workspace::Workspace;
use crate::{check_with, parse, Input};

/// Rounds of fix → re-check before giving up: a fix may enable another (a `host:993` moved into
/// `port` can turn out redundant), but never loops for ever.
pub const MAX_ROUNDS: usize = 10;

/// One file whose text the fixes change.
#[derive(Debug, Clone)]
pub struct FixedFile {
    pub path: PathBuf,
    pub original: String,
    pub fixed: String,
    /// Fixes applied to this file, over all rounds.
    pub fixes: usize,
}

/// Applies the fixes of `diags` to the texts of `sources`. A fix is applied whole or not at all;
/// a fix whose edits overlap one already taken waits for the next round. Returns the new text of
/// each changed file with the number of fixes applied to it.
pub fn apply(diags: &[Diagnostic], sources: &Sources) -> HashMap<FileId, (String, usize)> {
    let mut per_file: HashMap<FileId, Vec<&Edit>> = HashMap::new();
    let mut counts: HashMap<FileId, usize> = HashMap::new();
    for d in diags {
        let Some(fix) = &d.fix else { continue };
        if fix.edits.is_empty() {
            continue;
        }
        let file = fix.edits[0].file;
        if fix.edits.iter().any(|e| e.file != file) {
            continue;
        }
        let taken = per_file.entry(file).or_default();
        let len = sources.get(file).text.len();
        let clash = fix.edits.iter().any(|e| {
            e.span.start > e.span.end
                || e.span.end > len
                || taken.iter().any(|t| overlaps(t, e))
                || fix.edits.iter().filter(|o| overlaps(o, e)).count() > 1
        });
        if clash {
            continue;
        }
        taken.extend(fix.edits.iter());
        *counts.entry(file).or_default() += 1;
    }
    let mut out = HashMap::new();
    for (file, mut edits) in per_file {
        if edits.is_empty() {
            continue;
        }
        let text = &sources.get(file).text;
        if edits
            .iter()
            .any(|e| !text.is_char_boundary(e.span.start) || !text.is_char_boundary(e.span.end))
        {
            continue;
        }
        edits.sort_by_key(|e| (e.span.start, e.span.end));
        let mut new = String::with_capacity(text.len());
        let mut at = 0;
        for e in edits {
            new.push_str(&text[at..e.span.start]);
            new.push_str(&e.replacement);
            at = e.span.end;
        }
        new.push_str(&text[at..]);
        out.insert(file, (new, counts[&file]));
    }
    out
}

fn overlaps(a: &Edit, b: &Edit) -> bool {
    if std::ptr::eq(a, b) {
        return true;
    }
    let (x, y) = (a.span, b.span);
    (x.start < y.end && y.start < x.end) || x.start == y.start
}

/// Checks `paths` with `config`, applies fixes in memory until none is left (at most
/// [`MAX_ROUNDS`]), and returns the files that change. A file whose fixed text would no longer
/// parse is left as it was.
pub fn fix_files(paths: &[PathBuf], config: &Config) -> Vec<FixedFile> {
    let fixable = vec![true; paths.len()];
    fix_with(paths, &fixable, |inputs| check_with(inputs, config))
}

/// The fixes of a workspace's reported files, checked within their project (as `check` does):
/// files read only for context are never changed.
pub fn fix_workspace(ws: &Workspace) -> Vec<FixedFile> {
    let paths: Vec<PathBuf> = ws.files.iter().map(|f| f.input.path.clone()).collect();
    let fixable: Vec<bool> = ws.files.iter().map(|f| f.reported).collect();
    fix_with(&paths, &fixable, |inputs| ws.check_inputs(inputs).checked)
}

/// `paths[i]` is changed only when `fixable[i]`; `check` checks one round's texts.
fn fix_with(
    paths: &[PathBuf],
    fixable: &[bool],
    check: impl Fn(Vec<Input>) -> crate::Checked,
) -> Vec<FixedFile> {
    let mut texts: Vec<Option<String>> = vec![None; paths.len()];
    let mut originals: Vec<Option<String>> = vec![None; paths.len()];
    let mut counts = vec![0usize; paths.len()];
    for _ in 0..MAX_ROUNDS {
        let inputs = paths
            .iter()
            .zip(&texts)
            .map(|(p, t)| match t {
                Some(t) => Input::text(p.clone(), t.clone()),
                None => Input::file(p.clone()),
            })
            .collect();
        let checked = check(inputs);
        let changed = apply(&checked.diagnostics, &checked.sources);
        let mut progress = false;
        for (file, (new, n)) in changed {
            let i = file.index();
            if !fixable.get(i).copied().unwrap_or(false) {
                continue;
            }
            let old = &checked.sources.get(file).text;
            if &new == old || breaks_syntax(old, &new) {
                continue;
            }
            originals[i].get_or_insert_with(|| old.clone());
            texts[i] = Some(new);
            counts[i] += n;
            progress = true;
        }
        if !progress {
            break;
        }
    }
    paths
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let fixed = texts[i].take()?;
            let original = originals[i].take()?;
            (fixed != original).then(|| FixedFile {
                path: p.clone(),
                original,
                fixed,
                fixes: counts[i],
            })
        })
        .collect()
}

/// Whether `new` has syntax errors that `old` did not have.
fn breaks_syntax(old: &str, new: &str) -> bool {
    let errors = |t: &str| {
        parse::parse(FileId(0), t)
            .diagnostics
            .iter()
            .any(|d| d.level == Level::Error)
    };
    errors(new) && !errors(old)
}

/// A unified diff of one fixed file with literal secrets masked on both sides.
pub fn unified_diff(f: &FixedFile) -> String {
    let old = redact::mask(&f.original);
    let new = redact::mask(&f.fixed);
    let name = f.path.to_string_lossy().replace('\\', "/");
    let name = name.strip_prefix("./").unwrap_or(&name).to_string();
    let diff = similar::TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string();
    let mut secrets = redact::secret_values(&f.original);
    secrets.extend(redact::secret_values(&f.fixed));
    redact::scrub(&diff, &secrets)
}
