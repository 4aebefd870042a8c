//! `mailcfg check --fix` and `--diff`: safe fixes applied as byte edits, comments and formatting
//! kept, secrets never shown.

use crate::harness::{check_in as mailcfg, stdout as out};

use std::path::Path;

const SYSTEM: &str = "system {\n    conversation-prefix \"ACME\"\n}\n";

const BEFORE: &str = r#"// The service desk: read by the monitor.
account "ServiceDesk" {
    protocol "imap"
    incoming {
        server "imap.example.com"   // the new cluster
        security "ssl"
        port 993
        user    "servicedesk@example.com"
        password "literal-secret-123"
    }
    /* SMTP via the relay */
    outgoing { server "smtp.example.com"; security "ssl"; port 465; auth "same-as-incoming"; }
    conversation-id "subject"
}
"#;

const AFTER: &str = r#"// The service desk: read by the monitor.
account "ServiceDesk" {
    protocol "imap"
    incoming {
        server "imap.example.com"   // the new cluster
        security "ssl"
        user    "servicedesk@example.com"
        password "literal-secret-123"
    }
    /* SMTP via the relay */
    outgoing { server "smtp.example.com"; security "ssl"; auth "same-as-incoming"; }
    conversation-id "subject"
}
"#;

fn tree(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("desk.kdl"), text).unwrap();
    std::fs::write(dir.path().join("system.kdl"), SYSTEM).unwrap();
    dir
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

#[test]
fn fix_removes_redundant_ports_and_keeps_everything_else() {
    let dir = tree(BEFORE);
    let o = mailcfg(dir.path(), &["--fix"]);
    assert_eq!(read(dir.path(), "desk.kdl"), AFTER);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("applied 2 fixes in 1 file"), "{err}");
    // What is left is reported as usual: the literal password has no automatic fix.
    let r = out(&o);
    assert!(!r.contains("redundant-port"), "{r}");
    assert!(r.contains("inline-secret"), "{r}");
    assert!(!r.contains("literal-secret-123"));
    assert_eq!(read(dir.path(), "system.kdl"), SYSTEM);
    // Fixing again changes nothing.
    let o = mailcfg(dir.path(), &["--fix"]);
    assert_eq!(read(dir.path(), "desk.kdl"), AFTER);
    assert!(o.stderr.is_empty());
}

#[test]
fn diff_shows_the_change_without_writing_and_masks_secrets() {
    let dir = tree(BEFORE);
    let o = mailcfg(dir.path(), &["--diff"]);
    assert_eq!(o.status.code(), Some(1));
    let d = out(&o);
    assert!(d.starts_with("--- a/desk.kdl\n+++ b/desk.kdl\n"), "{d}");
    assert!(d.contains("\n-        port 993\n"), "{d}");
    assert!(d.contains(
        "\n-    outgoing { server \"smtp.example.com\"; security \"ssl\"; port 465; auth \"same-as-incoming\"; }\n+    outgoing { server \"smtp.example.com\"; security \"ssl\"; auth \"same-as-incoming\"; }\n"
    ), "{d}");
    assert!(!d.contains("literal-secret-123"), "{d}");
    // A fixed-width mask, quotes and all: its width says nothing of the secret's length.
    assert!(d.contains("password ********\n"), "{d}");
    assert_eq!(read(dir.path(), "desk.kdl"), BEFORE);

    let clean = tree(AFTER);
    let o = mailcfg(clean.path(), &["--diff"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stdout.is_empty());
}

#[test]
fn a_port_written_into_the_server_moves_into_its_own_node() {
    let text = r#"account "Lab" {
    protocol "imap"
    incoming {
	server "imap.example.com:1993"
	security "ssl"
	user "lab@example.com"
	password env="LAB_PASSWORD"
    }
    outgoing {
        server "smtp.example.com"
        security "tls"
    }
    conversation-id "subject"
}
"#;
    let dir = tree(text);
    mailcfg(dir.path(), &["--fix"]);
    let fixed = read(dir.path(), "desk.kdl");
    assert_eq!(
        fixed,
        text.replace(
            "\tserver \"imap.example.com:1993\"\n",
            "\tserver \"imap.example.com\"\n\tport 1993\n"
        )
    );
    // With the default port, the moved port is redundant and a second round removes it.
    let dir = tree(&text.replace(":1993", ":993"));
    mailcfg(dir.path(), &["--fix"]);
    assert_eq!(read(dir.path(), "desk.kdl"), text.replace(":1993", ""));
    let o = mailcfg(dir.path(), &[]);
    assert!(out(&o).starts_with("no problems found"), "{}", out(&o));
}

