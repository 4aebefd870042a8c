//! The rule catalogue: every rule's documented examples run through the real binary, the
//! `rules` / `explain` commands, the generated docs/rules.md, and the shipped examples.

use crate::harness::stdout;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use mailcfg::registry::catalogue;
use mailcfg::rules::ALL;

fn bin() -> Command {
    let mut c = Command::new(crate::harness::BIN);
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
    PathBuf::from(crate::harness::ROOT)
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
        // Issue 14, point 7: each rule carries its citation as data; a citation of the CSM page
        // names the step (or the introduction), and every RFC citation names its section.
        assert!(!m.source.is_empty(), "{}: no source", m.name);
        if m.source
            .contains("Define Global POP or IMAP Account Settings")
        {
            assert!(
                m.source.contains("step") || m.source.contains("introduction"),
                "{}: cites the CSM page without a step: {}",
                m.name,
                m.source
            );
        }
        for rfc in m.source.split("RFC ").skip(1) {
            let cited = rfc.split([';', ',']).next().unwrap_or("");
            assert!(
                cited.contains('§'),
                "{}: RFC {cited} is cited without a section",
                m.name
            );
        }
        assert!(
            !m.docs.contains("Define a global POP/IMAP account"),
            "{}: cites a page that does not exist",
            m.name
        );
        assert!(m.example("bad").is_some(), "{}: no ```kdl bad", m.name);
        assert!(m.example("good").is_some(), "{}: no ```kdl good", m.name);
    }
    let names: BTreeSet<&str> = ALL.iter().map(|r| r.meta.name).collect();
    assert_eq!(names.len(), ALL.len(), "rule names are unique");
    for b in mailcfg::registry::builtin::BUILTIN.iter().map(|b| &b.name) {
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
    let builtin = mailcfg::registry::builtin::BUILTIN.iter().map(|b| b.name);
    let probe = mailcfg::registry::probe::ALL.iter().map(|m| m.name);
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
                let named = expr
                    .split_once("static_name(\"")
                    .and_then(|(_, rest)| rest.split_once('"'))
                    .map(|(name, _)| name);
                let ok = if let Some(name) = named {
                    registered.contains(name)
                } else if let Some(lit) = expr.strip_prefix('"') {
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

// ---------------------------------------------------------------------------------------------
// Issue 14: each point tested with the CSM 10.4 page's own words ("Define Global POP or IMAP
// Account Settings"); each test is named after the step it comes from.

/// Checks `files` as the only files of a fresh directory with `--format json`: (exit code, the
/// diagnostics).
fn check_json(files: &[(&str, &str)]) -> (i32, Vec<serde_json::Value>) {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let o = run(&["check", "--format", "json", "."], dir.path());
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json report");
    let diags = report["diagnostics"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    (o.status.code().unwrap_or(-1), diags)
}

fn of_rule<'a>(diags: &'a [serde_json::Value], rule: &str) -> Vec<&'a serde_json::Value> {
    diags.iter().filter(|d| d["rule"] == rule).collect()
}

/// An IMAP account in the page's shape, with `{incoming}`, `{outgoing}` and `{extra}` filled in.
fn account(incoming: &str, outgoing: &str, extra: &str) -> String {
    format!(
        "account \"Helpdesk\" {{\n    protocol \"imap\"\n    incoming {{\n        server \"imap.example.com\"\n        security \"ssl\"\n{incoming}    }}\n    outgoing {{\n        server \"smtp.example.com\"\n        security \"ssl\"\n{outgoing}    }}\n{extra}}}\n"
    )
}

const SHARED_LOGIN: &str =
    "        user \"helpdesk@example.com\"\n        password env=\"HELPDESK_PASSWORD\"\n";

/// Point 1. Step 13: "Optional: Select the From Settings page and specify the addresses and
/// settings associated with outbound emails." An account offered to users without `from` is a
/// normal CSM account: information at most, never an error.
#[test]
fn step_13_from_settings_are_optional() {
    let text = account(
        "",
        "        auth \"same-as-incoming\"\n",
        "    available-to-users #true\n",
    );
    let (code, diags) = check_json(&[("a.kdl", &text)]);
    assert_eq!(code, 0, "{diags:#?}");
    let found = of_rule(&diags, "no-from-address");
    assert_eq!(found.len(), 1, "{diags:#?}");
    assert_eq!(found[0]["level"], "info");
    assert!(!diags.iter().any(|d| d["level"] == "error"), "{diags:#?}");
}

/// Point 2. Step 10 note: "To allow Users to enter their own credentials, leave the user name and
/// password blank and ensure that the padlock button is unlocked Allow E-mail Account Override."
#[test]
fn step_10_blank_login_unlocked_is_users_own() {
    let blank_log_on = "        auth \"log-on\"\n";
    // Offered to users, padlocks at their defaults (credentials unlocked): no finding.
    let text = account("", blank_log_on, "    available-to-users #true\n");
    let (code, diags) = check_json(&[("a.kdl", &text)]);
    assert!(
        of_rule(&diags, "smtp-log-on-incomplete").is_empty(),
        "{diags:#?}"
    );
    assert_eq!(code, 0, "{diags:#?}");
    // "If it is locked, click it and select Users Can Change Credentials": locked, nobody can.
    let locked = account(
        "",
        &format!("{blank_log_on}        lock credentials=#true\n"),
        "    available-to-users #true\n",
    );
    let (_, diags) = check_json(&[("a.kdl", &locked)]);
    assert_eq!(
        of_rule(&diags, "smtp-log-on-incomplete").len(),
        1,
        "{diags:#?}"
    );
    // Not offered to users ("users never see the account"): nobody can either.
    let monitor = account(SHARED_LOGIN, blank_log_on, "");
    let (code, diags) = check_json(&[("a.kdl", &monitor)]);
    assert_eq!(
        of_rule(&diags, "smtp-log-on-incomplete").len(),
        1,
        "{diags:#?}"
    );
    assert_eq!(code, 1);
}

/// Point 3. "Setting up a POP or IMAP account requires: … Incoming (POP or IMAP) and outgoing
/// (SMTP) email server information", and step 12: "All required Incoming and Outgoing Server
/// information must be completed before testing the account."
#[test]
fn step_12_outgoing_server_information_is_required() {
    let text = "account \"Helpdesk\" {\n    protocol \"imap\"\n    incoming {\n        server \"imap.example.com\"\n        security \"ssl\"\n        user \"helpdesk@example.com\"\n        password env=\"HELPDESK_PASSWORD\"\n    }\n}\n";
    let (code, diags) = check_json(&[("a.kdl", text)]);
    assert_eq!(code, 1, "{diags:#?}");
    let missing = of_rule(&diags, "outgoing-server-missing");
    assert_eq!(missing.len(), 1, "{diags:#?}");
    assert_eq!(missing[0]["level"], "error");
    // On the account's name (1:9), where the block is missing.
    assert_eq!(missing[0]["location"]["line"], 1);
    assert_eq!(missing[0]["location"]["column"], 9);
    // A rule, not a schema error: the rest of the account is still checked in the same run.
    assert!(of_rule(&diags, "missing-node").is_empty(), "{diags:#?}");
    assert_eq!(
        of_rule(&diags, "conversation-id-off-for-monitor").len(),
        1,
        "{diags:#?}"
    );
    // `compile` refuses it, even with the rule allowed in mailcfg.kdl.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.kdl"), text).unwrap();
    let o = run(&["compile", ".", "--out", "store.json"], dir.path());
    assert_eq!(o.status.code(), Some(1));
    assert!(!dir.path().join("store.json").exists());
    std::fs::write(
        dir.path().join("mailcfg.kdl"),
        "rules {\n    outgoing-server-missing \"allow\"\n}\n",
    )
    .unwrap();
    let o = run(
        &["compile", "--color", "never", ".", "--out", "store.json"],
        dir.path(),
    );
    let report = format!("{}{}", stdout(&o), String::from_utf8_lossy(&o.stderr));
    assert_eq!(o.status.code(), Some(1), "{report}");
    assert!(
        report.contains("has no outgoing server; the store needs one"),
        "{report}"
    );
    assert!(!dir.path().join("store.json").exists());
}

/// Point 4. Step 10a: the outgoing user name and password belong to "Log on Using: … specify a
/// user name and password that is different from the incoming server settings". With "Use Same
/// Settings as My Incoming Server" (or no authentication) they are ignored: warned, left out of
/// the store, and a credential named only there is reported as such.
#[test]
fn step_10a_outgoing_login_without_log_on_is_ignored() {
    let stray = "        auth \"same-as-incoming\"\n        user \"smtp@example.com\"\n        password env=\"SMTP_PASSWORD\"\n        credential \"smtp-only\"\n";
    let cred = "credential \"smtp-only\" {\n    type \"google\"\n    service-account \"s@p.iam.gserviceaccount.com\"\n    private-key file=\"k.json\"\n}\n";
    let text = account(SHARED_LOGIN, stray, "    conversation-id \"subject\"\n");
    let (_, diags) = check_json(&[("a.kdl", &text), ("c.kdl", cred)]);
    let ignored = of_rule(&diags, "outgoing-login-ignored");
    assert_eq!(
        ignored.len(),
        3,
        "user, password and credential: {diags:#?}"
    );
    assert!(ignored.iter().all(|d| d["level"] == "warning"));
    let unused = of_rule(&diags, "unused-credential");
    assert_eq!(unused.len(), 1, "{diags:#?}");
    assert!(
        unused[0]["message"]
            .as_str()
            .unwrap()
            .contains("which ignores it (auth is not \"log-on\")"),
        "{unused:#?}"
    );
    // Warnings do not block compile; the store carries no contradiction for the deploy job.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.kdl"), &text).unwrap();
    std::fs::write(dir.path().join("c.kdl"), cred).unwrap();
    let o = run(&["compile", ".", "--out", "store.json"], dir.path());
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let store: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("store.json")).unwrap()).unwrap();
    let out = &store["accounts"][0]["outgoing"];
    assert_eq!(out["auth"], "same-as-incoming");
    assert!(out["user"].is_null() && out["password"].is_null() && out["credential"].is_null());
}

