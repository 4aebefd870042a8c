//! End to end: the `mailcfg-check` hook of `.pre-commit-hooks.yaml`, run by the real pre-commit
//! (installed from PyPI by scripts/setup-pre-commit.sh) in a real git repository.
//!
//! The hook repository is a snapshot of this checkout (tracked and untracked-but-not-ignored
//! files, committed in a temporary repository), exactly what `pre-commit try-repo` does, so the
//! test exercises the working tree's hook definition and code. pre-commit builds the hook with
//! `cargo install` (`language: rust`); the test points CARGO_TARGET_DIR at
//! `target/precommit` so the dependencies are compiled once and reused by later runs, and lowers
//! the release profile's optimisation through CARGO_PROFILE_RELEASE_* to keep that build short.
//! Measured on the shared 2-core machine: the first run builds every dependency (about 3 min of
//! CPU, 9 min wall-clock under load); later runs rebuild only mailcfg (about 5 s in all).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::harness::ROOT;

fn pre_commit() -> PathBuf {
    let status = Command::new("bash")
        .arg(Path::new(ROOT).join("scripts/setup-pre-commit.sh"))
        .status()
        .expect("bash runs");
    assert!(status.success(), "scripts/setup-pre-commit.sh failed");
    let venv = std::env::var_os("MAILCFG_PRECOMMIT_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(ROOT).join("target/tools/pre-commit-venv"));
    venv.join("bin/pre-commit")
}

fn git(dir: &Path, args: &[&str]) -> Output {
    let out = Command::new("git")
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .envs(identity())
        .output()
        .expect("git runs");
    out
}

fn git_ok(dir: &Path, args: &[&str]) -> String {
    let out = git(dir, args);
    assert!(
        out.status.success(),
        "git {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn identity() -> Vec<(&'static str, &'static str)> {
    vec![
        ("GIT_AUTHOR_NAME", "mailcfg test"),
        ("GIT_AUTHOR_EMAIL", "test@example.com"),
        ("GIT_COMMITTER_NAME", "mailcfg test"),
        ("GIT_COMMITTER_EMAIL", "test@example.com"),
    ]
}

/// A git repository holding this checkout's current files; returns its HEAD commit.
fn snapshot_of_checkout(to: &Path) -> String {
    let files = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(ROOT)
        .output()
        .expect("git ls-files");
    assert!(files.status.success());
    for rel in files.stdout.split(|b| *b == 0).filter(|s| !s.is_empty()) {
        let rel = Path::new(std::str::from_utf8(rel).unwrap());
        let from = Path::new(ROOT).join(rel);
        if !from.is_file() {
            continue; // deleted in the working tree
        }
        let dest = to.join(rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&from, &dest).unwrap();
    }
    git_ok(to, &["init", "-q"]);
    git_ok(to, &["add", "-A"]);
    git_ok(to, &["commit", "-q", "-m", "snapshot"]);
    git_ok(to, &["rev-parse", "HEAD"]).trim().to_string()
}

const SUPPORT: &str = r#"account "Support" {
    protocol "imap"
    conversation-id "subject"
    incoming {
        server "imap.example.com"
        security "ssl"
        user "support@example.com"
        password env="SUPPORT_PASSWORD"
    }
    outgoing {
        server "smtp.example.com"
        security "tls"
    }
}
"#;

#[test]
fn pre_commit_hook_blocks_a_broken_account_and_passes_the_fix() {
    let pre_commit = pre_commit();
    let tmp = tempfile::tempdir().unwrap();
    let hooks = tmp.path().join("mailcfg");
    let rev = snapshot_of_checkout(&hooks);

    let repo = tmp.path().join("accounts-repo");
    std::fs::create_dir_all(repo.join("accounts")).unwrap();
    git_ok(&repo, &["init", "-q"]);
    std::fs::write(
        repo.join(".pre-commit-config.yaml"),
        format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: mailcfg-check\n",
            hooks.display()
        ),
    )
    .unwrap();
    std::fs::write(repo.join("accounts/support.kdl"), SUPPORT).unwrap();
    // A root-level account file (pre-commit passes it as a bare name, `helpdesk.kdl`) and the
    // project's configuration (matched by the hook's `\.kdl$` too).
    std::fs::write(
        repo.join("helpdesk.kdl"),
        SUPPORT
            .replace("\"Support\"", "\"Helpdesk\"")
            .replace("imap.example.com", "imap.helpdesk.example.com")
            .replace("SUPPORT_PASSWORD", "HELPDESK_PASSWORD"),
    )
    .unwrap();
    std::fs::write(
        repo.join("mailcfg.kdl"),
        "rules {\n    conversation-prefix-missing \"allow\"\n}\n",
    )
    .unwrap();

    let env: Vec<(&str, PathBuf)> = vec![
        // Fresh per run: pre-commit keys its cache by repository URL, and the URL (a temporary
        // directory) is new every time anyway; the build cache that matters is CARGO_TARGET_DIR.
        ("PRE_COMMIT_HOME", tmp.path().join("pre-commit-home")),
        ("CARGO_TARGET_DIR", Path::new(ROOT).join("target/precommit")),
    ];
    let commit = |msg: &str| {
        let out = Command::new("git")
            .args(["-c", "commit.gpgsign=false", "commit", "-m", msg])
            .current_dir(&repo)
            .envs(identity())
            .envs(env.iter().map(|(k, v)| (*k, v.as_os_str())))
            // A debug-like release build: the hook's speed does not matter here.
            .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0")
            .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
            .env("CARGO_PROFILE_RELEASE_LTO", "false")
            .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "256")
            // Dependencies come from cargo's cache (the project itself was just built).
            .env("CARGO_NET_OFFLINE", "true")
            .env_remove("NO_COLOR")
            .output()
            .expect("git commit runs");
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };

    let install = Command::new(&pre_commit)
        .arg("install")
        .current_dir(&repo)
        .envs(env.iter().map(|(k, v)| (*k, v.as_os_str())))
        .output()
        .unwrap();
    assert!(
        install.status.success(),
        "{}",
        String::from_utf8_lossy(&install.stderr)
    );

    git_ok(&repo, &["add", "-A"]);
    let (ok, out) = commit("a clean account");
    assert!(ok, "the clean commit must pass:\n{out}");
    assert!(out.contains("mailcfg check"), "the hook ran:\n{out}");

    // Only the new file is staged; the duplicate is with the committed support.kdl, which the
    // hook reads because the whole project is loaded.
    std::fs::write(
        repo.join("accounts/support-pop.kdl"),
        "account \"SUPPORT\" {\n    protocol \"pop\"\n    conversation-id \"subject\"\n    incoming {\n        server \"pop.example.com\"\n        security \"tls\"\n    }\n    outgoing {\n        server \"smtp.example.com\"\n        security \"tls\"\n    }\n}\n",
    )
    .unwrap();
    git_ok(&repo, &["add", "accounts/support-pop.kdl"]);
    let (ok, out) = commit("a broken account");
    assert!(!ok, "the broken commit must be blocked:\n{out}");
    assert!(out.contains("duplicate-account-name"), "{out}");
    assert!(out.contains("security-imap-only"), "{out}");
    assert!(out.contains("accounts/support-pop.kdl"), "{out}");
    assert!(
        !out.contains('\x1b'),
        "no colours in a captured hook: {out:?}"
    );
    assert_eq!(
        git_ok(&repo, &["rev-list", "--count", "HEAD"]).trim(),
        "1",
        "nothing was committed"
    );

    std::fs::write(
        repo.join("accounts/support-pop.kdl"),
        "account \"Support-POP\" {\n    protocol \"pop\"\n    conversation-id \"subject\"\n    incoming {\n        server \"pop.example.com\"\n        security \"ssl\"\n        user \"support@example.com\"\n        password env=\"SUPPORT_POP_PASSWORD\"\n    }\n    outgoing {\n        server \"smtp.example.com\"\n        security \"tls\"\n    }\n}\n",
    )
    .unwrap();
    git_ok(&repo, &["add", "accounts/support-pop.kdl"]);
    let (ok, out) = commit("the fixed account");
    assert!(ok, "the fixed commit must pass:\n{out}");
    assert!(out.contains("Passed"), "{out}");
    assert_eq!(git_ok(&repo, &["rev-list", "--count", "HEAD"]).trim(), "2");

    // A staged configuration is validated as configuration: a misspelt rule blocks the commit
    // at its own line, a valid one passes with the root-level account file beside it.
    std::fs::write(
        repo.join("mailcfg.kdl"),
        "rules {\n    conversation-prefix-mising \"allow\"\n}\n",
    )
    .unwrap();
    git_ok(&repo, &["add", "mailcfg.kdl"]);
    let (ok, out) = commit("a misspelt rule");
    assert!(!ok, "the broken configuration must be blocked:\n{out}");
    assert!(out.contains("unknown-rule"), "{out}");
    assert!(!out.contains("unknown node"), "{out}");
    std::fs::write(
        repo.join("mailcfg.kdl"),
        "rules {\n    conversation-prefix-missing \"warn\"\n}\n",
    )
    .unwrap();
    std::fs::write(
        repo.join("helpdesk.kdl"),
        std::fs::read_to_string(repo.join("helpdesk.kdl"))
            .unwrap()
            .replace("\"Helpdesk\"", "\"Helpdesk-IMAP\""),
    )
    .unwrap();
    git_ok(&repo, &["add", "mailcfg.kdl", "helpdesk.kdl"]);
    let (ok, out) = commit("configuration and a root-level account");
    assert!(
        ok,
        "a valid configuration and a root-level file must pass:\n{out}"
    );
    assert_eq!(git_ok(&repo, &["rev-list", "--count", "HEAD"]).trim(), "3");

    // A nested project (its own mailcfg.kdl) staged with a file of the outer one: each is
    // checked in its own project, so the lab's copy of "Support" is no duplicate and its
    // `security "tls"` on POP is the warning its configuration makes it.
    std::fs::create_dir_all(repo.join("lab")).unwrap();
    std::fs::write(
        repo.join("lab/mailcfg.kdl"),
        "rules {\n    security-imap-only \"warn\"\n    conversation-prefix-missing \"allow\"\n}\n",
    )
    .unwrap();
    std::fs::write(repo.join("lab/support.kdl"), SUPPORT).unwrap();
    std::fs::write(
        repo.join("lab/pop.kdl"),
        "account \"Lab-POP\" {\n    protocol \"pop\"\n    conversation-id \"subject\"\n    incoming {\n        server \"pop.example.com\"\n        security \"tls\"\n        user \"lab@example.com\"\n        password env=\"LAB_POP_PASSWORD\"\n    }\n    outgoing {\n        server \"smtp.example.com\"\n        security \"tls\"\n    }\n}\n",
    )
    .unwrap();
    let helpdesk = std::fs::read_to_string(repo.join("helpdesk.kdl")).unwrap();
    std::fs::write(
        repo.join("helpdesk.kdl"),
        format!("// the help desk\n{helpdesk}"),
    )
    .unwrap();
    git_ok(&repo, &["add", "lab", "helpdesk.kdl"]);
    let (ok, out) = commit("a nested project");
    assert!(ok, "each file is checked within its own project:\n{out}");
    assert!(!out.contains("duplicate-account-name"), "{out}");
    assert_eq!(git_ok(&repo, &["rev-list", "--count", "HEAD"]).trim(), "4");
}

