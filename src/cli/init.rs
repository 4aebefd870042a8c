//! `mailcfg init`: a starter project a newcomer can edit, check, commit and push.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::ValueEnum;

use mailcfg::diagnostics::Level;
use mailcfg::policy::config::FILE_NAME as CONFIG_FILE;
use mailcfg::registry;
use mailcfg::source;

pub const EXIT_CODES: &str = "\
Exit codes:
  0  the project was created
  2  a file it would write already exists (nothing was written), or a file or directory cannot
     be created
  3  internal error (a bug in mailcfg: please report it)";

#[derive(clap::Args)]
pub struct InitArgs {
    /// The directory to set up (created when missing).
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// The CI workflow to write: github (.github/workflows/mailcfg.yml), gitlab (.gitlab-ci.yml)
    /// or none.
    #[arg(long, value_enum, default_value_t = Ci::Github)]
    ci: Ci,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Ci {
    Github,
    Gitlab,
    None,
}

/// The starter account: the kind of account most service desks set up first.
const STARTER_ACCOUNT: &str = include_str!("init/servicedesk.kdl");
const STARTER_SYSTEM: &str = include_str!("init/system.kdl");
const PRE_COMMIT_CONFIG: &str = include_str!("init/pre-commit-config.yaml");
const GITHUB_WORKFLOW: &str = include_str!("init/github-workflow.yml");
const GITLAB_CI: &str = include_str!("init/gitlab-ci.yml");
/// Appended to an existing `.gitignore` (when it lacks the pattern) rather than refused.
const GITIGNORE: &str = include_str!("init/gitignore");
const RESOLVED_STORE_PATTERN: &str = "*.resolved.json";

/// One file `init` writes, relative to the project directory.
struct Planned {
    path: &'static str,
    text: String,
    what: &'static str,
}

/// The files of a starter project with the CI workflow `ci`.
fn plan(ci: Ci) -> Vec<Planned> {
    let mut files = vec![
        Planned {
            path: "accounts/servicedesk.kdl",
            text: STARTER_ACCOUNT.into(),
            what: "a starter account: edit it",
        },
        Planned {
            path: "accounts/system.kdl",
            text: STARTER_SYSTEM.into(),
            what: "the conversation ID prefix",
        },
        Planned {
            path: CONFIG_FILE,
            text: rule_configuration(),
            what: "rule levels (every rule listed, commented out)",
        },
        Planned {
            path: ".pre-commit-config.yaml",
            text: PRE_COMMIT_CONFIG.into(),
            what: "the mailcfg-check and mailcfg-fmt hooks",
        },
    ];
    match ci {
        Ci::Github => files.push(Planned {
            path: ".github/workflows/mailcfg.yml",
            text: GITHUB_WORKFLOW.into(),
            what: "GitHub Actions: check on push and pull request",
        }),
        Ci::Gitlab => files.push(Planned {
            path: ".gitlab-ci.yml",
            text: GITLAB_CI.into(),
            what: "GitLab CI: check in every pipeline",
        }),
        Ci::None => {}
    }
    files
}

/// `mailcfg.kdl` with every configurable code (check's rules, suppression findings, probe's
/// checks) at its default level, commented out, so a level is changed by uncommenting a line;
/// generated from the registry so it lists every code.
pub fn rule_configuration() -> String {
    let codes: Vec<&registry::Code> = registry::all().iter().filter(|c| c.configurable).collect();
    let width = codes.iter().map(|c| c.name.len()).max().unwrap_or(0) + 2;
    let mut out = String::from(
        "// mailcfg configuration: rule levels for every account file under this directory.\n\
         // Levels: \"allow\" (not reported), \"info\", \"warn\", \"deny\" (an error: the check fails).\n\
         // Each line below is a rule at its default level; uncomment one and change its level.\n\
         // `mailcfg explain RULE` says what a rule checks; docs/configuration.md has per-path\n\
         // overrides (`override \"legacy/**\" { … }`).\n\
         rules {\n",
    );
    let mut stage = None;
    for code in codes {
        if stage != Some(code.stage) {
            stage = Some(code.stage);
            out.push_str(&format!("    // {}:\n", stage_heading(code.stage)));
        }
        let setting = match code.level {
            Level::Error => "\"deny\"",
            Level::Warning => "\"warn\"",
            Level::Info => "\"info\"",
        };
        out.push_str(&format!(
            "    // {:width$}{setting}\n",
            code.name,
            width = width
        ));
    }
    out.push_str("}\n");
    out
}

fn stage_heading(stage: registry::Stage) -> &'static str {
    match stage {
        registry::Stage::Rule => "`mailcfg check` rules",
        registry::Stage::Suppression => "`mailcfg-ignore` comments",
        registry::Stage::Probe => "`mailcfg probe` checks",
        _ => "other checks",
    }
}

