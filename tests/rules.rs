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
    let codes = mailcfg::registry::all();
    let o = run(&["rules", "--format", "json"], &root());
    assert_eq!(o.status.code(), Some(0));
    let listed: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap();
    let names: Vec<&str> = listed.iter().map(|e| e["name"].as_str().unwrap()).collect();
    let expected: Vec<&str> = codes.iter().map(|c| c.name).collect();
    assert_eq!(names, expected);
    // Every catalogue rule, built-in check and probe check is listed.
    let catalogue = ALL.iter().map(|r| r.meta.name);
    let builtin = mailcfg::diagnostics::builtin::BUILTIN
        .iter()
        .map(|b| b.name);
    let probe = mailcfg::probe::rules::ALL.iter().map(|m| m.name);
    let all: BTreeSet<&str> = catalogue.chain(builtin).chain(probe).collect();
    assert_eq!(all, names.iter().copied().collect::<BTreeSet<_>>());
    for (e, c) in listed.iter().zip(codes) {
        assert_eq!(e["level"], c.level.as_str());
        assert_eq!(e["summary"], c.summary);
        assert_eq!(e["fixable"], c.fixable);
        assert_eq!(e["stage"], c.stage.as_str());
        assert_eq!(e["configurable"], c.configurable);
    }
    for r in ALL {
        let e = listed.iter().find(|e| e["name"] == r.meta.name).unwrap();
        assert_eq!(e["fixable"], r.meta.fixable);
        // Every catalogue rule cites its source (`## Why` names one, see above).
        assert!(e["source"].as_str().is_some_and(|s| !s.is_empty()), "{e}");
    }
    let by_name = |n: &str| listed.iter().find(|e| e["name"] == n).unwrap().clone();
    assert_eq!(by_name("syntax-error")["stage"], "syntax");
    assert_eq!(by_name("syntax-error")["configurable"], false);
    assert_eq!(by_name("unknown-node")["stage"], "schema");
    assert_eq!(by_name("probe-cleartext")["stage"], "probe");
    assert_eq!(by_name("probe-cleartext")["configurable"], true);
    assert_eq!(by_name("multiple-system")["stage"], "project");

    let o = run(&["rules"], &root());
    let table = stdout(&o);
    let first_words: Vec<&str> = table
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(first_words, expected);
    assert!(table.lines().next().unwrap().contains("STAGE"));
    assert!(
        table.contains("redundant-port")
            && table.lines().any(|l| l.starts_with("redundant-port")
                && l.contains(" rule ")
                && l.contains(" info ")
                && l.contains(" yes "))
    );
    assert!(table
        .lines()
        .any(|l| l.starts_with("probe-login ") && l.contains(" probe ")));
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

