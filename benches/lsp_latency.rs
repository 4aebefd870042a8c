//! Edit-to-diagnostics latency of `mailcfg lsp` on a 1 000-account and a 10 000-account file,
//! and the parse share.
//!
//! `cargo bench --bench lsp_latency` drives the real server binary over stdio (the one built
//! with the bench, or the one `MAILCFG_LSP_BIN` names, to compare builds): each iteration
//! waits 100 ms (a typist's pause), sends one incremental `didChange` (toggling one account's
//! `port` between 1993 and 143, which adds or removes a `port-security-mismatch` diagnostic) and
//! times until `publishDiagnostics` for that version arrives, with the default debounce settings
//! (an edit after a pause is checked at once). It then times, in process, the whole check of
//! that file and its stages. Targets: median under 100 ms (issue 7), under 20 ms (issue 8) and
//! under 5 ms for 1 000 accounts, under 30 ms for 10 000 (issue 17).
//!
//! Without `--bench` (as `cargo test --all-targets` runs it) it does one small round only.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

fn account(i: usize) -> String {
    format!(
        "account \"Account-{i:04}\" {{\n    protocol \"imap\"\n    available-to-users #true\n    incoming {{\n        server \"imap{i}.example.com\"\n        security \"ssl\"\n        port 1993\n        user \"desk{i}@example.com\"\n        password env=\"DESK_{i}_PASSWORD\"\n        mailbox \"INBOX\"\n    }}\n    outgoing {{\n        server \"smtp{i}.example.com\"\n        security \"tls\"\n        port 587\n        auth \"same-as-incoming\"\n    }}\n    conversation-id \"subject\"\n    from {{\n        allow-user-address #false\n        address \"desk{i}@example.com\" default=#true\n        address \"Desk {i} <noreply{i}@example.com>\"\n    }}\n    lock server=#true credentials=#true\n}}\n"
    )
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    if full {
        session(1000, 41, &[100, 20, 5]);
        session(10_000, 21, &[30]);
    } else {
        session(20, 3, &[]);
    }
}

