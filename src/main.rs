mod cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub const EXIT_CODES: &str = "\
Exit codes:
  0  no findings at or above the --fail-on level (default: error), or --exit-zero
  1  findings at or above the --fail-on level (--deny-warnings = --fail-on warning)
  2  usage, configuration or I/O problem: bad option, invalid mailcfg.kdl, missing path,
     unreadable file or directory, no .kdl files found, stdin, stdout or an --output file that
     cannot be read or written
  3  internal error (a bug in mailcfg: please report it)";

const FMT_EXIT_CODES: &str = "\
Exit codes:
  0  formatted (or, with --check/--diff, nothing to change)
  1  with --check or --diff: some files are not formatted
  2  usage or I/O problem: missing path, unreadable or unwritable file, no .kdl files found
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
    Check(cli::check::CheckArgs),
    /// Compile account files into one deterministic, deployable JSON store.
    ///
    /// Refuses to write when `check` finds errors. Secrets stay references unless
    /// --allow-inline-secrets / --resolve-secrets; the store is replaced atomically.
    /// See docs/compile.md.
    #[command(after_help = cli::compile::EXIT_CODES)]
    Compile(cli::compile::CompileArgs),
    /// Show the plan between two stores: accounts added, removed and changed, field by field.
    ///
    /// Secret values are never shown, only their references. See docs/compile.md.
    #[command(after_help = cli::diff::EXIT_CODES)]
    Diff(cli::diff::DiffArgs),
    /// Test accounts against their live servers, stage by stage (never sends mail unless
    /// --send-test-to is given; never deletes or marks anything read).
    ///
    /// For each account: resolve, connect, TLS per `security` (never downgrading), certificate,
    /// capabilities, login, then EXAMINE the mailbox (IMAP), STAT (POP3), or MAIL FROM/RCPT TO
    /// for each From address (SMTP). Each failure is reported on the KDL line that causes it.
    #[command(after_help = cli::probe::EXIT_CODES)]
    Probe(cli::probe::ProbeArgs),
    /// Find the servers of an e-mail address (DNS SRV, autoconfig, then a guess from MX) and write a
    /// complete account for it, each server's source named in a comment. See docs/discover.md.
    #[command(after_help = cli::discover::EXIT_CODES)]
    Discover(cli::discover::DiscoverArgs),
    /// Print the JSON Schema of account files (as checked in under schema/).
    Schema(SchemaArgs),
    /// List every diagnostic code any command can emit: catalogue rules, built-in checks (io,
    /// syntax, schema, limits, project, config, compile) and probe checks, with stage, default
    /// level, whether mailcfg.kdl can change it, whether it has a fix, and a summary.
    Rules(cli::rules::RulesArgs),
    /// Print a code's documentation: what it checks, why, a bad and a good example (rules), and
    /// whether it can be configured.
    Explain(cli::rules::ExplainArgs),
    /// Format account files canonically (4-space indentation, one node per line, comments kept).
    ///
    /// Directories are walked for `*.kdl` files like `check` does. Files that do not parse are
    /// reported on stderr and left alone (they do not change the exit code: `check` reports
    /// syntax errors). KDL v1 files are rewritten as KDL v2.
    #[command(after_help = FMT_EXIT_CODES)]
    Fmt(cli::fmt::FmtArgs),
    /// Run the language server (LSP over stdio) for editors: diagnostics, hover, completion,
    /// quick fixes and formatting. See docs/editors.md.
    Lsp(cli::lsp::LspArgs),
}

#[derive(clap::Args)]
struct SchemaArgs {
    /// Print the schema of the compiled store instead (schema/store.schema.json).
    #[arg(long)]
    store: bool,
    /// Print the schema of `probe --format results-json` (schema/probe-results.schema.json).
    #[arg(long, conflicts_with = "store")]
    probe_results: bool,
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
        Command::Schema(args) => {
            if args.probe_results {
                print!("{}", mailcfg::probe::results::schema_pretty());
            } else if args.store {
                print!("{}", mailcfg::compile::store::schema_pretty());
            } else {
                print!("{}", mailcfg::schema::generate_pretty());
            }
            0
        }
        Command::Check(args) => cli::check::run(args),
        Command::Compile(args) => cli::compile::run(args),
        Command::Diff(args) => cli::diff::run(args),
        Command::Rules(args) => cli::rules::run(args),
        Command::Explain(args) => cli::rules::explain(args),
        Command::Probe(args) => cli::probe::run(args),
        Command::Discover(args) => cli::discover::run(args),
        Command::Fmt(args) => cli::fmt::run(args),
        Command::Lsp(args) => cli::lsp::run(args),
    }
}