/// Point 5. The introduction's note: "The padlock button in each of the sections determines if
/// users can override administrative settings … By default, server settings are locked and
/// credentials are unlocked." Each section has its own padlock; the account's `lock` is a
/// shorthand for both, and a section's own `lock` wins.
#[test]
fn introduction_note_padlocks_are_per_section() {
    // Only the incoming section's credentials padlock is locked, and its login is blank.
    let text = account(
        "        lock credentials=#true\n",
        "        auth \"log-on\"\n",
        "    available-to-users #true\n",
    );
    let (_, diags) = check_json(&[("a.kdl", &text)]);
    let locked = of_rule(&diags, "locked-blank-credentials");
    assert_eq!(locked.len(), 1, "{diags:#?}");
    assert_eq!(
        locked[0]["kdl_path"],
        "account \"Helpdesk\" › incoming › lock › credentials"
    );
    // The outgoing section keeps the default (unlocked): its blank "Log on Using" is the users'.
    assert!(
        of_rule(&diags, "smtp-log-on-incomplete").is_empty(),
        "{diags:#?}"
    );

    // The account-level shorthand locks both sections' server settings open…
    let open = account(
        SHARED_LOGIN,
        "        auth \"same-as-incoming\"\n",
        "    lock server=#false\n",
    );
    let (_, diags) = check_json(&[("a.kdl", &open)]);
    assert_eq!(
        of_rule(&diags, "server-settings-unlocked").len(),
        2,
        "{diags:#?}"
    );
    // …unless a section's own padlock says otherwise.
    let mixed = account(
        SHARED_LOGIN,
        "        auth \"same-as-incoming\"\n        lock server=#true\n",
        "    lock server=#false\n",
    );
    let (_, diags) = check_json(&[("a.kdl", &mixed)]);
    let unlocked = of_rule(&diags, "server-settings-unlocked");
    assert_eq!(unlocked.len(), 1, "{diags:#?}");
    assert_eq!(
        unlocked[0]["kdl_path"],
        "account \"Helpdesk\" › lock › server"
    );
    assert!(unlocked[0]["message"]
        .as_str()
        .unwrap()
        .contains("incoming"));
}

