//! Output formats, exit codes, stdin and partial runs of `mailcfg check`, on the real binary.
//!
//! Every format runs on the same fixture set (tests/data/formats/project: a multi-file project
//! with a duplicate name across files, a credential in another file, a syntax error, non-ASCII
//! columns, literal secrets). Every JSON output is validated against the checked-in
//! schema/output.schema.json; every SARIF output against the official SARIF 2.1.0 schema.

use std::collections::{BTreeSet, HashSet};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::harness::{write, BIN, ROOT};
const FORMATS: &[&str] = &["human", "concise", "json", "sarif", "github", "gitlab"];
const MACHINE: &[&str] = &["concise", "json", "sarif", "github", "gitlab"];

/// Literal secrets in the fixture project (passwords, a private key, a secret used as a name).
const SECRETS: &[&str] = &[
    "Hunter2-s3cret,x:y%z",
    "s3cret-in-a-broken-file",
    "-----BEGIN PRIVATE KEY-----literal-key-material",
    r#"pa\"ss-W0rd%0A"#,
];

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run_in(dir: &Path, args: &[&str], stdin: Option<&str>) -> Out {
    run_env(dir, args, stdin, &[])
}

fn run_env(dir: &Path, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Out {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("mailcfg runs");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    Out {
        code: out.status.code().expect("exited, not killed"),
        stdout: String::from_utf8(out.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("UTF-8 stderr"),
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// A copy of the fixture project in a temporary directory, marked as a project by `.git`.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &Path::new(ROOT).join("tests/data/formats/project"),
        dir.path(),
    );
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    dir
}

const CLEAN: &str = r#"account "Clean" {
    protocol "imap"
    conversation-id "subject"
    incoming {
        server "imap.example.com"
        security "ssl"
        user "clean@example.com"
        password env="CLEAN_PASSWORD"
    }
    outgoing {
        server "smtp.example.com"
        security "tls"
    }
}
"#;

fn output_validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(Path::new(ROOT).join("schema/output.schema.json")).unwrap();
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).expect("output schema")
}

fn sarif_validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(Path::new(ROOT).join("tests/data/sarif-schema-2.1.0.json"))
        .unwrap();
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).expect("SARIF schema")
}

/// Parses a JSON report and validates it against schema/output.schema.json.
fn json_report(text: &str) -> Value {
    let v: Value = serde_json::from_str(text).expect("JSON output parses");
    let validator = output_validator();
    let errors: Vec<String> = validator.iter_errors(&v).map(|e| e.to_string()).collect();
    assert!(
        errors.is_empty(),
        "JSON report violates its schema: {errors:#?}\n{text}"
    );
    v
}

/// Parses a SARIF log and validates it against the official SARIF 2.1.0 schema.
fn sarif_log(text: &str) -> Value {
    let v: Value = serde_json::from_str(text).expect("SARIF output parses");
    let validator = sarif_validator();
    let errors: Vec<String> = validator.iter_errors(&v).map(|e| e.to_string()).collect();
    assert!(
        errors.is_empty(),
        "SARIF violates the 2.1.0 schema: {errors:#?}"
    );
    v
}

/// 1-based (line, column in chars) of byte offset `at` in `text`.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    (line, text[start..at].chars().count() + 1)
}

fn diags(report: &Value) -> &Vec<Value> {
    report["diagnostics"].as_array().unwrap()
}

/// The summary line the text formats end with, from a JSON report's counts.
fn summary_line(report: &Value) -> String {
    let n = |k: &str| report["summary"][k].as_u64().unwrap() as usize;
    mailcfg::diagnostics::Summary {
        errors: n("errors"),
        warnings: n("warnings"),
        infos: n("infos"),
        files: n("files"),
    }
    .to_string()
}

#[test]
fn output_schema_is_current() {
    let path = Path::new(ROOT).join("schema/output.schema.json");
    let generated = mailcfg::render::json::schema_pretty();
    if std::env::var_os("MAILCFG_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "schema/output.schema.json is stale; regenerate with \
         `MAILCFG_BLESS=1 cargo test --test it formats::output_schema_is_current`"
    );
}

