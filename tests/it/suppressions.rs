//! Suppression comments: `// mailcfg-ignore: rule reason="…"` before a node (node and children)
//! and `// mailcfg-ignore-file:` at the top of a file, plus the findings about them.

use crate::harness::check_in as mailcfg;

/// (rule, 1-based line) of each finding in a human report.
fn findings(report: &str) -> Vec<(String, usize)> {
    let lines: Vec<&str> = report.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let t = l.trim();
        let is_name = !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !is_name {
            continue;
        }
        let line = lines[i + 1..]
            .iter()
            .find_map(|l| l.split_once("─[").map(|(_, f)| f))
            .and_then(|f| f.trim_end_matches(']').rsplit(':').nth(1))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        out.push((t.to_string(), line));
    }
    out
}

/// Checks one file `a.kdl` (plus a system prefix) and returns its findings and the report.
fn check(text: &str) -> (Vec<(String, usize)>, String, Option<i32>) {
    check_with_config(text, None)
}

fn check_with_config(
    text: &str,
    config: Option<&str>,
) -> (Vec<(String, usize)>, String, Option<i32>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.kdl"), text).unwrap();
    std::fs::write(
        dir.path().join("system.kdl"),
        "system {\n    conversation-prefix \"ACME\"\n}\n",
    )
    .unwrap();
    if let Some(c) = config {
        std::fs::write(dir.path().join("mailcfg.kdl"), c).unwrap();
    }
    let o = mailcfg(dir.path(), &[]);
    let r = String::from_utf8_lossy(&o.stdout).into_owned();
    (findings(&r), r, o.status.code())
}

fn rules_of(f: &[(String, usize)]) -> Vec<&str> {
    f.iter().map(|(r, _)| r.as_str()).collect()
}

const TWO_ACCOUNTS: &str = r#"// mailcfg-ignore: redundant-port reason="kept for the runbook"
account "A" {
    protocol "imap"
    incoming {
        server "imap.example.com"
        security "ssl"
        port 993
        user "a@example.com"
        password env="A_PASSWORD"
    }
    outgoing {
        server "smtp.example.com"
        security "tls"
    }
    conversation-id "subject"
}
account "B" {
    protocol "imap"
    incoming {
        server "imap.example.com"
        security "ssl"
        port 993
        user "b@example.com"
        password env="B_PASSWORD"
    }
    outgoing {
        server "smtp.example.com"
        security "tls"
    }
    conversation-id "subject"
}
"#;

#[test]
fn a_comment_before_a_node_covers_the_node_and_its_children_only() {
    let (f, r, code) = check(TWO_ACCOUNTS);
    // Account A's port (line 7) is suppressed, account B's (line 22) is not.
    assert_eq!(f, vec![("redundant-port".to_string(), 22)], "{r}");
    assert_eq!(code, Some(0));
}

#[test]
fn a_comment_before_a_child_node_does_not_cover_its_siblings() {
    let text = r#"account "A" {
    protocol "imap"
    incoming {
        server "imap.example.com"
        // mailcfg-ignore: auto-security reason="the lab server has no TLS"
        user "a@example.com"
        password env="A_PASSWORD"
    }
    outgoing {
        server "smtp.example.com"
        security "tls"
    }
    conversation-id "subject"
}
"#;
    // auto-security is reported at `server` (line 4), not at the suppressed `user` node.
    let (f, r, _) = check(text);
    assert!(f.contains(&("auto-security".to_string(), 4)), "{r}");
    assert!(f.contains(&("unused-suppression".to_string(), 5)), "{r}");

    let moved = text.replace(
        "        server \"imap.example.com\"\n        // mailcfg-ignore: auto-security reason=\"the lab server has no TLS\"\n",
        "        // mailcfg-ignore: auto-security reason=\"the lab server has no TLS\"\n        server \"imap.example.com\"\n",
    );
    let (f, r, _) = check(&moved);
    assert!(f.is_empty(), "{r}");
}

#[test]
fn one_comment_may_name_several_rules_and_several_comments_may_stack() {
    let text = r#"// mailcfg-ignore: redundant-port, inline-secret reason="lab account"
// mailcfg-ignore: auto-security reason="lab server without TLS on SMTP"
account "A" {
    protocol "imap"
    incoming {
        server "imap.example.com"
        security "ssl"
        port 993
        user "a@example.com"
        password "lab-password"
    }
    outgoing {
        server "smtp.example.com"
        port 587
        auth "same-as-incoming"
    }
    conversation-id "subject"
}
"#;
    let (f, r, code) = check(text);
    assert!(f.is_empty(), "{r}");
    assert_eq!(code, Some(0));
    assert!(!r.contains("lab-password"));
}

#[test]
fn a_file_level_comment_covers_the_whole_file() {
    let text = TWO_ACCOUNTS.replacen(
        "// mailcfg-ignore: redundant-port",
        "// Lab accounts.\n// mailcfg-ignore-file: redundant-port",
        1,
    );
    let (f, r, _) = check(&text);
    assert!(f.is_empty(), "{r}");
}

