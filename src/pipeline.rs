//! The check pipeline over a set of files: every stage, per file in parallel, then the rules
//! over the whole tree.

use std::path::PathBuf;
use std::sync::LazyLock;

use rayon::prelude::*;
use serde::Deserialize;
use serde_json::Value as Json;

use crate::diagnostics::{Diagnostic, Label, Level, Span};
use crate::lower::SpanMap;
use crate::model::{Account, Credential, Located, Project, System};
use crate::policy::config::Config;
use crate::policy::suppress;
use crate::source::{self, FileId, SourceFile, Sources};
use crate::{lower, parse, rules, schema};

/// One file to check: read from disk, or given as bytes (stdin, editor buffers).
#[derive(Debug, Clone)]
pub struct Input {
    pub path: PathBuf,
    pub content: Option<Vec<u8>>,
}

impl Input {
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Input {
            path: path.into(),
            content: None,
        }
    }
    pub fn text(path: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        Input {
            path: path.into(),
            content: Some(text.into().into_bytes()),
        }
    }
}

/// Everything a run produced; renderers, compile and probe read from here.
pub struct Checked {
    pub sources: Sources,
    pub spans: Vec<SpanMap>,
    pub project: Project,
    /// Sorted by file, then position.
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    /// What rules see of this run; later stages locate model values through it too.
    pub fn context(&self) -> rules::Context<'_> {
        rules::Context::new(&self.project, &self.spans, &self.sources)
    }

    pub fn has_io_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.rule == source::IO_ERROR)
    }
}

/// One file after the stages that see only it (read, lower, schema, model), before the rules:
/// what [`check_files`] takes. The language server keeps these between edits.
#[derive(Clone)]
pub struct FileResult {
    pub source: SourceFile,
    pub spans: SpanMap,
    pub diagnostics: Vec<Diagnostic>,
    pub accounts: Vec<Located<Account>>,
    pub credentials: Vec<Located<Credential>>,
    pub systems: Vec<Located<System>>,
}

impl FileResult {
    /// `source` with nothing read from it yet.
    fn empty(source: SourceFile) -> Self {
        FileResult {
            source,
            spans: SpanMap::default(),
            diagnostics: Vec::new(),
            accounts: Vec::new(),
            credentials: Vec::new(),
            systems: Vec::new(),
        }
    }
}

/// The kdl crate's v1 parser (the fallback for KDL v1 files) recurses per nesting level; give
/// it room. Depth is also capped before it runs.
static POOL: LazyLock<rayon::ThreadPool> = LazyLock::new(|| {
    rayon::ThreadPoolBuilder::new()
        .stack_size(64 * 1024 * 1024)
        .thread_name(|i| format!("mailcfg-check-{i}"))
        .build()
        .expect("thread pool")
});

/// Runs `f` on the pool the per-file stages run on (its threads have the stack the KDL v1
/// fallback needs), for callers that run those stages themselves ([`read_file`]).
pub fn in_pool<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    POOL.install(f)
}

/// Checks without a configuration file: every rule at its default level.
pub fn check(inputs: Vec<Input>) -> Checked {
    check_with(inputs, &Config::default())
}

/// Checks, then applies suppression comments and `config` (levels, per-path overrides), so every
/// consumer (every output format, the language server) sees the same findings.
pub fn check_with(inputs: Vec<Input>, config: &Config) -> Checked {
    let results: Vec<FileResult> = POOL.install(|| {
        inputs
            .into_par_iter()
            .enumerate()
            .map(|(i, input)| read_file(FileId(i as u32), input))
            .collect()
    });
    check_files(results, config)
}

/// The stages over the whole project (rules, facts, suppression, levels) on files already
/// read; `results[i]` must have been read as `FileId(i)`.
pub fn check_files(results: Vec<FileResult>, config: &Config) -> Checked {
    let mut sources = Sources::default();
    let mut spans = Vec::with_capacity(results.len());
    let mut project = Project::default();
    let mut diagnostics = Vec::new();
    let accounts: usize = results.iter().map(|r| r.accounts.len()).sum();
    for r in results {
        sources.add(r.source);
        spans.push(r.spans);
        diagnostics.extend(r.diagnostics);
        // One file's accounts (a large file) are moved, not copied beside themselves;
        // many files' go into a vector sized once.
        if project.accounts.is_empty() && r.accounts.len() == accounts {
            project.accounts = r.accounts;
        } else {
            project
                .accounts
                .reserve_exact(accounts - project.accounts.len());
            project.accounts.extend(r.accounts);
        }
        project.credentials.extend(r.credentials);
        project.systems.extend(r.systems);
    }
    let cx = rules::Context::new(&project, &spans, &sources);
    diagnostics.extend(POOL.install(|| rules::run(&cx)));
    finish(sources, spans, project, diagnostics, config)
}

