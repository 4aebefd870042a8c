//! Applying fixes: byte-span edits on the original text, so everything a fix does not touch
//! (comments, blank lines, indentation, quoting) stays exactly as written.

use std::collections::HashMap;
use std::path::PathBuf;

pub mod verify;

use crate::policy::config::Config;

use crate::diagnostics::{Diagnostic, Edit, Fix, Span};
use crate::parse::redact;
use crate::rules::{self, unused_suppression};
use crate::source::{FileId, Sources};
use crate::workspace::Workspace;
use crate::{check_with, Input};
use verify::Snapshot;

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

/// A fix that was not applied because its result failed verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub path: PathBuf,
    /// 1-based line and column of the finding the fix is for.
    pub line: usize,
    pub column: usize,
    pub fix: String,
    pub reason: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = self.path.to_string_lossy().replace('\\', "/");
        let path = path.strip_prefix("./").unwrap_or(&path);
        write!(
            f,
            "{path}:{}:{}: fix not applied ({}): {}",
            self.line, self.column, self.fix, self.reason
        )
    }
}

/// What `--fix` would do: the files that change and the fixes that were refused.
#[derive(Debug, Default)]
pub struct FixRun {
    pub files: Vec<FixedFile>,
    pub refused: Vec<Refusal>,
}

/// Checks `paths` with `config`, applies fixes in memory until none is left (at most
/// [`MAX_ROUNDS`]), and returns the files that change. Every fix is verified before it is
/// taken ([`verify::only_intended_change`]): one whose result fails is refused and reported.
pub fn fix_files(paths: &[PathBuf], config: &Config) -> FixRun {
    let fixable = vec![true; paths.len()];
    fix_with(paths, &fixable, &|_| config, |inputs| {
        check_with(inputs, config)
    })
}

/// The fixes of a workspace's reported files, checked within their project (as `check` does):
/// files read only for context are never changed.
pub fn fix_workspace(ws: &Workspace) -> FixRun {
    let paths: Vec<PathBuf> = ws.files.iter().map(|f| f.input.path.clone()).collect();
    let fixable: Vec<bool> = ws.files.iter().map(|f| f.reported).collect();
    fix_with(&paths, &fixable, &|file| ws.config_of(file), |inputs| {
        ws.check_inputs(inputs).checked
    })
}

/// `paths[i]` is changed only when `fixable[i]`; `check` checks one round's texts, and
/// `config(i)` is the configuration `paths[i]` is checked with.
fn fix_with<'c>(
    paths: &[PathBuf],
    fixable: &[bool],
    config: &dyn Fn(usize) -> &'c Config,
    check: impl Fn(Vec<Input>) -> crate::Checked,
) -> FixRun {
    let mut texts: Vec<Option<String>> = vec![None; paths.len()];
    let mut originals: Vec<Option<String>> = vec![None; paths.len()];
    let mut counts = vec![0usize; paths.len()];
    let mut refused: Vec<Refusal> = Vec::new();
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
        let mut by_file: HashMap<FileId, Vec<&Diagnostic>> = HashMap::new();
        for d in &checked.diagnostics {
            if let Some(fix) = &d.fix {
                if usable(fix, &checked.sources) {
                    by_file.entry(fix.edits[0].file).or_default().push(d);
                }
            }
        }
        let mut progress = false;
        let mut files: Vec<_> = by_file.into_iter().collect();
        files.sort_by_key(|(f, _)| *f);
        for (file, diags) in files {
            if !fixable.get(file.index()).copied().unwrap_or(false) {
                continue;
            }
            let source = checked.sources.get(file);
            let (taken, rejected) = verified_fixes(
                &paths[file.index()],
                &source.text,
                &diags,
                config(file.index()),
            );
            for (d, reason) in rejected {
                let (line, column) = source.line_col(d.primary.span.start);
                let r = Refusal {
                    path: paths[file.index()].clone(),
                    line,
                    column,
                    fix: d
                        .fix
                        .as_ref()
                        .map(|f| f.description.clone())
                        .unwrap_or_default(),
                    reason,
                };
                if !refused.contains(&r) {
                    refused.push(r);
                }
            }
            let Some((new, n)) = taken else { continue };
            let i = file.index();
            originals[i].get_or_insert_with(|| source.text.to_string());
            texts[i] = Some(new);
            counts[i] += n;
            progress = true;
        }
        if !progress {
            break;
        }
    }
    let files = paths
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
        .collect();
    FixRun { files, refused }
}

/// A fix whose edits are all in one file, inside it, on character boundaries and apart.
fn usable(fix: &Fix, sources: &Sources) -> bool {
    let Some(first) = fix.edits.first() else {
        return false;
    };
    let text = &sources.get(first.file).text;
    fix.edits.iter().all(|e| {
        e.file == first.file
            && e.span.start <= e.span.end
            && e.span.end <= text.len()
            && text.is_char_boundary(e.span.start)
            && text.is_char_boundary(e.span.end)
            && fix.edits.iter().filter(|o| overlaps(o, e)).count() == 1
    })
}

