//! A scripted editor session against the language server, in-process: what the `lsp` fuzz
//! target and the corpus smoke test (`tests/it/fuzz_corpus.rs`) both run, so a crash the fuzzer
//! finds replays in CI byte for byte. Not a stable API.
//!
//! The input is a script of steps. A line that starts with `@` begins a step; the lines after it,
//! up to the next such line, are the step's body:
//!
//! ```text
//! @open F              didOpen of file F with the body as its text
//! @change F            didChange replacing the whole text with the body
//! @edit F L C L2 C2    didChange replacing the range L:C–L2:C2 (UTF-16) with the body
//! @close F             didClose
//! @save F              didSave
//! @write F             writes the body to F on disk (no message)
//! @delete F            deletes F on disk (no message)
//! @watch F T           didChangeWatchedFiles for F with change type T (1 created, 2 changed, 3 deleted)
//! @hover F L C         textDocument/hover
//! @complete F L C      textDocument/completion
//! @action F L C L2 C2  textDocument/codeAction over the range
//! @format F            textDocument/formatting
//! @diag F              textDocument/diagnostic
//! @wait N              lets the server run alone for N ms (at most 20)
//! @raw                 the body is one JSON-RPC message, sent as it is (skipped if not one)
//! ```
//!
//! `F` picks one of a few fixed documents (see [`FILES`]), taken modulo their count; numbers are
//! decimal and saturate, a missing one is 0, so positions outside the text happen. Text before
//! the first step is opened as file 0. An input with no step at all (a plain KDL file, as in
//! `fuzz/seeds/`) is opened as file 0 and then queried everywhere: diagnostics, hover and
//! completion at several lines, code actions over the whole text, formatting, an edit, close.
//! A `@raw` `shutdown` does not end the script: later requests must still be answered (with an
//! error). A `@raw` `exit` ends the session, after `shutdown` or not.
//!
//! Every session starts with `initialize`/`initialized` (workspace = a fresh temporary
//! directory) and ends with `shutdown`/`exit`. The driver waits for the answer to each request
//! before the next step, answers the server's own requests, and bounds every wait, so a hang is
//! reported instead of blocking.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, Instant};

use crossbeam_channel::RecvTimeoutError;
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types as lsp;
use serde_json::{json, Value as Json};

use super::path_to_uri;

/// The documents a step can name, relative to the workspace folder; `None` entries are URIs
/// outside it.
pub const FILES: [&str; 7] = [
    "a.kdl",
    "b.kdl",
    "sub dir/é.kdl",
    "mailcfg.kdl",
    ".hidden/h.kdl",
    // Not under the workspace folder.
    "file:///nonexistent/mailcfg-fuzz/x.kdl",
    // Not a file at all.
    "untitled:Untitled-1",
];

/// Steps after this many are ignored, so one input cannot queue unbounded work.
pub const MAX_STEPS: usize = 64;

/// How long the driver waits for any one answer (and for the server to stop) before it calls
/// the session hung.
pub const DEFAULT_LIMIT: Duration = Duration::from_secs(20);

/// What happened in a session.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Requests sent to the server (initialize and shutdown included).
    pub requests: usize,
    /// Of those, how many got their response.
    pub answered: usize,
    /// Steps run (implicit ones included).
    pub steps: usize,
    /// Everything that is wrong: a request without an answer, an answer nobody asked for, an
    /// internal error (a caught panic) the server reported, a range that ends before it starts,
    /// the server's thread panicking, failing or not stopping.
    pub problems: Vec<String>,
    /// [`replay_wire`] only: the `shutdown` after the input was answered.
    pub shutdown_answered: bool,
}

enum Step {
    Open(usize, String),
    Change(usize, String),
    Edit(usize, lsp::Range, String),
    Close(usize),
    Save(usize),
    Write(usize, String),
    Delete(usize),
    Watch(usize, i32),
    Hover(usize, lsp::Position),
    Complete(usize, lsp::Position),
    Action(usize, lsp::Range),
    Format(usize),
    Diag(usize),
    Wait(u64),
    Raw(Vec<u8>),
}

/// Leading decimal digits of each argument, saturating; anything else is 0.
fn numbers(header: &str) -> Vec<u64> {
    header
        .split_whitespace()
        .map(|w| {
            w.bytes().take_while(u8::is_ascii_digit).fold(0u64, |n, d| {
                n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
            })
        })
        .collect()
}

