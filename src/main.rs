mod cli;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

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
#[command(name = "mailcfg", version, after_help = EVERY_COMMAND_EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Print only findings, and the summary only when the command fails (no "no problems found",
    /// no "wrote …"). Machine formats (--format json, sarif, …) are printed in full.
    #[arg(long, short, global = true)]
    quiet: bool,
}

/// The top-level `--help`: every command's exit codes at a glance (each command's own `--help`
/// says more); tests/it/newcomer.rs checks it against them.
const EVERY_COMMAND_EXIT_CODES: &str = "\
Exit codes (each command's --help has the details):
  check        0 no finding at or above --fail-on · 1 findings at or above it · 2 usage,
               configuration or I/O problem, no .kdl files found · 3 internal error
  compile      0 store written or up to date · 1 errors, unresolved secret, store out of date
               (--check) · 2 usage or I/O problem · 3 internal error
  diff         0 stores identical · 1 they differ · 2 usage or I/O problem, not a store ·
               3 internal error
  probe        0 every stage passed · 1 a stage failed or an account was refused · 2 usage or
               I/O problem · 3 internal error · 4 could not run (no resolver answered: DNS unreachable)
  discover     0 account written · 1 nothing names a mail server for the domain · 2 usage or
               I/O problem · 3 internal error · 4 no DNS server answered (with --probe: probe's
               exit code)
  fmt          0 formatted, or nothing to change · 1 --check/--diff: files not formatted ·
               2 usage or I/O problem · 3 internal error
  show         0 shown · 1 no account of that name, or several · 2 usage, configuration or I/O
               problem · 3 internal error
  init         0 project created · 2 a file exists (nothing written) or cannot be created ·
               3 internal error
  schema, rules, explain, lsp, completions, man
               0 done · 2 usage or I/O problem, unknown rule (explain) · 3 internal error";

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
    /// Create a starter project: a commented account, mailcfg.kdl, pre-commit hooks, a CI
    /// workflow and a .gitignore entry. Never overwrites a file.
    #[command(after_help = cli::init::EXIT_CODES)]
    Init(cli::init::InitArgs),
    /// Show one account's effective settings: every default filled in, each line marked
    /// written (file:line), default or derived; `--format json` gives its part of the store.
    #[command(after_help = cli::show::EXIT_CODES)]
    Show(cli::show::ShowArgs),
    /// Print a shell completion script: bash, zsh, fish or powershell (see README).
    Completions(cli::completions::CompletionsArgs),
    /// Print the man page (roff), or write one page per command with --out DIR.
    Man(cli::completions::ManArgs),
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
    cli::set_quiet(cli.quiet);
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
        Command::Init(args) => cli::init::run(args),
        Command::Show(args) => cli::show::run(args),
        Command::Completions(args) => cli::completions::completions(args, Cli::command()),
        Command::Man(args) => cli::completions::man(args, Cli::command()),
    }
}
