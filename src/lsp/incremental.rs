//! What the language server keeps of each file between checks, so that an edit re-reads only
//! the top-level nodes whose text changed (issue 17).
//!
//! A file whose every top-level node took the fast path ([`pipeline::read_items`]) is kept as
//! its nodes: where each starts, its model and its literal secrets. After an edit, the text
//! before the first changed byte and after the last one is the same as before; the nodes the
//! changed bytes fall in are read again on their own, together with the first unchanged node
//! after them. Reading from the start of a node is reading from a fresh start (the reader was
//! there between top-level nodes before the edit, and the text before it did not change); the
//! unchanged node after the edit starting where it did proves the edit left the reader between
//! nodes too (an unclosed string, comment or block, a `/-` or a `\` line continuation would
//! have swallowed it or moved its start). From there on the text, and so its reading, is
//! unchanged. The file's result is then built by [`pipeline::from_items`] from the nodes, as
//! `check` builds it, so the diagnostics are those of a check from scratch.
//!
//! Anything else (a problem in the file, an empty file, a second `system` node) reads the whole
//! file the way `check` does ([`pipeline::read_file`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::diagnostics::{Diagnostic, Span};
use crate::lower::typed::Item;
use crate::model::{Account, Credential, Located, System};
use crate::parse::redact;
use crate::pipeline::{self, FileResult};
use crate::source::{self, FileId, SourceFile};
use crate::Input;

/// One file as the last check read it.
pub struct Cached {
    id: FileId,
    /// The text it was read from: the next text is compared with it to find what changed.
    /// Shared with the file's [`SourceFile`] in the check's result.
    text: Arc<String>,
    kind: Kind,
    /// What [`pipeline::read_file`] gives for the text. A file read whole keeps it while its
    /// text stays the same (the span tables built for its findings are then built once); a
    /// file kept as nodes hands over the one made when it was read, then makes it again from
    /// its nodes' items, which the check's result lends back ([`Cached::give_back`]): the
    /// model is not copied.
    result: Option<FileResult>,
    /// For a file read whole: the item rules' findings about its items
    /// ([`pipeline::ItemFindings`]), valid while its text stays the same.
    whole_findings: Option<pipeline::ItemFindings>,
}

enum Kind {
    /// Every top-level node took the fast path.
    Nodes {
        /// Literal secrets of the text before the first node.
        preamble_secrets: Vec<String>,
        nodes: Vec<NodeRead>,
    },
    /// Read the whole way (a problem somewhere, an empty file, two `system` nodes).
    Whole,
}

#[derive(Clone)]
struct NodeRead {
    /// Where the node starts in the file.
    start: usize,
    kind: ItemKind,
    /// `None` while the item is lent to a check's result ([`Cached::take_result`]).
    item: Option<Item>,
    /// Literal secrets of the text from this node's start to the next node's.
    secrets: Vec<String>,
    /// What the item rules found about this node's item, and where the node started then: an
    /// edit elsewhere only moves them. Dropped when the node, or the text next to it, changes.
    findings: Option<(usize, Vec<Diagnostic>)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ItemKind {
    Account,
    Credential,
    System,
}

fn kind_of(item: &Item) -> ItemKind {
    match item {
        Item::Account(_) => ItemKind::Account,
        Item::Credential(_) => ItemKind::Credential,
        Item::System(_) => ItemKind::System,
    }
}

/// The file of `text`, sharing it, as [`source::from_bytes`] makes it; `None` where that
/// reports a problem (for a text already UTF-8: too large, or a NUL first).
fn source_of(path: &Path, text: &Arc<String>) -> Option<SourceFile> {
    if text.len() as u64 > source::MAX_FILE_BYTES || text.starts_with('\0') {
        return None;
    }
    let mut file = SourceFile::new(path, String::new());
    file.text = Arc::clone(text);
    Some(file)
}

/// How a file was brought up to date (the tests check that edits take the short way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Update {
    Unchanged,
    /// This many top-level nodes were read again.
    Nodes(usize),
    Whole,
}