/// The newcomer's path, end to end: `mailcfg init` in an empty directory, then `check`,
/// `compile` and the real `pre-commit run --all-files` with the `language: system` hooks, all
/// green; a broken account then fails the hooks. Both spellings of the system hooks are run: the
/// `repo: local` configuration init writes, and the `-system` hooks of `.pre-commit-hooks.yaml`.
#[test]
fn init_project_checks_compiles_and_passes_pre_commit_with_the_system_hooks() {
    let pre_commit = pre_commit();
    let mailcfg = Path::new(crate::harness::BIN);
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("mail");
    let run = |args: &[&str]| {
        let out = Command::new(mailcfg)
            .args(args)
            .current_dir(&project)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code(), text)
    };
    std::fs::create_dir(&project).unwrap();
    assert_eq!(run(&["init"]).0, Some(0));
    let (code, out) = run(&["check"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("no problems found in 2 files"), "{out}");
    let (code, out) = run(&["compile", "accounts", "--out", "mailcfg-store.json"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("1 account"), "{out}");

    // The generated YAML files are YAML (pre-commit's own Python has a YAML parser).
    let python = pre_commit.with_file_name("python");
    for file in [".pre-commit-config.yaml", ".github/workflows/mailcfg.yml"] {
        let parsed = Command::new(&python)
            .args(["-c", "import sys, yaml; yaml.safe_load(open(sys.argv[1]))"])
            .arg(project.join(file))
            .output()
            .unwrap();
        assert!(
            parsed.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&parsed.stderr)
        );
    }

    git_ok(&project, &["init", "-q"]);
    git_ok(&project, &["add", "-A"]);
    // `language: system` finds mailcfg on PATH: the binary under test, nothing is built.
    let path = std::env::join_paths(
        std::iter::once(mailcfg.parent().unwrap().to_path_buf()).chain(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        )),
    )
    .unwrap();
    let run_hooks = || {
        let out = Command::new(&pre_commit)
            .args(["run", "--all-files", "--color", "never"])
            .current_dir(&project)
            .env("PATH", &path)
            .env("PRE_COMMIT_HOME", tmp.path().join("pre-commit-home"))
            .envs(identity())
            .output()
            .unwrap();
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    let passed = |out: &str, hook: &str| {
        out.lines()
            .any(|l| l.starts_with(hook) && l.ends_with("Passed"))
    };
    let (ok, out) = run_hooks();
    assert!(ok, "the starter project must pass its hooks:\n{out}");
    assert!(passed(&out, "mailcfg check"), "{out}");
    assert!(passed(&out, "mailcfg fmt"), "{out}");

    // The hooks really run mailcfg: a broken account fails them.
    let broken = project.join("accounts/broken.kdl");
    std::fs::write(
        &broken,
        "account \"ServiceDesk\" {\n    protocol \"pop\"\n    incoming {\n        server \"pop.example.com\"\n    }\n}\n",
    )
    .unwrap();
    git_ok(&project, &["add", "-A"]);
    let (ok, out) = run_hooks();
    assert!(!ok, "{out}");
    assert!(out.contains("duplicate-account-name"), "{out}");
    std::fs::remove_file(&broken).unwrap();
    git_ok(&project, &["add", "-A"]);

    // The `-system` hooks of mailcfg's own hook definitions, from a snapshot of this checkout.
    let hooks = tmp.path().join("mailcfg-hooks");
    let rev = snapshot_of_checkout(&hooks);
    std::fs::write(
        project.join(".pre-commit-config.yaml"),
        format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: mailcfg-check-system\n      - id: mailcfg-fmt-system\n",
            hooks.display()
        ),
    )
    .unwrap();
    git_ok(&project, &["add", "-A"]);
    let (ok, out) = run_hooks();
    assert!(ok, "{out}");
    assert!(passed(&out, "mailcfg check"), "{out}");
    assert!(passed(&out, "mailcfg fmt"), "{out}");
}
