//! `mailcfg lsp`: a language server over stdio. Diagnostics come from the same engine as
//! `mailcfg check` ([`crate::check`]), run over the whole workspace with open buffers overriding
//! the files on disk, so cross-file rules see what the editor shows.

mod convert;
mod cursor;
#[cfg(test)]
mod differential_tests;
mod duplicates;
mod features;
mod incremental;
mod schema;
/// The in-process session driver of the `lsp` fuzz target and its CI smoke test.
#[doc(hidden)]
pub mod session;
pub mod transport;

use std::collections::{BTreeMap, HashMap};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossbeam_channel::RecvTimeoutError;
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types as lsp;
use lsp_types::notification::Notification as _;
use lsp_types::request::Request as _;
use serde_json::{json, Value as Json};

use crate::diagnostics::Diagnostic;
use crate::pipeline;
use crate::policy::config::{self, Config};
use crate::source::{self, SourceFile, Sources};
use crate::{check_with, Checked, Input};

pub use convert::{path_to_uri, uri_to_path};

/// While edits keep coming, the workspace is checked at most once per this interval, after they
/// pause for it (override with the `debounceMs` initialization option); an edit that follows a
/// quiet period is checked at once.
pub const DEFAULT_DEBOUNCE: Duration = Duration::from_millis(25);

/// One check of the workspace.
pub struct Analysis {
    pub checked: Checked,
    /// The configuration's own problems (its file is `FileId(0)` of `config_sources`).
    config_diagnostics: Vec<Diagnostic>,
    config_sources: Sources,
    config_path: Option<PathBuf>,
    /// Input path → file index.
    pub files: HashMap<PathBuf, usize>,
    /// Diagnostics per file index.
    by_file: Vec<Vec<usize>>,
    /// Per file index: the other side of cross-file duplicates reported in another file.
    mirrored: Vec<Vec<Diagnostic>>,
    /// Literal secrets of the workspace's files, scrubbed from what the editor is shown.
    pub secrets: Vec<String>,
}

impl Analysis {
    pub fn diagnostics_of(&self, id: usize) -> impl Iterator<Item = &Diagnostic> {
        self.by_file
            .get(id)
            .into_iter()
            .flatten()
            .map(|&i| &self.checked.diagnostics[i])
    }

    /// What the editor shows for a file: its diagnostics and the mirrored ones.
    pub fn shown_in(&self, id: usize) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics_of(id)
            .chain(self.mirrored.get(id).into_iter().flatten())
    }
}

/// Shown in a buffer that is no file: what it is checked without.
fn loose_note() -> lsp::Diagnostic {
    lsp::Diagnostic {
        range: lsp::Range::default(),
        severity: Some(lsp::DiagnosticSeverity::INFORMATION),
        source: Some("mailcfg".into()),
        message: "this buffer is not a saved file, so it is checked on its own: rules across \
                  files (duplicate names, credentials defined in other files, the workspace's \
                  mailcfg.kdl levels) need it saved in the workspace"
            .into(),
        ..Default::default()
    }
}

struct Doc {
    text: String,
    version: i32,
    /// Where the text's lines start for the editor ([`source::editor_line_starts`]), kept up
    /// to date edit by edit: handed to each check's copy of the file, so positions are
    /// converted without finding the lines of the whole text again.
    lines: Vec<usize>,
}

impl Doc {
    fn new(text: String, version: i32) -> Doc {
        let lines = source::editor_line_starts(&text);
        Doc {
            text,
            version,
            lines,
        }
    }

    fn apply(&mut self, change: lsp::TextDocumentContentChangeEvent) {
        match change.range {
            None => *self = Doc::new(change.text, self.version),
            Some(r) => {
                let start = convert::offset_in(&self.text, r.start);
                let end = convert::offset_in(&self.text, r.end).max(start);
                self.text.replace_range(start..end, &change.text);
                convert::edit_line_starts(
                    &mut self.lines,
                    &self.text,
                    start..end,
                    change.text.len(),
                );
            }
        }
    }
}