impl Cached {
    /// Reads `text` of `path` as file `id` from scratch.
    pub fn read(id: FileId, path: &Path, text: String) -> Cached {
        Cached::read_trying(id, path, Arc::new(text), true)
    }

    /// Reads `text` from scratch, trying the fast path first when `fast_path`.
    fn read_trying(id: FileId, path: &Path, text: Arc<String>, fast_path: bool) -> Cached {
        if let (true, Some(file)) = (fast_path, source_of(path, &text)) {
            if let Some(items) = pipeline::read_items(id, &file.text) {
                let mut nodes = nodes_at(0, items);
                let all = 0..nodes.len();
                fill_secrets(&file.text, &mut nodes, all);
                let preamble_secrets = preamble_secrets(&file.text, &nodes);
                let shared = Arc::clone(&text);
                if let Some(c) = Cached::of_nodes(id, path, shared, nodes, preamble_secrets) {
                    return c;
                }
            }
        }
        // The fast path refused the text (or was not to be tried): not tried again.
        let result = pipeline::read_file_full_way(id, Input::text(path, String::clone(&text)));
        Cached {
            id,
            text,
            kind: Kind::Whole,
            result: Some(result),
            whole_findings: None,
        }
    }

    /// The file made of `nodes`, if they can stand for it (see [`pipeline::from_items`]).
    fn of_nodes(
        id: FileId,
        path: &Path,
        text: Arc<String>,
        mut nodes: Vec<NodeRead>,
        preamble_secrets: Vec<String>,
    ) -> Option<Cached> {
        let file = source_of(path, &text)?;
        let result = pipeline::from_items(id, file, lend(&mut nodes)?).ok()?;
        Some(Cached {
            id,
            text,
            kind: Kind::Nodes {
                preamble_secrets,
                nodes,
            },
            result: Some(result),
            whole_findings: None,
        })
    }

    /// Brings `cached` (or a fresh read, without one) to `text` of file `id`.
    pub fn update(cached: Option<Cached>, id: FileId, path: &Path, text: &str) -> (Cached, Update) {
        let Some(c) = cached.filter(|c| c.id == id) else {
            return (Cached::read(id, path, text.to_string()), Update::Whole);
        };
        if !c.whole_items() {
            return (Cached::read(id, path, text.to_string()), Update::Whole);
        }
        if c.text.as_str() == text {
            return (c, Update::Unchanged);
        }
        if let Kind::Nodes {
            mut preamble_secrets,
            mut nodes,
        } = c.kind
        {
            match reread(&c.text, text, id, &mut nodes, &mut preamble_secrets) {
                Ok(n) => {
                    let text = Arc::new(text.to_string());
                    if let Some(c) = Cached::of_nodes(id, path, text, nodes, preamble_secrets) {
                        return (c, Update::Nodes(n));
                    }
                }
                Err(Refused::Model) => {
                    let c = Cached::read_trying(id, path, Arc::new(text.to_string()), false);
                    return (c, Update::Whole);
                }
                Err(Refused::Reading) => {}
            }
        }
        (Cached::read(id, path, text.to_string()), Update::Whole)
    }

    /// The file's result as [`pipeline::read_file`] gives it.
    /// A file kept as nodes lends its items to the result: [`Cached::give_back`] returns them
    /// before the next [`Cached::update`] (an item not given back makes the next update read
    /// the file from scratch).
    pub fn take_result(&mut self, path: &Path) -> FileResult {
        let id = self.id;
        match &mut self.kind {
            Kind::Whole => self.result.clone(),
            Kind::Nodes { nodes, .. } => self.result.take().or_else(|| {
                let file = source_of(path, &self.text)?;
                pipeline::from_items(id, file, lend(nodes)?).ok()
            }),
        }
        // Only for items not given back: a file is kept as nodes only when `from_items` takes
        // them.
        .unwrap_or_else(|| pipeline::read_file(id, Input::text(path, String::clone(&self.text))))
    }

