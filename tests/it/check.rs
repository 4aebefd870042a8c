//! `mailcfg check` end to end: the examples, every broken example, schema-error spans, bad input.

use crate::harness::stdout;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn mailcfg(args: &[&str]) -> Output {
    Command::new(crate::harness::BIN)
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .expect("run mailcfg")
}

/// (rule, its rendered block) for each finding in the human output: a finding starts with its
/// rule name alone on a line.
fn findings(out: &str) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = Vec::new();
    for line in out.lines() {
        let is_header = !line.is_empty()
            && line
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if is_header {
            v.push((line.to_string(), String::new()));
        } else if let Some(last) = v.last_mut() {
            last.1.push_str(line);
            last.1.push('\n');
        }
    }
    v
}

fn root() -> PathBuf {
    PathBuf::from(crate::harness::ROOT)
}

fn check_text(dir: &Path, name: &str, text: &str) -> Output {
    let p = dir.join(name);
    fs::write(&p, text).unwrap();
    mailcfg(&["check", "--color", "never", p.to_str().unwrap()])
}

#[test]
fn example_accounts_are_clean() {
    let o = mailcfg(&[
        "check",
        "--color",
        "never",
        root().join("examples/accounts").to_str().unwrap(),
    ]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.starts_with("no problems found in"), "{out}");
}

/// Each broken example names its rule in its first comment line, and fails with it.
#[test]
fn every_broken_example_fails_with_its_documented_rule() {
    let dir = root().join("examples/broken");
    let mut n = 0;
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.ends_with("mailcfg.kdl") {
            continue; // the project's configuration, not an example
        }
        let text = fs::read_to_string(&path).unwrap();
        let rule = text
            .strip_prefix("// ")
            .and_then(|t| t.split(':').next())
            .unwrap_or_else(|| panic!("{} must start with `// rule-name:`", path.display()))
            .to_string();
        // Cross-file rules need the sibling file; check the whole folder and filter by file.
        let o = mailcfg(&["check", "--color", "never", dir.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(1));
        let out = stdout(&o);
        let file_name = path.file_name().unwrap().to_str().unwrap();
        let found = findings(&out)
            .iter()
            .any(|(r, block)| *r == rule && block.contains(file_name));
        assert!(found, "{file_name}: expected rule {rule} in:\n{out}");
        n += 1;
    }
    assert!(n >= 10, "only {n} broken examples");
}

/// Line:column and the snippet text of the primary label for each kind of schema error.
#[test]
fn schema_errors_point_at_the_exact_span() {
    let tmp = tempfile::tempdir().unwrap();
    let cases = [
        // (source, expected rule, expected "file:line:col", text under the label)
        ("account \"A\" {\n    protocol \"imap\"\n    incoming {\n        sever \"x\"\n        server \"x\"\n    }\n    outgoing {\n        server \"smtp.example.com\"\n        security \"tls\"\n    }\n}\n", "unknown-node", ":4:9", "sever"),
        ("account \"A\" {\n    protocol \"imap\"\n    incoming {\n        server \"x\"\n        security \"sll\"\n    }\n    outgoing {\n        server \"smtp.example.com\"\n        security \"tls\"\n    }\n}\n", "invalid-value", ":5:18", "\"sll\""),
        ("account \"A\" {\n    protocol \"imap\"\n    incoming {\n        server \"x\"\n        port \"993\"\n    }\n    outgoing {\n        server \"smtp.example.com\"\n        security \"tls\"\n    }\n}\n", "wrong-type", ":5:14", "\"993\""),
        ("account \"A\" {\n    protocol \"imap\"\n    incoming {\n        security \"ssl\"\n    }\n    outgoing {\n        server \"smtp.example.com\"\n        security \"tls\"\n    }\n}\n", "missing-node", ":3:5", "incoming"),
        ("account \"A\" {\n    protocol \"imap\"\n    incoming {\n        server \"x\"\n        port 0\n    }\n    outgoing {\n        server \"smtp.example.com\"\n        security \"tls\"\n    }\n}\n", "invalid-value", ":5:14", "0"),
        ("account \"A\" {\n    protocol \"imap\"\n    incoming {\n        server \"x\"\n    }\n    outgoing {\n        server \"smtp.example.com\"\n        security \"tls\"\n    }\n    lock server=#true sever=#true\n}\n", "unknown-property", ":10:23", "sever"),
        ("account \"A\" {\n    protocol \"imap\"\n    incoming \"x\" {\n        server \"x\"\n    }\n}\n", "unexpected-argument", ":3:14", "\"x\""),
        ("account \"A\" {\n    protocol \"imap\"\n    incoming {\n        server\n    }\n    outgoing {\n        server \"smtp.example.com\"\n        security \"tls\"\n    }\n}\n", "wrong-type", ":4:9", "server"),
    ];
    for (i, (src, rule, loc, text)) in cases.iter().enumerate() {
        let name = format!("case{i}.kdl");
        let o = check_text(tmp.path(), &name, src);
        let out = stdout(&o);
        assert_eq!(o.status.code(), Some(1), "{out}");
        let all = findings(&out);
        let block = all
            .iter()
            .find(|(r, _)| r == rule)
            .map(|(_, b)| b)
            .unwrap_or_else(|| panic!("case {i}: no {rule} in:\n{out}"));
        assert!(
            block.contains(&format!("{name}{loc}]")),
            "case {i}: expected {loc} in:\n{block}"
        );
        // The label underlines exactly the expected text: find the line, then the underline.
        let (line, col) = {
            let mut parts = loc.trim_start_matches(':').split(':');
            let l: usize = parts.next().unwrap().parse().unwrap();
            let c: usize = parts.next().unwrap().parse().unwrap();
            (l, c)
        };
        let src_line = src.lines().nth(line - 1).unwrap();
        assert_eq!(&src_line[col - 1..col - 1 + text.len()], *text, "case {i}");
    }
}