struct Server {
    roots: Vec<PathBuf>,
    /// Workspace files as last read from disk.
    disk: BTreeMap<PathBuf, String>,
    /// `mailcfg.kdl` of the workspace and its text on disk.
    config: Option<(PathBuf, String)>,
    open: BTreeMap<PathBuf, Doc>,
    /// Buffers that are no file (`untitled:`, `file://` without a path), by URI: each is
    /// checked on its own, with the diagnostics last computed for it.
    loose: BTreeMap<String, (Doc, Vec<lsp::Diagnostic>)>,
    analysis: Option<Analysis>,
    /// What the last analysis read of each workspace file, so the next one reads only what
    /// changed.
    caches: incremental::Caches,
    /// How the last analysis brought each file up to date (the tests check that edits take
    /// the short way).
    updates: Vec<incremental::Update>,
    /// The edit-time analysis is due at this instant.
    due: Option<Instant>,
    /// When the last check finished: edits are checked at most once per debounce interval.
    last_check: Option<Instant>,
    debounce: Duration,
    published: HashMap<PathBuf, Vec<lsp::Diagnostic>>,
    /// Buffers edited since their diagnostics were last published: they get a publish (for
    /// their new version) even when the set did not change.
    edited: Vec<PathBuf>,
    outbox: Vec<Message>,
    /// The client reports files changed on disk (`workspace/didChangeWatchedFiles`); when it
    /// cannot, the workspace is read again on every open and save.
    watched: bool,
    /// Frees old analyses off the latency path. One thread for the server's life, joined when
    /// it stops, so `run` leaves no thread behind (a thread per analysis did, and the `lsp`
    /// fuzz target's leak check caught them still running).
    dropper: Option<(
        crossbeam_channel::Sender<Analysis>,
        std::thread::JoinHandle<()>,
    )>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some((tx, thread)) = self.dropper.take() {
            drop(tx);
            let _ = thread.join();
        }
    }
}

/// How a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// `exit` after `shutdown`, or the client hung up.
    Clean,
    /// `exit` without a `shutdown` before it: the LSP specification ("exit Notification") has
    /// the server exit with code 1 then.
    ExitWithoutShutdown,
}

/// Runs the server on stdin/stdout until the client says `exit`.
pub fn run_stdio() -> anyhow::Result<Ending> {
    // The default hook prints the panic's message, which can quote a document (and the editor
    // copies stderr into its log): only where it happened.
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map_or_else(|| "an unknown place".to_string(), ToString::to_string);
        eprintln!("mailcfg lsp: internal error (a bug; please report it) at {at}");
    }));
    let (connection, io_threads) = transport::stdio();
    let result = run(&connection);
    drop(connection);
    io_threads.join();
    result
}

pub fn capabilities() -> lsp::ServerCapabilities {
    lsp::ServerCapabilities {
        text_document_sync: Some(lsp::TextDocumentSyncCapability::Options(
            lsp::TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(lsp::TextDocumentSyncKind::INCREMENTAL),
                save: Some(lsp::TextDocumentSyncSaveOptions::SaveOptions(
                    lsp::SaveOptions {
                        include_text: Some(false),
                    },
                )),
                ..Default::default()
            },
        )),
        hover_provider: Some(lsp::HoverProviderCapability::Simple(true)),
        completion_provider: Some(lsp::CompletionOptions {
            trigger_characters: Some(vec!["\"".into(), " ".into(), "=".into()]),
            ..Default::default()
        }),
        code_action_provider: Some(lsp::CodeActionProviderCapability::Options(
            lsp::CodeActionOptions {
                code_action_kinds: Some(vec![lsp::CodeActionKind::QUICKFIX]),
                ..Default::default()
            },
        )),
        document_formatting_provider: Some(lsp::OneOf::Left(true)),
        diagnostic_provider: Some(lsp::DiagnosticServerCapabilities::Options(
            lsp::DiagnosticOptions {
                identifier: Some("mailcfg".into()),
                inter_file_dependencies: true,
                workspace_diagnostics: false,
                ..Default::default()
            },
        )),
        ..Default::default()
    }
}