/// The findings of the [`rules::Scope::Item`] rules about one file's items, in the order of its
/// [`FileResult`]'s `accounts`, then `credentials`, then `systems`.
pub type ItemFindings = Vec<Vec<Diagnostic>>;

/// [`check_files`] for a caller that keeps the item rules' findings between checks (the
/// language server): `known[i][j]` is, when still valid, what those rules found about item `j`
/// of file `i` (numbered as in [`ItemFindings`]); they run only over the items without. Gives
/// the same diagnostics as [`check_files`], and every item's findings for the next call.
pub fn check_files_reusing(
    results: Vec<FileResult>,
    config: &Config,
    mut known: Vec<Vec<Option<Vec<Diagnostic>>>>,
) -> (Checked, Vec<ItemFindings>) {
    let mut sources = Sources::default();
    let mut spans = Vec::with_capacity(results.len());
    let mut diagnostics = Vec::new();
    let mut items = Vec::with_capacity(results.len());
    for r in results {
        sources.add(r.source);
        spans.push(r.spans);
        diagnostics.extend(r.diagnostics);
        items.push((r.accounts, r.credentials, r.systems));
    }
    known.resize_with(items.len(), Vec::new);
    let (sources_ref, spans_ref) = (&sources, spans.as_slice());
    let per_file: Vec<_> = POOL.install(|| {
        items
            .into_par_iter()
            .zip(known)
            .map(|((accounts, credentials, systems), mut known)| {
                known.resize(accounts.len() + credentials.len() + systems.len(), None);
                let rest = known.split_off(accounts.len());
                let (known_credentials, known_systems) = {
                    let mut rest = rest;
                    let systems = rest.split_off(credentials.len());
                    (rest, systems)
                };
                let (accounts, mut found) = each_alone(accounts, known, |a| {
                    item_rules_alone(a, |p| &mut p.accounts, spans_ref, sources_ref)
                });
                let (credentials, found_credentials) =
                    each_alone(credentials, known_credentials, |c| {
                        item_rules_alone(c, |p| &mut p.credentials, spans_ref, sources_ref)
                    });
                let (systems, found_systems) = each_alone(systems, known_systems, |s| {
                    item_rules_alone(s, |p| &mut p.systems, spans_ref, sources_ref)
                });
                found.extend(found_credentials);
                found.extend(found_systems);
                (accounts, credentials, systems, found)
            })
            .collect()
    });
    let mut project = Project::default();
    let mut found = Vec::with_capacity(per_file.len());
    for (accounts, credentials, systems, f) in per_file {
        project.accounts.extend(accounts);
        project.credentials.extend(credentials);
        project.systems.extend(systems);
        diagnostics.extend(f.iter().flatten().cloned());
        found.push(f);
    }
    let cx = rules::Context::new(&project, &spans, &sources);
    diagnostics.extend(POOL.install(|| rules::run_scoped(&cx, Some(rules::Scope::Project))));
    (finish(sources, spans, project, diagnostics, config), found)
}

/// What the item rules find about `item` in a project holding it alone (`field` says where):
/// what they find about it in the whole project, which is what `Scope::Item` means. Hands the
/// item back.
fn item_rules_alone<T>(
    item: Located<T>,
    field: fn(&mut Project) -> &mut Vec<Located<T>>,
    spans: &[SpanMap],
    sources: &Sources,
) -> (Option<Located<T>>, Vec<Diagnostic>) {
    let mut project = Project::default();
    field(&mut project).push(item);
    let found = rules::run_item_rules(&rules::Context::new(&project, spans, sources));
    (field(&mut project).pop(), found)
}

/// Pairs each item with its item-rule findings: `known` ones, or `run`'s (which hands the item
/// back), in parallel.
fn each_alone<T: Send>(
    items: Vec<Located<T>>,
    known: Vec<Option<Vec<Diagnostic>>>,
    run: impl Fn(Located<T>) -> (Option<Located<T>>, Vec<Diagnostic>) + Sync,
) -> (Vec<Located<T>>, Vec<Vec<Diagnostic>>) {
    let (items, found): (Vec<Option<Located<T>>>, Vec<Vec<Diagnostic>>) = items
        .into_par_iter()
        .zip(known)
        .map(|(item, known)| match known {
            Some(found) => (Some(item), found),
            None => run(item),
        })
        .unzip();
    (items.into_iter().flatten().collect(), found)
}