#[test]
fn every_format_reports_the_same_findings() {
    let dir = project();
    let json = run_in(dir.path(), &["check", "--format", "json"], None);
    assert_eq!(json.code, 1, "{}", json.stderr);
    let report = json_report(&json.stdout);
    let expected: Vec<(String, String, u64)> = diags(&report)
        .iter()
        .map(|d| {
            (
                d["rule"].as_str().unwrap().to_string(),
                d["location"]["file"].as_str().unwrap().to_string(),
                d["location"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    let rules: BTreeSet<&str> = expected.iter().map(|(r, _, _)| r.as_str()).collect();
    for r in [
        "duplicate-account-name",
        "security-imap-only",
        "port-security-mismatch",
        "syntax-error",
        "empty-file",
    ] {
        assert!(rules.contains(r), "fixture set lacks {r}: {rules:?}");
    }
    assert_eq!(report["summary"]["files"], 7);
    assert_eq!(report["exit_code"], 1);

    let concise = run_in(dir.path(), &["check", "--format", "concise"], None);
    assert_eq!(concise.code, 1);
    let lines: Vec<&str> = concise.stdout.lines().collect();
    assert_eq!(lines.len(), expected.len() + 1, "{}", concise.stdout);
    for (line, (rule, file, l)) in lines.iter().zip(&expected) {
        let prefix = format!("{file}:{l}:");
        assert!(line.starts_with(&prefix), "{line} vs {prefix}");
        assert!(line.contains(&format!("[{rule}] ")), "{line}");
    }
    let summary = summary_line(&report);
    assert_eq!(lines.last().unwrap(), &summary);

    let sarif = sarif_log(&run_in(dir.path(), &["check", "--format", "sarif"], None).stdout);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let got: Vec<(String, String, u64)> = results
        .iter()
        .map(|r| {
            let pl = &r["locations"][0]["physicalLocation"];
            (
                r["ruleId"].as_str().unwrap().to_string(),
                pl["artifactLocation"]["uri"].as_str().unwrap().to_string(),
                pl["region"]["startLine"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, expected);

    let github = run_in(dir.path(), &["check", "--format", "github"], None);
    let commands: Vec<&str> = github
        .stdout
        .lines()
        .filter(|l| l.starts_with("::"))
        .collect();
    assert_eq!(commands.len(), expected.len());
    for (c, (rule, file, l)) in commands.iter().zip(&expected) {
        assert!(
            c.contains(&format!("file={file},line={l},"))
                && c.contains(&format!(",title={rule}::")),
            "{c}"
        );
    }

    let gitlab: Value =
        serde_json::from_str(&run_in(dir.path(), &["check", "--format", "gitlab"], None).stdout)
            .unwrap();
    let got: Vec<(String, String, u64)> = gitlab
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["check_name"].as_str().unwrap().to_string(),
                i["location"]["path"].as_str().unwrap().to_string(),
                i["location"]["lines"]["begin"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, expected);

    let human = run_in(dir.path(), &["check", "--format", "human"], None);
    assert_eq!(human.code, 1);
    for (rule, _, _) in &expected {
        assert!(human.stdout.contains(rule.as_str()));
    }
    assert!(human.stdout.ends_with(&format!("\n{summary}\n")));
}

#[test]
fn json_locates_every_field_from_the_source() {
    let dir = project();
    let out = run_in(dir.path(), &["check", "--format", "json"], None);
    let report = json_report(&out.stdout);
    assert_eq!(report["version"], 1);
    assert_eq!(report["tool"]["name"], "mailcfg");
    let dup = diags(&report)
        .iter()
        .find(|d| d["rule"] == "duplicate-account-name")
        .expect("duplicate finding");
    assert_eq!(dup["level"], "error");
    assert!(dup["help"].as_str().unwrap().contains("rename"));
    let loc = &dup["location"];
    let file = loc["file"].as_str().unwrap();
    let text = std::fs::read_to_string(dir.path().join(file)).unwrap();
    let (start, end) = (
        loc["byte_start"].as_u64().unwrap() as usize,
        loc["byte_end"].as_u64().unwrap() as usize,
    );
    let flagged = &text[start..end];
    assert!(flagged.eq_ignore_ascii_case("\"support\""), "{flagged}");
    assert_eq!(
        (
            loc["line"].as_u64().unwrap() as usize,
            loc["column"].as_u64().unwrap() as usize
        ),
        line_col(&text, start)
    );
    assert_eq!(
        (
            loc["end_line"].as_u64().unwrap() as usize,
            loc["end_column"].as_u64().unwrap() as usize
        ),
        line_col(&text, end)
    );
    let path = dup["kdl_path"].as_str().unwrap();
    assert!(path.starts_with("account \""), "{path}");
    // The related location is in the other file, at the first definition.
    let related = &dup["related"].as_array().unwrap()[0];
    let other = related["location"]["file"].as_str().unwrap();
    assert_ne!(other, file);
    let other_text = std::fs::read_to_string(dir.path().join(other)).unwrap();
    let rs = related["location"]["byte_start"].as_u64().unwrap() as usize;
    let re = related["location"]["byte_end"].as_u64().unwrap() as usize;
    assert!(other_text[rs..re].eq_ignore_ascii_case("\"support\""));
    assert_eq!(related["message"], "first defined here");

    // Columns count characters: the finding after an emoji on the same line.
    let pop = diags(&report)
        .iter()
        .find(|d| {
            d["rule"] == "security-imap-only" && d["location"]["file"] == "accounts/inbox.kdl"
        })
        .unwrap();
    let inbox = std::fs::read_to_string(dir.path().join("accounts/inbox.kdl")).unwrap();
    let at = pop["location"]["byte_start"].as_u64().unwrap() as usize;
    assert_eq!(&inbox[at..at + 5], "\"tls\"");
    assert_eq!(
        pop["location"]["column"].as_u64().unwrap() as usize,
        line_col(&inbox, at).1
    );
    assert!(diags(&report)
        .iter()
        .all(|d| d["fix"].is_null() || d["fix"]["edits"].is_array()));
}

#[test]
fn sarif_validates_and_describes_every_rule() {
    let dir = project();
    let out = run_in(dir.path(), &["check", "--format", "sarif"], None);
    assert_eq!(out.code, 1);
    let log = sarif_log(&out.stdout);
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    assert_eq!(run["invocations"][0]["exitCode"], 1);
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    for r in mailcfg::rules::ALL {
        let d = rules.iter().find(|d| d["id"] == r.meta.name).unwrap();
        assert_eq!(d["shortDescription"]["text"], r.meta.summary);
        assert_eq!(d["help"]["markdown"], r.meta.docs);
        assert!(!d["fullDescription"]["text"]
            .as_str()
            .unwrap()
            .contains("```"));
    }
    for b in mailcfg::registry::builtin::BUILTIN {
        assert!(
            ids.contains(&b.name),
            "{} missing from driver.rules",
            b.name
        );
    }
    let results = run["results"].as_array().unwrap();
    for r in results {
        let i = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], r["ruleId"]);
        let region = &r["locations"][0]["physicalLocation"]["region"];
        assert!(region["startLine"].as_u64().unwrap() >= 1);
        assert!(region["startColumn"].as_u64().unwrap() >= 1);
        assert!(region["endLine"].as_u64() >= region["startLine"].as_u64());
        assert!(r["partialFingerprints"]["mailcfg/v1"].is_string());
    }
    let dup = results
        .iter()
        .find(|r| r["ruleId"] == "duplicate-account-name")
        .unwrap();
    let rel = &dup["relatedLocations"][0];
    assert_eq!(rel["message"]["text"], "first defined here");
    assert_ne!(
        rel["physicalLocation"]["artifactLocation"]["uri"],
        dup["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    );
    assert!(
        dup["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
            .as_str()
            .unwrap()
            .starts_with("account ")
    );
    // UTF-16 columns: 📧 is two code units, so the column is one more than in characters.
    let pop = results
        .iter()
        .find(|r| {
            r["ruleId"] == "security-imap-only"
                && r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    == "accounts/inbox.kdl"
        })
        .unwrap();
    let inbox = std::fs::read_to_string(dir.path().join("accounts/inbox.kdl")).unwrap();
    let region = &pop["locations"][0]["physicalLocation"]["region"];
    let at = region["byteOffset"].as_u64().unwrap() as usize;
    let line_start = inbox[..at].rfind('\n').unwrap() + 1;
    let utf16 = inbox[line_start..at].encode_utf16().count() + 1;
    assert_eq!(region["startColumn"].as_u64().unwrap() as usize, utf16);
    assert_eq!(utf16, line_col(&inbox, at).1 + 1);
}

#[test]
fn sarif_exit_code_and_clean_run() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.kdl", CLEAN);
    let out = run_in(dir.path(), &["check", "--format", "sarif"], None);
    assert_eq!(out.code, 0);
    let log = sarif_log(&out.stdout);
    assert_eq!(log["runs"][0]["invocations"][0]["exitCode"], 0);
    // Advice (infos, SARIF "note") may appear; nothing at or above the threshold.
    assert!(log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["level"] == "note"));
    let out = run_in(
        dir.path(),
        &["check", "a.kdl", "missing.kdl", "--format", "sarif"],
        None,
    );
    assert_eq!(out.code, 2);
    let log = sarif_log(&out.stdout);
    assert_eq!(log["runs"][0]["invocations"][0]["exitCode"], 2);
    assert_eq!(
        log["runs"][0]["invocations"][0]["executionSuccessful"],
        false
    );
    let io = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "io-error")
        .expect("an io-error result");
    assert_eq!(
        io["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "missing.kdl"
    );
}

fn fingerprints(dir: &Path) -> Vec<(String, String)> {
    let log = sarif_log(&run_in(dir, &["check", "--format", "sarif"], None).stdout);
    let mut v: Vec<(String, String)> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["ruleId"].as_str().unwrap().to_string(),
                r["partialFingerprints"]["mailcfg/v1"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn fingerprints_survive_unrelated_edits_and_are_unique() {
    let dir = project();
    let before = fingerprints(dir.path());
    let unique: HashSet<&String> = before.iter().map(|(_, f)| f).collect();
    assert_eq!(unique.len(), before.len());
    // Move every finding down by some lines and columns: fingerprints stay.
    for f in [
        "accounts/support.kdl",
        "accounts/reused.kdl",
        "accounts/support-copy.kdl",
    ] {
        let p = dir.path().join(f);
        let text = std::fs::read_to_string(&p).unwrap();
        std::fs::write(&p, format!("// an unrelated comment\n\n{text}")).unwrap();
    }
    assert_eq!(fingerprints(dir.path()), before);
    // A different finding (another rule at another place) changes the set.
    let p = dir.path().join("accounts/support.kdl");
    let text = std::fs::read_to_string(&p).unwrap();
    std::fs::write(&p, text.replace("port 587", "port 465")).unwrap();
    assert_ne!(fingerprints(dir.path()), before);
    let gitlab: Value =
        serde_json::from_str(&run_in(dir.path(), &["check", "--format", "gitlab"], None).stdout)
            .unwrap();
    let prints: HashSet<&str> = gitlab
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(prints.len(), gitlab.as_array().unwrap().len());
}

#[test]
fn github_commands_escape_properties_and_data() {
    let dir = tempfile::tempdir().unwrap();
    // `,` `:` and `%` in the file name must be escaped in the `file=` property.
    write(
        dir.path(),
        "odd,name:50%.kdl",
        "account \"Odd\" {\n    protocol \"pop\"\n    conversation-id \"subject\"\n    incoming {\n        server \"pop.example.com\"\n        security \"tls\"\n    }\n    outgoing {\n        server \"smtp.example.com\"\n        security \"tls\"\n    }\n}\n",
    );
    let out = run_in(dir.path(), &["check", "--format", "github"], None);
    assert_eq!(out.code, 1);
    let line = out
        .stdout
        .lines()
        .find(|l| l.contains("title=security-imap-only::"))
        .unwrap();
    assert!(
        line.starts_with("::error file=odd%2Cname%3A50%25.kdl,line=6,col=18,endLine=6,endColumn=23,title=security-imap-only::"),
        "{line}"
    );
    // The message spans several lines (help, related location): newlines are %0A, so one
    // finding stays one command line.
    let data = line.split_once("title=security-imap-only::").unwrap().1;
    assert!(data.contains("%0Ahelp: "), "{data}");
    assert!(!data.contains('\n'));
    let gl: Value =
        serde_json::from_str(&run_in(dir.path(), &["check", "--format", "gitlab"], None).stdout)
            .unwrap();
    let issue = gl
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["check_name"] == "security-imap-only")
        .unwrap();
    assert_eq!(issue["location"]["path"], "odd,name:50%.kdl");
    assert_eq!(issue["severity"], "major");
    let sarif = sarif_log(&run_in(dir.path(), &["check", "--format", "sarif"], None).stdout);
    assert_eq!(
        sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
            ["uri"],
        "odd,name%3A50%25.kdl"
    );
}

#[test]
fn gitlab_code_quality_fields() {
    let dir = project();
    let out = run_in(dir.path(), &["check", "--format", "gitlab"], None);
    let issues: Value = serde_json::from_str(&out.stdout).unwrap();
    for i in issues.as_array().unwrap() {
        assert!(i["description"].as_str().is_some_and(|s| !s.is_empty()));
        assert!(i["check_name"].as_str().is_some());
        assert_eq!(i["fingerprint"].as_str().unwrap().len(), 64);
        assert!(["info", "minor", "major", "critical", "blocker"]
            .contains(&i["severity"].as_str().unwrap()));
        assert!(i["location"]["lines"]["begin"].as_u64().unwrap() >= 1);
    }
    let empty = issues
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["check_name"] == "empty-file")
        .unwrap();
    assert_eq!(empty["severity"], "minor");
    assert_eq!(empty["location"]["path"], "shared/empty.kdl");
}

#[test]
fn no_ansi_escapes_in_machine_formats() {
    let dir = project();
    for f in MACHINE {
        let out = run_in(
            dir.path(),
            &["check", "--format", f, "--color", "always"],
            None,
        );
        assert!(!out.stdout.contains('\x1b'), "{f} output has ANSI escapes");
    }
    let human = run_in(dir.path(), &["check", "--color", "always"], None);
    assert!(
        human.stdout.contains('\x1b'),
        "--color always colours the human view"
    );
    let file = dir.path().join("report.txt");
    let arg = format!("human={}", file.display());
    run_in(
        dir.path(),
        &["check", "--color", "always", "--output", &arg],
        None,
    );
    assert!(!std::fs::read_to_string(&file).unwrap().contains('\x1b'));
}

#[test]
fn secrets_never_appear_in_any_format() {
    let dir = project();
    let mut outputs = Vec::new();
    let mut args = vec!["check".to_string()];
    for f in FORMATS {
        args.push("--output".into());
        args.push(format!(
            "{f}={}",
            dir.path().join(format!("report.{f}")).display()
        ));
    }
    for f in FORMATS {
        let mut a = args.clone();
        a.extend([
            "--format".to_string(),
            f.to_string(),
            "--color".into(),
            "always".into(),
        ]);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let out = run_in(dir.path(), &a, None);
        assert_eq!(out.code, 1);
        outputs.push((format!("stdout of {f}"), out.stdout));
        outputs.push((format!("stderr of {f}"), out.stderr));
    }
    for f in FORMATS {
        let p = dir.path().join(format!("report.{f}"));
        outputs.push((format!("--output {f}"), std::fs::read_to_string(p).unwrap()));
    }
    // stdin, and a single file checked within its project.
    let text = std::fs::read_to_string(dir.path().join("accounts/reused.kdl")).unwrap();
    for f in FORMATS {
        let out = run_in(
            dir.path(),
            &[
                "check",
                "-",
                "--stdin-filename",
                "accounts/reused.kdl",
                "--format",
                f,
            ],
            Some(&text),
        );
        assert_eq!(out.code, 1);
        outputs.push((format!("stdin {f}"), out.stdout));
    }
    for (what, text) in &outputs {
        for s in SECRETS {
            assert!(!text.contains(s), "{what} contains the secret {s:?}");
            // Encoded forms count too (GitHub's %-escaping, JSON's quoting).
            let core = &s[..9];
            assert!(
                !text.contains(core),
                "{what} contains part of the secret {s:?}"
            );
        }
    }
    // The secret used as a name was really in the findings, masked.
    let json = std::fs::read_to_string(dir.path().join("report.json")).unwrap();
    assert!(json.contains("account \\\"********\\\""), "{json}");
}

#[test]
fn exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "clean/a.kdl", CLEAN);
    write(d, "warn/empty.kdl", "// nothing yet\n");
    write(
        d,
        "bad/pop.kdl",
        "account \"P\" {\n    protocol \"pop\"\n    conversation-id \"subject\"\n    incoming {\n        server \"pop.example.com\"\n        security \"tls\"\n    }\n    outgoing {\n        server \"smtp.example.com\"\n        security \"tls\"\n    }\n}\n",
    );
    write(d, "none/readme.txt", "not KDL\n");
    let code = |args: &[&str]| run_in(d, args, None).code;
    assert_eq!(code(&["check", "clean"]), 0);
    assert_eq!(code(&["check", "warn"]), 0);
    assert_eq!(code(&["check", "warn", "--fail-on", "warning"]), 1);
    assert_eq!(code(&["check", "warn", "--deny-warnings"]), 1);
    assert_eq!(code(&["check", "warn", "--fail-on", "info"]), 1);
    assert_eq!(code(&["check", "warn", "--fail-on", "error"]), 0);
    assert_eq!(code(&["check", "bad"]), 1);
    assert_eq!(code(&["check", "bad", "--exit-zero"]), 0);
    assert_eq!(
        code(&["check", "bad", "--fail-on", "warning", "--exit-zero"]),
        0
    );
    // 2: usage, configuration and I/O problems, whatever the findings.
    assert_eq!(code(&["check", "--format", "xml", "clean"]), 2);
    assert_eq!(code(&["check", "--fail-on", "never", "clean"]), 2);
    assert_eq!(code(&["check", "--output", "sarif", "clean"]), 2);
    assert_eq!(code(&["check", "--output", "pdf=x.pdf", "clean"]), 2);
    assert_eq!(code(&["check", "missing-dir"]), 2);
    let out = run_in(d, &["check", "none", "--output", "sarif=none.sarif"], None);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("no .kdl files found in none"),
        "{}",
        out.stderr
    );
    // The report is still written (an upload step in CI finds it), and says how the run ended.
    let log = sarif_log(&std::fs::read_to_string(d.join("none.sarif")).unwrap());
    assert_eq!(log["runs"][0]["invocations"][0]["exitCode"], 2);
    assert_eq!(code(&["check", "bad", "missing.kdl", "--exit-zero"]), 2);
    assert_eq!(code(&["check", "-", "clean"]), 2);
    assert_eq!(code(&["check", "-", "--fix"]), 2);
    assert_eq!(code(&["check", "clean", "--stdin-filename", "x.kdl"]), 2);
    let out = run_in(
        d,
        &["check", "clean", "--output", "json=no/such/dir/r.json"],
        None,
    );
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("cannot write json report"),
        "{}",
        out.stderr
    );
    // Standard output that cannot be written (a full disk) is an I/O problem too.
    if Path::new("/dev/full").exists() {
        let out = Command::new(BIN)
            .args(["check", "clean"])
            .current_dir(d)
            .stdout(std::fs::File::create("/dev/full").unwrap())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("cannot write to stdout"));
    }
    // 3: internal errors (a panic), through a hook that exists only for this test.
    let out = run_env(
        d,
        &["check", "clean"],
        None,
        &[("MAILCFG_TEST_INTERNAL_ERROR", "1")],
    );
    assert_eq!(out.code, 3);
    assert!(out.stderr.contains("internal error"), "{}", out.stderr);
    // The table is in --help.
    let help = run_in(d, &["check", "--help"], None);
    assert_eq!(help.code, 0);
    for needle in [
        "Exit codes:",
        "--fail-on",
        "--exit-zero",
        "3  internal error",
    ] {
        assert!(help.stdout.contains(needle), "--help lacks {needle}");
    }
}

#[test]
fn several_outputs_in_one_run() {
    let dir = project();
    let sarif = dir.path().join("out/mailcfg.sarif");
    std::fs::create_dir_all(sarif.parent().unwrap()).unwrap();
    let json = dir.path().join("out/report.json");
    let out = run_in(
        dir.path(),
        &[
            "check",
            "--output",
            &format!("sarif={}", sarif.display()),
            "--output",
            &format!("json={}", json.display()),
        ],
        None,
    );
    assert_eq!(out.code, 1);
    // The terminal still gets the human view.
    assert!(out.stdout.contains("duplicate-account-name"));
    let report = json_report(&std::fs::read_to_string(&json).unwrap());
    assert!(out
        .stdout
        .ends_with(&format!("\n{}\n", summary_line(&report))));
    let alone = run_in(dir.path(), &["check", "--format", "sarif"], None).stdout;
    assert_eq!(std::fs::read_to_string(&sarif).unwrap(), alone);
    sarif_log(&alone);
    let count = |k: &str| report["summary"][k].as_u64().unwrap() as usize;
    assert!(count("errors") > 0 && count("warnings") > 0);
    assert_eq!(
        count("errors") + count("warnings") + count("infos"),
        diags(&report).len()
    );
}

#[test]
fn stdin_alone_and_placed_in_its_project() {
    let dir = project();
    let d = dir.path();
    // Alone: named <stdin>, nothing else is read.
    let out = run_in(d, &["check", "-", "--format", "json"], Some(CLEAN));
    assert_eq!(out.code, 0, "{}", out.stdout);
    let r = json_report(&out.stdout);
    assert_eq!(r["summary"]["files"], 1);
    let out = run_in(
        d,
        &["check", "-", "--format", "concise"],
        Some("account \"X\" { incoming { server \"s\" \n"),
    );
    assert_eq!(out.code, 1);
    assert!(out.stdout.starts_with("<stdin>:"), "{}", out.stdout);

    // Placed: the stdin text replaces accounts/support-copy.kdl; the rest of the project is
    // read, so the duplicate name and the credential in shared/ resolve.
    let copy = std::fs::read_to_string(d.join("accounts/support-copy.kdl")).unwrap();
    let out = run_in(
        d,
        &[
            "check",
            "-",
            "--stdin-filename",
            "accounts/support-copy.kdl",
            "--format",
            "json",
        ],
        Some(&copy),
    );
    let r = json_report(&out.stdout);
    let rules: Vec<&str> = diags(&r)
        .iter()
        .map(|d| d["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["duplicate-account-name"], "{}", out.stdout);
    // Only findings in the stdin document, or pointing into it, are reported: the duplicate is
    // flagged at one of the two definitions, the other being its related location.
    let dup = &diags(&r)[0];
    let files: Vec<&str> = std::iter::once(&dup["location"])
        .chain(
            dup["related"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| &x["location"]),
        )
        .map(|l| l["file"].as_str().unwrap())
        .collect();
    assert!(files.contains(&"accounts/support-copy.kdl"), "{files:?}");
    // The summary counts every file a shown finding is in: the duplicate is located in the
    // other file of the project (the first by path), so the report is about two files.
    assert_eq!(r["summary"]["files"], 2, "{}", out.stdout);
    // The project's mailcfg.kdl applies to the stdin document (found from --stdin-filename).
    write(
        d,
        "mailcfg.kdl",
        "rules {\n    duplicate-account-name \"warn\"\n}\n",
    );
    let out = run_in(
        &d.join("shared"),
        &[
            "check",
            "-",
            "--stdin-filename",
            "../accounts/support-copy.kdl",
            "--format",
            "json",
        ],
        Some(&copy),
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let r = json_report(&out.stdout);
    assert_eq!(diags(&r)[0]["rule"], "duplicate-account-name");
    assert_eq!(diags(&r)[0]["level"], "warning");
    std::fs::remove_file(d.join("mailcfg.kdl")).unwrap();
    // The on-disk file is not read: a fixed buffer is clean although the disk copy is not.
    let fixed = copy.replace("\"SUPPORT\"", "\"Support-Google\"");
    let out = run_in(
        d,
        &[
            "check",
            "-",
            "--stdin-filename",
            "accounts/support-copy.kdl",
            "--format",
            "json",
        ],
        Some(&fixed),
    );
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert_eq!(diags(&json_report(&out.stdout)).len(), 0);
    // A stdin document placed in a subdirectory, named from another working directory.
    let broken = "account \"Y\" {\n    protocol \"imap\"\n    conversation-id \"subject\"\n    incoming {\n        server \"s\"\n        credential \"google-support\"\n        sever \"x\"\n    }\n    outgoing {\n        server \"smtp.example.com\"\n        security \"tls\"\n    }\n}\n";
    let out = run_in(
        &d.join("shared"),
        &[
            "check",
            "-",
            "--stdin-filename",
            "../accounts/new.kdl",
            "--format",
            "concise",
        ],
        Some(broken),
    );
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("[unknown-node]"), "{}", out.stdout);
    // The credential is defined in shared/credentials.kdl: no unknown-credential.
    assert!(!out.stdout.contains("unknown-credential"), "{}", out.stdout);
    assert!(out.stdout.contains("new.kdl:7:9:"), "{}", out.stdout);
}

#[test]
fn explicit_files_load_the_project_but_report_only_themselves() {
    let dir = project();
    let d = dir.path();
    // support-copy.kdl alone would report unknown-credential; within the project it resolves.
    let out = run_in(
        d,
        &["check", "accounts/support-copy.kdl", "--format", "json"],
        None,
    );
    let r = json_report(&out.stdout);
    // The summary counts every file a shown finding is in: the duplicate is located in the
    // other file of the project (the first by path), so the report is about two files.
    assert_eq!(r["summary"]["files"], 2, "{}", out.stdout);
    let rules: Vec<&str> = diags(&r)
        .iter()
        .map(|d| d["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["duplicate-account-name"], "{}", out.stdout);
    assert_eq!(out.code, 1);
    // inbox.kdl: exactly what a full run reports about it, nothing of the rest of the project.
    let out = run_in(
        d,
        &["check", "accounts/inbox.kdl", "--format", "concise"],
        None,
    );
    assert_eq!(out.code, 1);
    let full = run_in(d, &["check", ".", "--format", "concise"], None).stdout;
    let about_inbox: Vec<&str> = full
        .lines()
        .filter(|l| l.starts_with("accounts/inbox.kdl:"))
        .collect();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[..lines.len() - 1], about_inbox[..], "{}", out.stdout);
    assert!(out.stdout.contains("[security-imap-only]"));
    // The same file checked twice (two spellings) is read once: no duplicate with itself.
    let out = run_in(
        d,
        &[
            "check",
            "accounts/inbox.kdl",
            "./accounts/../accounts/inbox.kdl",
            "--format",
            "concise",
        ],
        None,
    );
    assert_eq!(
        out.stdout.lines().count(),
        about_inbox.len() + 1,
        "{}",
        out.stdout
    );
    // Outside any project (no mailcfg.kdl or .git above): only the file itself.
    let lone = tempfile::tempdir().unwrap();
    write(
        lone.path(),
        "a.kdl",
        &copy_text(d, "accounts/support-copy.kdl"),
    );
    let out = run_in(
        lone.path(),
        &["check", "a.kdl", "--format", "concise"],
        None,
    );
    assert!(
        out.stdout.contains("[unknown-credential]"),
        "{}",
        out.stdout
    );
    // mailcfg.kdl marks a project root as .git does.
    write(lone.path(), "mailcfg.kdl", "");
    write(
        lone.path(),
        "creds/c.kdl",
        &copy_text(d, "shared/credentials.kdl"),
    );
    let out = run_in(
        lone.path(),
        &["check", "a.kdl", "--format", "concise"],
        None,
    );
    assert!(!out.stdout.contains("unknown-credential"), "{}", out.stdout);
    // ... and is not an account file itself when a directory is walked.
    let out = run_in(lone.path(), &["check", ".", "--format", "concise"], None);
    assert!(!out.stdout.contains("mailcfg.kdl"), "{}", out.stdout);
    assert!(out.stdout.contains("in 2 files"), "{}", out.stdout);
}

fn copy_text(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).unwrap()
}

#[test]
fn every_emitted_name_is_a_rule_or_a_documented_builtin() {
    let names: HashSet<&str> = mailcfg::registry::all().iter().map(|c| c.name).collect();
    let docs = std::fs::read_to_string(Path::new(ROOT).join("docs/formats.md")).unwrap();
    for b in mailcfg::registry::builtin::BUILTIN {
        assert!(
            docs.contains(&format!("`{}`", b.name)),
            "docs/formats.md lacks {}",
            b.name
        );
    }
    let dir = project();
    for (cwd, arg) in [
        (Path::new(ROOT).join("examples"), "."),
        (dir.path().to_path_buf(), "."),
    ] {
        let out = run_in(&cwd, &["check", arg, "--format", "json"], None);
        for d in diags(&json_report(&out.stdout)) {
            let rule = d["rule"].as_str().unwrap();
            assert!(
                names.contains(rule),
                "{rule} is neither a rule nor in BUILTIN"
            );
        }
    }
}

/// The fenced block of `lang` that follows the `sh` block running `command` in docs/formats.md.
fn doc_block(docs: &str, command: &str, lang: &str) -> String {
    let at = docs
        .find(&format!("```sh\n{command}\n```"))
        .unwrap_or_else(|| panic!("docs/formats.md has no example `{command}`"));
    let rest = &docs[at..];
    let open = format!("```{lang}\n");
    let start = rest.find(&open).unwrap() + open.len();
    let end = start + rest[start..].find("```").unwrap();
    rest[start..end].to_string()
}

#[test]
fn docs_examples_are_real_output() {
    let docs = std::fs::read_to_string(Path::new(ROOT).join("docs/formats.md")).unwrap();
    let dir = Path::new(ROOT).join("tests/data/formats/docs-example");
    let concise = run_in(&dir, &["check", "accounts", "--format", "concise"], None);
    assert_eq!(
        concise.stdout,
        doc_block(&docs, "mailcfg check accounts --format concise", "text")
    );
    let out = run_in(&dir, &["check", "accounts", "--format", "json"], None);
    assert_eq!(out.code, 1);
    let mut actual = json_report(&out.stdout);
    let mut documented = json_report(&doc_block(
        &docs,
        "mailcfg check accounts --format json",
        "json",
    ));
    // The documented tool version is whatever it was when the docs were written.
    actual["tool"]["version"] = Value::Null;
    documented["tool"]["version"] = Value::Null;
    assert_eq!(actual, documented);
}

/// Every `mailcfg …` command line of the fenced `lang` blocks of a Markdown file (YAML `run:`
/// steps and list items included), with trailing comments removed.
fn doc_commands(markdown: &str, lang: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in markdown.lines() {
        if line.starts_with("```") {
            inside =
                !inside && line.trim_start_matches('`').split_whitespace().next() == Some(lang);
            continue;
        }
        if !inside {
            continue;
        }
        let cmd = line
            .trim_start()
            .trim_start_matches("- ")
            .trim_start_matches("run: ");
        if cmd.starts_with("mailcfg ") {
            out.push(cmd.split(" # ").next().unwrap().trim().to_string());
        }
    }
    out
}

#[test]
fn docs_and_readme_commands_run() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &Path::new(ROOT).join("tests/data/formats/docs-example"),
        dir.path(),
    );
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    std::fs::copy(
        dir.path().join("accounts/support.kdl"),
        dir.path().join("buffer.kdl"),
    )
    .unwrap();
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let docs = std::fs::read_to_string(Path::new(ROOT).join("docs/formats.md")).unwrap();
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let mut commands = doc_commands(&docs, "sh");
    let ci = doc_commands(&readme, "yaml");
    assert!(ci.len() >= 2, "README's CI snippets run mailcfg: {ci:?}");
    commands.extend(ci);
    assert!(commands.len() >= 8, "{commands:?}");
    for cmd in &commands {
        for f in ["mailcfg.sarif", "gl-code-quality-report.json"] {
            let _ = std::fs::remove_file(dir.path().join(f));
        }
        let out = Command::new("bash")
            .args(["-c", cmd])
            .current_dir(dir.path())
            .env("PATH", &path)
            .output()
            .unwrap();
        // The example project has a finding: 1, never a usage error.
        assert_eq!(
            out.status.code(),
            Some(1),
            "`{cmd}`: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        if cmd.contains("sarif") {
            sarif_log(&std::fs::read_to_string(dir.path().join("mailcfg.sarif")).unwrap());
        }
        if cmd.contains("--format json") {
            json_report(&String::from_utf8(out.stdout).unwrap());
        }
        if cmd.contains("gitlab=") {
            let text =
                std::fs::read_to_string(dir.path().join("gl-code-quality-report.json")).unwrap();
            let v: Value = serde_json::from_str(&text).unwrap();
            assert!(v
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["check_name"] == "duplicate-account-name"));
        }
    }
}

