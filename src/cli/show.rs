//! `mailcfg show ACCOUNT`.

use std::io::Write;
use std::path::PathBuf;

use clap::ValueEnum;

use mailcfg::compile::{self, effective};
use mailcfg::diagnostics::Level;
use mailcfg::model::{Account, Located};
use mailcfg::parse::redact;
use mailcfg::schema::did_you_mean;
use mailcfg::workspace::Named;
use mailcfg::{render, source};

use super::check::{plan, show_paths, use_color, Color};

pub const EXIT_CODES: &str = "\
Exit codes:
  0  the account was shown
  1  no account has that name (the closest names are suggested), or more than one has it
  2  usage, configuration or I/O problem: missing path, unreadable input, no .kdl files found,
     invalid configuration, more than one `system` node
  3  internal error (a bug in mailcfg: please report it)";

#[derive(clap::Args)]
pub struct ShowArgs {
    /// The account's name (case does not matter).
    account: String,
    /// Files or directories holding the account files, of one project (as for `compile`).
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// kdl: the settings in the account language, each line marked written, default or
    /// derived; json: the account's part of the store and where each value comes from.
    #[arg(long, value_enum, default_value_t = Format::Kdl)]
    format: Format,
    /// The rule configuration, as for `check` (it decides which findings are errors).
    #[arg(long, value_name = "PATH")]
    config: Option<PathBuf>,
    /// When to use colours in diagnostics: auto, always, never.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Kdl,
    Json,
}

pub fn run(args: ShowArgs) -> u8 {
    let color = use_color(args.color);
    let workspace = match plan(
        Named::Paths(args.paths.clone()),
        args.config.as_deref(),
        color,
    ) {
        Ok(w) => w,
        Err(code) => return code,
    };
    if workspace.is_empty() {
        eprintln!(
            "mailcfg: no .kdl files found in {}",
            show_paths(&args.paths)
        );
        return 2;
    }
    if let Err(several) = workspace.single_project() {
        eprintln!("mailcfg: {several}");
        return 2;
    }
    let mut verdict = workspace.check();
    if verdict.has_io_errors() {
        let io: Vec<_> = verdict
            .checked
            .diagnostics
            .iter()
            .filter(|d| d.rule == source::IO_ERROR)
            .cloned()
            .collect();
        eprint!(
            "{}",
            render::human::render(&io, &verdict.checked.sources, color)
        );
        return 2;
    }
    // The accounts `compile` would store for these paths (the project around them is context).
    verdict.checked.project = verdict.reported_project();
    let checked = &verdict.checked;
    let wanted = args.account.to_lowercase();
    let matches: Vec<&Located<Account>> = checked
        .project
        .accounts
        .iter()
        .filter(|a| a.value.name.to_lowercase() == wanted)
        .collect();
    let located = match matches.as_slice() {
        [one] => *one,
        [] => {
            let names = checked
                .project
                .accounts
                .iter()
                .map(|a| a.value.name.as_str());
            let hint = match did_you_mean(&args.account, names) {
                Some(name) => format!("; did you mean {name:?}?"),
                None => String::new(),
            };
            eprintln!(
                "mailcfg: no account named {:?} in {}{hint}",
                args.account,
                show_paths(&args.paths)
            );
            if checked.diagnostics.iter().any(|d| d.level == Level::Error) {
                eprintln!(
                    "mailcfg: an account with errors may be missing: `mailcfg check` shows them"
                );
            }
            return 1;
        }
        several => {
            let places: Vec<String> = several
                .iter()
                .map(|a| {
                    let file = checked.sources.get(a.file);
                    let start = checked
                        .context()
                        .span(a, "", mailcfg::rules::Part::Node)
                        .start;
                    format!("{}:{}", file.display_path(), file.line_col(start).0)
                })
                .collect();
            eprintln!(
                "mailcfg: {} accounts are named {:?} (duplicate-account-name): {}",
                several.len(),
                args.account,
                places.join(", ")
            );
            return 1;
        }
    };
    // Literal secrets are compiled in (the store's inline form) and masked by `effective`.
    let opts = compile::Options {
        allow_inline_secrets: true,
        resolve_secrets: false,
        base: compile::common_base(&args.paths),
    };
    let store = match compile::compile(checked, &opts) {
        Ok(store) => store,
        Err(diagnostics) => {
            eprint!(
                "{}",
                render::human::render(&diagnostics, &checked.sources, color)
            );
            return 2;
        }
    };
    let Some(account) = store.accounts.iter().find(|a| a.name == located.value.name) else {
        unreachable!("every account of the project is compiled into the store");
    };
    let shown = effective::effective(checked, located, account);
    let errors = checked
        .diagnostics
        .iter()
        .filter(|d| d.level == Level::Error && d.primary.file == located.file)
        .count();
    if errors > 0 {
        eprintln!(
            "mailcfg: {} has {} (see `mailcfg check`); these settings are what it says as it stands",
            checked.sources.get(located.file).display_path(),
            mailcfg::diagnostics::plural(errors, "error")
        );
    }
    let text = match args.format {
        Format::Kdl => shown.to_kdl(),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&shown).expect("effective settings serialize");
            s.push('\n');
            s
        }
    };
    // Masked by construction above; scrubbing the literals of every file is a second guard.
    let text = redact::scrub(&text, &render::secrets(&checked.sources));
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
    0
}