fn parse(input: &[u8]) -> Vec<Step> {
    let mut starts: Vec<usize> = (0..input.len())
        .filter(|&i| input[i] == b'@' && (i == 0 || input[i - 1] == b'\n'))
        .collect();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let Some(&first) = starts.first() else {
        return implicit(text(input));
    };
    let mut steps = Vec::new();
    if first > 0 {
        steps.push(Step::Open(0, text(&input[..first])));
    }
    starts.push(input.len());
    for w in starts.windows(2) {
        let chunk = &input[w[0] + 1..w[1]];
        let (header, body) = match chunk.iter().position(|&b| b == b'\n') {
            Some(n) => (&chunk[..n], &chunk[n + 1..]),
            None => (chunk, &[][..]),
        };
        let header = String::from_utf8_lossy(header);
        let mut words = header.splitn(2, char::is_whitespace);
        let op = words.next().unwrap_or("");
        let n = numbers(words.next().unwrap_or(""));
        let arg = |i: usize| n.get(i).copied().unwrap_or(0);
        let u32_at = |i: usize| u32::try_from(arg(i)).unwrap_or(u32::MAX);
        let file = (arg(0) % FILES.len() as u64) as usize;
        let pos = |i: usize| lsp::Position::new(u32_at(i), u32_at(i + 1));
        let range = lsp::Range::new(pos(1), pos(3));
        steps.push(match op {
            "open" => Step::Open(file, text(body)),
            "change" => Step::Change(file, text(body)),
            "edit" => Step::Edit(file, range, text(body)),
            "close" => Step::Close(file),
            "save" => Step::Save(file),
            "write" => Step::Write(file, text(body)),
            "delete" => Step::Delete(file),
            "watch" => Step::Watch(file, i32::try_from(arg(1)).unwrap_or(i32::MAX)),
            "hover" => Step::Hover(file, pos(1)),
            "complete" => Step::Complete(file, pos(1)),
            "action" => Step::Action(file, range),
            "format" => Step::Format(file),
            "diag" => Step::Diag(file),
            "wait" => Step::Wait(arg(0)),
            "raw" => Step::Raw(body.to_vec()),
            _ => continue,
        });
    }
    steps
}

/// A plain document: open it and ask about it everywhere.
fn implicit(text: String) -> Vec<Step> {
    let lines: Vec<&str> = text.split('\n').collect();
    let n = lines.len();
    let mut picked: Vec<usize> = vec![0, n / 4, n / 2, 3 * n / 4, n.saturating_sub(1)];
    picked.dedup();
    let mut queries = Vec::new();
    for l in picked {
        let line = lines.get(l).copied().unwrap_or("");
        let indent = line
            .encode_utf16()
            .take_while(|&c| c == u16::from(b' '))
            .count();
        for col in [indent + 1, usize::MAX] {
            let pos = lsp::Position::new(l as u32, u32::try_from(col).unwrap_or(u32::MAX));
            queries.push(Step::Hover(0, pos));
            queries.push(Step::Complete(0, pos));
        }
    }
    let end = lsp::Position::new(u32::MAX, 0);
    let mut steps = vec![Step::Open(0, text), Step::Diag(0)];
    steps.extend(queries);
    steps.push(Step::Action(
        0,
        lsp::Range::new(lsp::Position::new(0, 0), end),
    ));
    steps.push(Step::Format(0));
    let middle = lsp::Position::new((n / 2) as u32, 1);
    steps.push(Step::Edit(
        0,
        lsp::Range::new(middle, middle),
        "\n".to_string(),
    ));
    steps.push(Step::Diag(0));
    steps.push(Step::Close(0));
    steps
}

struct Driver {
    conn: Connection,
    root: PathBuf,
    next_id: i32,
    versions: [i32; FILES.len()],
    outcome: Outcome,
    /// The server answered a `shutdown`: from now on it refuses requests, and `exit` ends it.
    shut_down: bool,
    /// The server no longer takes messages (it was told to exit, or it is gone).
    over: bool,
    limit: Duration,
    waited: Duration,
}

impl Driver {
    fn path(&self, f: usize) -> Option<PathBuf> {
        (!FILES[f].contains(':')).then(|| self.root.join(FILES[f]))
    }

    fn uri(&self, f: usize) -> lsp::Uri {
        match self.path(f) {
            Some(p) => path_to_uri(&p),
            None => lsp::Uri::from_str(FILES[f]).expect("valid URI"),
        }
    }