/// No rule offers a fix yet, so this one is built by hand: the renderers' part of the contract
/// (fix edits located like everything else, valid against both schemas) is tested on its own.
#[test]
fn fixes_render_in_json_and_sarif() {
    use mailcfg::diagnostics::{Diagnostic, Edit, Fix, Label, Level, Span};
    use mailcfg::render::{render, Format, Report};
    use mailcfg::source::{SourceFile, Sources};

    let text = "account \"A\" {\n    protocol \"pop\"\n    conversation-id \"subject\"\n    incoming { server \"s\"; security \"tls\"; }\n    outgoing {\n        server \"smtp.example.com\"\n        security \"tls\"\n    }\n}\n";
    let mut sources = Sources::default();
    let id = sources.add(SourceFile::new("accounts/a.kdl", text.to_string()));
    let at = text.find("\"tls\"").unwrap();
    let span = Span::new(at, at + 5);
    let diag = Diagnostic::new(
        "security-imap-only",
        Level::Error,
        Label::new(id, span),
        "security \"tls\" is offered for IMAP accounts only",
    )
    .with_fix(Fix {
        description: "use implicit TLS".into(),
        edits: vec![Edit {
            file: id,
            span,
            replacement: "\"ssl\"".into(),
        }],
    })
    .with_path("account \"A\" › incoming › security");
    let diags = [diag];
    let report = Report {
        diagnostics: &diags,
        sources: &sources,
        files: 1,
        exit_code: 1,
    };
    let json = json_report(&render(Format::Json, &report, false));
    let fix = &json["diagnostics"][0]["fix"];
    assert_eq!(fix["description"], "use implicit TLS");
    let edit = &fix["edits"][0];
    assert_eq!(edit["replacement"], "\"ssl\"");
    assert_eq!(edit["location"]["byte_start"], at);
    assert_eq!(edit["location"]["line"], 4);
    assert_eq!(
        edit["location"]["column"].as_u64().unwrap() as usize,
        line_col(text, at).1
    );
    let sarif = sarif_log(&render(Format::Sarif, &report, false));
    let change = &sarif["runs"][0]["results"][0]["fixes"][0]["artifactChanges"][0];
    assert_eq!(change["artifactLocation"]["uri"], "accounts/a.kdl");
    let replacement = &change["replacements"][0];
    assert_eq!(replacement["insertedContent"]["text"], "\"ssl\"");
    assert_eq!(replacement["deletedRegion"]["byteOffset"], at);
    assert_eq!(replacement["deletedRegion"]["byteLength"], 5);
    assert_eq!(replacement["deletedRegion"]["startLine"], 4);
}

