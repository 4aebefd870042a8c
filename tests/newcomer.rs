//! A newcomer's commands end to end: `init`, `show`, `completions`, `man`, and the messages a
//! first run meets (`--quiet`, the exit codes in `--help`, an empty directory, `diff` on files
//! that are not stores). The init → check → compile → pre-commit flow is in tests/precommit.rs.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

fn mailcfg_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mailcfg"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run mailcfg")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn init(dir: &Path, args: &[&str]) -> Output {
    let mut all = vec!["init"];
    all.extend_from_slice(args);
    mailcfg_in(dir, &all)
}

#[test]
fn init_creates_a_project_that_checks_and_formats_clean() {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("mail");
    let o = init(tmp.path(), &["mail"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    for f in [
        "accounts/servicedesk.kdl",
        "accounts/system.kdl",
        "mailcfg.kdl",
        ".pre-commit-config.yaml",
        ".github/workflows/mailcfg.yml",
        ".gitignore",
    ] {
        assert!(project.join(f).is_file(), "{f} missing; {out}");
        assert!(out.contains(f), "{f} not listed: {out}");
    }
    assert!(!project.join(".gitlab-ci.yml").exists());

    // No findings at any level: a newcomer's first `check` shows nothing to fix.
    let o = mailcfg_in(&project, &["check", "--fail-on", "info"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(out.starts_with("no problems found in 2 files"), "{out}");
    let o = mailcfg_in(&project, &["fmt", "--check", ".", "mailcfg.kdl"]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));

    let account = fs::read_to_string(project.join("accounts/servicedesk.kdl")).unwrap();
    for node in [
        "protocol \"imap\"",
        "password env=",
        "outgoing {",
        "port 587",
        "address ",
        "conversation-id \"subject\"",
    ] {
        assert!(account.contains(node), "{node} missing:\n{account}");
    }
    let ignore = fs::read_to_string(project.join(".gitignore")).unwrap();
    assert!(ignore.lines().any(|l| l == "*.resolved.json"), "{ignore}");
}

/// The generated mailcfg.kdl lists every rule at its default level: uncommenting every line
/// gives a valid configuration that changes nothing.
#[test]
fn init_configuration_lists_every_rule_at_its_default_level() {
    let tmp = tempfile::tempdir().unwrap();
    assert_eq!(init(tmp.path(), &["--ci", "none"]).status.code(), Some(0));
    let config = fs::read_to_string(tmp.path().join("mailcfg.kdl")).unwrap();
    let rules = mailcfg_in(tmp.path(), &["rules"]);
    let (table, _) = text(&rules);
    for row in table.lines().skip(1) {
        let mut cols = row.split_whitespace();
        let (name, level) = (cols.next().unwrap(), cols.next().unwrap());
        let setting = match level {
            "error" => "deny",
            "warning" => "warn",
            other => other,
        };
        let line = config
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("// {name} ")))
            .unwrap_or_else(|| panic!("{name} not listed:\n{config}"));
        assert!(line.ends_with(&format!("\"{setting}\"")), "{line}");
    }
    let uncommented: String = config
        .lines()
        .map(|l| match l.strip_prefix("    // ") {
            Some(rule) => format!("    {rule}\n"),
            None => format!("{l}\n"),
        })
        .collect();
    fs::write(tmp.path().join("mailcfg.kdl"), uncommented).unwrap();
    let o = mailcfg_in(tmp.path(), &["check", "--fail-on", "info"]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
}

#[test]
fn init_writes_the_chosen_ci_workflow() {
    let tmp = tempfile::tempdir().unwrap();
    assert_eq!(init(tmp.path(), &["--ci", "gitlab"]).status.code(), Some(0));
    let gitlab = fs::read_to_string(tmp.path().join(".gitlab-ci.yml")).unwrap();
    assert!(
        gitlab.contains("mailcfg check accounts/ --output gitlab="),
        "{gitlab}"
    );
    assert!(!tmp.path().join(".github").exists());

    let none = tempfile::tempdir().unwrap();
    assert_eq!(init(none.path(), &["--ci", "none"]).status.code(), Some(0));
    assert!(!none.path().join(".github").exists());
    assert!(!none.path().join(".gitlab-ci.yml").exists());

    let bad = init(none.path(), &["--ci", "jenkins"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn init_refuses_to_overwrite_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("mailcfg.kdl"), "rules {}\n").unwrap();
    let o = init(tmp.path(), &[]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("mailcfg.kdl") && err.contains("nothing was written"),
        "{err}"
    );
    assert_eq!(
        fs::read_to_string(tmp.path().join("mailcfg.kdl")).unwrap(),
        "rules {}\n"
    );
    assert!(!tmp.path().join("accounts").exists());
    assert!(!tmp.path().join(".gitignore").exists());

    // Run twice: the second run finds the first one's files.
    let again = tempfile::tempdir().unwrap();
    assert_eq!(init(again.path(), &[]).status.code(), Some(0));
    let before = fs::read_to_string(again.path().join("accounts/servicedesk.kdl")).unwrap();
    let o = init(again.path(), &[]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        fs::read_to_string(again.path().join("accounts/servicedesk.kdl")).unwrap(),
        before
    );
}

#[test]
fn init_appends_to_an_existing_gitignore_once() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join(".gitignore"), "target/").unwrap();
    assert_eq!(init(tmp.path(), &[]).status.code(), Some(0));
    let ignore = fs::read_to_string(tmp.path().join(".gitignore")).unwrap();
    assert!(ignore.starts_with("target/\n"), "{ignore:?}");
    assert_eq!(ignore.matches("*.resolved.json").count(), 1, "{ignore}");

    // An existing entry is left alone.
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join(".gitignore"), "*.resolved.json\n").unwrap();
    assert_eq!(init(tmp.path(), &[]).status.code(), Some(0));
    assert_eq!(
        fs::read_to_string(tmp.path().join(".gitignore")).unwrap(),
        "*.resolved.json\n"
    );
}