    fn doc(&self, f: usize) -> Json {
        json!({ "uri": self.uri(f) })
    }

    fn send(&mut self, m: Message) -> bool {
        if self.over || self.conn.sender.send(m).is_err() {
            self.over = true;
            return false;
        }
        true
    }

    fn notify(&mut self, method: &str, params: Json) {
        self.send(Message::Notification(Notification::new(
            method.into(),
            params,
        )));
    }

    fn request(&mut self, method: &str, params: Json) -> Option<Response> {
        self.next_id += 1;
        let id = RequestId::from(self.next_id);
        self.send_request(Request::new(id, method.into(), params))
    }

    /// Sends `req` and waits for its answer, handling whatever else the server sends.
    fn send_request(&mut self, req: Request) -> Option<Response> {
        let (id, method) = (req.id.clone(), req.method.clone());
        if !self.send(Message::Request(req)) {
            return None;
        }
        self.outcome.requests += 1;
        let deadline = Instant::now() + self.limit;
        loop {
            let m = match self
                .conn
                .receiver
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(m) => m,
                Err(RecvTimeoutError::Timeout) => {
                    self.problem(format!(
                        "no answer to {method} ({id}) within {:?}",
                        self.limit
                    ));
                    self.over = true;
                    return None;
                }
                Err(RecvTimeoutError::Disconnected) => {
                    self.problem(format!(
                        "the server stopped before answering {method} ({id})"
                    ));
                    self.over = true;
                    return None;
                }
            };
            match m {
                Message::Response(r) if r.id == id => {
                    self.outcome.answered += 1;
                    self.inspect_response(&method, &r);
                    return Some(r);
                }
                m => self.handle(m),
            }
        }
    }

    fn problem(&mut self, p: String) {
        self.outcome.problems.push(p);
    }

    /// A message the server sent on its own (or an unexpected answer).
    fn handle(&mut self, m: Message) {
        match m {
            Message::Request(r) => {
                // A client answers the server's requests (capability registration).
                let resp = Response::new_ok(r.id, Json::Null);
                self.send(Message::Response(resp));
            }
            Message::Response(r) => {
                self.problem(format!("an answer to no pending request: {r:?}"));
            }
            Message::Notification(n) => {
                if n.method == "window/logMessage" {
                    let text = n.params["message"].as_str().unwrap_or_default();
                    if text.contains("internal error") {
                        self.problem(format!("the server logged: {text}"));
                    }
                } else if n.method == "textDocument/publishDiagnostics" {
                    self.check_ranges("publishDiagnostics", &n.params["diagnostics"]);
                }
            }
        }
    }

    fn inspect_response(&mut self, method: &str, r: &Response) {
        match &r.response_result {
            Err(e) if e.code == ErrorCode::InternalError as i32 => {
                self.problem(format!("{method}: internal error: {}", e.message));
            }
            Ok(v) if method == "textDocument/diagnostic" => self.check_ranges(method, &v["items"]),
            _ => {}
        }
    }

    fn check_ranges(&mut self, what: &str, diagnostics: &Json) {
        for d in diagnostics.as_array().into_iter().flatten() {
            let Ok(r) = serde_json::from_value::<lsp::Range>(d["range"].clone()) else {
                self.problem(format!("{what}: a diagnostic without a range: {d}"));
                continue;
            };
            if r.end < r.start {
                self.problem(format!("{what}: a range that ends before it starts: {d}"));
            }
        }
    }

    /// Takes whatever the server sent without being asked.
    fn drain(&mut self) {
        while let Ok(m) = self.conn.receiver.try_recv() {
            self.handle(m);
        }
    }

    fn finish(mut self) -> Outcome {
        self.drain();
        let mut outcome = self.outcome;
        outcome.problems.sort();
        outcome.problems.dedup();
        outcome
    }

    fn version(&mut self, f: usize) -> i32 {
        self.versions[f] += 1;
        self.versions[f]
    }

    fn run(&mut self, step: Step) {
        self.outcome.steps += 1;
        match step {
            Step::Open(f, text) => {
                let version = self.version(f);
                let params = json!({ "textDocument": {
                    "uri": self.uri(f), "languageId": "kdl", "version": version, "text": text,
                }});
                self.notify("textDocument/didOpen", params);
            }
            Step::Change(f, text) => {
                let version = self.version(f);
                let params = json!({
                    "textDocument": { "uri": self.uri(f), "version": version },
                    "contentChanges": [{ "text": text }],
                });
                self.notify("textDocument/didChange", params);
            }
            Step::Edit(f, range, text) => {
                let version = self.version(f);
                let params = json!({
                    "textDocument": { "uri": self.uri(f), "version": version },
                    "contentChanges": [{ "range": range, "text": text }],
                });
                self.notify("textDocument/didChange", params);
            }
            Step::Close(f) => {
                let params = json!({ "textDocument": self.doc(f) });
                self.notify("textDocument/didClose", params);
            }
            Step::Save(f) => {
                let params = json!({ "textDocument": self.doc(f) });
                self.notify("textDocument/didSave", params);
            }
            Step::Write(f, text) => {
                if let Some(p) = self.path(f).filter(|p| p.starts_with(&self.root)) {
                    if let Some(dir) = p.parent() {
                        let _ = std::fs::create_dir_all(dir);
                    }
                    let _ = std::fs::write(p, text);
                }
            }
            Step::Delete(f) => {
                if let Some(p) = self.path(f).filter(|p| p.starts_with(&self.root)) {
                    let _ = std::fs::remove_file(p);
                }
            }
            Step::Watch(f, typ) => {
                let params = json!({ "changes": [{ "uri": self.uri(f), "type": typ }] });
                self.notify("workspace/didChangeWatchedFiles", params);
            }
            Step::Hover(f, pos) => {
                let params = json!({ "textDocument": self.doc(f), "position": pos });
                self.request("textDocument/hover", params);
            }
            Step::Complete(f, pos) => {
                let params = json!({ "textDocument": self.doc(f), "position": pos });
                self.request("textDocument/completion", params);
            }
            Step::Action(f, range) => {
                let params = json!({
                    "textDocument": self.doc(f),
                    "range": range,
                    "context": { "diagnostics": [] },
                });
                self.request("textDocument/codeAction", params);
            }
            Step::Format(f) => {
                let params = json!({
                    "textDocument": self.doc(f),
                    "options": { "tabSize": 4, "insertSpaces": true },
                });
                self.request("textDocument/formatting", params);
            }
            Step::Diag(f) => {
                let params = json!({ "textDocument": self.doc(f) });
                self.request("textDocument/diagnostic", params);
            }
            Step::Wait(ms) => {
                // Bounded, so that waiting cannot dominate a fuzzing run.
                let ms = Duration::from_millis(ms.min(20));
                if self.waited < Duration::from_millis(100) {
                    self.waited += ms;
                    std::thread::sleep(ms);
                }
            }
            Step::Raw(body) => {
                let Ok(m) = serde_json::from_slice::<Message>(&body) else {
                    return;
                };
                match m {
                    Message::Request(r) => {
                        let shutdown = r.method == "shutdown";
                        if self.send_request(r).is_some() && shutdown {
                            self.shut_down = true;
                        }
                    }
                    // After `shutdown` or not (then the server exits with code 1), the server
                    // is gone or going: nothing more can be asked.
                    Message::Notification(n) if n.method == "exit" => {
                        self.send(Message::Notification(n));
                        self.over = true;
                    }
                    m => {
                        self.send(m);
                    }
                }
            }
        }
        self.drain();
    }
}