/// SARIF from `check` and from `probe`: every result's rule has a `tool.driver.rules` entry and
/// a `ruleIndex` pointing at it, and the log is valid SARIF 2.1.0. The probe talks to a closed
/// loopback port (no server needed: the connection is refused).
#[test]
fn sarif_from_check_and_probe_indexes_every_result_in_the_registry() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "a.kdl",
        &format!(
            "account \"Closed\" {{\n    protocol \"imap\"\n    conversation-id \"subject\"\n    incoming {{\n        server \"127.0.0.1\"\n        port {port}\n        security \"basic\"\n        user \"u@example.com\"\n        password env=\"MAILCFG_TEST_NO_SUCH_VAR\"\n    }}\n    outgoing {{\n        server \"127.0.0.1\"\n        port {port}\n        security \"basic\"\n        auth \"none\"\n    }}\n}}\n"
        ),
    );
    let registry: Vec<&str> = mailcfg::registry::all().iter().map(|c| c.name).collect();
    let check = run_in(d, &["check", "--format", "sarif", "."], None);
    let probe = run_in(
        d,
        &[
            "probe",
            "--format",
            "sarif",
            "--allow-check-errors",
            "--timeout",
            "5",
            ".",
        ],
        None,
    );
    let mut seen = HashSet::new();
    for (what, out) in [("check", &check), ("probe", &probe)] {
        let log = sarif_log(&out.stdout);
        let run = &log["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(ids, registry, "{what}: driver.rules is the registry");
        let results = run["results"].as_array().unwrap();
        assert!(!results.is_empty(), "{what}: {}", out.stdout);
        for r in results {
            let i = r["ruleIndex"]
                .as_u64()
                .unwrap_or_else(|| panic!("{what}: no ruleIndex: {r}"));
            assert_eq!(rules[i as usize]["id"], r["ruleId"], "{what}");
            seen.insert(r["ruleId"].as_str().unwrap().to_string());
        }
    }
    assert!(seen.iter().any(|r| r.starts_with("probe-")), "{seen:?}");
    assert!(seen.iter().any(|r| !r.starts_with("probe-")), "{seen:?}");
    // Probe checks take their levels from mailcfg.kdl like rules.
    assert_eq!(probe.code, 1, "{}", probe.stdout);
    write(
        d,
        "mailcfg.kdl",
        "rules {\n    probe-connect \"warn\"\n    probe-secret \"allow\"\n}\n",
    );
    let probe = run_in(
        d,
        &[
            "probe",
            "--format",
            "json",
            "--allow-check-errors",
            "--timeout",
            "5",
            ".",
        ],
        None,
    );
    let report: Value = serde_json::from_str(&probe.stdout).unwrap();
    let probed: Vec<(&str, &str)> = diags(&report)
        .iter()
        .filter(|d| d["rule"].as_str().unwrap().starts_with("probe-"))
        .map(|d| (d["rule"].as_str().unwrap(), d["level"].as_str().unwrap()))
        .collect();
    assert!(
        probed.contains(&("probe-connect", "warning")),
        "{}",
        probe.stdout
    );
    assert!(
        !probed.iter().any(|(r, _)| *r == "probe-secret"),
        "{}",
        probe.stdout
    );
    assert_eq!(probe.code, 0, "{}", probe.stdout);
}