    /// Returns the items [`Cached::take_result`] lent, as the check's result holds them (this
    /// file's, in its order).
    pub fn give_back(
        &mut self,
        accounts: Vec<Located<Account>>,
        credentials: Vec<Located<Credential>>,
        systems: Vec<Located<System>>,
    ) {
        let Kind::Nodes { nodes, .. } = &mut self.kind else {
            return;
        };
        let mut accounts = accounts.into_iter().map(|a| Item::Account(a.value));
        let mut credentials = credentials.into_iter().map(|c| Item::Credential(c.value));
        let mut systems = systems.into_iter().map(|s| Item::System(s.value));
        for n in nodes.iter_mut().filter(|n| n.item.is_none()) {
            n.item = match n.kind {
                ItemKind::Account => accounts.next(),
                ItemKind::Credential => credentials.next(),
                ItemKind::System => systems.next(),
            };
        }
    }

    /// The file's number in the check that read it.
    pub fn id(&self) -> FileId {
        self.id
    }

    /// Whether every item of a file kept as nodes is at hand (none lent).
    fn whole_items(&self) -> bool {
        match &self.kind {
            Kind::Nodes { nodes, .. } => nodes.iter().all(|n| n.item.is_some()),
            Kind::Whole => true,
        }
    }

    /// What the item rules found about each item of the file, where still valid (see
    /// [`pipeline::check_files_reusing`]), moved to where the items are now.
    pub fn known_findings(&self) -> Vec<Option<Vec<Diagnostic>>> {
        match &self.kind {
            Kind::Whole => self
                .whole_findings
                .iter()
                .flatten()
                .map(|f| Some(f.clone()))
                .collect(),
            Kind::Nodes { nodes, .. } => {
                let (mut accounts, mut credentials, mut systems) =
                    (Vec::new(), Vec::new(), Vec::new());
                for n in nodes {
                    let known = n.findings.as_ref().map(|(then, found)| {
                        let mut found = found.clone();
                        for d in &mut found {
                            move_spans(d, self.id, *then, n.start);
                        }
                        found
                    });
                    match n.kind {
                        ItemKind::Account => accounts.push(known),
                        ItemKind::Credential => credentials.push(known),
                        ItemKind::System => systems.push(known),
                    }
                }
                accounts.extend(credentials);
                accounts.extend(systems);
                accounts
            }
        }
    }

    /// Keeps what the item rules found about the file's items (numbered as
    /// [`Cached::known_findings`] numbers them) for the next check.
    pub fn keep_findings(&mut self, found: pipeline::ItemFindings) {
        match &mut self.kind {
            Kind::Whole => self.whole_findings = Some(found),
            Kind::Nodes { nodes, .. } => {
                let count = |kind| nodes.iter().filter(|n| n.kind == kind).count();
                let accounts = count(ItemKind::Account);
                let credentials = count(ItemKind::Credential);
                if found.len() != nodes.len() {
                    return;
                }
                let mut found = found.into_iter().map(Some).collect::<Vec<_>>();
                let (mut a, mut c, mut s) = (0, accounts, accounts + credentials);
                for n in nodes.iter_mut() {
                    let slot = match n.kind {
                        ItemKind::Account => &mut a,
                        ItemKind::Credential => &mut c,
                        ItemKind::System => &mut s,
                    };
                    n.findings = found[*slot].take().map(|f| (n.start, f));
                    *slot += 1;
                }
            }
        }
    }

    /// The literal secrets of the file, as [`redact::view`] finds them.
    pub fn secrets(&self) -> Vec<String> {
        let mut all = match &self.kind {
            Kind::Whole => self
                .result
                .as_ref()
                .map(|r| redact::view(&r.source).secret_values().to_vec())
                .unwrap_or_default(),
            Kind::Nodes {
                preamble_secrets,
                nodes,
            } => {
                let mut all = preamble_secrets.clone();
                for n in nodes {
                    all.extend(n.secrets.iter().cloned());
                }
                all
            }
        };
        all.sort();
        all.dedup();
        all
    }
}

