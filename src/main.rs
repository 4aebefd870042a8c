use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use mailcfg::diagnostics::{Level, Summary};
use mailcfg::source::{self, Sources};
use mailcfg::{check, render, Input};

const EXIT_CODES: &str = "\
Exit codes:
  0  no errors (warnings and infos allowed)
  1  errors found (or warnings, with --deny-warnings)
  2  usage or I/O problem: missing path, unreadable file or directory, no .kdl files found
  3  internal error (a bug in mailcfg: please report it)";

/// E-mail account configuration as code for Ivanti/Cherwell Service Management (CSM).
///
/// Accounts are written as KDL files; mailcfg checks them against the schema and every rule the
/// CSM documentation states, reporting each problem with its exact location and a fix hint.
#[derive(Parser)]
#[command(name = "mailcfg", version, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check account files: syntax, schema and every rule.
    ///
    /// Directories are walked for `*.kdl` files (hidden folders and `target/` are skipped);
    /// files named explicitly are always checked.
    #[command(after_help = EXIT_CODES)]
    Check(CheckArgs),
    /// Print the JSON Schema of account files (as checked in under schema/).
    Schema,
}

#[derive(clap::Args)]
struct CheckArgs {
    /// Files or directories to check.
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// When to use colours: auto (a terminal without NO_COLOR), always, never.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
    /// Exit with 1 when warnings are found, not only errors.
    #[arg(long)]
    deny_warnings: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

fn use_color(c: Color) -> bool {
    match c {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = std::panic::catch_unwind(|| run(cli));
    match result {
        Ok(code) => ExitCode::from(code),
        Err(_) => {
            eprintln!("mailcfg: internal error (this is a bug; please report it)");
            ExitCode::from(3)
        }
    }
}

fn run(cli: Cli) -> u8 {
    match cli.command {
        Command::Schema => {
            print!("{}", mailcfg::schema::generate_pretty());
            0
        }
        Command::Check(args) => run_check(args),
    }
}

fn run_check(args: CheckArgs) -> u8 {
    let found = source::discover(&args.paths, None);
    let mut inputs: Vec<Input> = found.files.into_iter().map(Input::file).collect();
    let problems = found.problems;
    let first_problem = inputs.len();
    inputs.extend(problems.iter().map(|(p, _)| Input::text(p.clone(), "")));
    let mut checked = check(inputs);
    // Paths that could not be walked become I/O diagnostics on their own (empty) file entry.
    checked
        .diagnostics
        .retain(|d| d.primary.file.index() < first_problem || d.rule == source::IO_ERROR);
    for (i, (_, msg)) in problems.iter().enumerate() {
        let id = source::FileId((first_problem + i) as u32);
        checked.diagnostics.push(source::input_diagnostic(
            id,
            source::IO_ERROR,
            msg.clone(),
            Default::default(),
        ));
    }
    let color = use_color(args.color);
    let out = render::human::render(&checked.diagnostics, &checked.sources, color);
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.as_bytes());
    let _ = stdout.flush();
    let files = first_problem;
    if files == 0 && problems.is_empty() {
        eprintln!(
            "mailcfg: no .kdl files found in {}",
            show_paths(&args.paths)
        );
        return 2;
    }
    exit_code(&checked.diagnostics, &checked.sources, args.deny_warnings)
}

fn show_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn exit_code(
    diags: &[mailcfg::diagnostics::Diagnostic],
    sources: &Sources,
    deny_warnings: bool,
) -> u8 {
    if diags.iter().any(|d| d.rule == source::IO_ERROR) {
        return 2;
    }
    let s = Summary::of(diags, sources.len());
    let failing = diags
        .iter()
        .any(|d| d.level == Level::Error || (deny_warnings && d.level == Level::Warning));
    let _ = s;
    u8::from(failing)
}
