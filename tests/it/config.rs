//! `mailcfg.kdl`: rule levels, per-path overrides, discovery, `--config`, and its errors.

use crate::harness::{check_in as mailcfg, stdout, write};

/// (rule, level, file) of each finding in a human report.
fn findings(report: &str) -> Vec<(String, &'static str, String)> {
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
        let rest = &lines[i + 1..];
        let Some(msg) = rest.iter().map(|l| l.trim()).find(|l| !l.is_empty()) else {
            continue;
        };
        let level = match msg.chars().next() {
            Some('×') => "error",
            Some('⚠') => "warning",
            Some('☞') => "info",
            _ => continue,
        };
        let file = rest
            .iter()
            .find_map(|l| l.split_once("─[").map(|(_, f)| f))
            .map(|f| f.rsplitn(3, ':').nth(2).unwrap_or(f).to_string())
            .unwrap_or_default();
        out.push((t.to_string(), level, file));
    }
    out
}

fn has(report: &str, rule: &str, level: &str, file: &str) -> bool {
    findings(report)
        .iter()
        .any(|(r, l, f)| r == rule && *l == level && f == file)
}

/// One account with a redundant port (info), automatic security on the outgoing server (info) and
/// a literal password (warning).
const ACCOUNT: &str = r#"account "NAME" {
    protocol "imap"
    incoming {
        server "imap.example.com"
        security "ssl"
        port 993
        user "NAME@example.com"
        password "not-a-real-secret"
    }
    outgoing {
        server "smtp.example.com"
        port 587
        auth "same-as-incoming"
    }
    conversation-id "subject"
}
"#;

fn account(name: &str) -> String {
    ACCOUNT.replace("NAME", name)
}

const SYSTEM: &str = "system {\n    conversation-prefix \"ACME\"\n}\n";

#[test]
fn without_a_config_every_rule_has_its_default_level() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.kdl", &account("a"));
    write(dir.path(), "system.kdl", SYSTEM);
    let o = mailcfg(dir.path(), &[]);
    let r = stdout(&o);
    assert!(has(&r, "redundant-port", "info", "a.kdl"), "{r}");
    assert!(has(&r, "auto-security", "info", "a.kdl"), "{r}");
    assert!(has(&r, "inline-secret", "warning", "a.kdl"), "{r}");
    assert_eq!(o.status.code(), Some(0), "{r}");
}

#[test]
fn rule_levels_are_raised_lowered_and_allowed() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.kdl", &account("a"));
    write(dir.path(), "system.kdl", SYSTEM);
    write(
        dir.path(),
        "mailcfg.kdl",
        "rules {\n    auto-security \"deny\"\n    inline-secret \"info\"\n    redundant-port \"allow\"\n}\n",
    );
    let o = mailcfg(dir.path(), &[]);
    let r = stdout(&o);
    assert!(has(&r, "auto-security", "error", "a.kdl"), "{r}");
    assert!(has(&r, "inline-secret", "info", "a.kdl"), "{r}");
    assert!(!r.contains("redundant-port"), "{r}");
    // `deny` turns the finding into an error, so the exit code follows.
    assert_eq!(o.status.code(), Some(1), "{r}");
    // The configuration is not an account file: 2 files, not 3, and no schema errors about it.
    assert!(r.ends_with("in 2 files\n"), "{r}");
    assert!(!r.contains("mailcfg.kdl"), "{r}");
}

#[test]
fn per_path_overrides_apply_to_matching_files_only_and_the_last_one_wins() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.kdl", &account("a"));
    write(dir.path(), "legacy/b.kdl", &account("b"));
    write(dir.path(), "legacy/deep/c.kdl", &account("c"));
    write(dir.path(), "system.kdl", SYSTEM);
    write(
        dir.path(),
        "mailcfg.kdl",
        r#"rules {
    inline-secret "deny"
}
override "legacy/*.kdl" {
    inline-secret "allow"
    auto-security "warn"
}
override "legacy/deep/**" "other/**" {
    inline-secret "info"
}
"#,
    );
    let o = mailcfg(dir.path(), &[]);
    let r = stdout(&o);
    assert!(has(&r, "inline-secret", "error", "a.kdl"), "{r}");
    assert!(!has(&r, "inline-secret", "error", "legacy/b.kdl"));
    assert!(
        !findings(&r)
            .iter()
            .any(|(rule, _, f)| rule == "inline-secret" && f == "legacy/b.kdl"),
        "{r}"
    );
    assert!(has(&r, "auto-security", "warning", "legacy/b.kdl"), "{r}");
    assert!(has(&r, "auto-security", "info", "a.kdl"), "{r}");
    // `*` does not cross `/`; `**` does.
    assert!(has(&r, "auto-security", "info", "legacy/deep/c.kdl"), "{r}");
    assert!(has(&r, "inline-secret", "info", "legacy/deep/c.kdl"), "{r}");
}