/// The items of `nodes` with their starts, for [`pipeline::from_items`], taken from the nodes;
/// `None` (nothing taken) when one is not at hand.
fn lend(nodes: &mut [NodeRead]) -> Option<Vec<(usize, Item)>> {
    if nodes.iter().any(|n| n.item.is_none()) {
        return None;
    }
    Some(
        nodes
            .iter_mut()
            .filter_map(|n| Some((n.start, n.item.take()?)))
            .collect(),
    )
}

/// Moves the spans of `d` in file `id` by where its node starts now against where it started.
fn move_spans(d: &mut Diagnostic, id: FileId, then: usize, now: usize) {
    // A span before the node (none of an item rule's) stays where it is.
    let shift = |span: &mut Span| {
        if span.start >= then {
            *span = Span::new(span.start - then + now, span.end - then + now);
        }
    };
    for label in std::iter::once(&mut d.primary).chain(&mut d.related) {
        if label.file == id {
            shift(&mut label.span);
        }
    }
    for edit in d.fix.iter_mut().flat_map(|f| &mut f.edits) {
        if edit.file == id {
            shift(&mut edit.span);
        }
    }
}

/// A check's model, split by file, to give back ([`Cached::give_back`]).
pub type Lent = (
    Vec<Located<Account>>,
    Vec<Located<Credential>>,
    Vec<Located<System>>,
);

pub fn by_file(project: crate::model::Project) -> std::collections::HashMap<FileId, Lent> {
    let mut files: std::collections::HashMap<FileId, Lent> = Default::default();
    for a in project.accounts {
        files.entry(a.file).or_default().0.push(a);
    }
    for c in project.credentials {
        files.entry(c.file).or_default().1.push(c);
    }
    for s in project.systems {
        files.entry(s.file).or_default().2.push(s);
    }
    files
}

/// The caches of a workspace, by path.
pub type Caches = std::collections::HashMap<PathBuf, Cached>;

/// The nodes of `items` (starts relative to `base` of `text`), secrets not yet filled in.
fn nodes_at(base: usize, items: Vec<(usize, Item)>) -> Vec<NodeRead> {
    items
        .into_iter()
        .map(|(start, item)| NodeRead {
            start: base + start,
            kind: kind_of(&item),
            item: Some(item),
            secrets: Vec::new(),
            findings: None,
        })
        .collect()
}

/// Finds the secrets of `nodes[range]`, each from its start to the next node's (the last node's
/// to the end of `text`).
fn fill_secrets(text: &str, nodes: &mut [NodeRead], range: std::ops::Range<usize>) {
    for i in range {
        let end = nodes.get(i + 1).map_or(text.len(), |n| n.start);
        let start = nodes[i].start;
        nodes[i].secrets = redact::secret_values(&text[start..end]);
    }
}

fn preamble_secrets(text: &str, nodes: &[NodeRead]) -> Vec<String> {
    let end = nodes.first().map_or(text.len(), |n| n.start);
    redact::secret_values(&text[..end])
}

/// How many bytes `a` and `b` share at their start, and then at their end (not counting
/// those again): compared a block at a time (a `memcmp`), then byte by byte in the first
/// block that differs.
fn common_ends(a: &str, b: &str) -> (usize, usize) {
    const BLOCK: usize = 512;
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let max = a.len().min(b.len());
    let mut prefix = 0;
    while prefix + BLOCK <= max && a[prefix..prefix + BLOCK] == b[prefix..prefix + BLOCK] {
        prefix += BLOCK;
    }
    while prefix < max && a[prefix] == b[prefix] {
        prefix += 1;
    }
    let (a, b) = (&a[prefix..], &b[prefix..]);
    let max = max - prefix;
    let (la, lb) = (a.len(), b.len());
    let mut suffix = 0;
    while suffix + BLOCK <= max
        && a[la - suffix - BLOCK..la - suffix] == b[lb - suffix - BLOCK..lb - suffix]
    {
        suffix += BLOCK;
    }
    while suffix < max && a[la - suffix - 1] == b[lb - suffix - 1] {
        suffix += 1;
    }
    (prefix, suffix)
}

