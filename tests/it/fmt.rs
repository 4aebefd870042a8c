//! `mailcfg fmt`, through the real binary.

use crate::harness::{stdout, ROOT};

fn mailcfg(args: &[&str], stdin: Option<&str>) -> Output {
    crate::harness::run(Path::new(ROOT), args, stdin)
}

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fmt_stdin(text: &str) -> String {
    let out = mailcfg(&["fmt", "-"], Some(text));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn example_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).expect("examples dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "kdl") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&Path::new(crate::harness::ROOT).join("examples"), &mut out);
    out.sort();
    assert!(out.len() > 10, "examples found: {out:?}");
    out
}

/// The same file with its layout damaged: tabs and odd indentation, trailing blanks, extra
/// blank lines.
fn scramble(text: &str) -> String {
    let mut out = String::from("\n\n");
    for (i, line) in text.lines().enumerate() {
        let body = line.trim_start();
        let depth = (line.len() - body.len()) / 4;
        let indent = if i % 2 == 0 {
            "\t".repeat(depth)
        } else {
            "  ".repeat(depth * 3)
        };
        out.push_str(&format!("{indent}{body}   \n"));
        if body.is_empty() {
            out.push_str("\n\n");
        }
    }
    out.push_str("\n\n");
    out
}

#[test]
fn examples_are_formatted() {
    let out = mailcfg(&["fmt", "--check", "examples"], None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert_eq!(stdout(&out), "", "no file may be listed");
    // The one example that is not KDL is reported (and left alone), not formatted.
    assert!(
        stderr(&out).contains("examples/broken/syntax-error.kdl:")
            && stderr(&out).contains("syntax-error"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn formatting_twice_changes_nothing_on_every_example() {
    let mut checked = 0;
    for path in example_files() {
        let text = std::fs::read_to_string(&path).expect("read example");
        if path.ends_with("syntax-error.kdl") {
            continue;
        }
        let once = fmt_stdin(&text);
        assert_eq!(once, text, "{} is not canonical", path.display());
        let twice = fmt_stdin(&once);
        assert_eq!(
            twice,
            once,
            "{}: second pass changed the text",
            path.display()
        );
        // A damaged layout comes back to the canonical one.
        let repaired = fmt_stdin(&scramble(&text));
        assert_eq!(
            repaired,
            text,
            "{}: scrambled layout not repaired",
            path.display()
        );
        checked += 1;
    }
    assert!(checked >= 15, "only {checked} examples checked");
}

#[test]
fn check_lists_unformatted_files_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ugly = "account \"A\" {protocol \"imap\"; incoming {server \"a.example.com\"}; outgoing {server \"smtp.example.com\"; security \"tls\"}}\n";
    let pretty = "account \"B\" {\n    protocol \"imap\"\n    incoming {\n        server \"b.example.com\"\n    }\n    outgoing {\n        server \"smtp.example.com\"\n        security \"tls\"\n    }\n}\n";
    std::fs::write(dir.path().join("ugly.kdl"), ugly).unwrap();
    std::fs::write(dir.path().join("pretty.kdl"), pretty).unwrap();
    let d = dir.path().to_str().unwrap();
    let out = mailcfg(&["fmt", "--check", d], None);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), format!("{d}/ugly.kdl"));
    assert!(stderr(&out).contains("1 file would be reformatted"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("ugly.kdl")).unwrap(),
        ugly
    );

    // Formatting in place, then the check passes.
    let out = mailcfg(&["fmt", d], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("ugly.kdl")).unwrap(),
        pretty
            .replace("\"B\"", "\"A\"")
            .replace("b.example", "a.example")
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("pretty.kdl")).unwrap(),
        pretty
    );
    let out = mailcfg(&["fmt", "--check", d], None);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn diff_shows_a_unified_diff_with_secrets_masked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = "account \"A\" {protocol \"pop\"\n  incoming {\n   server \"pop.example.com\"; password \"hunter2-secret\"\n  }\n}\n";
    std::fs::write(dir.path().join("a.kdl"), text).unwrap();
    let out = Command::new(crate::harness::BIN)
        .args(["fmt", "--diff", "a.kdl"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let diff = stdout(&out);
    assert!(diff.starts_with("--- a/a.kdl\n+++ b/a.kdl\n@@ "), "{diff}");
    assert!(
        diff.contains("-account \"A\" {protocol \"pop\"\n"),
        "{diff}"
    );
    assert!(diff.contains("+    protocol \"pop\"\n"), "{diff}");
    assert!(diff.contains("+        password ********\n"), "{diff}");
    assert!(!diff.contains("hunter2"), "secret leaked: {diff}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("a.kdl")).unwrap(),
        text
    );
}

#[test]
fn files_that_do_not_parse_are_reported_and_left_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broken = "account \"A\" {\n    protocol \"imap\n}\n";
    let path = dir.path().join("broken.kdl");
    std::fs::write(&path, broken).unwrap();
    let out = mailcfg(&["fmt", path.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0));
    let err = stderr(&out);
    assert!(err.contains("broken.kdl:2:14: not formatted:"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), broken);
    // As a filter, the text passes through unchanged.
    let out = mailcfg(&["fmt", "-"], Some(broken));
    assert_eq!(stdout(&out), broken);
    // Hostile nesting is refused before parsing, without crashing.
    let deep = "a {".repeat(100_000);
    let out = mailcfg(&["fmt", "-"], Some(&deep));
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("nesting-too-deep"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn comments_and_value_spellings_are_kept() {
    let text = "// top\n\n\naccount \"A\" { // why this account\n  /* planned */ protocol \"imap\"\n  incoming {\n    server #\"imap.example.com\"# // raw string\n    port 0x3e1 /* hex */\n    /- mailbox \"Old\"\n    user \"a@example.com\" /-\"b@example.com\"\n  }\n  outgoing {\n    server \"smtp.example.com\"\n    security \"tls\"\n  }\n  // end of account\n}\n";
    let want = "// top\n\naccount \"A\" { // why this account\n    /* planned */ protocol \"imap\"\n    incoming {\n        server #\"imap.example.com\"# // raw string\n        port 0x3e1 /* hex */\n        /- mailbox \"Old\"\n        user \"a@example.com\" /-\"b@example.com\"\n    }\n    outgoing {\n        server \"smtp.example.com\"\n        security \"tls\"\n    }\n    // end of account\n}\n";
    assert_eq!(fmt_stdin(text), want);
    assert_eq!(fmt_stdin(want), want);
}

#[test]
fn kdl_v1_files_become_kdl_v2() {
    let v1 = "account \"A\" {\n  protocol \"imap\"\n  available-to-users true\n  incoming {\n    server r\"imap.example.com\"\n  }\n  outgoing {\n    server \"smtp.example.com\"\n    security \"tls\"\n  }\n}\n";
    let out = fmt_stdin(v1);
    assert_eq!(
        out,
        "account \"A\" {\n    protocol \"imap\"\n    available-to-users #true\n    incoming {\n        server #\"imap.example.com\"#\n    }\n    outgoing {\n        server \"smtp.example.com\"\n        security \"tls\"\n    }\n}\n"
    );
    assert_eq!(fmt_stdin(&out), out);
    let dir = tempfile::tempdir().expect("tempdir");
    let (old, new) = (dir.path().join("v1.kdl"), dir.path().join("v2.kdl"));
    std::fs::write(&old, v1).unwrap();
    std::fs::write(&new, &out).unwrap();
    let check = |p: &Path| {
        stdout(&mailcfg(
            &["check", "--color", "never", p.to_str().unwrap()],
            None,
        ))
    };
    assert!(check(&old).contains("kdl-v1-syntax"));
    assert!(!check(&new).contains("kdl-v1-syntax"), "{}", check(&new));
}

#[test]
fn the_docs_example_is_what_fmt_does() {
    let doc = std::fs::read_to_string(Path::new(crate::harness::ROOT).join("docs/fmt.md"))
        .expect("docs/fmt.md");
    let block = |tag: &str| {
        let start = doc.find(&format!("```kdl {tag}\n")).expect("block") + 8 + tag.len();
        let end = start + doc[start..].find("```").expect("end of block");
        doc[start..end].to_string()
    };
    let (before, after) = (block("before"), block("after"));
    assert_ne!(before, after);
    assert_eq!(fmt_stdin(&before), after);
    assert_eq!(fmt_stdin(&after), after);
}

#[test]
fn missing_paths_are_usage_errors() {
    let out = mailcfg(&["fmt", "does/not/exist"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no such file or directory"));
}

/// The `mailcfg-fmt` hook of `.pre-commit-hooks.yaml`: its `entry`, run the way pre-commit runs
/// it (with the staged file names), formats what is not formatted and leaves the rest alone.
#[test]
fn the_pre_commit_hook_entry_formats_the_named_files() {
    let hooks =
        std::fs::read_to_string(Path::new(crate::harness::ROOT).join(".pre-commit-hooks.yaml"))
            .expect(".pre-commit-hooks.yaml");
    let hook = hooks
        .split("- id: ")
        .find(|h| h.starts_with("mailcfg-fmt\n"))
        .expect("a mailcfg-fmt hook");
    let entry = hook
        .lines()
        .find_map(|l| l.trim().strip_prefix("entry: "))
        .expect("its entry");
    assert!(hook.contains("files: '\\.kdl$'"), "{hook}");
    let mut words = entry.split_whitespace();
    assert_eq!(words.next(), Some("mailcfg"));
    let args: Vec<&str> = words.collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let ugly = dir.path().join("ugly.kdl");
    let pretty = dir.path().join("pretty.kdl");
    std::fs::write(&ugly, "system {conversation-prefix \"HD\"}\n").unwrap();
    std::fs::write(&pretty, "system {\n    conversation-prefix \"HD\"\n}\n").unwrap();
    let out = Command::new(crate::harness::BIN)
        .args(&args)
        .arg(&ugly)
        .arg(&pretty)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let formatted = std::fs::read_to_string(&ugly).unwrap();
    assert_eq!(formatted, std::fs::read_to_string(&pretty).unwrap());
}

/// `fmt` plans its files through the workspace, as `check` does: the same walk and exclusions,
/// one file however it is named, and the configuration files formatted too (they are KDL).
#[test]
fn fmt_formats_the_files_check_plans_and_the_configuration() {
    use crate::harness::write;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let messy = "account \"A\" {\n  protocol \"imap\"\n}\n";
    write(d, "a.kdl", messy);
    write(d, "mailcfg.kdl", "rules {\n  auto-security \"allow\"\n}\n");
    write(
        d,
        "team/mailcfg.kdl",
        "rules {\n  auto-security \"warn\"\n}\n",
    );
    write(d, "team/b.kdl", messy);
    write(d, ".hidden/c.kdl", messy);
    write(d, "target/d.kdl", messy);
    let abs = d.join("a.kdl");
    let run = |args: &[&str]| crate::harness::run(d, args, None);
    let o = run(&[
        "fmt",
        "--check",
        "a.kdl",
        "./a.kdl",
        abs.to_str().unwrap(),
        ".",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let mut listed: Vec<String> = stdout(&o).lines().map(str::to_string).collect();
    listed.sort();
    assert_eq!(
        listed,
        ["a.kdl", "mailcfg.kdl", "team/b.kdl", "team/mailcfg.kdl"],
        "each file once, hidden folders and target/ skipped"
    );
    assert!(
        stderr(&o).contains("4 files would be reformatted"),
        "{}",
        stderr(&o)
    );
    // A named configuration file alone (as a pre-commit fmt hook passes it).
    let o = run(&["fmt", "--diff", "team/mailcfg.kdl"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("+    auto-security \"warn\""),
        "{}",
        stdout(&o)
    );
    let o = run(&["fmt", "."]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(d.join("mailcfg.kdl")).unwrap(),
        "rules {\n    auto-security \"allow\"\n}\n"
    );
    assert_eq!(
        std::fs::read_to_string(d.join(".hidden/c.kdl")).unwrap(),
        messy
    );
    assert_eq!(
        std::fs::read_to_string(d.join("target/d.kdl")).unwrap(),
        messy
    );
    // The formatted configuration still configures: check reads it as before.
    let o = run(&["fmt", "--check", "."]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}