/// The stages after the rules: facts, suppressions, levels, the order of the findings.
fn finish(
    sources: Sources,
    spans: Vec<SpanMap>,
    project: Project,
    mut diagnostics: Vec<Diagnostic>,
    config: &Config,
) -> Checked {
    let cx = rules::Context::new(&project, &spans, &sources);
    diagnostics.extend(crate::facts::check(&cx));
    // Allowed rules go first, so a comment suppressing only them is reported as unused; the
    // second pass sets the levels of the suppression findings themselves.
    config.apply(&mut diagnostics, &sources);
    suppress::apply(&mut diagnostics, &sources, &spans);
    config.apply(&mut diagnostics, &sources);
    diagnostics.sort_by(|a, b| {
        (a.primary.file, a.primary.span, a.rule).cmp(&(b.primary.file, b.primary.span, b.rule))
    });
    Checked {
        sources,
        spans,
        project,
        diagnostics,
    }
}

pub use crate::registry::builtin::{EMPTY_FILE, TOO_MANY_DIAGNOSTICS};

/// Findings reported per file before the rest are summarised in one note: a generated or
/// damaged file can otherwise produce millions, which help nobody and cost time to render.
pub const MAX_DIAGNOSTICS_PER_FILE: usize = 100;

/// The stages that see one file only, as [`check_with`] runs them on each.
pub fn read_file(id: FileId, input: Input) -> FileResult {
    let mut result = analyze_file(id, input, true);
    cap(id, &mut result.diagnostics);
    result
}

/// [`read_file`] for a caller that has just seen [`read_items`] or [`from_items`] refuse
/// `input`'s text (the language server): the full way at once, without trying the fast path
/// on the whole text again.
pub fn read_file_full_way(id: FileId, input: Input) -> FileResult {
    let mut result = analyze_file(id, input, false);
    cap(id, &mut result.diagnostics);
    result
}

/// Keeps the first [`MAX_DIAGNOSTICS_PER_FILE`] findings (by position) and says how many more
/// there were.
fn cap(id: FileId, diagnostics: &mut Vec<Diagnostic>) {
    if diagnostics.len() <= MAX_DIAGNOSTICS_PER_FILE {
        return;
    }
    diagnostics.sort_by(|a, b| (a.primary.span, a.rule).cmp(&(b.primary.span, b.rule)));
    let more = diagnostics.len() - MAX_DIAGNOSTICS_PER_FILE;
    diagnostics.truncate(MAX_DIAGNOSTICS_PER_FILE);
    let last = diagnostics.last().map_or(0, |d| d.primary.span.end);
    diagnostics.push(
        Diagnostic::new(
            TOO_MANY_DIAGNOSTICS,
            Level::Info,
            Label::new(id, Span::new(last, last)),
            format!("{more} more problems in this file are not shown (the limit is {MAX_DIAGNOSTICS_PER_FILE} per file)"),
        )
        .with_help("fix the problems above and check again"),
    );
}

fn analyze_file(id: FileId, input: Input, fast_path: bool) -> FileResult {
    let (source, problem) = match input.content {
        Some(bytes) => source::from_bytes(&input.path, bytes),
        None => source::read_file(&input.path),
    };
    let mut result = FileResult::empty(source);
    if let Some((rule, message, span)) = problem {
        result
            .diagnostics
            .push(source::input_diagnostic(id, rule, message, span));
        return result;
    }
    let fast = fast_path.then(|| read_items(id, &result.source.text));
    if let Some(items) = fast.flatten() {
        let source = std::mem::replace(&mut result.source, SourceFile::new("", String::new()));
        match from_items(id, source, items) {
            Ok(clean) => return clean,
            Err(source) => result.source = source,
        }
    }
    let text = result.source.text.as_str();
    let parsed = parse::parse(id, text);
    result.diagnostics.extend(parsed.diagnostics);
    let Some(doc) = parsed.document else {
        return result;
    };
    if doc.nodes.is_empty() {
        result.diagnostics.push(
            Diagnostic::new(
                EMPTY_FILE,
                Level::Warning,
                Label::new(id, Span::default()),
                "file defines nothing (no account, credential or system node)",
            )
            .with_help("remove the file, or add an `account \"Name\" { … }` node"),
        );
        return result;
    }
    let lowered = lower::lower(id, &doc);
    drop(doc);
    result.diagnostics.extend(lowered.diagnostics);
    let (schema_diags, bad) = schema::validate(id, &lowered.value, &lowered.spans);
    result.diagnostics.extend(schema_diags);
    // An item with a schema error anywhere inside it is left out of the model, so rules never
    // report consequences of a mistake the schema already named.
    let clean = |ptr: &str| {
        !bad.iter().any(|b| {
            b == ptr
                || b.strip_prefix(ptr)
                    .is_some_and(|rest| rest.starts_with('/'))
        })
    };
    let root = &lowered.value;
    result.accounts = items(id, root, "account", &clean);
    result.credentials = items(id, root, "credential", &clean);
    if let Some(sys) = root.get("system") {
        if clean("/system") {
            if let Ok(value) = System::deserialize(sys) {
                result.systems.push(Located {
                    file: id,
                    pointer: "/system".into(),
                    value,
                });
            }
        }
    }
    result.spans = lowered.spans;
    result
}