/// Point 6. Step 14: "Optional: Select the Trusted Agents page and define how Trusted Agents
/// should be used with this account." Any Trusted Agent, or the Trusted Agents of one group.
#[test]
fn step_14_trusted_agents_any_or_one_group() {
    for choice in ["trusted-agent \"any\"", "trusted-agent group=\"Relays\""] {
        let text = account(
            SHARED_LOGIN,
            "        auth \"same-as-incoming\"\n",
            &format!("    conversation-id \"subject\"\n    {choice}\n"),
        );
        let system = "system {\n    conversation-prefix \"HELP\"\n}\n";
        let (code, diags) = check_json(&[("a.kdl", &text), ("s.kdl", system)]);
        assert_eq!(code, 0, "{choice}: {diags:#?}");
        assert!(diags.is_empty(), "{choice}: {diags:#?}");
    }
    for wrong in [
        "trusted-agent \"all\"",
        "trusted-agent",
        "trusted-agent group=\"R\" any=#true",
    ] {
        let text = account(
            SHARED_LOGIN,
            "        auth \"same-as-incoming\"\n",
            &format!("    {wrong}\n"),
        );
        let (code, diags) = check_json(&[("a.kdl", &text)]);
        assert_eq!(code, 1, "{wrong}: {diags:#?}");
        assert_eq!(
            diags.iter().filter(|d| d["level"] == "error").count(),
            1,
            "{wrong}: {diags:#?}"
        );
    }
}