// ---- secrets in every literal form, through every output ------------------------------------

/// Where the secret goes: `{}` is the literal.
const SECRET_POSITIONS: &[&str] = &[
    "{}",
    "\"first\" {}",
    "value={}",
    "env=\"PW\" value={}",
    "(t){}",
    "/-{}",
    "\\\n            {}",
];

/// How the secret is written: `S` is the secret's text.
const SECRET_FORMS: &[&str] = &[
    "\"S\"",
    "\"S\\n\"",
    "#\"S\"#",
    "##\"S\"##",
    "\"\"\"\n            S\n            \"\"\"",
    "#\"\"\"\n            S\n            \"\"\"#",
    "r\"S\"",
    "r#\"S\"#",
    "S",
    "1S",
];

/// What follows the secret: nothing, or something that breaks the file right after it.
const SECRET_TAILS: &[&str] = &["", "]", " {{{", " \"unterminated", "<EOF>"];

/// An account file with `line` as one node (in `incoming` for a password, in a credential for
/// the other secrets). `v1` writes it in KDL v1 (bare `true`).
fn account_with(node: &str, line: &str, v1: bool) -> String {
    let lock = if v1 { "true" } else { "#true" };
    let (incoming, credential) = if node == "password" {
        (line.to_string(), String::new())
    } else {
        (
            "password env=\"PW\"".to_string(),
            format!("credential \"c\" {{\n    type \"office365\"\n    tenant-id \"t\"\n    client-id \"c\"\n    {line}\n}}\n"),
        )
    };
    format!(
        "{credential}account \"Desk\" {{\n    protocol \"imap\"\n    incoming {{\n        server \"127.0.0.1\"\n        port 1\n        security \"ssl\"\n        user \"desk@example.com\"\n        {incoming}\n    }}\n    outgoing {{ server \"127.0.0.1\"; security \"ssl\"; auth \"same-as-incoming\"; }}\n    lock credentials={lock}\n}}\n"
    )
}