/// Every code any command can emit is in the one registry: read the sources and resolve what
/// each `Diagnostic::new` / `input_diagnostic` call passes as its code.
#[test]
fn every_code_in_the_source_is_registered() {
    let registered: BTreeSet<&str> = mailcfg::registry::all().iter().map(|c| c.name).collect();
    let mut files = Vec::new();
    let mut stack = vec![root().join("src")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                files.push((p, text));
            }
        }
    }
    let kebab = |s: &str| {
        !s.is_empty()
            && s.split('-').all(|w| {
                !w.is_empty()
                    && w.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            })
    };
    // (A) Every kebab-case string constant is a code (a few constants are other names).
    let not_codes = ["FORMAT"]; // compile/store.rs: the store's format name
    let mut consts = std::collections::BTreeMap::new();
    for (path, text) in &files {
        for line in text.lines() {
            let line = line.trim();
            let Some(rest) = line.split("const ").nth(1) else {
                continue;
            };
            let Some((name, value)) = rest.split_once(": &str = \"") else {
                continue;
            };
            let Some(value) = value.strip_suffix("\";") else {
                continue;
            };
            if kebab(value) && !not_codes.contains(&name) {
                assert!(
                    registered.contains(value),
                    "{}: {name} = {value:?} is not in the registry",
                    path.display()
                );
                consts.insert(name.to_string(), value.to_string());
            }
        }
    }
    assert!(
        consts.len() >= 20,
        "only {} code constants found",
        consts.len()
    );
    // (B) Every rule and probe check defined in the source is registered.
    let mut defined = 0;
    for (path, text) in &files {
        for (i, _) in text.match_indices("RuleMeta {") {
            let Some(at) = text[i..].find("name: \"") else {
                continue;
            };
            let rest = &text[i + at + 7..];
            let name = &rest[..rest.find('"').unwrap()];
            if kebab(name) {
                assert!(registered.contains(name), "{}: rule {name}", path.display());
                defined += 1;
            }
        }
        for (i, _) in text.match_indices("probe_rule!(\n") {
            let rest = &text[i..];
            let name = rest.split('"').nth(1).unwrap();
            assert!(
                registered.contains(name),
                "{}: probe check {name}",
                path.display()
            );
            defined += 1;
        }
    }
    assert!(defined >= 55, "only {defined} rule definitions found");
    // (C) What each emitting call passes as its code: a registered literal, a registered
    // constant, or one of the known expressions that carry a registered name.
    let dynamic = ["rule", "e.rule", "m.name", "meta.name"];
    let mut calls = 0;
    for (path, text) in &files {
        for (call, arg) in [("Diagnostic::new(", 0), ("input_diagnostic(", 1)] {
            for (i, _) in text.match_indices(call) {
                let before = &text[..i];
                if before.ends_with("fn ") || before.ends_with("pub fn ") {
                    continue;
                }
                let args = &text[i + call.len()..];
                let Some(expr) = args.split(',').nth(arg) else {
                    continue;
                };
                let expr = expr.trim();
                // `fn input_diagnostic(file: FileId, …)` is the definition, not a call.
                if expr.contains(':') && !expr.contains("::") {
                    continue;
                }
                calls += 1;
                let last = expr.rsplit("::").next().unwrap();
                let ok = if let Some(lit) = expr.strip_prefix('"') {
                    registered.contains(lit.trim_end_matches('"'))
                } else if last
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b == b'_' || b.is_ascii_digit())
                {
                    consts
                        .get(last)
                        .is_some_and(|v| registered.contains(v.as_str()))
                } else {
                    dynamic.contains(&expr)
                };
                assert!(
                    ok,
                    "{}: `{call}{expr}, …` emits a code this test cannot find in the registry; \
                     register it (or, for a new way of passing a registered name, extend `dynamic`)",
                    path.display()
                );
            }
        }
    }
    assert!(calls >= 20, "only {calls} emitting calls found");
}

#[test]
fn the_configuration_levels_probe_checks_and_refuses_built_in_ones() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a.kdl"), ALL[0].meta.example("good").unwrap()).unwrap();
    std::fs::write(
        d.join("mailcfg.kdl"),
        "rules {\n    probe-cleartext \"allow\"\n}\n",
    )
    .unwrap();
    let o = run(&["check", "--color", "never", "."], d);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    std::fs::write(
        d.join("mailcfg.kdl"),
        "rules {\n    syntax-error \"allow\"\n}\n",
    )
    .unwrap();
    let o = run(&["check", "--color", "never", "."], d);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("`syntax-error` is a built-in check of the syntax stage; its level cannot be configured"),
        "{err}"
    );
    for (name, says) in [
        ("syntax-error", "cannot be configured"),
        ("unknown-node", "cannot be configured"),
        ("probe-cleartext", "can be changed in mailcfg.kdl"),
        ("multiple-system", "stage: project"),
    ] {
        let o = run(&["explain", name], &root());
        assert_eq!(o.status.code(), Some(0), "{name}");
        assert!(stdout(&o).contains(says), "{name}: {}", stdout(&o));
    }
}