#[test]
fn suppressed_and_allowed_findings_are_not_fixed_and_stale_suppressions_are_removed() {
    let text = BEFORE.replace(
        "        port 993\n",
        "        // mailcfg-ignore: redundant-port reason=\"documented in the runbook\"\n        port 993\n",
    );
    let dir = tree(&text);
    std::fs::write(
        dir.path().join("mailcfg.kdl"),
        "override \"desk.kdl\" {\n    auto-security \"allow\"\n}\n",
    )
    .unwrap();
    mailcfg(dir.path(), &["--fix"]);
    let fixed = read(dir.path(), "desk.kdl");
    assert!(fixed.contains("        port 993\n"), "{fixed}");
    assert!(!fixed.contains("port 465"), "{fixed}");

    std::fs::write(
        dir.path().join("mailcfg.kdl"),
        "rules {\n    redundant-port \"allow\"\n}\n",
    )
    .unwrap();
    let before = read(dir.path(), "desk.kdl");
    let o = mailcfg(dir.path(), &["--fix"]);
    // With the rule allowed the suppression is unused; the fix deletes exactly its line.
    assert_eq!(
        read(dir.path(), "desk.kdl"),
        before.replace(
            "        // mailcfg-ignore: redundant-port reason=\"documented in the runbook\"\n",
            ""
        ),
        "{}",
        out(&o)
    );
}