/// Every message the language server sends for `text` opened in `dir`: pulled diagnostics,
/// hovers along every line, code actions over the whole file (the server runs in process).
fn lsp_outputs(dir: &Path, path: &Path, text: &str) -> Vec<String> {
    use lsp_server::{Connection, Message, Notification, Request, RequestId};
    let (server, client) = Connection::memory();
    let thread = std::thread::spawn(move || {
        let _ = mailcfg::lsp::run(&server);
    });
    let file_uri = |p: &Path| {
        let mut s = String::from("file://");
        for b in p.to_string_lossy().bytes() {
            if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
                s.push(b as char);
            } else {
                s.push_str(&format!("%{b:02X}"));
            }
        }
        s
    };
    let uri = file_uri(path);
    let root = file_uri(dir);
    let mut seen = Vec::new();
    let mut next = 0;
    let mut ask = |client: &Connection, method: &str, params: Value, seen: &mut Vec<String>| {
        next += 1;
        let id = RequestId::from(next);
        client
            .sender
            .send(Message::Request(Request::new(
                id.clone(),
                method.into(),
                params,
            )))
            .unwrap();
        loop {
            let m = client
                .receiver
                .recv_timeout(std::time::Duration::from_secs(30))
                .expect("the server answers");
            let done = matches!(&m, Message::Response(r) if r.id == id);
            seen.push(serde_json::to_string(&m).unwrap());
            if done {
                return;
            }
        }
    };
    let notify = |client: &Connection, method: &str, params: Value| {
        client
            .sender
            .send(Message::Notification(Notification::new(
                method.into(),
                params,
            )))
            .unwrap();
    };
    ask(
        &client,
        "initialize",
        serde_json::json!({ "processId": null, "rootUri": root, "capabilities": {},
            "initializationOptions": { "debounceMs": 5 } }),
        &mut seen,
    );
    notify(&client, "initialized", serde_json::json!({}));
    notify(
        &client,
        "textDocument/didOpen",
        serde_json::json!({ "textDocument": { "uri": uri, "languageId": "kdl", "version": 1, "text": text } }),
    );
    let doc = serde_json::json!({ "uri": uri });
    ask(
        &client,
        "textDocument/diagnostic",
        serde_json::json!({ "textDocument": doc }),
        &mut seen,
    );
    for (line, l) in text.lines().enumerate() {
        for character in (0..l.len().max(1)).step_by(6) {
            ask(
                &client,
                "textDocument/hover",
                serde_json::json!({ "textDocument": doc, "position": { "line": line, "character": character } }),
                &mut seen,
            );
        }
    }
    let lines = text.lines().count() + 1;
    ask(
        &client,
        "textDocument/codeAction",
        serde_json::json!({ "textDocument": doc, "context": { "diagnostics": [] },
            "range": { "start": { "line": 0, "character": 0 }, "end": { "line": lines, "character": 0 } } }),
        &mut seen,
    );
    ask(&client, "shutdown", Value::Null, &mut seen);
    notify(&client, "exit", Value::Null);
    while let Ok(m) = client
        .receiver
        .recv_timeout(std::time::Duration::from_millis(100))
    {
        seen.push(serde_json::to_string(&m).unwrap());
    }
    drop(client);
    thread.join().unwrap();
    seen
}