/// Point 7. Rules cite the page by its title and step, and other sources exactly; the citation
/// is data: `mailcfg rules --format json` and `mailcfg explain` show it.
#[test]
fn step_6b_citations_name_the_page_and_step() {
    let o = run(&["rules", "--format", "json"], &root());
    let rules: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    // The registry lists every code; the catalogue rules are those of the rule stages.
    let rules: Vec<&serde_json::Value> = rules
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["stage"] == "rule" || r["stage"] == "suppression")
        .collect();
    assert_eq!(rules.len(), ALL.len());
    for r in &rules {
        let source = r["source"].as_str().unwrap_or_default();
        assert!(!source.is_empty(), "{r}");
    }
    let imap_only = rules
        .iter()
        .find(|r| r["name"] == "security-imap-only")
        .unwrap();
    assert_eq!(
        imap_only["source"],
        "CSM 10.4, \"Define Global POP or IMAP Account Settings\", step 6b (\"SSL with No Authentication (IMAP only)\", \"TLS (IMAP only)\")"
    );
    let explain = stdout(&run(&["explain", "security-imap-only"], &root()));
    assert!(
        explain
            .contains("Source: CSM 10.4, \"Define Global POP or IMAP Account Settings\", step 6b"),
        "{explain}"
    );
    // A "should" in a source is at most a warning; the retirements of password logins by
    // Google and Microsoft are warnings, and an Office 365 credential is flagged, not refused.
    for (name, level) in [
        ("google-password-auth", "warning"),
        ("microsoft-basic-auth", "warning"),
        ("office365-credential-on-pop-imap", "warning"),
        ("no-from-address", "info"),
    ] {
        let r = rules.iter().find(|r| r["name"] == name).unwrap();
        assert_eq!(r["level"], level, "{name}");
    }
}