#[test]
fn did_you_mean_and_expected_lists_are_offered() {
    let tmp = tempfile::tempdir().unwrap();
    let o = check_text(
        tmp.path(),
        "a.kdl",
        "account \"A\" {\n    protocol \"imap\"\n    incoming {\n        server \"x\"\n        securty \"ssl\"\n    }\n    outgoing {\n        server \"smtp.example.com\"\n        security \"tls\"\n    }\n    conversation-id \"subjet\"\n}\n",
    );
    let out = stdout(&o);
    assert!(out.contains("did you mean `security`?"), "{out}");
    assert!(out.contains("did you mean \"subject\"?"), "{out}");
    assert!(out.contains("expected one of: subject, body"), "{out}");
    assert!(out.contains("account \"A\" › incoming"), "{out}");
    assert!(
        !out.contains("oneOf") && !out.contains("anyOf") && !out.contains("additionalProperties"),
        "{out}"
    );
}

#[test]
fn every_syntax_error_is_reported_with_its_location() {
    let tmp = tempfile::tempdir().unwrap();
    let o = check_text(
        tmp.path(),
        "bad.kdl",
        "account \"A\" {\n    protocol \"imap\n    incoming {\n}\n    outgoing {\n        server \"smtp.example.com\"\n        security \"tls\"\n    }\n",
    );
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1));
    let n = findings(&out)
        .iter()
        .filter(|(r, _)| r == "syntax-error")
        .count();
    assert!(n >= 2, "expected several syntax errors:\n{out}");
    assert!(out.contains("bad.kdl:2:14"), "{out}");
}

#[test]
fn kdl_v1_files_are_accepted_with_a_migration_hint() {
    let tmp = tempfile::tempdir().unwrap();
    let o = check_text(
        tmp.path(),
        "v1.kdl",
        "account \"A\" {\n    protocol \"imap\"\n    available-to-users false\n    incoming {\n        server \"x\"\n        user \"a\"\n        password env=\"A_PASSWORD\"\n    }\n    outgoing {\n        server \"smtp.example.com\"\n        security \"tls\"\n    }\n}\n",
    );
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("kdl-v1-syntax") && out.contains("migrate to KDL v2"),
        "{out}"
    );
}

#[test]
fn duplicate_nodes_and_properties_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let o = check_text(
        tmp.path(),
        "d.kdl",
        "account \"A\" {\n    protocol \"imap\"\n    incoming {\n        server \"x\"\n        server \"y\"\n    }\n    outgoing {\n        server \"smtp.example.com\"\n        security \"tls\"\n    }\n    lock server=#true server=#false\n}\n",
    );
    let out = stdout(&o);
    assert!(
        out.contains("duplicate-node") && out.contains("d.kdl:5:9"),
        "{out}"
    );
    assert!(
        out.contains("duplicate-property") && out.contains("d.kdl:11:23"),
        "{out}"
    );
    assert!(out.contains("first given here"), "{out}");
}

