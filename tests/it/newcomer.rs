//! A newcomer's commands end to end: `init`, `show`, `completions`, `man`, and the messages a
//! first run meets (`--quiet`, the exit codes in `--help`, an empty directory, `diff` on files
//! that are not stores). The init → check → compile → pre-commit flow is in precommit.rs.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

fn mailcfg_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(crate::harness::BIN)
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
    let rules = mailcfg_in(tmp.path(), &["rules", "--format", "json"]);
    let codes: Vec<serde_json::Value> = serde_json::from_slice(&rules.stdout).unwrap();
    let mut listed = 0;
    for code in &codes {
        let name = code["name"].as_str().unwrap();
        let line = config
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("// {name} ")));
        if code["configurable"] != true {
            assert!(line.is_none(), "{name} cannot be configured:\n{config}");
            continue;
        }
        let setting = match code["level"].as_str().unwrap() {
            "error" => "deny",
            "warning" => "warn",
            other => other,
        };
        let line = line.unwrap_or_else(|| panic!("{name} not listed:\n{config}"));
        assert!(line.ends_with(&format!("\"{setting}\"")), "{line}");
        listed += 1;
    }
    assert!(listed >= 60, "rules and probe checks: {listed}");
    let uncommented: String = config
        .lines()
        .map(|l| match l.strip_prefix("    // ") {
            // A rule's line, not a group heading.
            Some(rule) if rule.ends_with('"') => format!("    {rule}\n"),
            _ => format!("{l}\n"),
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

fn examples() -> std::path::PathBuf {
    Path::new(crate::harness::ROOT).join("examples/accounts")
}

fn show(args: &[&str]) -> Output {
    let mut all = vec!["show"];
    all.extend_from_slice(args);
    mailcfg_in(&examples(), &all)
}

#[test]
fn show_resolves_every_default_and_marks_where_each_value_comes_from() {
    // Case does not matter.
    let o = show(&["facilities"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let line = |start: &str| {
        out.lines()
            .find(|l| l.trim_start().starts_with(start))
            .unwrap_or_else(|| panic!("no `{start}` line:\n{out}"))
            .to_string()
    };
    assert_eq!(line("account \"Facilities\" {"), "account \"Facilities\" {");
    // POP3 with ssl: port 995 by default; SMTP with ssl: 465.
    assert!(line("port 995").ends_with("// default"), "{out}");
    assert!(line("port 465").ends_with("// default"), "{out}");
    assert!(
        line("protocol \"pop\"").ends_with("// written legacy-pop.kdl:3"),
        "{out}"
    );
    assert!(
        line("available-to-users #false").ends_with("// default"),
        "{out}"
    );
    // The system prefix, from the other file.
    assert!(
        line("// system conversation-prefix \"ACME\"").ends_with("// written system.kdl:3"),
        "{out}"
    );
    // One padlock written, the other defaulted.
    assert!(
        line("lock server=#true credentials=#true")
            .ends_with("// server: default; credentials: written legacy-pop.kdl:19"),
        "{out}"
    );
    // POP3 has no mailbox.
    assert!(!out.contains("mailbox"), "{out}");

    let o = show(&["ServiceDesk"]);
    let (out, _) = text(&o);
    assert!(out.contains("mailbox \"INBOX\""), "{out}");
    assert!(
        out.contains("password env=\"SERVICEDESK_IMAP_PASSWORD\""),
        "{out}"
    );
}

#[test]
fn show_json_is_the_accounts_part_of_the_store_with_origins() {
    let tmp = tempfile::tempdir().unwrap();
    let store_path = tmp.path().join("store.json");
    let o = mailcfg_in(
        &examples(),
        &["compile", ".", "--out", store_path.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let store: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&store_path).unwrap()).unwrap();
    for account in store["accounts"].as_array().unwrap() {
        let name = account["name"].as_str().unwrap();
        let o = show(&[&name.to_uppercase(), "--format", "json"]);
        assert_eq!(o.status.code(), Some(0), "{name}: {:?}", text(&o));
        let shown: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(&shown["account"], account, "{name}");
        let origins = shown["origins"].as_array().unwrap();
        let origin = |p: &str| {
            origins
                .iter()
                .find(|o| o["pointer"] == p)
                .unwrap_or_else(|| panic!("{name}: no origin for {p}"))
        };
        assert_eq!(origin("/incoming/authentication")["origin"], "derived");
        assert_eq!(origin("/protocol")["origin"], "written");
        for o in origins {
            // Every value of the account has an origin, and only written ones have a place.
            assert!(
                shown["account"]
                    .pointer(o["pointer"].as_str().unwrap())
                    .is_some(),
                "{o}"
            );
            assert_eq!(o["origin"] == "written", o["at"].is_string(), "{o}");
        }
    }
}

/// `show` in the account language means what the files mean: every account's output, checked
/// and compiled on its own, gives the same store account (same digest).
#[test]
fn show_kdl_compiles_to_the_same_account() {
    let tmp = tempfile::tempdir().unwrap();
    for shared in ["system.kdl", "credentials.kdl"] {
        fs::copy(examples().join(shared), tmp.path().join(shared)).unwrap();
    }
    let compile = |dir: &Path, out: &Path| {
        let o = mailcfg_in(dir, &["compile", ".", "--out", out.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
        let store: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(out).unwrap()).unwrap();
        store["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| (a["name"].clone(), a["digest"].clone()))
            .collect::<Vec<_>>()
    };
    let original = compile(&examples(), &tmp.path().join("original.json"));
    for (name, _) in &original {
        let name = name.as_str().unwrap();
        let o = show(&[name]);
        assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
        fs::write(tmp.path().join(format!("{name}.kdl")), &o.stdout).unwrap();
    }
    let shown = compile(tmp.path(), &tmp.path().join("shown.json"));
    assert!(original.len() >= 5, "{original:?}");
    assert_eq!(original, shown);
}

#[test]
fn show_suggests_a_name_and_masks_literal_secrets() {
    let o = show(&["servicedsk"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("did you mean \"ServiceDesk\"?"), "{err}");

    let tmp = tempfile::tempdir().unwrap();
    fs::write(
        tmp.path().join("lab.kdl"),
        "account \"Lab\" {\n    protocol \"imap\"\n    incoming {\n        server \"imap.example.com\"\n        security \"ssl\"\n        user \"lab@example.com\"\n        password \"hunter2-lab-secret\"\n    }\n    outgoing {\n        server \"smtp.example.com\"\n    }\n}\n",
    )
    .unwrap();
    for format in ["kdl", "json"] {
        let o = mailcfg_in(tmp.path(), &["show", "lab", "--format", format]);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(0), "{err}");
        assert!(
            !out.contains("hunter2") && !err.contains("hunter2"),
            "{out}{err}"
        );
        assert!(out.contains("********"), "{out}");
    }
    // An account without conversation IDs (and without a system node): shown as comments, and
    // the output is still an account file without errors.
    let o = mailcfg_in(tmp.path(), &["show", "lab"]);
    let (out, _) = text(&o);
    assert!(
        out.contains("// no conversation-id: no conversation IDs are added"),
        "{out}"
    );
    assert!(!out.contains("conversation-id \"none\""), "{out}");
    let again = tempfile::tempdir().unwrap();
    fs::write(again.path().join("lab.kdl"), &out).unwrap();
    let o = mailcfg_in(again.path(), &["check"]);
    assert_eq!(o.status.code(), Some(0), "{out}\n{:?}", text(&o));

    // Two accounts with one name (ignoring case): both places are named.
    fs::write(
        tmp.path().join("lab2.kdl"),
        "account \"LAB\" {\n    protocol \"imap\"\n    incoming {\n        server \"imap.example.com\"\n    }\n    outgoing {\n        server \"smtp.example.com\"\n    }\n}\n",
    )
    .unwrap();
    let o = mailcfg_in(tmp.path(), &["show", "Lab"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("lab.kdl:1") && err.contains("lab2.kdl:1"),
        "{err}"
    );

    let empty = tempfile::tempdir().unwrap();
    let o = mailcfg_in(empty.path(), &["show", "Lab"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("no .kdl files found"));
}

fn subcommands() -> Vec<String> {
    let o = mailcfg_in(Path::new("."), &["--help"]);
    let (help, _) = text(&o);
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        // Continuation lines of a description are indented further.
        .filter(|l| !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|c| c != "help")
        .collect()
}

/// Bash completes every command from the script `completions bash` prints, and option names
/// after a command.
#[test]
fn bash_completion_completes_commands_and_options() {
    let o = mailcfg_in(Path::new("."), &["completions", "bash"]);
    assert_eq!(o.status.code(), Some(0));
    let script = String::from_utf8(o.stdout).unwrap();
    let complete = |words: &str| {
        let driver = format!(
            "{script}\nCOMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
             _mailcfg mailcfg \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\""
        );
        let out = Command::new("bash").args(["-c", &driver]).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let commands = subcommands();
    assert!(commands.len() >= 12, "{commands:?}");
    let all = complete("mailcfg ''");
    for c in &commands {
        assert!(all.lines().any(|l| l == c), "{c} not completed: {all}");
    }
    assert_eq!(complete("mailcfg sho").trim(), "show");
    let init_options = complete("mailcfg init --");
    assert!(init_options.lines().any(|l| l == "--ci"), "{init_options}");
    let ci_values = complete("mailcfg init --ci ''");
    assert_eq!(
        ci_values.split_whitespace().collect::<Vec<_>>(),
        ["github", "gitlab", "none"]
    );
}

#[test]
fn completions_exist_for_every_shell_and_name_every_command() {
    let commands = subcommands();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let o = mailcfg_in(Path::new("."), &["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}");
        let script = String::from_utf8(o.stdout).unwrap();
        for c in &commands {
            assert!(script.contains(c.as_str()), "{shell}: {c} missing");
        }
    }
    let o = mailcfg_in(Path::new("."), &["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn man_prints_the_page_and_writes_one_per_command() {
    let o = mailcfg_in(Path::new("."), &["man"]);
    assert_eq!(o.status.code(), Some(0));
    let page = String::from_utf8(o.stdout).unwrap();
    assert!(
        page.starts_with(".ie") || page.contains(".TH mailcfg 1"),
        "{page}"
    );
    assert!(page.contains(".TH mailcfg 1"), "{page}");
    for c in subcommands() {
        assert!(page.contains(&c), "{c} missing from the page");
    }

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("man1");
    let o = mailcfg_in(Path::new("."), &["man", "--out", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    for c in subcommands() {
        let page = fs::read_to_string(dir.join(format!("mailcfg-{c}.1")))
            .unwrap_or_else(|e| panic!("mailcfg-{c}.1: {e}"));
        assert!(page.contains(&format!(".TH mailcfg-{c} 1")), "{page}");
    }
    // The command's own exit codes are in its page.
    let show = fs::read_to_string(dir.join("mailcfg-show.1")).unwrap();
    assert!(show.contains("Exit codes"), "{show}");
}

/// `--quiet`: a clean run prints nothing, a passing run with findings prints them without the
/// summary, a failing run prints findings and the summary; progress messages are dropped.
#[test]
fn quiet_prints_findings_and_only_a_failing_summary() {
    let tmp = tempfile::tempdir().unwrap();
    assert_eq!(init(tmp.path(), &["-q"]).status.code(), Some(0));
    let listing = init(tempfile::tempdir().unwrap().path(), &["--quiet"]);
    assert_eq!(text(&listing), (String::new(), String::new()));

    for format in ["human", "concise"] {
        let o = mailcfg_in(tmp.path(), &["check", "--quiet", "--format", format]);
        assert_eq!(o.status.code(), Some(0));
        assert_eq!(text(&o), (String::new(), String::new()), "{format}");
    }
    // The flag may come before the command too.
    let o = mailcfg_in(
        tmp.path(),
        &["-q", "compile", "accounts", "--out", "s.json"],
    );
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(text(&o), (String::new(), String::new()));
    assert!(tmp.path().join("s.json").is_file());
    let loud = mailcfg_in(tmp.path(), &["compile", "accounts", "--out", "s.json"]);
    assert!(text(&loud).1.contains("wrote s.json"), "{:?}", text(&loud));

    // A warning (redundant-port is info; an arbitrary From is a warning) below --fail-on.
    let account = tmp.path().join("accounts/servicedesk.kdl");
    let text_before = fs::read_to_string(&account).unwrap();
    fs::write(
        &account,
        text_before.replace(
            "    from {\n",
            "    from {\n        allow-arbitrary #true\n",
        ),
    )
    .unwrap();
    for format in ["human", "concise"] {
        let o = mailcfg_in(tmp.path(), &["check", "-q", "--format", format]);
        let (out, _) = text(&o);
        assert_eq!(o.status.code(), Some(0), "{out}");
        assert!(out.contains("arbitrary-from-allowed"), "{format}: {out}");
        assert!(
            !out.contains("1 warning"),
            "{format}: no summary when passing: {out}"
        );

        let o = mailcfg_in(
            tmp.path(),
            &["check", "-q", "--deny-warnings", "--format", format],
        );
        let (out, _) = text(&o);
        assert_eq!(o.status.code(), Some(1), "{out}");
        assert!(out.contains("arbitrary-from-allowed"), "{format}: {out}");
        assert!(
            out.contains("1 warning"),
            "{format}: the failing summary: {out}"
        );
    }
    // Machine formats are never shortened.
    let o = mailcfg_in(tmp.path(), &["check", "-q", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(json.is_object() || json.is_array());
}

#[test]
fn an_empty_directory_says_no_kdl_files_found_and_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    for format in ["human", "concise"] {
        let o = mailcfg_in(tmp.path(), &["check", "--format", format]);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(2));
        assert_eq!(out, "", "{format}: no summary of 0 files");
        assert!(err.contains("no .kdl files found in ."), "{err}");
    }
}

#[test]
fn diff_on_account_files_says_to_compile_first() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store.json");
    let o = mailcfg_in(
        &examples(),
        &["compile", ".", "--out", store.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(0));
    for new in ["hr.kdl", "."] {
        let o = mailcfg_in(&examples(), &["diff", store.to_str().unwrap(), new]);
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains("compile first"), "{err}");
        assert!(
            err.contains(&format!("mailcfg compile {new} --out")),
            "{err}"
        );
    }
}

/// The top-level `--help` lists every command's exit codes: the same codes as the command's own
/// `--help` (commands without a list there exit 0, 2 or 3).
#[test]
fn top_level_help_lists_every_commands_exit_codes() {
    let (help, _) = text(&mailcfg_in(Path::new("."), &["--help"]));
    let table: String = help
        .split("Exit codes (each command's --help has the details):")
        .nth(1)
        .unwrap_or_else(|| panic!("{help}"))
        .to_string();
    // Rows start at column 2 with the command names; continuation lines are indented further.
    let mut rows: Vec<(Vec<String>, String)> = Vec::new();
    for line in table.lines().filter(|l| !l.trim().is_empty()) {
        let body = &line[2..];
        if body.starts_with(' ') {
            rows.last_mut().unwrap().1.push_str(line);
        } else {
            let (names, rest) = body.split_once("  ").unwrap_or((body, ""));
            let names = names.split(", ").map(str::to_string).collect();
            rows.push((names, rest.to_string()));
        }
    }
    let codes_in = |s: &str| -> Vec<u8> {
        let mut codes: Vec<u8> = s
            .split(|c: char| !c.is_ascii_digit())
            .filter(|w| w.len() == 1)
            .map(|w| w.parse().unwrap())
            .filter(|c| *c <= 4)
            .collect();
        codes.sort();
        codes.dedup();
        codes
    };
    for command in subcommands() {
        let (names, row) = rows
            .iter()
            .find(|(names, _)| names.contains(&command))
            .unwrap_or_else(|| panic!("{command} missing from the top-level exit codes:\n{table}"));
        let (own, _) = text(&mailcfg_in(Path::new("."), &[&command, "--help"]));
        let own_codes = match own.split("Exit codes:").nth(1) {
            Some(list) => list
                .lines()
                .filter_map(|l| l.split_whitespace().next())
                .filter(|w| w.len() == 1)
                .filter_map(|w| w.parse::<u8>().ok())
                .collect(),
            None => vec![0, 2, 3],
        };
        assert_eq!(codes_in(row), own_codes, "{names:?}: {row}");
    }
    assert!(table.contains("4 could not run"), "probe's 4: {table}");
}

/// README's `mailcfg show` sample is the real output on a fresh `mailcfg init` project, up to
/// its `...`.
#[test]
fn readme_show_sample_is_real() {
    let readme = fs::read_to_string(Path::new(crate::harness::ROOT).join("README.md")).unwrap();
    let sample = readme
        .split("```text\n$ mailcfg show servicedesk accounts/\n")
        .nth(1)
        .and_then(|b| b.split("        ...\n").next())
        .expect("README has the show sample");
    let tmp = tempfile::tempdir().unwrap();
    assert_eq!(init(tmp.path(), &[]).status.code(), Some(0));
    let o = mailcfg_in(tmp.path(), &["show", "servicedesk", "accounts/"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        out.starts_with(sample),
        "README sample:\n{sample}\nreal:\n{out}"
    );
}

/// Every ```` ```sh runnable ```` block of README.md and docs/ runs green with bash
/// (`-euo pipefail`) in a temporary directory, with the mailcfg under test first on PATH and
/// `EDITOR=true` (an edit that changes nothing). Blocks without the mark (installing, writing
/// into the home directory, talking to servers) are not run here.
#[test]
fn runnable_shell_blocks_of_the_docs_run() {
    let root = Path::new(crate::harness::ROOT);
    let mut docs = vec![root.join("README.md")];
    let mut in_docs: Vec<_> = fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    in_docs.sort();
    docs.extend(in_docs);
    let bin_dir = Path::new(crate::harness::BIN).parent().unwrap();
    let path = std::env::join_paths(std::iter::once(bin_dir.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let mut ran = 0;
    for doc in &docs {
        let markdown = fs::read_to_string(doc).unwrap();
        for block in markdown.split("```sh runnable\n").skip(1) {
            let script = block.split("\n```").next().unwrap();
            let tmp = tempfile::tempdir().unwrap();
            let o = Command::new("bash")
                .args(["-euo", "pipefail", "-c", script])
                .current_dir(tmp.path())
                .env("PATH", &path)
                .env("HOME", tmp.path())
                .env("EDITOR", "true")
                .env("NO_COLOR", "1")
                .output()
                .unwrap();
            let (out, err) = text(&o);
            assert!(
                o.status.success(),
                "{}:\n{script}\n{out}{err}",
                doc.display()
            );
            ran += 1;
        }
    }
    assert!(ran >= 1, "README's quick start is runnable");
}