/// Point 8. Step 5a "Name: Provide a name for the account", 7a "User Name: Provide the user
/// name", 7d "Mailbox (IMAP only): Select the mailbox", 14 (the Trusted Agents group): an empty
/// string is none of these, and is an error at its span; a padded name is a warning.
#[test]
fn step_5a_7a_7d_14_empty_values_are_errors_at_their_span() {
    let text = "account \"\" {\n    protocol \"imap\"\n    incoming {\n        server \"imap.example.com\"\n        security \"ssl\"\n        user \"\"\n        password env=\"\"\n        mailbox \"\"\n    }\n    outgoing {\n        server \"smtp.example.com\"\n        security \"ssl\"\n        auth \"log-on\"\n        user \"u@example.com\"\n        password file=\"\"\n    }\n    trusted-agent group=\"\"\n}\n";
    let (code, diags) = check_json(&[("a.kdl", text)]);
    assert_eq!(code, 1);
    let empty = of_rule(&diags, "empty-value");
    let at: BTreeSet<(u64, u64)> = empty
        .iter()
        .map(|d| {
            assert_eq!(d["level"], "error");
            (
                d["location"]["line"].as_u64().unwrap(),
                d["location"]["column"].as_u64().unwrap(),
            )
        })
        .collect();
    // account "" (1:9), user "" (6:14), env="" (7:22), mailbox "" (8:17), file="" (15:23),
    // group="" (17:25): each on the empty string itself.
    let want: BTreeSet<(u64, u64)> = [(1, 9), (6, 14), (7, 22), (8, 17), (15, 23), (17, 25)]
        .into_iter()
        .collect();
    assert_eq!(at, want, "{empty:#?}");
    for d in &empty {
        assert_eq!(
            d["location"]["end_column"].as_u64().unwrap()
                - d["location"]["column"].as_u64().unwrap(),
            2,
            "{d}"
        );
    }

    let padded = account(
        "        user \" helpdesk@example.com\"\n        password env=\"HELPDESK_PASSWORD \"\n",
        "        auth \"same-as-incoming\"\n",
        "",
    )
    .replace("account \"Helpdesk\"", "account \"Helpdesk \"");
    let (_, diags) = check_json(&[("a.kdl", &padded)]);
    let warned = of_rule(&diags, "padded-value");
    assert_eq!(warned.len(), 3, "{diags:#?}");
    assert!(warned.iter().all(|d| d["level"] == "warning"));
    assert!(of_rule(&diags, "empty-value").is_empty());
}

/// "Speak the GUI's words": the help of a finding, `explain` and docs/format.md name the GUI
/// label next to the KDL node, e.g. step 5b's "Make Account Available to Users".
#[test]
fn step_5b_findings_and_explain_name_the_gui_label() {
    let text = account(
        "",
        "        auth \"same-as-incoming\"\n",
        "    available-to-users #true\n",
    );
    let (_, diags) = check_json(&[("a.kdl", &text)]);
    let from = of_rule(&diags, "no-from-address");
    assert!(
        from[0]["help"]
            .as_str()
            .unwrap()
            .contains("`available-to-users` — \"Make Account Available to Users\" in CSM"),
        "{from:#?}"
    );
    let explain = stdout(&run(&["explain", "smtp-log-on-incomplete"], &root()));
    assert!(explain.contains("## In the CSM GUI"), "{explain}");
    assert!(
        explain.contains(
            "Requires Authentication › Use Same Settings as My Incoming Server / Log on Using"
        ),
        "{explain}"
    );
    let format = std::fs::read_to_string(root().join("docs/format.md")).unwrap();
    for label in [
        "Name",
        "Make Account Available to Users",
        "Use Credentials-Based Authentication",
        "Incoming Mail Server",
        "SSL with No Authentication (IMAP only)",
        "TLS (IMAP only)",
        "Custom Port",
        "User Name",
        "Password",
        "Credentials",
        "Mailbox (IMAP only)",
        "Outgoing Mail Server (SMTP)",
        "Requires Authentication",
        "Use Same Settings as My Incoming Server",
        "Log on Using",
        "Add Conversation IDs to Outgoing Messages",
        "Add to Subject Line",
        "Add to Body",
        "Allow E-mail Account Override",
        "Users Can Change Credentials",
        "From Settings",
        "Trusted Agents",
    ] {
        assert!(
            format.contains(label),
            "docs/format.md lacks the GUI label {label:?}"
        );
    }
    assert!(format.contains("| child | value | default | CSM GUI label (step) |"));
}