#[test]
fn the_config_is_found_walking_up_from_the_checked_path() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "accounts/team/a.kdl", &account("a"));
    write(dir.path(), "accounts/system.kdl", SYSTEM);
    write(
        dir.path(),
        "mailcfg.kdl",
        "rules {\n    redundant-port \"deny\"\n}\n",
    );
    let o = mailcfg(&dir.path().join("accounts"), &["team", "system.kdl"]);
    let r = stdout(&o);
    assert!(has(&r, "redundant-port", "error", "team/a.kdl"), "{r}");
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn an_explicit_config_overrides_discovery() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tree/a.kdl", &account("a"));
    write(dir.path(), "tree/system.kdl", SYSTEM);
    write(
        dir.path(),
        "tree/mailcfg.kdl",
        "rules {\n    redundant-port \"deny\"\n}\n",
    );
    write(
        dir.path(),
        "strict.kdl",
        "rules {\n    redundant-port \"allow\"\n}\n",
    );
    let o = mailcfg(dir.path(), &["--config", "strict.kdl", "tree"]);
    let r = stdout(&o);
    assert!(!r.contains("redundant-port"), "{r}");
    assert_eq!(o.status.code(), Some(0), "{r}");
    let o = mailcfg(dir.path(), &["--config", "missing.kdl", "tree"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no such file or directory"), "{err}");
}

#[test]
fn unknown_rules_and_bad_levels_in_the_config_are_located_errors() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.kdl", &account("a"));
    write(
        dir.path(),
        "mailcfg.kdl",
        "rules {\n    redundant-prot \"allow\"\n    auto-security \"warning\"\n}\noverides \"x/**\" {\n}\n",
    );
    let o = mailcfg(dir.path(), &[]);
    assert_eq!(o.status.code(), Some(2));
    // Nothing is checked with a broken configuration.
    assert!(o.stdout.is_empty());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("mailcfg.kdl:2:5"), "{err}");
    assert!(err.contains("`redundant-prot` is not a rule"), "{err}");
    assert!(err.contains("did you mean `redundant-port`?"), "{err}");
    assert!(err.contains("mailcfg.kdl:3:19"), "{err}");
    assert!(err.contains("did you mean \"warn\"?"), "{err}");
    assert!(err.contains("unknown node `overides`"), "{err}");
    assert!(err.contains("did you mean `override`?"), "{err}");
}

#[test]
fn invalid_globs_and_syntax_errors_in_the_config_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.kdl", &account("a"));
    write(
        dir.path(),
        "mailcfg.kdl",
        "override \"legacy/[a\" {\n    redundant-port \"allow\"\n}\n",
    );
    let o = mailcfg(dir.path(), &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("invalid glob \"legacy/[a\""), "{err}");

    write(
        dir.path(),
        "mailcfg.kdl",
        "rules {\n    redundant-port \"allow\"\n",
    );
    let o = mailcfg(dir.path(), &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("syntax-error"), "{err}");
}

#[test]
fn compile_uses_the_same_configuration_and_skips_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let clean = account("a").replace(
        "password \"not-a-real-secret\"",
        "password env=\"A_PASSWORD\"",
    );
    write(dir.path(), "a.kdl", &clean);
    write(dir.path(), "system.kdl", SYSTEM);
    write(
        dir.path(),
        "mailcfg.kdl",
        "rules {\n    auto-security \"warn\"\n}\n",
    );
    let compile = |extra: &[&str]| {
        std::process::Command::new(crate::harness::BIN)
            .args(["compile", "--color", "never", ".", "--out", "store.json"])
            .args(extra)
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let o = compile(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(has(&stdout(&o), "auto-security", "warning", "a.kdl"));
    write(
        dir.path(),
        "mailcfg.kdl",
        "rules {\n    auto-security \"deny\"\n}\n",
    );
    let o = compile(&[]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(has(&stdout(&o), "auto-security", "error", "a.kdl"));
}

/// docs/configuration.md: its `mailcfg.kdl` is valid, and with it its suppression examples leave
/// nothing to report (every comment is used, every suppressed finding gone).
#[test]
fn the_documented_configuration_and_suppressions_work() {
    let doc = std::fs::read_to_string(
        std::path::Path::new(crate::harness::ROOT).join("docs/configuration.md"),
    )
    .unwrap();
    // Each ```kdl block, without its info string (the first is fenced ```kdl mailcfg.kdl).
    let blocks: Vec<&str> = doc
        .split("```kdl")
        .skip(1)
        .map(|b| b.split_once('\n').unwrap().1.split("```").next().unwrap())
        .collect();
    assert_eq!(blocks.len(), 3);
    assert!(blocks[0].starts_with("// mailcfg.kdl"));
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "mailcfg.kdl", blocks[0]);
    write(dir.path(), "system.kdl", SYSTEM);
    for (i, b) in blocks[1..].iter().enumerate() {
        write(dir.path(), &format!("doc{i}.kdl"), b);
    }
    let o = mailcfg(dir.path(), &[]);
    let r = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{r}");
    assert_eq!(r, "no problems found in 3 files\n");
    assert!(!r.contains("lab-only"));

    // Without the comments, the suppressed rules do fire (at the configured levels).
    for (i, b) in blocks[1..].iter().enumerate() {
        let bare: String = b
            .lines()
            .filter(|l| !l.contains("mailcfg-ignore"))
            .map(|l| format!("{l}\n"))
            .collect();
        write(dir.path(), &format!("doc{i}.kdl"), &bare);
    }
    let o = mailcfg(dir.path(), &[]);
    let r = stdout(&o);
    assert!(
        has(&r, "google-password-auth", "warning", "doc0.kdl"),
        "{r}"
    );
    assert!(
        has(&r, "cleartext-credentials", "warning", "doc0.kdl"),
        "{r}"
    );
    assert!(has(&r, "inline-secret", "error", "doc0.kdl"), "{r}");
    assert!(has(&r, "auto-security", "warning", "doc1.kdl"), "{r}");
    assert_eq!(o.status.code(), Some(1));
}
