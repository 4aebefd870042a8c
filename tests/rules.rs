//! The rule catalogue: every rule's documented examples run through the real binary, the
//! `rules` / `explain` commands, the generated docs/rules.md, and the shipped examples.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use mailcfg::rules::{catalogue, ALL};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mailcfg"));
    c.env_remove("NO_COLOR");
    c
}

fn run(args: &[&str], dir: &Path) -> Output {
    bin()
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run mailcfg")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Rule names of the findings in a human report (each report starts with its rule on a line).
fn fired(report: &str) -> BTreeSet<String> {
    report
        .lines()
        .map(str::trim)
        .filter(|l| {
            !l.is_empty()
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
        .map(str::to_string)
        .collect()
}

/// Checks `text` as the only file of a fresh directory; returns (exit code, report).
fn check_text(text: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("example.kdl"), text).unwrap();
    let o = run(&["check", "--color", "never", "."], dir.path());
    (o.status.code().unwrap_or(-1), stdout(&o))
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_rule_has_the_documented_sections() {
    for r in ALL {
        let m = r.meta;
        assert!(
            m.name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "{} is not kebab-case",
            m.name
        );
        for section in ["## What it checks\n", "## Why\n"] {
            assert!(m.docs.contains(section), "{}: no {section:?}", m.name);
        }
        let why = m.docs.split("## Why\n").nth(1).unwrap_or("");
        let why = why.split("\n## ").next().unwrap_or("");
        assert!(
            why.contains("Source:"),
            "{}: `## Why` names no source",
            m.name
        );
        assert!(m.example("bad").is_some(), "{}: no ```kdl bad", m.name);
        assert!(m.example("good").is_some(), "{}: no ```kdl good", m.name);
    }
    let names: BTreeSet<&str> = ALL.iter().map(|r| r.meta.name).collect();
    assert_eq!(names.len(), ALL.len(), "rule names are unique");
    for b in mailcfg::diagnostics::builtin::BUILTIN
        .iter()
        .map(|b| &b.name)
    {
        assert!(
            !names.contains(b),
            "{b} is both a rule and a built-in check"
        );
    }
}

#[test]
fn every_bad_example_fires_its_rule() {
    let mut failures = Vec::new();
    for r in ALL {
        let bad = r.meta.example("bad").unwrap();
        let (_, report) = check_text(bad);
        if !fired(&report).contains(r.meta.name) {
            failures.push(format!(
                "{}: bad example did not fire it:\n{report}",
                r.meta.name
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_good_example_is_clean() {
    let mut failures = Vec::new();
    for r in ALL {
        let good = r.meta.example("good").unwrap();
        let (code, report) = check_text(good);
        if code != 0 || !report.starts_with("no problems found in 1 file") {
            failures.push(format!(
                "{}: good example is not clean:\n{report}",
                r.meta.name
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn rules_lists_exactly_the_registry() {
    let o = run(&["rules", "--format", "json"], &root());
    assert_eq!(o.status.code(), Some(0));
    let listed: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap();
    let names: Vec<&str> = listed.iter().map(|e| e["name"].as_str().unwrap()).collect();
    let expected: Vec<&str> = ALL.iter().map(|r| r.meta.name).collect();
    assert_eq!(names, expected);
    for (e, r) in listed.iter().zip(ALL) {
        assert_eq!(e["level"], r.meta.level.as_str());
        assert_eq!(e["summary"], r.meta.summary);
        assert_eq!(e["fixable"], r.meta.fixable);
    }

    let o = run(&["rules"], &root());
    let table = stdout(&o);
    let first_words: Vec<&str> = table
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(first_words, expected);
    assert!(
        table.contains("redundant-port")
            && table.lines().any(|l| l.starts_with("redundant-port")
                && l.contains(" info ")
                && l.contains(" yes "))
    );
}

#[test]
fn explain_prints_the_docs_and_rejects_unknown_names() {
    for r in ALL {
        let o = run(&["explain", r.meta.name], &root());
        assert_eq!(o.status.code(), Some(0), "{}", r.meta.name);
        let text = stdout(&o);
        assert!(text.starts_with(&format!("# {}\n", r.meta.name)));
        assert!(text.contains(r.meta.docs));
        assert!(text.contains(&format!("Default level: {}", r.meta.level)));
    }
    let o = run(&["explain", "unknown-node"], &root());
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("cannot be configured or suppressed"));
    let o = run(&["explain", "unknown-nod"], &root());
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("did you mean `unknown-node`?"));
    let o = run(&["explain", "redundant-prot"], &root());
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("unknown rule `redundant-prot`"), "{err}");
    assert!(err.contains("did you mean `redundant-port`?"), "{err}");
    assert!(o.stdout.is_empty());
}

#[test]
fn docs_rules_md_is_generated_and_in_sync() {
    let o = run(&["rules", "--format", "markdown"], &root());
    assert_eq!(o.status.code(), Some(0));
    let generated = stdout(&o);
    assert_eq!(generated, catalogue::markdown());
    let on_disk = std::fs::read_to_string(root().join("docs/rules.md")).unwrap_or_default();
    assert!(
        on_disk == generated,
        "docs/rules.md is out of date; regenerate it with\n  cargo run -q -- rules --format markdown > docs/rules.md"
    );
    for r in ALL {
        assert!(generated.contains(&format!("\n## {}\n", r.meta.name)));
    }
}

#[test]
fn shipped_account_examples_are_clean() {
    let o = run(&["check", "--color", "never", "examples/accounts"], &root());
    let report = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{report}");
    assert!(report.starts_with("no problems found"), "{report}");
}

/// Each broken example names the rule it demonstrates in its first comment line.
#[test]
fn broken_examples_fire_the_rule_they_name() {
    let o = run(&["check", "--color", "never", "examples/broken"], &root());
    let all = fired(&stdout(&o));
    let mut count = 0;
    for entry in std::fs::read_dir(root().join("examples/broken")).unwrap() {
        let path = entry.unwrap().path();
        // mailcfg.kdl marks the folder as a project; it is configuration, not an example.
        if path.extension().is_none_or(|e| e != "kdl") || path.ends_with("mailcfg.kdl") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let first = text.lines().next().unwrap_or("");
        let rule = first
            .strip_prefix("// ")
            .and_then(|l| l.split(':').next())
            .unwrap_or_else(|| panic!("{}: first line must be `// rule-name: …`", path.display()));
        // Cross-file rules only fire with their partner file, so the directory run counts too.
        let alone = run(
            &["check", "--color", "never", path.to_str().unwrap()],
            &root(),
        );
        assert!(
            fired(&stdout(&alone)).contains(rule) || all.contains(rule),
            "{} does not fire {rule}",
            path.display()
        );
        count += 1;
    }
    assert!(count >= 10);
}