/// "Report every problem in one run": two unknown top-level nodes and a POP account with
/// `security "tls"` (step 6b: "TLS (IMAP only)") used to take three fix-and-rerun rounds.
#[test]
fn step_6b_three_rounds_repro_takes_one_run() {
    let text = "foo 1\nbar 2\naccount \"Helpdesk\" {\n    protocol \"pop\"\n    incoming {\n        server \"pop.example.com\"\n        security \"tls\"\n        user \"helpdesk@example.com\"\n        password env=\"HELPDESK_PASSWORD\"\n    }\n    outgoing {\n        server \"smtp.example.com\"\n        security \"ssl\"\n        auth \"same-as-incoming\"\n    }\n}\n";
    let (_, diags) = check_json(&[("a.kdl", text)]);
    let unknown: Vec<u64> = of_rule(&diags, "unknown-node")
        .iter()
        .map(|d| d["location"]["line"].as_u64().unwrap())
        .collect();
    assert_eq!(unknown, vec![1, 2], "{diags:#?}");
    assert_eq!(of_rule(&diags, "security-imap-only").len(), 1, "{diags:#?}");
}

/// Every unknown node or property of a block is reported, not only the first one.
#[test]
fn every_unknown_node_and_property_is_reported() {
    let text = "foo 1\nbar 2\nbaz 3\naccount \"Helpdesk\" {\n    protocol \"imap\"\n    incoming {\n        server \"imap.example.com\"\n        foo 1\n        bar 2\n        baz 3\n    }\n    outgoing {\n        server \"smtp.example.com\"\n    }\n    lock zed=#true foo=#true bar=#false\n}\n";
    let (_, diags) = check_json(&[("a.kdl", text)]);
    assert_eq!(of_rule(&diags, "unknown-node").len(), 6, "{diags:#?}");
    assert_eq!(of_rule(&diags, "unknown-property").len(), 3, "{diags:#?}");
}

/// A value of the wrong type for an enumeration is one error (`wrong-type`, with the allowed
/// values), not also `invalid-value` at the same place.
#[test]
fn step_3_and_6b_enum_of_the_wrong_type_is_one_error() {
    let text = "account \"Helpdesk\" {\n    protocol 1\n    incoming {\n        server \"imap.example.com\"\n        security #true\n    }\n    outgoing {\n        server \"smtp.example.com\"\n    }\n}\n";
    let (_, diags) = check_json(&[("a.kdl", text)]);
    assert_eq!(diags.len(), 2, "{diags:#?}");
    for (d, options) in diags
        .iter()
        .zip(["imap, pop", "auto, basic, ssl, ssl-no-auth, tls"])
    {
        assert_eq!(d["rule"], "wrong-type");
        assert!(d["help"].as_str().unwrap().contains(options), "{d}");
    }
}

/// `credential ""` is one problem, so one finding: the empty reference (`empty-value`), not
/// also a reference to an undefined credential.
#[test]
fn an_empty_credential_reference_is_one_finding() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let hr = std::fs::read_to_string(root().join("examples/accounts/hr.kdl")).unwrap();
    let text = hr.replace(
        "password file=\"/run/secrets/hr-imap-password\"",
        "credential \"\"",
    );
    assert_ne!(text, hr);
    std::fs::write(d.join("hr.kdl"), &text).unwrap();
    let out = run(&["check", "--format", "concise", "hr.kdl"], d);
    let report = stdout(&out);
    let line = text
        .lines()
        .position(|l| l.contains("credential \"\""))
        .unwrap()
        + 1;
    let on_line: Vec<&str> = report
        .lines()
        .filter(|l| l.starts_with(&format!("hr.kdl:{line}:")))
        .collect();
    assert_eq!(on_line.len(), 1, "{report}");
    assert!(on_line[0].contains("error[empty-value]"), "{report}");
    assert!(!report.contains("unknown-credential"), "{report}");
    // A reference to a credential that does not exist is still unknown-credential.
    std::fs::write(
        d.join("hr.kdl"),
        text.replace("credential \"\"", "credential \"x\""),
    )
    .unwrap();
    let report = stdout(&run(&["check", "--format", "concise", "hr.kdl"], d));
    assert!(report.contains("error[unknown-credential]"), "{report}");
}