#[test]
fn deep_nesting_is_reported_not_fatal() {
    let tmp = tempfile::tempdir().unwrap();
    let deep = "a {".repeat(100_000) + &"}".repeat(100_000);
    fs::write(tmp.path().join("deep.kdl"), deep).unwrap();
    fs::write(
        tmp.path().join("ok.kdl"),
        "account \"A\" {\n    protocol \"pop\"\n    incoming {\n        server \"x\"\n        security \"tls\"\n    }\n    outgoing {\n        server \"smtp.example.com\"\n        security \"tls\"\n    }\n}\n",
    )
    .unwrap();
    let o = mailcfg(&["check", "--color", "never", tmp.path().to_str().unwrap()]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("nesting-too-deep"), "{out}");
    // The other file was still checked.
    assert!(out.contains("security-imap-only"), "{out}");
}

#[test]
fn bad_input_is_reported_once_and_other_files_are_still_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    fs::write(d.join("latin1.kdl"), b"account \"Caf\xe9\" {}\n").unwrap();
    fs::write(d.join("empty.kdl"), b"").unwrap();
    fs::write(d.join("binary.kdl"), b"\x00\x01\x02\x03binary").unwrap();
    let big = vec![b' '; (mailcfg::source::MAX_FILE_BYTES + 1) as usize];
    fs::write(d.join("huge.kdl"), big).unwrap();
    fs::create_dir(d.join("loop")).unwrap();
    std::os::unix::fs::symlink("..", d.join("loop/back")).unwrap();
    fs::write(
        d.join("good.kdl"),
        "account \"A\" {\n    protocol \"pop\"\n    incoming {\n        server \"x\"\n        security \"tls\"\n    }\n    outgoing {\n        server \"smtp.example.com\"\n        security \"tls\"\n    }\n}\n",
    )
    .unwrap();
    let o = mailcfg(&["check", "--color", "never", d.to_str().unwrap()]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(2), "I/O problems exit 2:\n{out}");
    for (rule, file) in [
        ("invalid-utf8", "latin1.kdl"),
        ("empty-file", "empty.kdl"),
        ("binary-file", "binary.kdl"),
        ("file-too-large", "huge.kdl"),
        ("io-error", "back"),
        ("security-imap-only", "good.kdl"),
    ] {
        let all = findings(&out);
        let blocks: Vec<&String> = all
            .iter()
            .filter(|(r, _)| r == rule)
            .map(|(_, b)| b)
            .collect();
        assert_eq!(blocks.len(), 1, "{rule} once:\n{out}");
        assert!(blocks[0].contains(file), "{rule} on {file}:\n{out}");
    }
    assert!(out.contains("byte offset 12"), "{out}");
    assert!(out.contains("symbolic link loop"), "{out}");
}