pub fn run(args: InitArgs) -> u8 {
    let files = plan(args.ci);
    let existing: Vec<&str> = files
        .iter()
        .map(|f| f.path)
        .filter(|p| args.dir.join(p).symlink_metadata().is_ok())
        .collect();
    if !existing.is_empty() {
        eprintln!(
            "mailcfg: {} already has {}; nothing was written (init never overwrites a file)",
            args.dir.display(),
            existing.join(", ")
        );
        return 2;
    }
    // `--quiet`: the listing goes nowhere; failures still go to stderr.
    let mut stdout: Box<dyn Write> = if super::quiet() {
        Box::new(std::io::sink())
    } else {
        Box::new(std::io::stdout().lock())
    };
    let _ = writeln!(stdout, "mailcfg: created in {}:", args.dir.display());
    for f in &files {
        if let Err(msg) = create_new(&args.dir.join(f.path), &f.text) {
            eprintln!("mailcfg: {msg}");
            return 2;
        }
        let _ = writeln!(stdout, "  {:32} {}", f.path, f.what);
    }
    match ignore_resolved_stores(&args.dir.join(".gitignore")) {
        Ok(Some(what)) => {
            let _ = writeln!(stdout, "  {:32} {what}", ".gitignore");
        }
        Ok(None) => {}
        Err(msg) => {
            eprintln!("mailcfg: {msg}");
            return 2;
        }
    }
    let _ = writeln!(
        stdout,
        "Next: edit accounts/servicedesk.kdl, then run `mailcfg check` in {}",
        args.dir.display()
    );
    0
}

fn create_new(path: &Path, text: &str) -> Result<(), String> {
    let fail = |e: std::io::Error| {
        format!(
            "cannot create {}: {}",
            path.display(),
            source::io_message(&e)
        )
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    // `create_new`: a file that appeared since the check above is still never overwritten.
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(fail)?;
    file.write_all(text.as_bytes()).map_err(fail)
}

/// Adds the resolved-store pattern to `.gitignore`: a new file, or appended to an existing one
/// that lacks it (nothing in it is changed). Returns what was done, if anything.
fn ignore_resolved_stores(path: &Path) -> Result<Option<&'static str>, String> {
    let fail = |e: std::io::Error| {
        format!(
            "cannot update {}: {}",
            path.display(),
            source::io_message(&e)
        )
    };
    match std::fs::read_to_string(path) {
        Ok(existing) => {
            if existing.lines().any(|l| l.trim() == RESOLVED_STORE_PATTERN) {
                return Ok(None);
            }
            let mut file = std::fs::OpenOptions::new()
                .append(true)
                .open(path)
                .map_err(fail)?;
            let separator = match existing.chars().last() {
                None => "",
                Some('\n') => "\n",
                Some(_) => "\n\n",
            };
            file.write_all(format!("{separator}{GITIGNORE}").as_bytes())
                .map_err(fail)?;
            Ok(Some(
                "resolved stores (with secret values) ignored: appended",
            ))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            create_new(path, GITIGNORE)?;
            Ok(Some("resolved stores (with secret values) ignored"))
        }
        Err(e) => Err(fail(e)),
    }
}
