//! Renderers: every output format is produced from [`Diagnostic`]s and the sources, nothing else.

pub mod human;

use crate::diagnostics::Diagnostic;
use crate::source::{redact, Sources};

/// Literal secrets of every file, for [`redact::scrub`] on anything printed.
pub fn secrets(sources: &Sources) -> Vec<String> {
    let mut all: Vec<String> = sources
        .iter()
        .flat_map(|(_, f)| redact::secret_values(&f.text))
        .collect();
    all.sort_by_key(|s| std::cmp::Reverse(s.len()));
    all.dedup();
    all
}

/// Diagnostics in the order users read them: by file path, then position.
pub fn sorted<'a>(diags: &'a [Diagnostic], sources: &Sources) -> Vec<&'a Diagnostic> {
    let mut v: Vec<&Diagnostic> = diags.iter().collect();
    v.sort_by(|a, b| {
        let pa = &sources.get(a.primary.file).path;
        let pb = &sources.get(b.primary.file).path;
        (pa, a.primary.span.start, a.rule).cmp(&(pb, b.primary.span.start, b.rule))
    });
    v
}