/// One server on a file of `accounts` accounts, `rounds` edits of each kind; `targets` are the
/// medians (ms) the edit latency must stay under.
fn session(accounts: usize, rounds: usize, targets: &[u64]) {
    let mut text: String = (0..accounts).map(account).collect();
    text.push_str("system {\n    conversation-prefix \"BENCH\"\n}\n");
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().canonicalize().expect("canonical tempdir");
    let path = root.join("accounts.kdl");
    std::fs::write(&path, &text).expect("write accounts");
    let uri = format!("file://{}", path.display());

    let server =
        std::env::var_os("MAILCFG_LSP_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_mailcfg").into());
    let mut child = Command::new(server)
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start mailcfg lsp");
    let mut stdin = child.stdin.take().expect("stdin");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel::<Value>();
    std::thread::spawn(move || {
        let mut r = BufReader::new(stdout);
        loop {
            let mut len = 0;
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                if line.trim().is_empty() {
                    break;
                }
                if let Some(v) = line.trim().strip_prefix("Content-Length: ") {
                    len = v.parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; len];
            if r.read_exact(&mut body).is_err()
                || tx
                    .send(serde_json::from_slice(&body).unwrap_or(Value::Null))
                    .is_err()
            {
                return;
            }
        }
    });
    let mut send = |v: Value| {
        let body = v.to_string();
        write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write");
        stdin.flush().expect("flush");
    };
    let wait_for = |pred: &dyn Fn(&Value) -> bool| loop {
        let m = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("server answered");
        if pred(&m) {
            return m;
        }
    };
    let root_uri = format!("file://{}", root.display());
    send(
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "processId": null, "rootUri": root_uri, "capabilities": {},
        "workspaceFolders": [{"uri": root_uri, "name": "bench"}]}}),
    );
    wait_for(&|m| m["id"] == 1);
    send(json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}));
    send(
        json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": uri, "languageId": "kdl", "version": 1, "text": text}}}),
    );
    wait_for(&|m| m["method"] == "textDocument/publishDiagnostics");

    // The `port 1993` line of the middle account's incoming block.
    let middle = accounts / 2;
    let line = text[..text
        .find(&format!("imap{middle}.example.com"))
        .expect("middle account")]
        .matches('\n')
        .count()
        + 2;
    let mut latencies = Vec::new();
    // 1993 is a custom port; 143 is IMAP's STARTTLS port, wrong with "ssl".
    let mut current = "1993";
    for version in 2..2 + rounds {
        let next = if current == "1993" { "143" } else { "1993" };
        let change = json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": {"start": {"line": line, "character": 13}, "end": {"line": line, "character": 13 + current.len()}}, "text": next}]}});
        // Edits a typist's pause apart: each is checked at once (a burst would be debounced).
        std::thread::sleep(Duration::from_millis(100));
        let t0 = Instant::now();
        send(change);
        let m = wait_for(&|m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["version"] == version
        });
        latencies.push(t0.elapsed());
        let n = m["params"]["diagnostics"].as_array().map_or(0, Vec::len);
        assert_eq!(n, usize::from(next == "143"), "the toggled diagnostic: {m}");
        current = next;
    }
    // Edits that break the schema (item 7 of issue 20): the same account's `security "ssl"`
    // toggled to `security "xyz"`, not a security mode, and back. The account then leaves the
    // fast path: it is lowered and validated the full way.
    let mut schema_latencies = Vec::new();
    let mut security = "ssl";
    for version in 2 + rounds..2 + 2 * rounds {
        let next = if security == "ssl" { "xyz" } else { "ssl" };
        let change = json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": {"start": {"line": line - 1, "character": 18}, "end": {"line": line - 1, "character": 21}}, "text": next}]}});
        std::thread::sleep(Duration::from_millis(100));
        let t0 = Instant::now();
        send(change);
        let m = wait_for(&|m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["version"] == version
        });
        schema_latencies.push(t0.elapsed());
        let broken = m["params"]["diagnostics"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|d| d["message"].as_str().is_some_and(|t| t.contains("xyz")));
        assert_eq!(broken, next == "xyz", "the schema error: {m}");
        security = next;
    }
    send(json!({"jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": null}));
    wait_for(&|m| m["id"] == 2);
    send(json!({"jsonrpc": "2.0", "method": "exit", "params": null}));
    let _ = child.wait();

    // In process: the whole check of the file, and the parse stage alone.
    let mut checks = Vec::new();
    let mut parses = Vec::new();
    let (mut lowers, mut schemas) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let id = mailcfg::source::FileId(0);
        let parsed = mailcfg::parse::parse(id, &text);
        let doc = parsed.document.expect("parses");
        let t0 = Instant::now();
        let lowered = mailcfg::lower::lower(id, &doc);
        lowers.push(t0.elapsed());
        let t0 = Instant::now();
        let (diags, _) = mailcfg::schema::validate(id, &lowered.value, &lowered.spans);
        schemas.push(t0.elapsed());
        assert!(diags.is_empty());
    }
    // The stages over the whole project (rules over every account, facts, suppressions,
    // levels) on the file already read: what an edit costs when only its node is read again.
    let read = mailcfg::pipeline::read_file(
        mailcfg::source::FileId(0),
        mailcfg::Input::text(&path, text.clone()),
    );
    let mut project_stages = Vec::new();
    for _ in 0..rounds {
        let files = vec![read.clone()];
        let t0 = Instant::now();
        let checked = mailcfg::pipeline::check_files(files, &Default::default());
        project_stages.push(t0.elapsed());
        assert!(checked.diagnostics.is_empty());
    }
    for _ in 0..rounds {
        let t0 = Instant::now();
        let checked = mailcfg::check(vec![mailcfg::Input::text(&path, text.clone())]);
        checks.push(t0.elapsed());
        assert!(checked.diagnostics.is_empty());
        let t0 = Instant::now();
        let parsed = mailcfg::parse::parse(mailcfg::source::FileId(0), &text);
        parses.push(t0.elapsed());
        assert!(parsed.document.is_some());
    }
    let (lat, check, parse) = (
        median(&mut latencies),
        median(&mut checks),
        median(&mut parses),
    );
    println!(
        "lsp_latency: {accounts} accounts ({} KiB, {} lines), {rounds} edits",
        text.len() / 1024,
        text.lines().count()
    );
    println!(
        "  didChange → publishDiagnostics: median {} (min {}, max {})",
        ms(lat),
        ms(latencies[0]),
        ms(latencies[latencies.len() - 1]),
    );
    let schema_lat = median(&mut schema_latencies);
    println!(
        "  didChange → publishDiagnostics for an edit that breaks or mends the schema: median {} (min {}, max {})",
        ms(schema_lat),
        ms(schema_latencies[0]),
        ms(schema_latencies[schema_latencies.len() - 1]),
    );
    println!(
        "  check of the file in process: median {}; parse stage alone: median {} ({:.0}% of the check, {:.0}% of the latency)",
        ms(check),
        ms(parse),
        100.0 * parse.as_secs_f64() / check.as_secs_f64(),
        100.0 * parse.as_secs_f64() / lat.as_secs_f64()
    );
    println!(
        "  the project stage alone (rules, facts, suppressions, levels on the file already read): median {}",
        ms(median(&mut project_stages))
    );
    println!(
        "  the full way, which valid files skip (fast path): lower to JSON {}, schema validation {}",
        ms(median(&mut lowers)),
        ms(median(&mut schemas))
    );
    for &target in targets {
        println!(
            "  target: median under {target} ms: {}",
            if lat < Duration::from_millis(target) {
                "met"
            } else {
                "NOT met"
            }
        );
    }
}