/// Why [`reread`] gave up.
enum Refused {
    /// The nodes read again are well-formed KDL, but one of them is not what the fast path
    /// reads into the model (a schema error, for one): inside the whole text it is the same
    /// node, read from the same fresh start, so the fast path would refuse the whole text too.
    Model,
    /// Anything else: the whole text may still read on the fast path.
    Reading,
}

/// Re-reads the nodes an edit from `old` to `new` touched (see the module's documentation);
/// an error when the file must be read whole. Returns how many nodes were read.
fn reread(
    old: &str,
    new: &str,
    id: FileId,
    nodes: &mut Vec<NodeRead>,
    preamble_secrets: &mut Vec<String>,
) -> Result<usize, Refused> {
    reread_or_none(old, new, id, nodes, preamble_secrets).ok_or(Refused::Reading)?
}

fn reread_or_none(
    old: &str,
    new: &str,
    id: FileId,
    nodes: &mut Vec<NodeRead>,
    preamble_secrets: &mut Vec<String>,
) -> Option<Result<usize, Refused>> {
    // What `check` refuses before reading (too large, binary) decides for the whole file.
    if new.len() as u64 > source::MAX_FILE_BYTES
        || new.as_bytes()[..new.len().min(8192)].contains(&0)
    {
        return None;
    }
    let (prefix, suffix) = common_ends(old, new);
    // The first byte after the edit, in the old text; positions from there on move by `new`'s
    // length minus `old`'s.
    let old_end = old.len() - suffix;
    let moved = |at: usize| at + new.len() - old.len();
    // The first node the edit may touch: the last one starting at or before its first byte.
    // Without one, the text before the first node changed and reading starts at the file's
    // start.
    let first = nodes.iter().rposition(|n| n.start <= prefix);
    let lo = first.unwrap_or(0);
    let read_from = first.map_or(0, |i| nodes[i].start);
    // The first node wholly after the edit: reading goes on through it, to prove that it
    // still starts where it did (moved).
    let next = (lo..nodes.len()).find(|&i| nodes[i].start >= old_end);
    let read_to = match next {
        Some(i) => nodes.get(i + 1).map_or(new.len(), |n| moved(n.start)),
        None => new.len(),
    };
    let slice = new.get(read_from..read_to)?;
    // A byte order mark is skipped at the start of a file only.
    if read_from > 0 && slice.starts_with('\u{FEFF}') {
        return None;
    }
    let Some(mut items) = pipeline::read_items(id, slice) else {
        let (problems, too_deep) = crate::parse::reader::read_each(id, slice, |_| {});
        return (problems.is_empty() && !too_deep).then_some(Err(Refused::Model));
    };
    let hi = match next {
        Some(i) => {
            let (start, _) = items.pop()?;
            if read_from + start != moved(nodes[i].start) {
                return None;
            }
            i
        }
        None => nodes.len(),
    };
    let read = items.len();
    let fresh = nodes_at(read_from, items);
    for n in &mut nodes[hi..] {
        n.start = moved(n.start);
    }
    nodes.splice(lo..hi, fresh);
    // The text next to a node can change its findings (a fix that takes a node's whole line
    // looks at what else is on it): the nodes either side of the edit are found again.
    let around = lo.saturating_sub(1)..(lo + read + 1).min(nodes.len());
    for n in &mut nodes[around] {
        n.findings = None;
    }
    // The node before the edit now ends where the first node after it starts; the text
    // before the first node may have changed.
    fill_secrets(new, nodes, lo.saturating_sub(1)..lo + read);
    if lo == 0 {
        *preamble_secrets = self::preamble_secrets(new, nodes);
    }
    Some(Ok(read + usize::from(next.is_some())))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATH: &str = "/ws/a.kdl";

    fn account(i: usize) -> String {
        let auth = if i.is_multiple_of(2) {
            format!("password \"Literal-{i}-secret\"")
        } else {
            format!("password env=\"P{i}\"")
        };
        format!(
            "account \"A{i}\" {{\n    protocol \"imap\"\n    incoming {{\n        server \"imap{i}.example.com\"\n        security \"ssl\"\n        port 993\n        user \"u{i}@example.com\"\n        {auth}\n    }}\n    outgoing {{\n        server \"smtp.example.com\"\n        auth \"same-as-incoming\"\n    }}\n    conversation-id \"subject\"\n}}\n"
        )
    }

    fn start_text(accounts: usize) -> String {
        let mut text = String::from("// accounts\n");
        for i in 0..accounts {
            text.push_str(&account(i));
            // Lines between nodes, where a piece can change the next node without touching
            // it.
            text.push_str(["\n", "// between\n", ""][i % 3]);
        }
        text.push_str("system {\n    conversation-prefix \"AB\"\n}\n");
        text
    }

    /// Everything of a file's result that later stages read.
    fn summary(r: &FileResult) -> String {
        let mut spans: Vec<String> = r.spans.iter().map(|(p, e)| format!("{p} {e:?}")).collect();
        spans.sort();
        format!(
            "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{spans:?}",
            r.source.text, r.diagnostics, r.accounts, r.credentials, r.systems
        )
    }

    /// Brings `cached` to `text` and checks it against a read from scratch.
    fn step(cached: Option<Cached>, text: &str, what: &str) -> (Cached, Update) {
        let path = Path::new(PATH);
        let (mut c, update) = Cached::update(cached, FileId(0), path, text);
        let fresh = pipeline::read_file(FileId(0), Input::text(path, text.to_string()));
        // Made again from the nodes, the next time, from the items given back.
        for _ in 0..2 {
            let result = c.take_result(path);
            assert_eq!(summary(&result), summary(&fresh), "{what}:\n{text}");
            c.give_back(result.accounts, result.credentials, result.systems);
        }
        let mut secrets = redact::view(&fresh.source).secret_values().to_vec();
        secrets.sort();
        secrets.dedup();
        assert_eq!(c.secrets(), secrets, "{what}:\n{text}");
        (c, update)
    }

    #[test]
    fn an_edit_inside_a_node_reads_that_node_and_the_next() {
        let text = start_text(5);
        let (c, _) = step(None, &text, "start");
        let third = text.match_indices("port 993").nth(2).unwrap().0;
        let mut edited = text.clone();
        edited.replace_range(third..third + 8, "port 143");
        let (c, update) = step(Some(c), &edited, "a port");
        assert_eq!(update, Update::Nodes(2));
        let (_, update) = step(Some(c), &edited, "the same text");
        assert_eq!(update, Update::Unchanged);
    }

    #[test]
    fn an_edit_keeps_the_item_findings_of_the_nodes_away_from_it() {
        let path = Path::new(PATH);
        let text = start_text(8);
        let (mut c, _) = Cached::update(None, FileId(0), path, &text);
        let result = c.take_result(path);
        let known = c.known_findings();
        assert!(known.iter().all(Option::is_none));
        let config = crate::policy::config::Config::default();
        let (checked, found) = pipeline::check_files_reusing(vec![result], &config, vec![known]);
        c.keep_findings(found.into_iter().next().unwrap());
        let (accounts, credentials, systems) = by_file(checked.project).remove(&FileId(0)).unwrap();
        c.give_back(accounts, credentials, systems);
        assert!(c.known_findings().iter().all(Option::is_some));
        // The fourth account's port: that node, the one before and the one after lose theirs.
        let fourth = text.match_indices("port 993").nth(3).unwrap().0;
        let mut edited = text.clone();
        edited.replace_range(fourth..fourth + 8, "port 143");
        let (c, update) = Cached::update(Some(c), FileId(0), path, &edited);
        assert_eq!(update, Update::Nodes(2));
        let lost: Vec<usize> = (c.known_findings().iter().enumerate())
            .filter(|(_, k)| k.is_none())
            .map(|(i, _)| i)
            .collect();
        assert_eq!(lost, [2, 3, 4]);
    }

    /// Pieces that make the text after them read differently: each, inserted at each line end
    /// and line start of the file, gives what a read from scratch gives.
    #[test]
    fn text_that_changes_how_the_rest_reads_is_caught() {
        let text = start_text(3);
        let (base, _) = step(None, &text, "start");
        let mut places: Vec<usize> = text.match_indices('\n').map(|(i, _)| i).collect();
        places.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        places.push(0);
        for piece in [
            "\\", " \\", "/-", " /-", "\n/-", "\n/-\n", "/*", " /* x */", "\n/*", "\"", "\"\"\"",
            "#\"", "{", "}", "\n{", ";", "\u{FEFF}", "//", "r", "\n", "\0",
        ] {
            for &at in &places {
                let mut edited = text.clone();
                edited.insert_str(at, piece);
                let cached = Cached {
                    id: base.id,
                    text: base.text.clone(),
                    kind: match &base.kind {
                        Kind::Nodes {
                            preamble_secrets,
                            nodes,
                        } => Kind::Nodes {
                            preamble_secrets: preamble_secrets.clone(),
                            nodes: nodes.clone(),
                        },
                        Kind::Whole => Kind::Whole,
                    },
                    result: base.result.clone(),
                    whole_findings: None,
                };
                step(Some(cached), &edited, &format!("{piece:?} at {at}"));
            }
        }
    }

    /// A repeatable random walk of edits, most of which keep the file valid.
    #[test]
    fn random_edits_give_what_a_read_from_scratch_gives() {
        let mut rng = crate::lsp::differential_tests::Rng(0x9E37_79B9_7F4A_7C15u64);
        let mut next = |n: usize| rng.below(n);
        let mut text = start_text(8);
        let (mut cached, _) = step(None, &text, "start");
        let mut by_nodes = 0;
        let mut last_clean = text.clone();
        for i in 0..400 {
            let mut at = next(text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            // Where a top-level node starts, near `at`.
            let node_at = |text: &str| {
                text[at..]
                    .find("\naccount ")
                    .map_or(text.len(), |i| at + i + 1)
            };
            match next(10) {
                0 => text.insert_str(at, ["}", "{", "\"", "é", "\n", "/-", "x "][next(7)]),
                1 => {
                    let mut end = (at + 1 + next(10)).min(text.len());
                    while !text.is_char_boundary(end) {
                        end += 1;
                    }
                    text.replace_range(at..end, "");
                }
                2..=4 => {
                    if let Some(p) = text[at..].find("port ") {
                        let from = at + p + 5;
                        let to = from + text[from..].find('\n').unwrap_or(0);
                        text.replace_range(from..to, ["993", "143", "110"][next(3)]);
                    }
                }
                5 => {
                    let node = node_at(&text);
                    text.insert_str(node, &account(next(12)));
                }
                6 => {
                    let node = node_at(&text);
                    let end = text[node..]
                        .find("\n}\n")
                        .map_or(text.len(), |i| node + i + 3);
                    text.replace_range(node..end, "");
                }
                7 => {
                    if let Some(p) = text[at..].find("\"A") {
                        let from = at + p + 2;
                        let to = from + text[from..].find('"').unwrap_or(0);
                        text.replace_range(from..to, &next(12).to_string());
                    }
                }
                // The node around `at` replaced by a fresh account: mends what broke there.
                _ => {
                    let from = text[..at].rfind("\naccount ").map_or(0, |i| i + 1);
                    let to = node_at(&text);
                    text.replace_range(from..to, &account(next(12)));
                }
            }
            let (c, update) = step(Some(cached), &text, &format!("edit {i}"));
            // Half the time, what broke the file is undone (as a user would).
            if pipeline::read_items(FileId(0), &text).is_some() {
                last_clean = text.clone();
            } else if next(2) == 0 {
                text = last_clean.clone();
            }
            by_nodes += usize::from(matches!(update, Update::Nodes(_)));
            cached = c;
        }
        // Most edits were read node by node, not whole.
        assert!(by_nodes > 150, "{by_nodes} of 400 read by nodes");
    }
}