#[test]
fn missing_path_and_no_kdl_files_exit_2() {
    let o = mailcfg(&["check", "/nonexistent/accounts"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stdout(&o).contains("no such file or directory"));
    let tmp = tempfile::tempdir().unwrap();
    let o = mailcfg(&["check", tmp.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no .kdl files found"));
}

#[test]
fn hidden_and_target_folders_are_skipped_but_explicit_files_are_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = "account \"A\" {\n    protocol \"imap\"\n}\n";
    for dir in [".git", "target"] {
        fs::create_dir(tmp.path().join(dir)).unwrap();
        fs::write(tmp.path().join(dir).join("x.kdl"), bad).unwrap();
    }
    fs::write(
        tmp.path().join("ok.kdl"),
        "system {\n    conversation-prefix \"AB\"\n}\n",
    )
    .unwrap();
    let o = mailcfg(&["check", tmp.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let explicit = tmp.path().join("target/x.kdl");
    let o = mailcfg(&["check", explicit.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn deny_warnings_turns_warnings_into_failure() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("empty.kdl"), "// nothing yet\n").unwrap();
    let p = tmp.path().to_str().unwrap();
    assert_eq!(mailcfg(&["check", p]).status.code(), Some(0));
    assert_eq!(
        mailcfg(&["check", "--deny-warnings", p]).status.code(),
        Some(1)
    );
}

#[test]
fn literal_secrets_never_appear_in_output() {
    let tmp = tempfile::tempdir().unwrap();
    let o = check_text(
        tmp.path(),
        "s.kdl",
        "account \"A\" {\n    protocol \"pop\"\n    incoming {\n        server \"x\"\n        security \"tls\"\n        password \"Sup3rSecret!\"\n        credential \"nope\"\n    }\n    outgoing {\n        server \"smtp.example.com\"\n        security \"tls\"\n    }\n}\n",
    );
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(out.contains("password-with-credential"), "{out}");
    assert!(!out.contains("Sup3rSecret!"), "{out}");
}

#[test]
fn color_follows_flag_and_no_color() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("a.kdl");
    fs::write(&p, "account \"A\" {\n    protocol \"imap\"\n}\n").unwrap();
    let p = p.to_str().unwrap();
    let always = stdout(&mailcfg(&["check", "--color", "always", p]));
    assert!(always.contains('\u{1b}'), "{always}");
    let never = stdout(&mailcfg(&["check", "--color", "never", p]));
    assert!(!never.contains('\u{1b}'));
    let auto_no_color = Command::new(crate::harness::BIN)
        .args(["check", p])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!stdout(&auto_no_color).contains('\u{1b}'));
}

#[test]
fn summary_line_counts_errors_warnings_and_files() {
    let o = mailcfg(&[
        "check",
        "--color",
        "never",
        root().join("examples/broken").to_str().unwrap(),
    ]);
    let out = stdout(&o);
    let last = out.lines().last().unwrap();
    // Every file but the configuration (mailcfg.kdl) is an account file.
    let files = fs::read_dir(root().join("examples/broken"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name() != "mailcfg.kdl")
        .count();
    assert!(last.ends_with(&format!("in {files} files")), "{last}");
    assert!(last.contains(" errors,"), "{last}");
}

/// Every ```kdl block of README.md and docs/ is checked (docs/rules.md has its own test, on the
/// registry it is generated from). A block fenced ```` ```kdl broken RULE ```` must report RULE;
/// a block fenced ```` ```kdl mailcfg.kdl ```` is a configuration file and must be accepted as
/// one; every other block is free of errors and warnings, and README.md's and docs/format.md's,
/// which the text presents as clean, have no finding at all.
#[test]
fn every_documented_kdl_block_is_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let mut docs = vec![root().join("README.md")];
    for entry in fs::read_dir(root().join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") && !path.ends_with("rules.md") {
            docs.push(path);
        }
    }
    docs.sort();
    let mut blocks = 0;
    for doc in &docs {
        let name = doc.file_name().unwrap().to_str().unwrap();
        let text = fs::read_to_string(doc).unwrap();
        let must_be_clean = name == "README.md" || name == "format.md";
        for (i, block) in text.split("```kdl").skip(1).enumerate() {
            let (info, rest) = block.split_once('\n').unwrap();
            let code = rest.split("```").next().unwrap();
            let info = info.trim();
            let dir = tmp.path().join(format!("{name}-{i}"));
            fs::create_dir_all(&dir).unwrap();
            blocks += 1;
            if info == "mailcfg.kdl" {
                fs::write(dir.join("mailcfg.kdl"), code).unwrap();
                let ok = "account \"A\" {\n    protocol \"imap\"\n    incoming {\n        server \"imap.example.com\"\n        security \"ssl\"\n        user \"a@example.com\"\n        password env=\"A\"\n    }\n    outgoing {\n        server \"smtp.example.com\"\n        security \"ssl\"\n        auth \"same-as-incoming\"\n    }\n}\n";
                let o = check_text(&dir, "a.kdl", ok);
                assert_ne!(o.status.code(), Some(2), "{name} block {i}: {}", stdout(&o));
                continue;
            }
            let o = check_text(&dir, "doc.kdl", code);
            let out = stdout(&o);
            let fired: Vec<String> = findings(&out).into_iter().map(|(r, _)| r).collect();
            if let Some(rule) = info.strip_prefix("broken ") {
                assert!(
                    fired.iter().any(|r| r == rule),
                    "{name} block {i} is marked broken with {rule}, but reports {fired:?}:\n{out}"
                );
                continue;
            }
            let deny = mailcfg(&[
                "check",
                "--color",
                "never",
                "--deny-warnings",
                dir.join("doc.kdl").to_str().unwrap(),
            ]);
            assert_eq!(
                deny.status.code(),
                Some(0),
                "{name} block {i} has errors or warnings:\n{}",
                stdout(&deny)
            );
            if must_be_clean {
                assert!(fired.is_empty(), "{name} block {i} is not clean:\n{out}");
            }
        }
    }
    assert!(blocks >= 13, "only {blocks} kdl blocks found");
}

#[test]
fn schema_command_prints_the_checked_in_schema() {
    let o = mailcfg(&["schema"]);
    let checked_in = fs::read_to_string(root().join("schema/mailcfg.schema.json")).unwrap();
    assert_eq!(
        stdout(&o),
        checked_in,
        "schema/mailcfg.schema.json is stale: run `cargo run -- schema > schema/mailcfg.schema.json`"
    );
}

/// Every registered rule's documented bad example fires that rule, and its good example is clean.
#[test]
fn every_rule_fires_on_its_bad_example_and_not_on_its_good_one() {
    for rule in mailcfg::rules::ALL {
        // One directory per example: files beside a checked file are its project.
        let tmp = tempfile::tempdir().unwrap();
        let docs = rule.meta.docs;
        let example = |tag: &str| {
            docs.split(&format!("```kdl {tag}\n"))
                .nth(1)
                .and_then(|b| b.split("```").next())
                .unwrap_or_else(|| panic!("{}: no ```kdl {tag} example", rule.meta.name))
                .to_string()
        };
        let name = rule.meta.name;
        let o = check_text(tmp.path(), &format!("{name}-bad.kdl"), &example("bad"));
        let fired: Vec<String> = findings(&stdout(&o)).into_iter().map(|(r, _)| r).collect();
        assert!(
            fired.iter().any(|r| r == name),
            "{name}: bad example gave {fired:?}"
        );
        let tmp = tempfile::tempdir().unwrap();
        let o = check_text(tmp.path(), &format!("{name}-good.kdl"), &example("good"));
        let fired: Vec<String> = findings(&stdout(&o)).into_iter().map(|(r, _)| r).collect();
        assert!(fired.is_empty(), "{name}: good example gave {fired:?}");
    }
}

/// The README's sample output is what `check examples/broken` really prints.
#[test]
fn readme_sample_output_is_real() {
    let readme = fs::read_to_string(root().join("README.md")).unwrap();
    let sample = readme
        .split("```text\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("README has a ```text sample");
    let o = Command::new(crate::harness::BIN)
        .current_dir(root())
        .args(["check", "--color", "never", "examples/broken"])
        .output()
        .unwrap();
    let out = stdout(&o);
    assert!(
        out.contains(sample.trim_end()),
        "README sample not found in:\n{out}"
    );
}

// One workspace for every command (issue 12): the same files, project and verdict whatever
// spelling names them.

fn run_in(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut child = Command::new(crate::harness::BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("mailcfg runs");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

/// A git repository holding a copy of examples/accounts at its root (what a user starts with).
fn repo_with_examples() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join(".git")).unwrap();
    for e in fs::read_dir(root().join("examples/accounts")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "kdl") && !p.ends_with("mailcfg.kdl") {
            fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
        }
    }
    dir
}

fn account_files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".kdl") && n != "mailcfg.kdl")
        .collect();
    v.sort();
    v
}

fn concise(o: &Output) -> String {
    format!("{}{}", stdout(o), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn a_file_is_read_once_however_it_is_named() {
    let dir = repo_with_examples();
    let d = dir.path();
    let n = account_files(d).len();
    let all: Vec<String> = account_files(d);
    let mut star: Vec<&str> = vec!["check", "--format", "concise"];
    star.extend(all.iter().map(String::as_str));
    let abs = d.join("hr.kdl");
    #[cfg(unix)]
    std::os::unix::fs::symlink(d.join("hr.kdl"), d.join("hr-link.kdl")).unwrap();
    let cases: Vec<(Vec<&str>, usize)> = vec![
        // A bare name (what pre-commit passes for a root-level file).
        (vec!["check", "--format", "concise", "servicedesk.kdl"], 1),
        // `check *.kdl`: every file named bare.
        (star, n),
        // Named and also walked.
        (vec!["check", "--format", "concise", ".", "hr.kdl"], n),
        // Named twice, in three spellings.
        (
            vec![
                "check",
                "--format",
                "concise",
                "hr.kdl",
                "./hr.kdl",
                abs.to_str().unwrap(),
            ],
            1,
        ),
        #[cfg(unix)]
        (
            vec!["check", "--format", "concise", "hr.kdl", "hr-link.kdl"],
            1,
        ),
    ];
    for (args, files) in cases {
        let o = run_in(d, &args, None);
        let out = concise(&o);
        assert_eq!(o.status.code(), Some(0), "{args:?}:\n{out}");
        let summary = format!("no problems found in {files} file");
        assert!(out.contains(&summary), "{args:?}:\n{out}");
    }
    // --fix and --diff on a bare name: nothing to fix, no duplicate of the file with itself.
    for flag in ["--fix", "--diff"] {
        let o = run_in(d, &["check", flag, "hr.kdl", "--format", "concise"], None);
        assert_eq!(o.status.code(), Some(0), "{flag}: {}", concise(&o));
    }
    // stdin standing for a file of the project replaces it (no duplicate with its disk copy).
    let text = fs::read_to_string(d.join("hr.kdl")).unwrap();
    let o = run_in(
        d,
        &[
            "check",
            "-",
            "--stdin-filename",
            "hr.kdl",
            "--format",
            "concise",
        ],
        Some(&text),
    );
    assert_eq!(o.status.code(), Some(0), "{}", concise(&o));
    // ... and a new file of the project is checked against the others.
    let o = run_in(
        d,
        &[
            "check",
            "-",
            "--stdin-filename",
            "new.kdl",
            "--format",
            "concise",
        ],
        Some(&text),
    );
    assert_eq!(o.status.code(), Some(1), "{}", concise(&o));
    assert!(
        concise(&o).contains("new.kdl:2:9: error[duplicate-account-name]"),
        "{}",
        concise(&o)
    );
}

#[test]
fn without_a_project_marker_the_files_beside_are_the_project() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(
        !d.ancestors()
            .any(|a| a.join(".git").exists() || a.join("mailcfg.kdl").exists()),
        "the temporary directory must not be inside a project"
    );
    let hr = fs::read_to_string(root().join("examples/accounts/hr.kdl")).unwrap();
    fs::write(d.join("one.kdl"), &hr).unwrap();
    // stdin standing for two.kdl sees one.kdl beside it.
    let o = run_in(
        d,
        &[
            "check",
            "-",
            "--stdin-filename",
            "two.kdl",
            "--format",
            "concise",
        ],
        Some(&hr),
    );
    assert_eq!(o.status.code(), Some(1), "{}", concise(&o));
    assert!(
        concise(&o).contains("two.kdl:2:9: error[duplicate-account-name]"),
        "{}",
        concise(&o)
    );
    // So does two.kdl on disk, named from elsewhere.
    fs::write(d.join("two.kdl"), &hr).unwrap();
    let o = mailcfg(&[
        "check",
        "--format",
        "concise",
        d.join("two.kdl").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", concise(&o));
    assert!(
        concise(&o).contains("[duplicate-account-name]"),
        "{}",
        concise(&o)
    );
    assert!(concise(&o).contains("in 1 file"), "{}", concise(&o));
    // Beside, not below: without a marker nothing says where the project ends, so subfolders
    // are not read for a named file (a file checked in ~/Downloads does not answer for
    // everything under it); named together, or walked, they are one run's project.
    fs::remove_file(d.join("two.kdl")).unwrap();
    let system = fs::read_to_string(root().join("examples/accounts/system.kdl")).unwrap();
    fs::write(d.join("system.kdl"), &system).unwrap();
    fs::create_dir(d.join("old")).unwrap();
    fs::write(d.join("old/one.kdl"), &hr).unwrap();
    fs::write(d.join("old/system.kdl"), &system).unwrap();
    let o = run_in(d, &["check", "--format", "concise", "one.kdl"], None);
    assert_eq!(o.status.code(), Some(0), "{}", concise(&o));
    let o = run_in(d, &["check", "--format", "concise", "."], None);
    assert_eq!(o.status.code(), Some(1), "{}", concise(&o));
    assert!(
        concise(&o).contains("[duplicate-account-name]"),
        "{}",
        concise(&o)
    );
    assert!(concise(&o).contains("[multiple-system]"), "{}", concise(&o));
    let o = run_in(
        d,
        &["check", "--format", "concise", "one.kdl", "old/one.kdl"],
        None,
    );
    assert_eq!(o.status.code(), Some(1), "{}", concise(&o));
    assert!(
        concise(&o).contains("[duplicate-account-name]"),
        "{}",
        concise(&o)
    );
}

#[test]
fn a_named_configuration_file_is_validated_as_configuration() {
    let dir = repo_with_examples();
    let d = dir.path();
    fs::write(
        d.join("mailcfg.kdl"),
        "rules {\n    auto-security \"allow\"\n}\n",
    )
    .unwrap();
    // Valid: clean, counted as one file, never "unknown node 'rules'".
    let o = run_in(d, &["check", "--format", "concise", "mailcfg.kdl"], None);
    assert_eq!(o.status.code(), Some(0), "{}", concise(&o));
    assert!(
        concise(&o).contains("no problems found in 1 file"),
        "{}",
        concise(&o)
    );
    let o = run_in(
        d,
        &["check", "--format", "concise", "mailcfg.kdl", "hr.kdl"],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", concise(&o));
    assert!(concise(&o).contains("in 2 files"), "{}", concise(&o));
    // Invalid: its problems at its own lines, in the report's format; the account files named
    // with it are still checked.
    fs::write(
        d.join("mailcfg.kdl"),
        "rules {\n    auto-securty \"allow\"\n}\nrulez {\n}\n",
    )
    .unwrap();
    let o = run_in(
        d,
        &["check", "--format", "concise", "mailcfg.kdl", "hr.kdl"],
        None,
    );
    let out = concise(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("mailcfg.kdl:2:5: error[unknown-rule]"),
        "{out}"
    );
    assert!(
        out.contains("mailcfg.kdl:4:1: error[invalid-config]"),
        "{out}"
    );
    assert!(out.contains("in 2 files"), "{out}");
    // Not named, an invalid configuration still stops the run (exit 2).
    let o = run_in(d, &["check", "--format", "concise", "hr.kdl"], None);
    assert_eq!(o.status.code(), Some(2), "{}", concise(&o));
}

#[test]
fn check_and_compile_agree_on_a_named_file() {
    let dir = repo_with_examples();
    let d = dir.path();
    // google-support.kdl uses a credential defined in credentials.kdl.
    let o = run_in(d, &["check", "google-support.kdl"], None);
    assert_eq!(o.status.code(), Some(0), "{}", concise(&o));
    let o = run_in(
        d,
        &["compile", "google-support.kdl", "--out", "store.json"],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", concise(&o));
    let store: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(d.join("store.json")).unwrap()).unwrap();
    let names = |key: &str| -> Vec<String> {
        store[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap().to_string())
            .collect()
    };
    // The named file's account, and the credential it references from the project.
    assert_eq!(names("accounts").len(), 1, "{store}");
    assert_eq!(names("credentials").len(), 1, "{store}");
}

/// A POP account on `security "tls"`: its only finding is `security-imap-only` (an error by
/// default) on line 5.
const POP_TLS: &str = "account \"Helpdesk\" {\n    protocol \"pop\"\n    incoming {\n        server \"pop.example.com\"\n        security \"tls\"\n        user \"helpdesk@example.com\"\n        password env=\"HELPDESK_PASSWORD\"\n    }\n    outgoing {\n        server \"smtp.example.com\"\n        security \"ssl\"\n        auth \"same-as-incoming\"\n    }\n    conversation-id \"subject\"\n}\n";

/// The examples' repository with a nested project `team/` (its own `mailcfg.kdl`) holding the
/// same account and `system` names as the outer one, and the same POP account in both.
fn repo_with_nested_project() -> tempfile::TempDir {
    let dir = repo_with_examples();
    let d = dir.path();
    fs::write(d.join("helpdesk.kdl"), POP_TLS).unwrap();
    let team = d.join("team");
    fs::create_dir(&team).unwrap();
    fs::copy(d.join("hr.kdl"), team.join("hr.kdl")).unwrap();
    fs::copy(d.join("system.kdl"), team.join("system.kdl")).unwrap();
    fs::write(team.join("helpdesk.kdl"), POP_TLS).unwrap();
    fs::write(
        team.join("mailcfg.kdl"),
        "rules {\n    security-imap-only \"warn\"\n}\n",
    )
    .unwrap();
    dir
}

/// The concise lines about files under `prefix`.
fn lines_under<'a>(out: &'a str, prefix: &str) -> Vec<&'a str> {
    out.lines().filter(|l| l.starts_with(prefix)).collect()
}

#[test]
fn a_nested_project_is_checked_with_its_own_configuration_and_context() {
    let dir = repo_with_nested_project();
    let d = dir.path();
    let files = account_files(d).len() + account_files(&d.join("team")).len();
    // Walking the outer project reports the nested project's files too, each within its own
    // project: no duplicate across the two, the team's level applies to the team's file only.
    let o = run_in(d, &["check", "--format", "concise", "."], None);
    let full = concise(&o);
    assert_eq!(o.status.code(), Some(1), "{full}");
    assert!(
        full.contains("\nhelpdesk.kdl:5:18: error[security-imap-only]")
            || full.starts_with("helpdesk.kdl:5:18: error[security-imap-only]"),
        "{full}"
    );
    assert!(
        full.contains("team/helpdesk.kdl:5:18: warning[security-imap-only]"),
        "{full}"
    );
    for clash in [
        "duplicate-account-name",
        "duplicate-mailbox-watch",
        "multiple-system",
    ] {
        assert!(!full.contains(clash), "{clash}: {full}");
    }
    assert!(full.contains(&format!("in {files} files")), "{full}");
    // A partial run says exactly what the full run says about its files.
    let team_lines = lines_under(&full, "team/");
    for args in [
        vec!["check", "--format", "concise", "team/helpdesk.kdl"],
        vec!["check", "--format", "concise", "team"],
        vec![
            "check",
            "--format",
            "concise",
            "team/hr.kdl",
            "team/helpdesk.kdl",
        ],
    ] {
        let o = run_in(d, &args, None);
        let out = concise(&o);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {out}");
        assert_eq!(lines_under(&out, "team/"), team_lines, "{args:?}");
    }
    // From inside the nested project, `.` is that project alone.
    let o = run_in(
        &d.join("team"),
        &["check", "--format", "concise", "."],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", concise(&o));
    assert!(concise(&o).contains("in 3 files"), "{}", concise(&o));
    // stdin standing for a file of the nested project: its configuration, its context.
    let o = run_in(
        d,
        &[
            "check",
            "-",
            "--stdin-filename",
            "team/helpdesk.kdl",
            "--format",
            "concise",
        ],
        Some(POP_TLS),
    );
    assert_eq!(o.status.code(), Some(0), "{}", concise(&o));
    assert!(
        concise(&o).contains("team/helpdesk.kdl:5:18: warning[security-imap-only]"),
        "{}",
        concise(&o)
    );
    // Files of both projects named together (as pre-commit passes them): each in its own.
    let o = run_in(
        d,
        &["check", "--format", "concise", "hr.kdl", "team/hr.kdl"],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", concise(&o));
    assert!(concise(&o).contains("in 2 files"), "{}", concise(&o));
    // --fix and --diff plan the same way: the fix of the nested project's file lands in it
    // (its place in the run), nothing else changes, and the verdict afterwards is check's.
    let hr = fs::read_to_string(d.join("team/hr.kdl")).unwrap();
    let redundant = hr.replacen("security \"tls\"", "security \"tls\"\n        port 143", 1);
    fs::write(d.join("team/hr.kdl"), &redundant).unwrap();
    let o = run_in(d, &["check", "--diff", "."], None);
    assert_eq!(o.status.code(), Some(1), "{}", concise(&o));
    let diff = stdout(&o);
    assert!(diff.contains("+++ b/team/hr.kdl"), "{diff}");
    assert!(diff.contains("-        port 143"), "{diff}");
    assert_eq!(diff.matches("+++ ").count(), 1, "{diff}");
    let o = run_in(d, &["check", "--fix", "--format", "concise", "."], None);
    assert_eq!(o.status.code(), Some(1), "{}", concise(&o));
    assert_eq!(fs::read_to_string(d.join("team/hr.kdl")).unwrap(), hr);
    assert_eq!(
        stdout(&o),
        stdout(&run_in(d, &["check", "--format", "concise", "."], None))
    );
}

#[test]
fn store_commands_refuse_paths_of_several_projects() {
    let dir = repo_with_nested_project();
    let d = dir.path();
    fs::remove_file(d.join("helpdesk.kdl")).unwrap();
    // A store holds one project's accounts and one `system`: the outer walk spans two.
    for args in [
        vec!["compile", ".", "--out", "store.json"],
        vec!["compile", "hr.kdl", "team/hr.kdl", "--out", "store.json"],
        vec!["show", "HR", "hr.kdl", "team/hr.kdl"],
        vec!["probe", "--format", "json", "."],
    ] {
        let o = run_in(d, &args, None);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", concise(&o));
        assert!(
            err.contains("the paths belong to 2 projects (., team)"),
            "{args:?}: {err}"
        );
        assert!(!d.join("store.json").exists(), "{args:?}");
    }
    // One project at a time: the nested one compiles with its own accounts only.
    let o = run_in(d, &["compile", "team", "--out", "store.json"], None);
    assert_eq!(o.status.code(), Some(0), "{}", concise(&o));
    let store: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(d.join("store.json")).unwrap()).unwrap();
    let mut names: Vec<&str> = store["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["HR", "Helpdesk"], "{store}");
}

#[test]
fn the_summary_counts_every_file_a_shown_finding_is_in() {
    let dir = repo_with_nested_project();
    let d = dir.path();
    // A second `system` node in a file read only for context is shown (compile would refuse
    // it), so its file is counted.
    fs::copy(d.join("team/system.kdl"), d.join("team/system2.kdl")).unwrap();
    let o = run_in(d, &["check", "--format", "json", "team/hr.kdl"], None);
    assert_eq!(o.status.code(), Some(1), "{}", concise(&o));
    let r: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let shown: std::collections::BTreeSet<&str> = r["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["location"]["file"].as_str().unwrap())
        .collect();
    assert_eq!(shown, ["team/system2.kdl"].into(), "{r}");
    assert_eq!(
        r["summary"]["files"], 2,
        "team/hr.kdl and team/system2.kdl: {r}"
    );
    let o = run_in(d, &["check", "--format", "concise", "team/hr.kdl"], None);
    assert!(
        concise(&o).contains("1 error, 0 warnings in 2 files"),
        "{}",
        concise(&o)
    );
}
