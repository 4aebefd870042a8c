//! `mailcfg check --fix` and `--diff`: safe fixes applied as byte edits, comments and formatting
//! kept, secrets never shown.

use std::path::Path;
use std::process::Output;

fn mailcfg(dir: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_mailcfg"))
        .args(["check", "--color", "never"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run mailcfg")
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

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
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_mailcfg"))
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

/// An account whose incoming block is `incoming_body` (8-space indented lines).
fn account(incoming_body: &str, outgoing: &str) -> String {
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