#[test]
fn fix_and_diff_are_exclusive() {
    let dir = tree(BEFORE);
    let o = mailcfg(dir.path(), &["--fix", "--diff"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(read(dir.path(), "desk.kdl"), BEFORE);
}

/// Compiles the tree in `dir` and returns the store's text without its source lines.
fn store(dir: &Path) -> String {
    let o = std::process::Command::new(crate::harness::BIN)
        .args(["compile", "--color", "never", "-o", "store.json", "."])
        .current_dir(dir)
        .output()
        .expect("run mailcfg");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    read(dir, "store.json")
        .lines()
        .filter(|l| !l.contains("\"line\""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Issue 19, repro 1: a block comment whose last line looks like a suppression. It is not a
/// comment of its own, so nothing may delete it (deleting "the line" took the `*/` with it and
/// commented out `port` and `mailbox`).
#[test]
fn a_suppression_look_alike_inside_a_block_comment_is_not_touched() {
    let text = r#"account "S5" {
    protocol "imap"
    incoming {
        server "imap.example.com"
        security "ssl"
        user "s5@example.com"
        password env="S5_PW"
        /* lab exemption, no longer needed:
        // mailcfg-ignore: auto-security reason="lab" */
        port 1993
        mailbox "Shared/S5" // TODO drop the note above */
    }
    outgoing {
        server "smtp.example.com"
        security "ssl"
        auth "same-as-incoming"
    }
    conversation-id "subject"
}
"#;
    let dir = tree(text);
    let before = store(dir.path());
    assert!(
        before.contains("1993") && before.contains("Shared/S5"),
        "{before}"
    );
    let o = mailcfg(dir.path(), &["--diff"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    mailcfg(dir.path(), &["--fix"]);
    assert_eq!(read(dir.path(), "desk.kdl"), text);
    assert_eq!(store(dir.path()), before);
}

/// "Suppressions" inside a multi-line string or a slash-dashed node are text, not comments:
/// they suppress nothing, are not reported and are never deleted.
#[test]
fn suppression_look_alikes_in_strings_and_slashdashed_nodes_are_text() {
    let text = r#"account "S6" {
    protocol "imap"
    incoming {
        server "imap.example.com"
        security "ssl"
        user "s6@example.com"
        mailbox """
            // mailcfg-ignore: inline-secret reason="not a comment"
            """; password "lit"
    }
    /- outgoing {
        // mailcfg-ignore: redundant-port reason="dead"
        port 25
    }
    outgoing {
        server "smtp.example.com"
        security "ssl"
        auth "same-as-incoming"
    }
    conversation-id "subject"
}
"#;
    let dir = tree(text);
    let r = out(&mailcfg(dir.path(), &[]));
    assert!(r.contains("inline-secret"), "{r}");
    assert!(!r.contains("unused-suppression"), "{r}");
    mailcfg(dir.path(), &["--fix"]);
    assert_eq!(read(dir.path(), "desk.kdl"), text);
}

/// An account whose incoming block is `incoming_body` (8-space indented lines), with
/// `outgoing` (a standard block when empty).
fn account(incoming_body: &str, outgoing: &str) -> String {
    let outgoing = if outgoing.is_empty() {
        "    outgoing {\n        server \"smtp.example.com\"\n        security \"ssl\"\n        auth \"same-as-incoming\"\n    }\n"
    } else {
        outgoing
    };
    format!(
        "account \"A\" {{\n    protocol \"imap\"\n    incoming {{\n{incoming_body}        user \"a@example.com\"\n        password env=\"A_PW\"\n    }}\n{outgoing}    conversation-id \"subject\"\n}}\n"
    )
}

/// Issue 19, repro 5: fixes keep CRLF line endings.
#[test]
fn fixes_keep_crlf() {
    let text = account(
        "        server \"imap.example.com:993\"\n        security \"ssl\"\n        port 993\n",
        "",
    )
    .replace(
        "server \"imap.example.com:993\"\n        security \"ssl\"\n        port 993\n",
        "server \"imap.example.com\"\n        security \"ssl\"\n        port 993\n",
    )
    .replace('\n', "\r\n");
    let dir = tree(&text);
    mailcfg(dir.path(), &["--fix"]);
    let fixed = read(dir.path(), "desk.kdl");
    assert!(!fixed.contains("port 993"), "{fixed}");
    assert_eq!(fixed.matches('\n').count(), fixed.matches("\r\n").count());
    // A port moved out of `server` lands on its own CRLF line (and is then redundant).
    let text = account(
        "        server \"imap.example.com:1993\"\n        security \"ssl\"\n",
        "",
    )
    .replace('\n', "\r\n");
    let dir = tree(&text);
    mailcfg(dir.path(), &["--fix"]);
    let fixed = read(dir.path(), "desk.kdl");
    assert!(
        fixed.contains("server \"imap.example.com\"\r\n        port 1993\r\n"),
        "{fixed}"
    );
    assert_eq!(fixed.matches('\n').count(), fixed.matches("\r\n").count());
}

/// Issue 19, repro 5: the redundant-port fix keeps a comment and slash-dashed arguments on the
/// port (it slash-dashes the node instead of deleting it).
#[test]
fn redundant_port_fix_keeps_comments_and_slashdashed_arguments() {
    let text = account(
        "        server \"imap.example.com\"\n        security \"ssl\"\n        port 993 /* the default */ /-995\n",
        "",
    );
    let dir = tree(&text);
    mailcfg(dir.path(), &["--fix"]);
    let fixed = read(dir.path(), "desk.kdl");
    assert_eq!(
        fixed,
        text.replace("        port 993", "        /-port 993")
    );
    let r = out(&mailcfg(dir.path(), &[]));
    assert!(!r.contains("redundant-port"), "{r}");
}

/// Issue 19, repro 5: the server-not-hostname fix in a one-line block, before a trailing `//`
/// comment and for `[IPv6]:port`; the error is gone afterwards.
#[test]
fn server_port_fix_in_one_line_blocks_before_comments_and_for_ipv6() {
    let cases = [
        (
            "        server \"imap.example.com\"\n        security \"ssl\"\n",
            "    outgoing { server \"smtp.example.com:2525\"; security \"tls\"; auth \"same-as-incoming\" }\n",
            "    outgoing { server \"smtp.example.com\"; port 2525; security \"tls\"; auth \"same-as-incoming\" }\n",
        ),
        (
            "        server \"imap.example.com:1993\" // the new cluster\n        security \"ssl\"\n",
            "",
            "        server \"imap.example.com\"; port 1993 // the new cluster\n",
        ),
        (
            "        server \"[2001:db8::1]:1993\"\n        security \"ssl\"\n",
            "",
            "        server \"2001:db8::1\"\n        port 1993\n",
        ),
    ];
    for (incoming, outgoing, want) in cases {
        let text = account(incoming, outgoing);
        let dir = tree(&text);
        let diff = mailcfg(dir.path(), &["--diff"]);
        assert_eq!(diff.status.code(), Some(1), "{}", out(&diff));
        mailcfg(dir.path(), &["--fix"]);
        let fixed = read(dir.path(), "desk.kdl");
        assert!(fixed.contains(want), "{fixed}");
        let r = out(&mailcfg(dir.path(), &[]));
        assert!(!r.contains("server-not-hostname"), "{r}");
    }
}

/// Issue 19, repro 5: a misspelt suppression is corrected to the rule it meant (it then
/// suppresses that rule), not deleted with its reason.
#[test]
fn a_misspelt_suppression_is_corrected() {
    let text = account(
        "        server \"imap.example.com\"\n        security \"ssl\"\n        // mailcfg-ignore: redundant-prot reason=\"the runbook lists it\"\n        port 993\n",
        "",
    );
    let dir = tree(&text);
    let r = out(&mailcfg(dir.path(), &[]));
    assert!(r.contains("redundant-port"), "{r}");
    mailcfg(dir.path(), &["--fix"]);
    assert_eq!(
        read(dir.path(), "desk.kdl"),
        text.replace("redundant-prot ", "redundant-port ")
    );
    let r = out(&mailcfg(dir.path(), &[]));
    assert!(
        !r.contains("redundant-port") && !r.contains("unused-suppression"),
        "{r}"
    );
}

// ---- Issue 19's property test: edits that never change meaning ---------------------------

/// A small deterministic generator (xorshift), so a failure names its seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
    fn pick<'a>(&mut self, options: &[&'a str]) -> &'a str {
        options[self.below(options.len())]
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

const NEWLINES: [&str; 3] = ["\n", "\r\n", "\r"];

/// One generated account file as written (with fixable problems) and as intended (what the
/// fixes should turn it into, up to layout and comments).
struct AccountFile {
    written: String,
    intended: String,
}

fn account_file(rng: &mut Rng) -> AccountFile {
    let (mut w, mut i) = (String::new(), String::new());
    let both = |w: &mut String, i: &mut String, s: &str| {
        w.push_str(s);
        i.push_str(s);
    };
    for n in 0..1 + rng.below(3) {
        let one_line = rng.chance(20);
        let (protocol, default_port) = if rng.chance(50) {
            ("imap", 993)
        } else {
            ("pop", 995)
        };
        if rng.chance(30) {
            both(&mut w, &mut i, "/* an account */ ");
        }
        both(
            &mut w,
            &mut i,
            &format!("account \"A{n}\" {{\n    protocol \"{protocol}\"\n"),
        );
        if rng.chance(20) {
            both(&mut w, &mut i, "    /- available-to-users #true\n");
        }
        // incoming: a list of (written, intended) nodes.
        let mut nodes: Vec<(String, String)> = Vec::new();
        let mut has_port = false;
        match rng.below(5) {
            0 => {
                nodes.push((
                    "server \"mail.example.com:1993\"".into(),
                    "server \"mail.example.com\"".into(),
                ));
                nodes.push((String::new(), "port 1993".into()));
                has_port = true;
            }
            1 if !one_line => {
                nodes.push((
                    "server \"mail.example.com:1993\" // moved".into(),
                    "server \"mail.example.com\"".into(),
                ));
                nodes.push((String::new(), "port 1993 // moved".into()));
                has_port = true;
            }
            2 => {
                nodes.push((
                    "server \"[2001:db8::1]:1993\"".into(),
                    "server \"2001:db8::1\"".into(),
                ));
                nodes.push((String::new(), "port 1993".into()));
                has_port = true;
            }
            _ => nodes.push((
                "server \"mail.example.com\"".into(),
                "server \"mail.example.com\"".into(),
            )),
        }
        nodes.push(("security \"ssl\"".into(), "security \"ssl\"".into()));
        if !has_port {
            match rng.below(5) {
                0 => nodes.push((format!("port {default_port}"), String::new())),
                1 if !one_line => nodes.push((format!("port {default_port} /* the default */ /-1"), String::new())),
                2 if !one_line => {
                    let r = format!("// mailcfg-ignore: redundant-port reason=\"runbook\"\n        port {default_port}");
                    nodes.push((r.clone(), r));
                }
                3 if !one_line => nodes.push((
                    format!("// mailcfg-ignore: redundant-prot reason=\"runbook\"\n        port {default_port}"),
                    format!("// mailcfg-ignore: redundant-port reason=\"runbook\"\n        port {default_port}"),
                )),
                _ => {}
            }
        }
        if !one_line && rng.chance(25) {
            nodes.push((
                "// mailcfg-ignore: auto-security reason=\"old\"".into(),
                String::new(),
            ));
        }
        nodes.push((
            "user \"u@example.com\"".into(),
            "user \"u@example.com\"".into(),
        ));
        let pw = rng.pick(&[
            "password env=\"PW\"",
            "password \"lit-secret\"",
            "password #\"raw\"#",
        ]);
        nodes.push((pw.into(), pw.into()));
        if !one_line && rng.chance(30) {
            let m = rng.pick(&[
                "mailbox \"\"\"\n            Shared\n            \"\"\"",
                "/- mailbox \"old\"",
                "/* note */ mailbox \"INBOX\"",
            ]);
            nodes.push((m.into(), m.into()));
        }
        let block = |pick: fn(&(String, String)) -> &String| {
            let parts: Vec<&String> = nodes.iter().map(pick).filter(|s| !s.is_empty()).collect();
            if one_line {
                format!(
                    "    incoming {{ {} }}\n",
                    parts
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            } else {
                let mut b = String::from("    incoming {\n");
                for p in parts {
                    b.push_str(&format!("        {p}\n"));
                }
                b.push_str("    }\n");
                b
            }
        };
        w.push_str(&block(|p| &p.0));
        i.push_str(&block(|p| &p.1));
        both(
            &mut w,
            &mut i,
            "    outgoing { server \"smtp.example.com\"; security \"ssl\"; auth \"same-as-incoming\" }\n    conversation-id \"subject\"\n}\n",
        );
        if rng.chance(30) {
            both(&mut w, &mut i, "\n// between accounts\n");
        }
    }
    both(
        &mut w,
        &mut i,
        "system {\n    conversation-prefix \"ACME\"\n}\n",
    );
    let nl = NEWLINES[rng.below(3)];
    let bom = if rng.chance(20) { "\u{FEFF}" } else { "" };
    let finish = |s: &str| format!("{bom}{}", s.replace('\n', nl));
    AccountFile {
        written: finish(&w),
        intended: finish(&i),
    }
}

/// A random KDL document: comments, block comments, slashdash, multi-line and raw strings, a
/// BOM, one line-ending style; not necessarily valid.
fn random_document(rng: &mut Rng) -> String {
    fn nodes(rng: &mut Rng, depth: usize, out: &mut String) {
        for _ in 0..rng.below(4) {
            out.push_str(rng.pick(&[
                "",
                "  ",
                "\t",
                "/* lead */ ",
                "// own line\n",
                "/- dead 1\n",
                "\n\n",
                "/- dead {\n  x 1\n} // gone\n",
                "/* a\n  /* nested */ b */\n",
                "// mailcfg-ignore: redundant-port reason=\"x\"\n",
            ]));
            out.push_str(rng.pick(&[
                "account",
                "incoming",
                "port",
                "(ty)node",
                "\"odd name\"",
                "#\"raw name\"#",
            ]));
            for _ in 0..rng.below(4) {
                out.push_str(rng.pick(&[
                    " ",
                    "   ",
                    " /* c */ ",
                    " /-x ",
                    " \\\n  ",
                    " \\ // why\n  ",
                ]));
                out.push_str(rng.pick(&[
                    "\"imap\"",
                    "993",
                    "0x3e1",
                    "#true",
                    "#null",
                    "#\"raw\"#",
                    "key=\"v\"",
                    "k = (u16)2",
                    "1.5e3",
                    "\"é 😀\"",
                    "\"\"\"\n  multi  \n    line\n  \"\"\"",
                    "#\"\"\"\n  raw \"multi\"\n  \"\"\"#",
                    "/-\"\"\"\n      dashed  \n  \"\"\"",
                    "\"esc\\n\\u{41}\"",
                ]));
            }
            if depth < 3 && rng.chance(35) {
                out.push_str(rng.pick(&[" {", "{", " { ", " {\n", " { // open\n", " /-{ z 1 } {"]));
                nodes(rng, depth + 1, out);
                out.push_str(rng.pick(&["}", "\n}", " }", "\n  // last\n}", "} /-{ y }"]));
            }
            out.push_str(rng.pick(&[
                "\n",
                ";",
                "; ",
                " // end\n",
                ";\n\n",
                " /* t */\n",
                " /-\"gone\"\n",
                "   \n",
            ]));
        }
    }
    let mut out = String::new();
    nodes(rng, 0, &mut out);
    let nl = NEWLINES[rng.below(3)];
    let bom = if rng.chance(15) { "\u{FEFF}" } else { "" };
    format!("{bom}{}", out.replace('\n', nl))
}

/// The kdl crate's reading (the independent parser), canonical; `None` if it cannot read it.
fn kdl_meaning(text: &str) -> Option<String> {
    mailcfg::parse::parse_with_kdl_crate(text.trim_start_matches('\u{FEFF}'))
        .ok()
        .map(|d| d.canonical())
}

/// Findings without positions.
fn finding_keys(path: &Path, text: &str) -> Vec<String> {
    let mut keys: Vec<String> = mailcfg::check(vec![mailcfg::Input::text(path, text)])
        .diagnostics
        .iter()
        .map(|d| format!("{} {:?} {} {:?}", d.rule, d.level, d.message, d.kdl_path))
        .collect();
    keys.sort();
    keys
}

/// The compiled store without source lines.
fn store_of(path: &Path, text: &str) -> String {
    let checked = mailcfg::check(vec![mailcfg::Input::text(path, text)]);
    let opts = mailcfg::compile::Options {
        allow_inline_secrets: true,
        resolve_secrets: false,
        base: path.parent().unwrap().to_path_buf(),
    };
    match mailcfg::compile::compile(&checked, &opts) {
        Ok(store) => {
            let mut v: serde_json::Value = serde_json::from_slice(&store.to_bytes()).unwrap();
            for list in ["accounts", "credentials"] {
                for item in v[list].as_array_mut().into_iter().flatten() {
                    item.as_object_mut().unwrap().remove("source");
                }
            }
            v.to_string()
        }
        Err(d) => format!("not compiled: {}", d.len()),
    }
}

/// The line endings a text uses, outside nothing (a generated text uses one style).
fn newline_styles(text: &str) -> Vec<&'static str> {
    let mut styles = Vec::new();
    let crlf = text.matches("\r\n").count();
    if crlf > 0 {
        styles.push("\r\n");
    }
    if text.matches('\r').count() > crlf {
        styles.push("\r");
    }
    if text.matches('\n').count() > crlf {
        styles.push("\n");
    }
    styles
}

#[test]
fn fmt_and_fix_never_change_meaning() {
    let cases: usize = std::env::var("MAILCFG_EDIT_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let path = Path::new("gen.kdl");
    let (mut documents, mut valid_documents, mut refusals) = (0, 0, Vec::new());
    for seed in 1..=cases as u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let doc = random_document(&mut rng);
        let account = account_file(&mut rng);
        for (kind, text) in [("document", &doc), ("account file", &account.written)] {
            documents += 1;
            let formatted = match mailcfg::fmt::format(mailcfg::source::FileId(0), text) {
                Ok(out) => out,
                Err(mailcfg::fmt::FmtError::Syntax(_)) => continue,
                Err(e) => {
                    refusals.push(format!("seed {seed} {kind}: {e} at {:?}\n{text:?}", e.at()));
                    continue;
                }
            };
            valid_documents += 1;
            let ctx = format!("seed {seed} {kind}:\n{text:?}\n→\n{formatted:?}");
            if let Some(before) = kdl_meaning(text) {
                assert_eq!(kdl_meaning(&formatted).as_ref(), Some(&before), "{ctx}");
            }
            assert_eq!(
                finding_keys(path, text),
                finding_keys(path, &formatted),
                "{ctx}"
            );
            assert_eq!(store_of(path, text), store_of(path, &formatted), "{ctx}");
            assert_eq!(
                mailcfg::fmt::format(mailcfg::source::FileId(0), &formatted)
                    .ok()
                    .as_ref(),
                Some(&formatted),
                "not idempotent: {ctx}"
            );
            // A text without a line break gets the default one, LF.
            if !newline_styles(text).is_empty() {
                assert_eq!(newline_styles(&formatted), newline_styles(text), "{ctx}");
            }
            assert_eq!(
                formatted.starts_with('\u{FEFF}'),
                text.starts_with('\u{FEFF}'),
                "{ctx}"
            );
        }
        // check --fix on the account file: it becomes what was intended.
        if seed as usize <= cases / 3 {
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("gen.kdl");
            std::fs::write(&file, &account.written).unwrap();
            let config = mailcfg::policy::config::Config::default();
            let run = mailcfg::fix::fix_files(std::slice::from_ref(&file), &config);
            let ctx = format!("seed {seed} fix:\n{}\n{:?}", account.written, run.refused);
            assert!(run.refused.is_empty(), "{ctx}");
            let fixed = run
                .files
                .first()
                .map_or(account.written.clone(), |f| f.fixed.clone());
            let ctx = format!("{ctx}\n→\n{fixed}\nintended:\n{}", account.intended);
            assert_eq!(kdl_meaning(&fixed), kdl_meaning(&account.intended), "{ctx}");
            let intended_store = store_of(&file, &account.intended);
            assert!(!intended_store.starts_with("not compiled"), "{ctx}");
            assert_eq!(store_of(&file, &fixed), intended_store, "{ctx}");
            assert_eq!(
                finding_keys(&file, &fixed),
                finding_keys(&file, &account.intended),
                "{ctx}"
            );
            assert_eq!(
                newline_styles(&fixed),
                newline_styles(&account.written),
                "{ctx}"
            );
            std::fs::write(&file, &fixed).unwrap();
            let again = mailcfg::fix::fix_files(std::slice::from_ref(&file), &config);
            assert!(
                again.files.is_empty() && again.refused.is_empty(),
                "not idempotent: {ctx}"
            );
        }
    }
    eprintln!(
        "edits: {documents} texts, {valid_documents} formatted, {} formatter refusals",
        refusals.len()
    );
    assert!(
        valid_documents > documents / 3,
        "{valid_documents} of {documents}"
    );
    assert!(
        refusals.is_empty(),
        "{} refusals:\n{}",
        refusals.len(),
        refusals.join("\n")
    );
}

/// When `port` already gives the port that `server` repeats, the fix only strips it.
#[test]
fn server_port_fix_when_the_same_port_is_written() {
    let text = account(
        "        server \"mail.example.com:1993\"\n        security \"ssl\"\n        port 1993\n",
        "",
    );
    let dir = tree(&text);
    mailcfg(dir.path(), &["--fix"]);
    assert_eq!(
        read(dir.path(), "desk.kdl"),
        text.replace("mail.example.com:1993", "mail.example.com")
    );
}