#[test]
fn a_suppression_without_reason_works_but_is_reported() {
    let text = TWO_ACCOUNTS.replace(" reason=\"kept for the runbook\"", "");
    let (f, r, code) = check(&text);
    assert_eq!(
        rules_of(&f),
        vec!["suppression-without-reason", "redundant-port"],
        "{r}"
    );
    assert_eq!(f[0].1, 1);
    assert_eq!(code, Some(0));
    let empty = TWO_ACCOUNTS.replace("reason=\"kept for the runbook\"", "reason=\"\"");
    let (f, _, _) = check(&empty);
    assert_eq!(
        rules_of(&f),
        vec!["suppression-without-reason", "redundant-port"]
    );
}

#[test]
fn suppressions_that_suppress_nothing_are_reported() {
    // Stale: account A has no redundant port any more.
    let stale = TWO_ACCOUNTS.replacen("        port 993\n", "", 1);
    let (f, r, _) = check(&stale);
    assert_eq!(
        f,
        vec![
            ("unused-suppression".to_string(), 1),
            ("redundant-port".to_string(), 21)
        ],
        "{r}"
    );
    assert!(
        r.contains("suppression of `redundant-port` suppresses nothing"),
        "{r}"
    );

    // A misspelt rule name.
    let typo = TWO_ACCOUNTS.replace("ignore: redundant-port", "ignore: redundant-prot");
    let (f, r, _) = check(&typo);
    assert!(f.contains(&("unused-suppression".to_string(), 1)), "{r}");
    assert!(r.contains("`redundant-prot`, which is not a rule"), "{r}");
    assert!(r.contains("did you mean `redundant-port`?"), "{r}");
    assert_eq!(f.iter().filter(|(r, _)| r == "redundant-port").count(), 2);

    // A file-level comment below the first node does not apply.
    let late = format!("{TWO_ACCOUNTS}// mailcfg-ignore-file: redundant-port reason=\"late\"\n");
    let late = late.replacen(
        "// mailcfg-ignore: redundant-port reason=\"kept for the runbook\"\n",
        "",
        1,
    );
    let (f, r, _) = check(&late);
    assert!(f.contains(&("unused-suppression".to_string(), 31)), "{r}");
    assert!(r.contains("not at the top of the file"), "{r}");

    // A comment with no node after it.
    let dangling = format!("{TWO_ACCOUNTS}// mailcfg-ignore: auto-security reason=\"x\"\n");
    let (f, r, _) = check(&dangling);
    assert!(f.contains(&("unused-suppression".to_string(), 32)), "{r}");
    assert!(r.contains("is not followed by a node"), "{r}");
}

#[test]
fn schema_errors_cannot_be_suppressed() {
    let text = r#"// mailcfg-ignore: unknown-node reason="try"
account "A" {
    protocol "imap"
    incoming {
        sever "imap.example.com"
    }
    outgoing {
        server "smtp.example.com"
        security "tls"
    }
}
"#;
    let (f, r, code) = check(text);
    assert!(rules_of(&f).contains(&"unknown-node"), "{r}");
    assert!(r.contains("`unknown-node`, which is not a rule"), "{r}");
    assert_eq!(code, Some(1));
}

#[test]
fn the_config_sets_the_level_of_suppression_findings() {
    let text = TWO_ACCOUNTS.replace(" reason=\"kept for the runbook\"", "");
    let (f, r, _) = check_with_config(
        &text,
        Some("rules {\n    suppression-without-reason \"deny\"\n    redundant-port \"allow\"\n}\n"),
    );
    // With redundant-port allowed, the comment suppresses nothing any more.
    assert_eq!(
        rules_of(&f),
        vec!["suppression-without-reason", "unused-suppression"],
        "{r}"
    );
    let (f, r, code) = check_with_config(
        &text,
        Some("rules {\n    suppression-without-reason \"deny\"\n    unused-suppression \"allow\"\n    redundant-port \"allow\"\n}\n"),
    );
    assert_eq!(rules_of(&f), vec!["suppression-without-reason"], "{r}");
    assert!(r.contains("× suppression comment without a reason"), "{r}");
    assert_eq!(code, Some(1));
}

/// Issue 19, repro 6: line numbers follow the KDL newline set (a lone CR, NEL, FF, U+2028,
/// U+2029, CRLF), and suppression comments are recognised with those line endings.
#[test]
fn kdl_newlines_count_as_line_ends_and_suppressions_work_with_them() {
    for nl in ["\r", "\u{85}", "\u{0C}", "\u{2028}", "\u{2029}", "\r\n"] {
        let text = "account \"A\" {\n    protocol \"imap\"\n    incoming {\n        server \"imap.example.com\"\n        security \"ssl\"\n        port 993\n        user \"a@example.com\"\n        password env=\"A_PW\"\n    }\n    conversation-id \"subject\"\n}\n";
        let (found, report, _) = check(&text.replace('\n', nl));
        assert!(
            found.contains(&("redundant-port".to_string(), 6)),
            "{nl:?}: {found:?}\n{report}"
        );
        let suppressed = text.replace(
            "        port 993\n",
            "        // mailcfg-ignore: redundant-port reason=\"runbook\"\n        port 993\n",
        );
        let (found, report, _) = check(&suppressed.replace('\n', nl));
        assert!(
            !rules_of(&found).contains(&"redundant-port")
                && !rules_of(&found).contains(&"unused-suppression"),
            "{nl:?}: {found:?}\n{report}"
        );
    }
}