/// Serves `connection` until the client sends `exit` or hangs up.
pub fn run(connection: &Connection) -> anyhow::Result<Ending> {
    let init = match initialize(connection)? {
        Ok(init) => init,
        Err(ending) => return Ok(ending),
    };
    let params: lsp::InitializeParams = serde_json::from_value(init).unwrap_or_default();
    let mut server = Server::new(&params);
    server.watched = params
        .capabilities
        .workspace
        .as_ref()
        .and_then(|w| w.did_change_watched_files.as_ref())
        .and_then(|d| d.dynamic_registration)
        .unwrap_or(false);
    if server.watched {
        // Files changed outside the editor (a `git pull`, another tool) count too.
        server.outbox.push(Message::Request(Request::new(
            lsp_server::RequestId::from("mailcfg/watch".to_string()),
            lsp::request::RegisterCapability::METHOD.into(),
            lsp::RegistrationParams {
                registrations: vec![lsp::Registration {
                    id: "mailcfg/watch".into(),
                    method: lsp::notification::DidChangeWatchedFiles::METHOD.into(),
                    register_options: serde_json::to_value(
                        lsp::DidChangeWatchedFilesRegistrationOptions {
                            watchers: vec![lsp::FileSystemWatcher {
                                glob_pattern: lsp::GlobPattern::String("**/*.kdl".into()),
                                kind: None,
                            }],
                        },
                    )
                    .ok(),
                }],
            },
        )));
    }
    server.guarded("loading the workspace", |s| {
        s.load_workspace();
        s.analyze();
    });
    server.flush(connection);
    let mut shut_down = false;
    loop {
        let msg = match server.due {
            Some(due) => {
                match connection
                    .receiver
                    .recv_timeout(due.saturating_duration_since(Instant::now()))
                {
                    Ok(m) => m,
                    Err(RecvTimeoutError::Timeout) => {
                        server.guarded("analysis", |s| {
                            s.analyze();
                            s.publish(None);
                        });
                        server.flush(connection);
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
            None => match connection.receiver.recv() {
                Ok(m) => m,
                Err(_) => break,
            },
        };
        match msg {
            // After `shutdown` only `exit` counts. Not lsp-server's `handle_shutdown`: it fails
            // on any other message, such as the client's late answer to our watch registration.
            Message::Request(req) if shut_down => {
                server.outbox.push(Message::Response(Response::new_err(
                    req.id,
                    ErrorCode::InvalidRequest as i32,
                    "the server is shutting down".into(),
                )));
            }
            Message::Request(req) if req.method == lsp::request::Shutdown::METHOD => {
                shut_down = true;
                server.due = None;
                server
                    .outbox
                    .push(Message::Response(Response::new_ok(req.id, ())));
            }
            Message::Notification(n) if n.method == lsp::notification::Exit::METHOD => {
                server.flush(connection);
                return Ok(if shut_down {
                    Ending::Clean
                } else {
                    Ending::ExitWithoutShutdown
                });
            }
            Message::Notification(_) if shut_down => {}
            Message::Request(req) => {
                let resp = server.request(req);
                server.outbox.push(Message::Response(resp));
            }
            Message::Notification(n) => {
                let method = n.method.clone();
                server.guarded(&method, |s| s.notification(n));
            }
            Message::Response(_) => {}
        }
        server.flush(connection);
    }
    Ok(Ending::Clean)
}

/// Waits for `initialize` and answers it; how the session ended when the client hangs up or
/// says `exit` first. Not lsp-server's `initialize`: its errors quote whole messages
/// (documents, secrets) and it gives up when the message after `initialize` is not
/// `initialized`.
fn initialize(connection: &Connection) -> anyhow::Result<Result<Json, Ending>> {
    loop {
        let Ok(msg) = connection.receiver.recv() else {
            return Ok(Err(Ending::Clean));
        };
        match msg {
            Message::Request(req) if req.method == lsp::request::Initialize::METHOD => {
                let result = json!({
                    "capabilities": capabilities(),
                    "serverInfo": { "name": "mailcfg", "version": env!("CARGO_PKG_VERSION") },
                });
                let _ = connection
                    .sender
                    .send(Message::Response(Response::new_ok(req.id, result)));
                return Ok(Ok(req.params));
            }
            Message::Request(req) => {
                let _ = connection.sender.send(Message::Response(Response::new_err(
                    req.id,
                    ErrorCode::ServerNotInitialized as i32,
                    "the server is not initialized yet".into(),
                )));
            }
            Message::Notification(n) if n.method == lsp::notification::Exit::METHOD => {
                return Ok(Err(Ending::ExitWithoutShutdown));
            }
            Message::Notification(_) | Message::Response(_) => {}
        }
    }
}

impl Server {
    fn new(params: &lsp::InitializeParams) -> Self {
        let mut roots: Vec<PathBuf> = params
            .workspace_folders
            .iter()
            .flatten()
            .filter_map(|f| uri_to_path(&f.uri))
            .collect();
        #[allow(deprecated)]
        if roots.is_empty() {
            if let Some(p) = params.root_uri.as_ref().and_then(uri_to_path) {
                roots.push(p);
            }
        }
        let debounce = params
            .initialization_options
            .as_ref()
            .and_then(|o| o.get("debounceMs"))
            .and_then(Json::as_u64)
            .map_or(DEFAULT_DEBOUNCE, Duration::from_millis);
        Server {
            roots,
            disk: BTreeMap::new(),
            config: None,
            open: BTreeMap::new(),
            loose: BTreeMap::new(),
            analysis: None,
            caches: incremental::Caches::default(),
            updates: Vec::new(),
            due: None,
            last_check: None,
            debounce,
            published: HashMap::new(),
            edited: Vec::new(),
            outbox: Vec::new(),
            watched: false,
            dropper: spawn_dropper(),
        }
    }

    fn log(&mut self, message: String) {
        eprintln!("mailcfg lsp: {message}");
        self.outbox.push(Message::Notification(Notification::new(
            lsp::notification::LogMessage::METHOD.into(),
            lsp::LogMessageParams {
                typ: lsp::MessageType::LOG,
                message,
            },
        )));
    }

    /// Runs `f`; a panic is logged and the server goes on (with the state it had). The panic's
    /// message is not logged: it can quote the text being worked on (a `str` slicing panic
    /// prints the string); where it happened is printed by the hook [`run_stdio`] installs.
    fn guarded<T>(&mut self, what: &str, f: impl FnOnce(&mut Self) -> T) -> Option<T> {
        match catch_unwind(AssertUnwindSafe(|| f(self))) {
            Ok(v) => Some(v),
            Err(_) => {
                self.log(format!(
                    "internal error in {what} (a bug; please report it)"
                ));
                None
            }
        }
    }

    fn flush(&mut self, connection: &Connection) {
        for m in self.outbox.drain(..) {
            if connection.sender.send(m).is_err() {
                break;
            }
        }
    }

    /// Every `*.kdl` under the workspace folders (what `mailcfg check` would find there).
    fn load_workspace(&mut self) {
        if self.roots.is_empty() {
            return;
        }
        // The files and configuration `mailcfg check` plans for the same folders.
        let workspace = crate::workspace::Workspace::plan_editor(&self.roots);
        let config = workspace.editor_config_path();
        for file in workspace.files {
            self.reload(file.input.path);
        }
        if let Some(p) = config {
            self.reload_config(p);
        }
    }

    /// Without file watching: reads the workspace again, so that files created, changed or
    /// deleted outside the editor count (reading is cheap next to the check that follows).
    fn rescan_unwatched(&mut self) {
        if self.watched || self.roots.is_empty() {
            return;
        }
        let workspace = crate::workspace::Workspace::plan_editor(&self.roots);
        let config = workspace.editor_config_path();
        let found: std::collections::BTreeSet<PathBuf> =
            workspace.files.into_iter().map(|f| f.input.path).collect();
        self.disk.retain(|p, _| found.contains(p));
        for path in found {
            self.reload(path);
        }
        match config {
            Some(p) => self.reload_config(p),
            None => self.config = None,
        }
    }

    fn reload_config(&mut self, path: PathBuf) {
        let (file, _) = source::read_file(&path);
        self.config = Some((path, std::sync::Arc::unwrap_or_clone(file.text)));
    }

    fn is_config(&self, path: &std::path::Path) -> bool {
        crate::workspace::is_config_file(path)
    }

    /// The configuration to check with (an open buffer wins over the disk), and its problems.
    fn current_config(&self) -> (Config, Vec<Diagnostic>, Sources, Option<PathBuf>) {
        let from_buffer = self.open.iter().find(|(p, _)| {
            self.is_config(p)
                && match &self.config {
                    Some((c, _)) => *p == c,
                    None => self.in_workspace(p),
                }
        });
        let (path, text) = match (from_buffer, &self.config) {
            (Some((p, d)), _) => (p.clone(), d.text.clone()),
            (None, Some((p, t))) => (p.clone(), t.clone()),
            (None, None) => return (Config::default(), Vec::new(), Sources::default(), None),
        };
        let mut sources = Sources::default();
        match config::parse_config(&path, &text) {
            Ok(c) => {
                sources.add(SourceFile::new(&path, text));
                (c, Vec::new(), sources, Some(path))
            }
            Err(diags) => {
                sources.add(SourceFile::new(&path, text));
                (Config::default(), diags, sources, Some(path))
            }
        }
    }

    fn reload(&mut self, path: PathBuf) {
        let (file, problem) = source::read_file(&path);
        if problem.is_none() {
            self.disk
                .insert(path, std::sync::Arc::unwrap_or_clone(file.text));
        } else {
            self.disk.remove(&path);
        }
    }

    /// Under a workspace folder and not in a folder `check` skips (hidden ones, `target/`).
    fn in_workspace(&self, path: &std::path::Path) -> bool {
        self.roots.iter().any(|r| {
            path.strip_prefix(r).is_ok_and(|rel| {
                let mut dirs = rel.components().rev().skip(1);
                !dirs.any(|c| {
                    let c = c.as_os_str().to_string_lossy();
                    c.starts_with('.') || c == "target"
                })
            })
        })
    }

    /// Checks the workspace: files on disk, with open buffers in place of their files.
    fn analyze(&mut self) {
        self.due = None;
        let mut texts: BTreeMap<&PathBuf, &str> =
            self.disk.iter().map(|(p, t)| (p, t.as_str())).collect();
        for (p, d) in &self.open {
            if self.is_config(p) {
                continue;
            }
            texts.insert(p, d.text.as_str());
        }
        let files: HashMap<PathBuf, usize> = texts
            .keys()
            .enumerate()
            .map(|(i, p)| ((*p).clone(), i))
            .collect();
        let (config, config_diagnostics, config_sources, config_path) = self.current_config();
        // The previous result is large (span maps, models); free it off the latency path, and
        // before the new one is built so the two do not compete for memory.
        // Its model goes back to the caches that lent it (see `Cached::take_result`).
        let lent = self.analysis.take().map(|mut old| {
            let project = std::mem::take(&mut old.checked.project);
            if let Some((tx, _)) = &self.dropper {
                // Should the thread be gone, `send` hands `old` back and it is dropped here.
                let _ = tx.send(old);
            }
            project
        });
        // Each file within its project, as `mailcfg check` plans it (nested projects apart).
        let open = &self.open;
        let buffer = |p: &std::path::Path| open.get(p).map(|d| d.text.clone());
        let paths: Vec<&std::path::Path> = texts.keys().map(|p| p.as_path()).collect();
        let (project_of, own) =
            crate::workspace::plan_texts(&paths, config_path.as_deref(), &buffer);
        let checked = if project_of.iter().all(|&p| p == 0) {
            // One project: each file is brought up to date from what the last analysis read
            // of it; unchanged files are not read again, and an edited one only where it
            // changed.
            let config = own.first().and_then(Option::as_ref).unwrap_or(&config);
            let mut old = std::mem::take(&mut self.caches);
            let mut lent = lent.map(incremental::by_file).unwrap_or_default();
            let mut cached = |p: &PathBuf| {
                let mut c = old.remove(p)?;
                if let Some((accounts, credentials, systems)) = lent.remove(&c.id()) {
                    c.give_back(accounts, credentials, systems);
                }
                Some(c)
            };
            let work: Vec<_> = texts
                .iter()
                .enumerate()
                .map(|(i, (p, t))| (source::FileId(i as u32), *p, *t, cached(p)))
                .collect();
            drop(old);
            let (mut caches, results, known) = pipeline::in_pool(|| {
                use rayon::prelude::*;
                let updated: Vec<_> = work
                    .into_par_iter()
                    .map(|(id, path, text, cached)| {
                        let (mut c, how) = incremental::Cached::update(cached, id, path, text);
                        let result = c.take_result(path);
                        let known = c.known_findings();
                        (c, result, known, how)
                    })
                    .collect();
                let mut caches = Vec::with_capacity(updated.len());
                let mut results = Vec::with_capacity(updated.len());
                let mut known = Vec::with_capacity(updated.len());
                self.updates.clear();
                for ((c, r, k, how), path) in updated.into_iter().zip(texts.keys()) {
                    caches.push(((*path).clone(), c));
                    results.push(r);
                    known.push(k);
                    self.updates.push(how);
                }
                (caches, results, known)
            });
            // The item rules run only over the items whose findings the caches lost.
            let (checked, found) = pipeline::check_files_reusing(results, config, known);
            for ((_, c), found) in caches.iter_mut().zip(found) {
                c.keep_findings(found);
            }
            self.caches = caches.into_iter().collect();
            // The open files' line starts, kept up to date edit by edit.
            for (i, path) in texts.keys().enumerate() {
                let file = checked.sources.get(source::FileId(i as u32));
                if let Some(doc) = self.open.get(*path) {
                    if file.path == **path && file.text.len() == doc.text.len() {
                        file.set_editor_line_starts(doc.lines.clone());
                    }
                }
            }
            checked
        } else {
            // Nested projects: checked whole, project by project (not incrementally).
            self.caches.clear();
            let inputs: Vec<Input> = texts
                .iter()
                .map(|(p, t)| Input::text((*p).clone(), (*t).to_string()))
                .collect();
            let configs: Vec<&Config> = own.iter().map(|c| c.as_ref().unwrap_or(&config)).collect();
            crate::workspace::check_projects(inputs, &project_of, &configs)
        };
        // The literal secrets of the files, scrubbed from what the editor is shown.
        let secrets: Vec<String> = if self.caches.is_empty() {
            crate::render::secrets(&checked.sources)
        } else {
            self.caches
                .values()
                .flat_map(incremental::Cached::secrets)
                .collect()
        };
        let mut by_file = vec![Vec::new(); files.len()];
        for (i, d) in checked.diagnostics.iter().enumerate() {
            if let Some(v) = by_file.get_mut(d.primary.file.index()) {
                v.push(i);
            }
        }
        let mirrored = duplicates::mirror(&checked.diagnostics, files.len());
        self.analysis = Some(Analysis {
            checked,
            config_diagnostics,
            config_sources,
            config_path,
            files,
            by_file,
            mirrored,
            secrets,
        });
        self.check_loose(&config);
        self.last_check = Some(Instant::now());
    }

    /// Checks each buffer that is no file on its own, and adds the note that says so.
    fn check_loose(&mut self, config: &Config) {
        for (uri, (doc, diagnostics)) in &mut self.loose {
            let checked = check_with(vec![Input::text(uri.as_str(), doc.text.clone())], config);
            let secrets = crate::render::secrets(&checked.sources);
            *diagnostics = checked
                .diagnostics
                .iter()
                .map(|d| convert::diagnostic(d, &checked.sources, &secrets))
                .collect();
            diagnostics.push(loose_note());
        }
    }

    fn fresh(&mut self) {
        if self.due.is_some() || self.analysis.is_none() {
            self.analyze();
            self.publish(None);
        }
    }

    fn diagnostics_for(&self, path: &PathBuf) -> Vec<lsp::Diagnostic> {
        if let Some((_, loose)) = path.to_str().and_then(|uri| self.loose.get(uri)) {
            return loose.clone();
        }
        let Some(a) = &self.analysis else {
            return Vec::new();
        };
        if a.config_path.as_ref() == Some(path) {
            return a
                .config_diagnostics
                .iter()
                .map(|d| convert::diagnostic(d, &a.config_sources, &a.secrets))
                .collect();
        }
        let Some(&id) = a.files.get(path) else {
            return self.nested_config_diagnostics(path);
        };
        a.shown_in(id)
            .map(|d| convert::diagnostic(d, &a.checked.sources, &a.secrets))
            .collect()
    }

    /// The problems of an open `mailcfg.kdl` other than the workspace's own (a nested
    /// project's), as `mailcfg check` reports it when it is named.
    fn nested_config_diagnostics(&self, path: &PathBuf) -> Vec<lsp::Diagnostic> {
        let Some(doc) = self.open.get(path).filter(|_| self.is_config(path)) else {
            return Vec::new();
        };
        let Err(problems) = config::parse_config(path, &doc.text) else {
            return Vec::new();
        };
        let mut sources = Sources::default();
        sources.add(SourceFile::new(path, doc.text.clone()));
        let secrets = crate::render::secrets(&sources);
        problems
            .iter()
            .map(|d| convert::diagnostic(d, &sources, &secrets))
            .collect()
    }

    /// Publishes the diagnostics of every open buffer whose set changed (always for `force`
    /// and edited buffers).
    fn publish(&mut self, force: Option<&PathBuf>) {
        let paths: Vec<PathBuf> = self.open.keys().cloned().collect();
        for (uri, (doc, diagnostics)) in &self.loose {
            let key = PathBuf::from(uri);
            if self.published.get(&key) == Some(diagnostics) && !self.edited.contains(&key) {
                continue;
            }
            self.published.insert(key, diagnostics.clone());
            if let Ok(uri) = uri.parse::<lsp::Uri>() {
                self.outbox.push(Message::Notification(Notification::new(
                    lsp::notification::PublishDiagnostics::METHOD.into(),
                    lsp::PublishDiagnosticsParams {
                        uri,
                        diagnostics: diagnostics.clone(),
                        version: Some(doc.version),
                    },
                )));
            }
        }
        let edited = std::mem::take(&mut self.edited);
        for path in paths {
            let diags = self.diagnostics_for(&path);
            let forced = Some(&path) == force || edited.contains(&path);
            if !forced && self.published.get(&path) == Some(&diags) {
                continue;
            }
            let version = self.open.get(&path).map(|d| d.version);
            self.published.insert(path.clone(), diags.clone());
            self.outbox.push(Message::Notification(Notification::new(
                lsp::notification::PublishDiagnostics::METHOD.into(),
                lsp::PublishDiagnosticsParams {
                    uri: path_to_uri(&path),
                    diagnostics: diags,
                    version,
                },
            )));
        }
    }

    fn notification(&mut self, n: Notification) {
        use lsp::notification::{
            DidChangeTextDocument, DidChangeWatchedFiles, DidCloseTextDocument,
            DidOpenTextDocument, DidSaveTextDocument, PublishDiagnostics,
        };
        match n.method.as_str() {
            DidOpenTextDocument::METHOD => {
                let Ok(p) = serde_json::from_value::<lsp::DidOpenTextDocumentParams>(n.params)
                else {
                    return;
                };
                let doc = Doc::new(p.text_document.text, p.text_document.version);
                let Some(path) = uri_to_path(&p.text_document.uri) else {
                    let uri = p.text_document.uri.as_str().to_string();
                    self.edited.push(PathBuf::from(&uri));
                    self.loose.insert(uri, (doc, Vec::new()));
                    let (config, ..) = self.current_config();
                    self.check_loose(&config);
                    self.publish(None);
                    return;
                };
                self.open.insert(path.clone(), doc);
                self.rescan_unwatched();
                self.analyze();
                self.publish(Some(&path));
            }
            DidChangeTextDocument::METHOD => {
                let Ok(p) = serde_json::from_value::<lsp::DidChangeTextDocumentParams>(n.params)
                else {
                    return;
                };
                let (path, doc) = match uri_to_path(&p.text_document.uri) {
                    Some(path) => match self.open.get_mut(&path) {
                        Some(doc) => (path, doc),
                        None => return,
                    },
                    None => {
                        let uri = p.text_document.uri.as_str();
                        match self.loose.get_mut(uri) {
                            Some((doc, _)) => (PathBuf::from(uri), doc),
                            None => return,
                        }
                    }
                };
                for change in p.content_changes {
                    doc.apply(change);
                }
                doc.version = p.text_document.version;
                if !self.edited.contains(&path) {
                    self.edited.push(path);
                }
                // An isolated edit is checked at once; a burst of edits (typing faster than the
                // debounce interval, or while a check runs) is checked once it pauses.
                let now = Instant::now();
                let earliest = self.last_check.map_or(now, |t| t + self.debounce);
                if self.due.is_none() {
                    self.due = Some(earliest.max(now));
                } else {
                    self.due = Some((now + self.debounce).max(earliest));
                }
            }
            DidSaveTextDocument::METHOD => {
                let Ok(p) = serde_json::from_value::<lsp::DidSaveTextDocumentParams>(n.params)
                else {
                    return;
                };
                if let Some(path) = uri_to_path(&p.text_document.uri) {
                    self.rescan_unwatched();
                    if self.is_config(&path) && self.in_workspace(&path) {
                        self.reload_config(path.clone());
                    } else if self.in_workspace(&path)
                        && path.extension().is_some_and(|e| e == "kdl")
                    {
                        self.reload(path.clone());
                    }
                    self.analyze();
                    self.publish(Some(&path));
                }
            }
            DidCloseTextDocument::METHOD => {
                let Ok(p) = serde_json::from_value::<lsp::DidCloseTextDocumentParams>(n.params)
                else {
                    return;
                };
                let path = match uri_to_path(&p.text_document.uri) {
                    Some(path) => path,
                    None => {
                        let uri = p.text_document.uri.as_str();
                        self.loose.remove(uri);
                        PathBuf::from(uri)
                    }
                };
                self.open.remove(&path);
                // Unsaved edits are gone: the file on disk counts again.
                if self.disk.contains_key(&path) {
                    self.reload(path.clone());
                }
                self.published.remove(&path);
                self.outbox.push(Message::Notification(Notification::new(
                    PublishDiagnostics::METHOD.into(),
                    lsp::PublishDiagnosticsParams {
                        uri: p.text_document.uri,
                        diagnostics: Vec::new(),
                        version: None,
                    },
                )));
                self.analyze();
                self.publish(None);
            }
            DidChangeWatchedFiles::METHOD => {
                let Ok(p) = serde_json::from_value::<lsp::DidChangeWatchedFilesParams>(n.params)
                else {
                    return;
                };
                for change in p.changes {
                    let Some(path) = uri_to_path(&change.uri) else {
                        continue;
                    };
                    if self.is_config(&path) && self.in_workspace(&path) {
                        if change.typ == lsp::FileChangeType::DELETED {
                            self.config = None;
                        } else {
                            self.reload_config(path);
                        }
                        continue;
                    }
                    let wanted =
                        path.extension().is_some_and(|e| e == "kdl") && self.in_workspace(&path);
                    if change.typ == lsp::FileChangeType::DELETED || !wanted {
                        self.disk.remove(&path);
                    } else {
                        self.reload(path);
                    }
                }
                self.analyze();
                self.publish(None);
            }
            _ => {}
        }
    }

    fn request(&mut self, req: Request) -> Response {
        let id = req.id.clone();
        let method = req.method.clone();
        match self.guarded(&method, |s| s.dispatch(req)) {
            Some(Ok(value)) => Response::new_ok(id, value),
            Some(Err((code, message))) => Response::new_err(id, code as i32, message),
            None => Response::new_err(
                id,
                ErrorCode::InternalError as i32,
                format!("internal error in {method} (a bug; the server keeps running)"),
            ),
        }
    }

    /// The buffer (or file on disk) at `uri`, and the key it goes by: its path, or for a
    /// buffer that is no file its URI.
    fn doc_file(&self, uri: &lsp::Uri) -> Result<(PathBuf, SourceFile), (ErrorCode, String)> {
        let not_open = || (ErrorCode::InvalidParams, "document is not open".to_string());
        let Some(path) = uri_to_path(uri) else {
            let (doc, _) = self.loose.get(uri.as_str()).ok_or_else(not_open)?;
            let key = PathBuf::from(uri.as_str());
            return Ok((key.clone(), SourceFile::new(key, doc.text.clone())));
        };
        let text = match self.open.get(&path) {
            Some(d) => d.text.clone(),
            None => self.disk.get(&path).cloned().ok_or_else(not_open)?,
        };
        Ok((path.clone(), SourceFile::new(path, text)))
    }

    fn dispatch(&mut self, req: Request) -> Result<Json, (ErrorCode, String)> {
        use lsp::request::{
            CodeActionRequest, Completion, DocumentDiagnosticRequest, Formatting, HoverRequest,
        };
        fn params<P: serde::de::DeserializeOwned>(v: Json) -> Result<P, (ErrorCode, String)> {
            // serde's message can quote a value (a document's text): not passed on.
            serde_json::from_value(v).map_err(|_| {
                (
                    ErrorCode::InvalidParams,
                    "the parameters do not have the shape this request needs".to_string(),
                )
            })
        }
        let to_json =
            |v: serde_json::Result<Json>| v.map_err(|e| (ErrorCode::InternalError, e.to_string()));
        match req.method.as_str() {
            HoverRequest::METHOD => {
                let p: lsp::HoverParams = params(req.params)?;
                let pp = p.text_document_position_params;
                let (path, file) = self.doc_file(&pp.text_document.uri)?;
                self.fresh();
                let a = self.analysis.as_ref();
                let id = a.and_then(|a| a.files.get(&path).map(|&i| (a, i)));
                to_json(serde_json::to_value(features::hover(
                    &file,
                    id,
                    pp.position,
                )))
            }
            Completion::METHOD => {
                let p: lsp::CompletionParams = params(req.params)?;
                let pp = p.text_document_position;
                let (_, file) = self.doc_file(&pp.text_document.uri)?;
                let items = features::completion(&file, self.analysis.as_ref(), pp.position);
                to_json(serde_json::to_value(lsp::CompletionResponse::Array(items)))
            }
            CodeActionRequest::METHOD => {
                let p: lsp::CodeActionParams = params(req.params)?;
                let (path, file) = self.doc_file(&p.text_document.uri)?;
                self.fresh();
                let actions = match &self.analysis {
                    Some(a) => match a.files.get(&path) {
                        Some(&id) => features::code_actions(&file, a, id, p.range),
                        None => Vec::new(),
                    },
                    None => Vec::new(),
                };
                to_json(serde_json::to_value(actions))
            }
            Formatting::METHOD => {
                let p: lsp::DocumentFormattingParams = params(req.params)?;
                let (_, file) = self.doc_file(&p.text_document.uri)?;
                match features::formatting(&file.text) {
                    Ok(edits) => to_json(serde_json::to_value(edits)),
                    Err(e) => {
                        let why = features::formatting_refusal(&file, &e);
                        self.log(format!("{}: not formatted: {why}", file.display_path()));
                        Ok(Json::Null)
                    }
                }
            }
            DocumentDiagnosticRequest::METHOD => {
                let p: lsp::DocumentDiagnosticParams = params(req.params)?;
                let uri = &p.text_document.uri;
                let path = uri_to_path(uri).unwrap_or_else(|| PathBuf::from(uri.as_str()));
                self.fresh();
                let items = self.diagnostics_for(&path);
                to_json(serde_json::to_value(
                    lsp::DocumentDiagnosticReportResult::Report(
                        lsp::DocumentDiagnosticReport::Full(
                            lsp::RelatedFullDocumentDiagnosticReport {
                                related_documents: None,
                                full_document_diagnostic_report:
                                    lsp::FullDocumentDiagnosticReport {
                                        result_id: None,
                                        items,
                                    },
                            },
                        ),
                    ),
                ))
            }
            // Lets the test suite prove that a panicking request does not stop the server.
            "mailcfg/debugPanic" if std::env::var_os("MAILCFG_LSP_DEBUG_PANIC").is_some() => {
                panic!("requested by mailcfg/debugPanic")
            }
            _ => Err((
                ErrorCode::MethodNotFound,
                format!("unsupported request {}", req.method),
            )),
        }
    }
}

fn spawn_dropper() -> Option<(
    crossbeam_channel::Sender<Analysis>,
    std::thread::JoinHandle<()>,
)> {
    let (tx, rx) = crossbeam_channel::unbounded::<Analysis>();
    let thread = std::thread::Builder::new()
        .name("mailcfg-lsp-free".into())
        .spawn(move || rx.into_iter().for_each(drop))
        .ok()?;
    Some((tx, thread))
}
