//! `mailcfg rules --format json` lists every code any command emits: the codes are collected
//! from what the commands actually report — check over every example, fixture and seed tree,
//! every rule's documented examples, broken configuration, hostile files, compile's own refusals
//! and a probe of a closed loopback port — and each must be listed. (rules.rs also scans the
//! sources, which covers codes only a live server can provoke.)

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::harness::{run, stdout, write, ROOT};

/// The `rule` of every finding in a JSON report (check's, or probe's findings format).
fn json_codes(out: &Output, what: &str) -> BTreeSet<String> {
    let report: Value = serde_json::from_str(&stdout(out)).unwrap_or_else(|e| {
        panic!(
            "{what}: not a JSON report ({e}):\n{}{}",
            stdout(out),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    report["diagnostics"]
        .as_array()
        .unwrap_or_else(|| panic!("{what}: no diagnostics array: {report}"))
        .iter()
        .map(|d| {
            d["rule"]
                .as_str()
                .expect("every finding has a rule")
                .to_string()
        })
        .collect()
}

fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.split('-').all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// The codes of a human report (compile prints only this format): each finding starts with its
/// code alone on a line, followed by the message marked with a symbol (× ⚠ ☞).
fn human_codes(text: &str) -> BTreeSet<String> {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let mut codes = BTreeSet::new();
    for (i, line) in lines.iter().enumerate() {
        let next = lines[i + 1..].iter().find(|l| !l.is_empty());
        if is_code(line) && next.is_some_and(|n| !n.starts_with(|c: char| c.is_ascii())) {
            codes.insert(line.to_string());
        }
    }
    codes
}

fn check_json(dir: &Path, args: &[&str]) -> BTreeSet<String> {
    let mut all = vec!["check", "--format", "json"];
    all.extend_from_slice(args);
    let out = run(dir, &all, None);
    assert!(
        matches!(out.status.code(), Some(0..=2)),
        "{all:?} in {}: {:?}",
        dir.display(),
        out.status
    );
    json_codes(&out, &format!("{all:?} in {}", dir.display()))
}

#[test]
fn every_code_the_commands_emit_is_listed_by_rules() {
    let root = Path::new(ROOT);
    let mut seen: BTreeSet<String> = BTreeSet::new();
    // Every example and fixture tree, and the fuzz seeds (files without an extension, named).
    for tree in [
        "examples/accounts",
        "examples/broken",
        "tests/data/formats/project",
        "tests/data/formats/docs-example",
        "tests/data/kdl-spec/test_cases/input",
    ] {
        seen.extend(check_json(&root.join(tree), &["."]));
    }
    let seeds: Vec<String> = std::fs::read_dir(root.join("fuzz/seeds"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let mut args: Vec<&str> = seeds.iter().map(String::as_str).collect();
    args.sort();
    seen.extend(check_json(root, &args));
    // Every rule's documented examples, each file on its own (a tree without a marker).
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (i, rule) in mailcfg::rules::ALL.iter().enumerate() {
        for kind in ["bad", "good"] {
            if let Some(text) = rule.meta.example(kind) {
                write(d, &format!("{i:02}-{kind}/account.kdl"), text);
            }
        }
    }
    for e in std::fs::read_dir(d).unwrap() {
        seen.extend(check_json(&e.unwrap().path(), &["."]));
    }
    // A broken configuration file, named as pre-commit names it, and hostile files.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "mailcfg.kdl",
        "rules {\n    auto-securty \"allow\"\n    multiple-system \"allow\"\n}\nrulez {\n}\n",
    );
    write(d, "syntax.kdl", "account \"A\" {\n    protocol \"imap\"\n");
    write(d, "empty.kdl", "// nothing yet\n");
    std::fs::write(d.join("nul.kdl"), b"account \"A\" {\0}\n").unwrap();
    std::fs::write(d.join("binary.kdl"), b"\0\x01\x02binary").unwrap();
    write(
        d,
        "long.kdl",
        &format!("account \"{}\" {{\n}}\n", "x".repeat(70 * 1024)),
    );
    write(
        d,
        "argument.kdl",
        "account \"A\" {\n    protocol \"imap\"\n    incoming \"x\" {\n        server \"s\"\n    }\n}\n",
    );
    std::fs::write(d.join("latin1.kdl"), b"account \"Caf\xe9\" {}\n").unwrap();
    let big = "// padding\n".repeat(16 * 1024 * 1024 / 11 + 1);
    write(d, "big.kdl", &big);
    write(
        d,
        "many.kdl",
        &"account \"A\" { unknown-node 1 }\n".repeat(150),
    );
    write(
        d,
        "deep.kdl",
        &format!("{}{}", "a {".repeat(300), "}".repeat(300)),
    );
    write(
        d,
        "extra.kdl",
        "account \"A\" \"B\" colour=\"red\" {\n    protocol \"imap\"\n}\n",
    );
    write(
        d,
        "v1.kdl",
        "account \"V1\" {\n    available-to-users true\n}\n",
    );
    seen.extend(check_json(
        d,
        &[
            "mailcfg.kdl",
            "syntax.kdl",
            "empty.kdl",
            "nul.kdl",
            "binary.kdl",
            "long.kdl",
            "argument.kdl",
            "latin1.kdl",
            "big.kdl",
            "many.kdl",
            "deep.kdl",
            "v1.kdl",
            "extra.kdl",
            "missing.kdl",
        ],
    ));
    // compile's own refusals (a clean tree as far as check is concerned): a literal secret,
    // and a secret reference that cannot be resolved.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join(".git")).unwrap();
    let hr = std::fs::read_to_string(root.join("examples/accounts/hr.kdl")).unwrap();
    write(d, "hr.kdl", &hr);
    write(
        d,
        "lab.kdl",
        &hr.replace("\"HR\"", "\"Lab\"")
            .replace("hr@example.com", "lab@example.com")
            .replace("Shared/HR", "Shared/Lab")
            .replace(
                "password file=\"/run/secrets/hr-imap-password\"",
                "// mailcfg-ignore: inline-secret reason=\"lab\"\n        password \"hunter2\"",
            ),
    );
    write(
        d,
        "system.kdl",
        "system {\n    conversation-prefix \"LAB\"\n}\n",
    );
    for args in [
        vec!["compile", ".", "--out", "-"],
        vec!["compile", "hr.kdl", "--resolve-secrets", "--out", "-"],
    ] {
        let out = run(d, &args, None);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let found = human_codes(&String::from_utf8_lossy(&out.stderr));
        assert!(!found.is_empty(), "{args:?}: no code in {:?}", out);
        seen.extend(found);
    }
    // probe against a loopback port nothing listens on, and one that accepts connections but
    // never answers (no mail server needed).
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join(".git")).unwrap();
    write(
        d,
        "closed.kdl",
        &format!(
            "account \"Closed\" {{\n    protocol \"imap\"\n    incoming {{\n        server \"127.0.0.1\"\n        port {port}\n        security \"ssl\"\n        user \"closed@example.com\"\n        password env=\"CLOSED_PASSWORD\"\n    }}\n    outgoing {{\n        server \"127.0.0.1\"\n        port {port}\n        security \"ssl\"\n        auth \"same-as-incoming\"\n    }}\n    conversation-id \"subject\"\n}}\nsystem {{\n    conversation-prefix \"C\"\n}}\n"
        ),
    );
    write(
        d,
        "silent.kdl",
        &std::fs::read_to_string(d.join("closed.kdl"))
            .unwrap()
            .replace("\"Closed\"", "\"Silent\"")
            .replace("closed@", "silent@")
            .replace(&format!("port {port}"), &format!("port {silent_port}"))
            .replace("system {\n    conversation-prefix \"C\"\n}\n", ""),
    );
    let out = run(
        d,
        &[
            "probe",
            "--format",
            "json",
            "--timeout",
            "2",
            "--allow-check-errors",
            ".",
        ],
        None,
    );
    drop(silent);
    let probed = json_codes(&out, "probe of a closed port and a silent one");
    assert!(
        probed.iter().any(|c| c.starts_with("probe-")),
        "the probe reported no probe check: {probed:?}"
    );
    seen.extend(probed);

    seen.extend(probe_live_servers());

    let listed: Value =
        serde_json::from_str(&stdout(&run(root, &["rules", "--format", "json"], None))).unwrap();
    let listed: BTreeSet<String> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    let unlisted: Vec<&String> = seen.difference(&listed).collect();
    assert!(
        unlisted.is_empty(),
        "emitted but not listed by `mailcfg rules`: {unlisted:?}"
    );
    // The collection is real: most of the registry was provoked (more with live servers).
    assert!(
        seen.len() * 10 >= listed.len() * 7,
        "only {} of {} codes provoked: {seen:?}",
        seen.len(),
        listed.len()
    );
    eprintln!(
        "{} of {} listed codes provoked; not provoked: {:?}",
        seen.len(),
        listed.len(),
        listed.difference(&seen).collect::<Vec<_>>()
    );
}

/// With the loopback Dovecot/Postfix of scripts/mailservers.sh (`MAILSRV_DIR` set, as
/// scripts/test.sh does): one probe of accounts that each provoke a failure the servers are set
/// up for. Without them, nothing (the probe tests say they were skipped).
fn probe_live_servers() -> BTreeSet<String> {
    let Some(dir) = std::env::var_os("MAILSRV_DIR") else {
        eprintln!("codes: MAILSRV_DIR is unset; the live probe checks are not collected");
        return BTreeSet::new();
    };
    let env_text = std::fs::read_to_string(Path::new(&dir).join("env")).expect("$MAILSRV_DIR/env");
    let get = |k: &str| -> String {
        env_text
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .unwrap_or_else(|| panic!("{k} missing from $MAILSRV_DIR/env"))
            .to_string()
    };
    let account = |name: &str, server: &str, security: &str, port: &str, extra: &str| {
        format!(
            "account \"{name}\" {{\n    protocol \"imap\"\n    incoming {{\n        server \"{server}\"\n        security \"{security}\"\n        port {port}\n        user \"testuser\"\n        password env=\"MAILCFG_CODES_PW\"\n{extra}    }}\n    outgoing {{\n        server \"localhost\"\n        security \"ssl\"\n        port 10465\n        auth \"same-as-incoming\"\n    }}\n    from {{\n        address \"Test User <testuser@localhost>\" default=#true\n        address \"{}\"\n    }}\n}}\n",
            get("MAILSRV_REJECTED_SENDER")
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join(".git")).unwrap();
    let plain_port = get("MAILSRV_IMAP_PLAIN_PORT");
    for (file, text) in [
        (
            "expired",
            account("Expired", &get("MAILSRV_HOST_EXPIRED"), "ssl", "10993", ""),
        ),
        (
            "selfsigned",
            account(
                "SelfSigned",
                &get("MAILSRV_HOST_SELFSIGNED"),
                "ssl",
                "10993",
                "",
            ),
        ),
        (
            "mismatch",
            account("Mismatch", "localhost", "ssl", "10143", ""),
        ),
        (
            "nostarttls",
            account("NoStarttls", "127.0.0.1", "tls", &plain_port, ""),
        ),
        (
            "plain",
            account(
                "Plain",
                &get("MAILSRV_HOST_NOPLAINTEXT"),
                "basic",
                "10143",
                "",
            ),
        ),
        ("auto", account("Auto", "localhost", "auto", "10143", "")),
        (
            "mailbox",
            account(
                "Mailbox",
                "localhost",
                "ssl",
                "10993",
                "        mailbox \"inbox-typo\"\n",
            ),
        ),
        (
            "wrongpw",
            account("WrongPw", "localhost", "ssl", "10993", "")
                .replace("MAILCFG_CODES_PW", "MAILCFG_CODES_WRONG_PW"),
        ),
    ] {
        write(d, &format!("{file}.kdl"), &text);
    }
    write(
        d,
        "system.kdl",
        "system {\n    conversation-prefix \"LIVE\"\n}\n",
    );
    let out = std::process::Command::new(crate::harness::BIN)
        .current_dir(d)
        .args([
            "probe",
            "--format",
            "json",
            "--timeout",
            "3",
            "--allow-check-errors",
        ])
        .args(["--ca-file", &get("MAILSRV_CA")])
        .arg(".")
        .env("MAILCFG_CODES_PW", get("MAILSRV_PASS"))
        .env("MAILCFG_CODES_WRONG_PW", "Wrong-Secret-4711")
        .output()
        .unwrap();
    let codes = json_codes(&out, "probe of the live servers");
    for expected in [
        "probe-certificate",
        "probe-login",
        "probe-mailbox",
        "probe-from-rejected",
    ] {
        assert!(
            codes.contains(expected),
            "{expected} not provoked: {codes:?}"
        );
    }
    codes
}