/// Reads `text` and turns each top-level node straight into the model. Each item comes with
/// the byte where its node starts. `None` when anything needs the full way: a syntax problem, a
/// node the fast paths refuse. A text of top-level nodes read on its own gives the same items as
/// inside its file, so the language server re-reads only the nodes an edit touched.
///
/// The fastest way first: straight from the text ([`lower::stream`], which reads the subset of
/// KDL files are written in, a large text in parallel parts), then through the reader's tree.
pub fn read_items(id: FileId, text: &str) -> Option<Vec<(usize, lower::typed::Item)>> {
    lower::stream::items(text)
        .ok()
        .or_else(|| read_tree_items(id, text))
}

/// [`read_items`] through the reader's tree, one top-level node at a time ([`lower::typed`]),
/// dropping each tree at once, so a large valid text never holds more than one node's tree.
fn read_tree_items(id: FileId, text: &str) -> Option<Vec<(usize, lower::typed::Item)>> {
    let mut items = Some(Vec::new());
    let (diagnostics, too_deep) = parse::reader::read_each(id, text, |node| {
        let Some(list) = &mut items else {
            return;
        };
        match lower::typed::item(node) {
            Some(item) => list.push((node.span.start, item)),
            None => items = None,
        }
    });
    items.filter(|_| diagnostics.is_empty() && !too_deep)
}

/// A file's result from its items ([`read_items`], in file order), numbered as the full way
/// numbers them. Gives `source` back when the full way must decide: no item at all (an empty
/// file), or a second `system` node (a duplicate it reports).
pub fn from_items(
    id: FileId,
    source: SourceFile,
    items: impl IntoIterator<Item = (usize, lower::typed::Item)>,
) -> Result<FileResult, SourceFile> {
    use lower::typed::Item;
    let mut result = FileResult::empty(source);
    // Sized for the items (mostly accounts) up front: a doubled vector of 10,000 accounts
    // leaves 6 MB unused beside the items it is filled from.
    let items = items.into_iter();
    result.accounts.reserve_exact(items.size_hint().0);
    let mut deferred = Vec::with_capacity(items.size_hint().0);
    for (start, item) in items {
        let pointer = match item {
            Item::Account(value) => {
                let pointer = format!("/account/{}", result.accounts.len());
                result.accounts.push(Located {
                    file: id,
                    pointer: pointer.clone(),
                    value,
                });
                pointer
            }
            Item::Credential(value) => {
                let pointer = format!("/credential/{}", result.credentials.len());
                result.credentials.push(Located {
                    file: id,
                    pointer: pointer.clone(),
                    value,
                });
                pointer
            }
            Item::System(value) if result.systems.is_empty() => {
                result.systems.push(Located {
                    file: id,
                    pointer: "/system".into(),
                    value,
                });
                "/system".into()
            }
            Item::System(_) => return Err(result.source),
        };
        deferred.push(lower::DeferredItem::new(pointer, start));
    }
    if deferred.is_empty() {
        return Err(result.source);
    }
    // Only when many slots went to other items: shrinking moves the whole vector.
    if result.accounts.capacity() > result.accounts.len() + result.accounts.len() / 8 {
        result.accounts.shrink_to_fit();
    }
    result.spans = SpanMap::deferred(id, result.source.text.clone(), deferred);
    Ok(result)
}

/// The items of a top-level list that passed the schema, typed.
fn items<T: serde::de::DeserializeOwned>(
    file: FileId,
    root: &Json,
    key: &str,
    clean: &dyn Fn(&str) -> bool,
) -> Vec<Located<T>> {
    let Some(list) = root.get(key).and_then(Json::as_array) else {
        return Vec::new();
    };
    list.iter()
        .enumerate()
        .filter_map(|(i, v)| {
            let pointer = format!("/{key}/{i}");
            if !clean(&pointer) {
                return None;
            }
            let value = T::deserialize(v).ok()?;
            Some(Located {
                file,
                pointer,
                value,
            })
        })
        .collect()
}