/// Runs `input` as a session with [`DEFAULT_LIMIT`].
pub fn replay(input: &[u8]) -> Outcome {
    replay_with(input, DEFAULT_LIMIT)
}

/// Runs `input` as a session against [`super::run`] on its own thread; `limit` bounds every
/// wait. On a hang the server's thread is left behind (it cannot be stopped from outside).
pub fn replay_with(input: &[u8], limit: Duration) -> Outcome {
    let Ok(tmp) = tempfile::tempdir() else {
        return Outcome {
            problems: vec!["cannot create a temporary workspace".into()],
            ..Outcome::default()
        };
    };
    let root = std::path::absolute(tmp.path()).unwrap_or_else(|_| tmp.path().to_path_buf());
    let (server_side, client_side) = Connection::memory();
    let (done_tx, done_rx) = crossbeam_channel::bounded(1);
    let server = std::thread::Builder::new()
        .name("mailcfg-lsp-session".into())
        .spawn(move || {
            let r = super::run(&server_side)
                .map(drop)
                .map_err(|e| e.to_string());
            drop(server_side);
            let _ = done_tx.send(r);
        });
    let server = match server {
        Ok(h) => h,
        Err(e) => {
            return Outcome {
                problems: vec![format!("cannot start the server thread: {e}")],
                ..Outcome::default()
            }
        }
    };
    let mut d = Driver {
        conn: client_side,
        root: root.clone(),
        next_id: 0,
        versions: [0; FILES.len()],
        outcome: Outcome::default(),
        shut_down: false,
        over: false,
        limit,
        waited: Duration::ZERO,
    };
    let init = json!({
        "processId": null,
        "rootUri": path_to_uri(&root),
        "workspaceFolders": [{ "uri": path_to_uri(&root), "name": "fuzz" }],
        "capabilities": {
            "workspace": { "didChangeWatchedFiles": { "dynamicRegistration": true } },
        },
        // Short, so that bursts of edits and `@wait` reach the debounced check too.
        "initializationOptions": { "debounceMs": 5 },
    });
    if d.request("initialize", init).is_some() {
        d.notify("initialized", json!({}));
        for step in parse(input).into_iter().take(MAX_STEPS) {
            if d.over {
                break;
            }
            d.run(step);
        }
        if !d.over {
            d.request("shutdown", Json::Null);
            d.notify("exit", Json::Null);
        }
    }
    // Hang up, so that a server still waiting for input stops too; keep reading until it is
    // gone, so nothing it sends is left unchecked.
    let (dead, _) = crossbeam_channel::unbounded();
    drop(std::mem::replace(&mut d.conn.sender, dead));
    d.over = true;
    let finished = match done_rx.recv_timeout(limit) {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            d.problem(format!("the server failed: {e}"));
            true
        }
        Err(RecvTimeoutError::Timeout) => {
            d.problem(format!("the server did not stop within {limit:?}"));
            // Its thread is left behind: joining would block.
            false
        }
        Err(RecvTimeoutError::Disconnected) => {
            let why = match server.join() {
                Err(p) => p
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| p.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into()),
                Ok(()) => "no result".into(),
            };
            d.problem(format!("the server panicked: {why}"));
            return d.finish();
        }
    };
    if finished {
        let _ = server.join();
    }
    d.finish()
}