/// Every output of every command on `text` (written as accounts/a.kdl in a fresh project).
fn every_output(text: &str) -> Vec<(String, String)> {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir_all(dir.join("accounts")).unwrap();
    let file = dir.join("accounts/a.kdl");
    std::fs::write(&file, text).unwrap();
    let mut outputs = Vec::new();
    let mut run = |what: String, args: &[&str]| {
        let o = run_env(dir, args, None, &[("PW", "from-the-environment")]);
        outputs.push((format!("stdout of {what}"), o.stdout));
        outputs.push((format!("stderr of {what}"), o.stderr));
    };
    for f in FORMATS {
        run(
            format!("check --format {f}"),
            &["check", "--format", f, "accounts"],
        );
    }
    for f in FORMATS
        .iter()
        .chain(&["results-json", "openmetrics", "html"])
    {
        run(
            format!("probe --format {f}"),
            &[
                "probe",
                "--allow-check-errors",
                "--timeout",
                "1",
                "--format",
                f,
                "accounts",
            ],
        );
    }
    run("check --diff".into(), &["check", "--diff", "accounts"]);
    run("fmt --diff".into(), &["fmt", "--diff", "accounts/a.kdl"]);
    run(
        "compile".into(),
        &["compile", "--out", "store.json", "accounts"],
    );
    run(
        "compile --check".into(),
        &["compile", "--check", "--out", "store.json", "accounts"],
    );
    run(
        "compile --allow-inline-secrets".into(),
        &[
            "compile",
            "--allow-inline-secrets",
            "--out",
            "new.json",
            "accounts",
        ],
    );
    if dir.join("new.json").exists() {
        let plain = account_with("password", "password env=\"PW\"", false);
        std::fs::write(dir.join("plain.kdl"), plain).unwrap();
        run(
            "compile (reference)".into(),
            &["compile", "--out", "old.json", "plain.kdl"],
        );
        for f in ["human", "json"] {
            run(
                format!("diff --format {f}"),
                &["diff", "--format", f, "old.json", "new.json"],
            );
            run(
                format!("diff --format {f} (reversed)"),
                &["diff", "--format", f, "new.json", "old.json"],
            );
        }
    }
    run("explain".into(), &["explain", "inline-secret"]);
    for f in ["kdl", "json"] {
        run(
            format!("show --format {f}"),
            &["show", "desk", "accounts", "--format", f],
        );
    }
    run("check --fix".into(), &["check", "--fix", "accounts"]);
    for (i, m) in lsp_outputs(dir, &file, text).into_iter().enumerate() {
        outputs.push((format!("language server message {i}"), m));
    }
    outputs
}

