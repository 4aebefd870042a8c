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
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mailcfg"));
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
    // It uses the renamed credential, which the unsaved buffer defines.
    assert_eq!(rules(&c.diagnostics(&dup_uri)), Vec::<String>::new());
    // The rule reports the later definition (by path), so the untouched account file changes.
    let d = c.diagnostics(&acc_uri);
    assert_eq!(
        rules(&d),
        vec!["duplicate-account-name", "unknown-credential"],
        "{d:?}"
    );
    assert_eq!(d[0]["relatedInformation"][0]["location"]["uri"], dup_uri);
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
    assert_eq!(ssl["textEdit"]["newText"], "\"ssl\"");
    assert_eq!(
        ssl["textEdit"]["range"]["start"],
        json!({"line": 3, "character": 17})
    );
    // SMTP: everything but ssl-no-auth.
    assert_eq!(
        labels(&complete(9, 17)),
        vec!["auto", "basic", "ssl", "tls"]
    );
    // Node names inside `incoming`: those not given yet.
    assert_eq!(
        labels(&complete(4, 8)),
        vec!["lock", "mailbox", "port", "server", "user"]
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
    // Applied, the buffer is checked again: the finding is suppressed.
    c.change(&uri, 2, &new_text);
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
    let cli = Command::new(env!("CARGO_BIN_EXE_mailcfg"))
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

/// A real editor: Neovim (from Debian, installed by scripts/setup-neovim.sh), headless, set up
/// with the Neovim 0.7 configuration from docs/editors.md, opening a broken account file.
#[test]
fn neovim_shows_the_rule_at_the_right_line() {
    let nvim = Command::new("nvim").arg("--version").output();
    assert!(
        nvim.is_ok_and(|o| o.status.success()),
        "Neovim is needed: run scripts/setup-neovim.sh (scripts/test.sh does)"
    );
    let docs =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/editors.md"))
            .expect("docs/editors.md");
    let config = docs
        .split("```lua\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap_or_default())
        .find(|b| b.contains("vim.lsp.start_client"))
        .expect("the Neovim 0.7 configuration in docs/editors.md");
    let (_dir, root) = workspace();
    let file = root.join("helpdesk.kdl");
    std::fs::write(&file, POP_TLS).unwrap();
    let init = root.join("init.lua");
    std::fs::write(&init, config).unwrap();
    let out = root.join("diagnostics.json");
    let script = root.join("report.lua");
    std::fs::write(
        &script,
        r#"
vim.wait(20000, function() return #vim.diagnostic.get(0) > 0 end, 50)
local result = {}
for _, d in ipairs(vim.diagnostic.get(0)) do
  local code = d.code
  if code == nil and d.user_data and d.user_data.lsp then code = d.user_data.lsp.code end
  table.insert(result, { code = code, lnum = d.lnum, col = d.col, severity = d.severity, source = d.source })
end
local f = io.open(os.getenv("T_OUT"), "w")
f:write(vim.fn.json_encode(result))
f:close()
for _, c in ipairs(vim.lsp.get_active_clients()) do c.stop() end
vim.cmd("qa!")
"#,
    )
    .unwrap();
    // `mailcfg` on PATH, as the documented configuration expects.
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_mailcfg")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let status = Command::new("nvim")
        .args(["--headless", "-n", "-i", "NONE", "-u"])
        .arg(&init)
        .arg(&file)
        .arg("-c")
        .arg(format!("luafile {}", script.display()))
        .current_dir(&root)
        .env("PATH", path)
        .env("T_OUT", &out)
        .env("XDG_CONFIG_HOME", root.join("config"))
        .env("XDG_DATA_HOME", root.join("data"))
        .env("XDG_STATE_HOME", root.join("state"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run nvim");
    assert!(status.success(), "nvim exited with {status}");
    let diags: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("nvim wrote the result"))
            .expect("JSON");
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0]["code"], "security-imap-only");
    // 0-based: line 5 of the file, the `"tls"` value.
    assert_eq!(diags[0]["lnum"], 4);
    assert_eq!(diags[0]["col"], 17);
    assert_eq!(diags[0]["severity"], 1, "vim.diagnostic.severity.ERROR");
    assert_eq!(diags[0]["source"], "mailcfg");
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