/// The fixes of one file that pass verification, applied together (the new text and how many),
/// and the ones that failed with the reason. A fix that overlaps one already taken waits for
/// the next round.
#[allow(clippy::type_complexity)]
fn verified_fixes<'d>(
    path: &std::path::Path,
    text: &str,
    diags: &[&'d Diagnostic],
    config: &Config,
) -> (Option<(String, usize)>, Vec<(&'d Diagnostic, String)>) {
    let before = Snapshot::of(path, text, config);
    let mut taken: Vec<&Diagnostic> = Vec::new();
    let mut rejected = Vec::new();
    let attempt = |ds: &[&Diagnostic]| -> (String, Result<(), String>) {
        let edits = edits_of(ds);
        let new = apply_edits(text, &edits);
        let after = Snapshot::of(path, &new, config);
        let spans: Vec<(Span, &str)> = edits
            .iter()
            .map(|e| (e.span, e.replacement.as_str()))
            .collect();
        let suppressed: Vec<&str> = ds
            .iter()
            .filter(|d| d.rule == unused_suppression::META.name)
            .flat_map(|d| d.fix.iter().flat_map(|f| &f.edits))
            .filter_map(|e| rules::find(&e.replacement).map(|r| r.meta.name))
            .collect();
        let result = verify::only_intended_change(
            &before,
            &after,
            &verify::changes(&spans),
            ds,
            &suppressed,
        );
        (new, result)
    };
    // Suppression names are corrected first; the findings they will suppress are then not
    // fixed in the same round.
    let corrects = |d: &Diagnostic| -> Vec<&'static str> {
        if d.rule != unused_suppression::META.name {
            return Vec::new();
        }
        d.fix
            .iter()
            .flat_map(|f| &f.edits)
            .filter_map(|e| rules::find(&e.replacement).map(|r| r.meta.name))
            .collect()
    };
    let mut diags = diags.to_vec();
    diags.sort_by_key(|d| corrects(d).is_empty());
    let mut to_be_suppressed: Vec<&str> = Vec::new();
    for d in diags {
        if to_be_suppressed.contains(&d.rule) {
            continue;
        }
        let edits = &d.fix.as_ref().expect("only fixes are passed").edits;
        if taken
            .iter()
            .flat_map(|t| t.fix.iter().flat_map(|f| &f.edits))
            .any(|t| edits.iter().any(|e| overlaps(t, e)))
        {
            continue;
        }
        match attempt(&[d]).1 {
            Ok(()) => {
                to_be_suppressed.extend(corrects(d));
                taken.push(d);
            }
            Err(reason) => rejected.push((d, reason)),
        }
    }
    if taken.is_empty() {
        return (None, rejected);
    }
    let (new, together) = attempt(&taken);
    if together.is_ok() {
        return (Some((new, taken.len())), rejected);
    }
    // Each passes alone but not all together: take one now, the others next round.
    (Some((attempt(&taken[..1]).0, 1)), rejected)
}

fn edits_of<'a>(ds: &[&'a Diagnostic]) -> Vec<&'a Edit> {
    let mut e: Vec<&Edit> = ds
        .iter()
        .flat_map(|d| d.fix.iter().flat_map(|f| &f.edits))
        .collect();
    e.sort_by_key(|e| (e.span.start, e.span.end));
    e
}

fn apply_edits(text: &str, edits: &[&Edit]) -> String {
    let mut new = String::with_capacity(text.len());
    let mut at = 0;
    for e in edits {
        new.push_str(&text[at..e.span.start]);
        new.push_str(&e.replacement);
        at = e.span.end;
    }
    new.push_str(&text[at..]);
    new
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::{Label, Level};

    const TEXT: &str = "account \"S5\" {\n    protocol \"imap\"\n    incoming {\n        server \"imap.example.com\"\n        security \"ssl\"\n        user \"s5@example.com\"\n        password env=\"S5_PW\"\n        /* old note:\n        // mailcfg-ignore: auto-security reason=\"lab\" */\n        port 1993\n        mailbox \"Shared/S5\" // TODO drop the note above */\n    }\n    conversation-id \"subject\"\n}\n";

    fn deleting(what: &str, rule: &'static str) -> Diagnostic {
        let start = TEXT.find(what).unwrap();
        let span = Span::new(start, start + what.len());
        Diagnostic::new(rule, Level::Warning, Label::new(FileId(0), span), "test").with_fix(Fix {
            description: "delete".into(),
            edits: vec![Edit {
                file: FileId(0),
                span,
                replacement: String::new(),
            }],
        })
    }

    /// The old line-deleting suppression fix: it took the `*/` with it, so `port` and `mailbox`
    /// became part of the comment. Verification refuses it and says why.
    #[test]
    fn an_edit_that_changes_other_nodes_is_refused() {
        let bad = deleting(
            "        // mailcfg-ignore: auto-security reason=\"lab\" */\n",
            "unused-suppression",
        );
        let (taken, rejected) = verified_fixes(
            std::path::Path::new("s5.kdl"),
            TEXT,
            &[&bad],
            &Config::default(),
        );
        assert!(taken.is_none());
        assert_eq!(rejected.len(), 1);
        assert!(rejected[0].1.contains("mailbox"), "{}", rejected[0].1);
    }

    #[test]
    fn an_edit_of_its_own_node_only_is_taken() {
        let good = deleting("        port 1993\n", "redundant-port");
        let (taken, rejected) = verified_fixes(
            std::path::Path::new("s5.kdl"),
            TEXT,
            &[&good],
            &Config::default(),
        );
        assert!(rejected.is_empty(), "{rejected:?}");
        assert!(!taken.unwrap().0.contains("1993"));
    }
}