fn assert_no_secret(outputs: &[(String, String)], secret: &str, text: &str) {
    for (what, out) in outputs {
        assert!(
            !out.contains(secret),
            "{what} shows the secret {secret:?}\n--- file:\n{text}\n--- output:\n{out}"
        );
        // Runs of `*`: the mask, or Markdown emphasis (secrets are 8 characters or longer).
        for run in out.split(|c| c != '*').filter(|r| !r.is_empty()) {
            assert!(
                run.len() == 8 || run.len() <= 2,
                "{what} has a mask of another width than ******** (a length leak)\n--- file:\n{text}\n--- output:\n{out}"
            );
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(32))]
    /// The "Done when" of issue 13: a random secret in every secret node, position and literal
    /// form, in files that then break right after it and in KDL v1 files, never reaches any
    /// output of any command, nor its length as a run of mask characters.
    #[test]
    fn a_secret_in_any_form_never_reaches_any_output(
        secret in "[a-zA-Z][a-zA-Z0-9]{7,30}",
        node in proptest::sample::select(mailcfg::parse::redact::SECRET_NAMES.to_vec()),
        position in proptest::sample::select(SECRET_POSITIONS.to_vec()),
        form in proptest::sample::select(SECRET_FORMS.to_vec()),
        tail in proptest::sample::select(SECRET_TAILS.to_vec()),
        v1 in proptest::bool::ANY,
    ) {
        let literal = form.replace('S', &secret);
        let line = format!("{node} {}", position.replace("{}", &literal));
        let mut text = account_with(node, &line, v1);
        if tail == "<EOF>" {
            text.truncate(text.find(&secret).unwrap() + secret.len());
        } else {
            text = text.replacen(&line, &format!("{line}{tail}"), 1);
        }
        assert_no_secret(&every_output(&text), &secret, &text);
    }
}

#[test]
fn a_v1_string_spanning_lines_never_reaches_any_output() {
    let line = "password \"FirstHalfSecret\nSecondHalfSecret\"";
    let text = account_with("password", line, true);
    let outputs = every_output(&text);
    assert_no_secret(&outputs, "FirstHalfSecret", &text);
    assert_no_secret(&outputs, "SecondHalfSecret", &text);
}