/// The id of the `shutdown` that [`replay_wire`] sends after the input.
pub const WIRE_SHUTDOWN_ID: &str = "mailcfg/wire-shutdown";

/// One framed message, as a client writes it.
pub fn frame(body: &str) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}

/// What the server wrote, split into messages (`None` for a frame that is not JSON).
pub fn read_frames(mut out: &[u8]) -> Result<Vec<Json>, String> {
    let mut messages = Vec::new();
    while !out.is_empty() {
        let Some(end) = out.windows(4).position(|w| w == b"\r\n\r\n") else {
            return Err(format!("{} bytes without a header end", out.len()));
        };
        let header = std::str::from_utf8(&out[..end]).map_err(|_| "a header not UTF-8")?;
        let len: usize = header
            .strip_prefix("Content-Length: ")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| format!("a header that is not Content-Length: {header:?}"))?;
        let body = out
            .get(end + 4..end + 4 + len)
            .ok_or("a body shorter than its Content-Length")?;
        let v: Json = serde_json::from_slice(body).map_err(|e| format!("a body not JSON: {e}"))?;
        if v["jsonrpc"] != "2.0" {
            return Err(format!("a message without jsonrpc 2.0: {v}"));
        }
        messages.push(v);
        out = &out[end + 4 + len..];
    }
    Ok(messages)
}

/// Output of the server under test, shared with the writer thread.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `input` as raw bytes on the wire, through the real transport: after `initialize` and
/// `initialized`, before a `shutdown` ([`WIRE_SHUTDOWN_ID`]) and `exit`. Problems: the server
/// panicking, failing or not stopping within `limit`; output that is not well-framed JSON-RPC;
/// an internal error; `initialize` unanswered. (The `shutdown` may go
/// unanswered: a body whose Content-Length overstates it swallows what follows.) Also returns
/// what the reader logged.
pub fn replay_wire(input: &[u8], limit: Duration) -> (Outcome, Vec<String>) {
    let mut outcome = Outcome::default();
    let Ok(tmp) = tempfile::tempdir() else {
        outcome
            .problems
            .push("cannot create a temporary workspace".into());
        return (outcome, Vec::new());
    };
    let root = std::path::absolute(tmp.path()).unwrap_or_else(|_| tmp.path().to_path_buf());
    let init = json!({
        "jsonrpc": "2.0", "id": "init", "method": "initialize",
        "params": { "processId": null, "rootUri": path_to_uri(&root), "capabilities": {} },
    });
    let mut bytes = frame(&init.to_string());
    bytes.extend(frame(
        r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#,
    ));
    bytes.extend_from_slice(input);
    bytes.extend(frame(&format!(
        r#"{{"jsonrpc":"2.0","id":"{WIRE_SHUTDOWN_ID}","method":"shutdown"}}"#
    )));
    bytes.extend(frame(r#"{"jsonrpc":"2.0","method":"exit"}"#));
    let output = Captured::default();
    let logged = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = logged.clone();
    let (conn, threads) = super::transport::connect(
        std::io::Cursor::new(bytes),
        output.clone(),
        move |line: &str| {
            if let Ok(mut l) = log.lock() {
                l.push(line.to_string());
            }
        },
    );
    let (done_tx, done_rx) = crossbeam_channel::bounded(1);
    let server = std::thread::Builder::new()
        .name("mailcfg-lsp-wire".into())
        .spawn(move || {
            let r = super::run(&conn).map(drop).map_err(|e| e.to_string());
            drop(conn);
            let _ = done_tx.send(r);
        });
    let Ok(server) = server else {
        outcome
            .problems
            .push("cannot start the server thread".into());
        return (outcome, Vec::new());
    };
    match done_rx.recv_timeout(limit) {
        Ok(Ok(())) => {
            let _ = server.join();
            threads.join();
        }
        Ok(Err(e)) => outcome.problems.push(format!("the server failed: {e}")),
        Err(RecvTimeoutError::Timeout) => outcome
            .problems
            .push(format!("the server did not stop within {limit:?}")),
        Err(RecvTimeoutError::Disconnected) => {
            outcome.problems.push("the server panicked".into());
            let _ = server.join();
        }
    }
    let written = output.0.lock().map(|o| o.clone()).unwrap_or_default();
    match read_frames(&written) {
        Err(e) => outcome.problems.push(format!("bad output: {e}")),
        Ok(messages) => {
            // (The input may reuse an id: each request is answered, so ids can repeat.)
            let mut ids = std::collections::HashSet::new();
            for m in messages.iter().filter(|m| m.get("method").is_none()) {
                ids.insert(m["id"].to_string());
                if m["error"]["code"] == ErrorCode::InternalError as i32 {
                    outcome.problems.push(format!("an internal error: {m}"));
                }
                outcome.answered += 1;
            }
            for m in messages
                .iter()
                .filter(|m| m["method"] == "window/logMessage")
            {
                let text = m["params"]["message"].as_str().unwrap_or_default();
                if text.contains("internal error") {
                    outcome.problems.push(format!("the server logged: {text}"));
                }
            }
            outcome.shutdown_answered = ids.contains(&format!("\"{WIRE_SHUTDOWN_ID}\""));
            if !ids.contains("\"init\"") {
                outcome.problems.push("initialize was not answered".into());
            }
        }
    }
    let logged = logged.lock().map(|l| l.clone()).unwrap_or_default();
    (outcome, logged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_parse_with_their_files_positions_and_bodies() {
        let steps = parse(b"pre\n@edit 8 1 2 3 4x\nbody\n@hover 2 99999999999 7\n@bogus\n@raw\n{}");
        assert_eq!(steps.len(), 4);
        assert!(matches!(&steps[0], Step::Open(0, t) if t == "pre\n"));
        match &steps[1] {
            Step::Edit(1, r, t) => {
                assert_eq!(
                    *r,
                    lsp::Range::new(lsp::Position::new(1, 2), lsp::Position::new(3, 4))
                );
                assert_eq!(t, "body\n");
            }
            _ => panic!("not an edit"),
        }
        assert!(matches!(&steps[2], Step::Hover(2, p) if p.line == u32::MAX && p.character == 7));
        assert!(matches!(&steps[3], Step::Raw(b) if b == b"{}"));
    }

    #[test]
    fn a_plain_document_is_opened_and_queried() {
        let steps = parse(b"account \"A\" {\n  protocol \"imap\"\n}\n");
        assert!(matches!(&steps[0], Step::Open(0, _)));
        let hovers = steps
            .iter()
            .filter(|s| matches!(s, Step::Hover(..)))
            .count();
        assert!(hovers >= 4, "{hovers}");
        assert!(matches!(steps.last(), Some(Step::Close(0))));
    }
}
