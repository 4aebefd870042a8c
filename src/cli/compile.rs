//! `mailcfg compile`.

use std::io::Write;
use std::path::{Path, PathBuf};

use mailcfg::compile::{self, diff, write, Store};
use mailcfg::diagnostics::{plural, Level};
use mailcfg::workspace::Named;
use mailcfg::{render, source};

use super::check::{plan, show_paths, use_color, Color};

pub const EXIT_CODES: &str = "\
Exit codes:
  0  store written (with --check: the store is up to date)
  1  errors found (or warnings, with --deny-warnings), a secret could not be resolved, or
     (with --check) the store is out of date; nothing was written
  2  usage or I/O problem: missing path, unreadable input, no .kdl files found, paths of
     several projects, invalid configuration, store not writable
  3  internal error (a bug in mailcfg: please report it)";

#[derive(clap::Args)]
pub struct CompileArgs {
    /// Files or directories to compile, planned as `check` plans them: the project around them
    /// is read so references resolve; the store holds the named files' accounts and
    /// credentials and the credentials they reference. They must belong to one project (a
    /// folder with its own `mailcfg.kdl` or `.git` is another one): exit code 2 otherwise.
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// The store file to write (replaced atomically); `-` writes the store to stdout (the
    /// findings then go to stderr) and, with --check, reads the store to compare from stdin.
    #[arg(long, short, value_name = "STORE")]
    out: PathBuf,
    /// Write nothing: compile in memory, compare with STORE, exit 1 with the plan if it differs.
    #[arg(long)]
    check: bool,
    /// Copy literal secrets from the files into the store (they are refused otherwise).
    #[arg(long)]
    allow_inline_secrets: bool,
    /// Read env= and file= secrets now and store their values; the store is then created 0600.
    #[arg(long)]
    resolve_secrets: bool,
    /// Refuse to compile when warnings are found, not only errors.
    #[arg(long)]
    deny_warnings: bool,
    /// When to use colours in diagnostics: auto, always, never.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
    /// The rule configuration, as for `check` (default: the first `mailcfg.kdl` found walking
    /// up from the paths).
    #[arg(long, value_name = "PATH")]
    config: Option<PathBuf>,
}

pub fn run(args: CompileArgs) -> u8 {
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
    let mut stdout = std::io::stdout().lock();
    if !workspace.problems.is_empty() {
        for (path, msg) in &workspace.problems {
            eprintln!("mailcfg: {}: {msg}", path.display());
        }
        eprintln!("mailcfg: store not written");
        return 2;
    }
    let threshold = if args.deny_warnings {
        Level::Warning
    } else {
        Level::Error
    };
    let opts = compile::Options {
        allow_inline_secrets: args.allow_inline_secrets,
        resolve_secrets: args.resolve_secrets,
        base: PathBuf::new(),
    };
    let to_stdout = args.out.as_os_str() == "-";
    let (verdict, compiled) = compile::compile_workspace(&workspace, &args.paths, &opts, threshold);
    let checked = &verdict.checked;
    let mut diagnostics = checked.diagnostics.clone();
    if let Some(Err(more)) = &compiled {
        diagnostics.extend(more.iter().cloned());
    }
    if !diagnostics.is_empty() {
        // The summary counts the files named, not the project files read for context.
        let report = render::Report {
            diagnostics: &diagnostics,
            sources: &checked.sources,
            files: verdict.reported_files(),
            exit_code: 1,
        };
        let out = render::render(render::Format::Human, &report, color);
        if to_stdout {
            // stdout carries the store: the findings go to stderr.
            eprint!("{out}");
        } else {
            let _ = stdout.write_all(out.as_bytes());
            let _ = stdout.flush();
        }
    }
    if checked.has_io_errors() {
        eprintln!("mailcfg: store not written: some files could not be read");
        return 2;
    }
    let store = match compiled {
        Some(Ok(store)) => store,
        Some(Err(_)) => {
            eprintln!("mailcfg: store not written");
            return 1;
        }
        None => {
            eprintln!("mailcfg: store not written: fix the problems above first");
            return 1;
        }
    };
    let bytes = store.to_bytes();
    if args.check {
        return check_drift(&args.out, &store, &bytes, &mut stdout);
    }
    if to_stdout {
        let written = stdout.write_all(&bytes).and_then(|()| stdout.flush());
        return match written {
            Ok(()) => {
                eprintln!(
                    "mailcfg: wrote the store to stdout ({}, {})",
                    plural(store.accounts.len(), "account"),
                    plural(store.credentials.len(), "credential")
                );
                0
            }
            Err(e) => {
                eprintln!(
                    "mailcfg: cannot write the store to stdout: {}",
                    source::io_message(&e)
                );
                2
            }
        };
    }
    let mode = write::store_mode(&args.out, store.holds_secret_values());
    match write::write_atomic(&args.out, &bytes, mode) {
        Ok(()) => {
            if super::quiet() {
                return 0;
            }
            eprintln!(
                "mailcfg: wrote {} ({}, {})",
                args.out.display(),
                plural(store.accounts.len(), "account"),
                plural(store.credentials.len(), "credential")
            );
            0
        }
        Err(e) => {
            eprintln!(
                "mailcfg: cannot write {}: {}; the previous store is unchanged",
                args.out.display(),
                source::io_message(&e)
            );
            2
        }
    }
}

/// `--check`: 0 when the store on disk is exactly what would be written, else 1 and the plan.
fn check_drift(path: &Path, store: &Store, bytes: &[u8], out: &mut impl Write) -> u8 {
    let read = if path.as_os_str() == "-" {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut b).map(|_| b)
    } else {
        std::fs::read(path)
    };
    let name = if path.as_os_str() == "-" {
        "the store on stdin".to_string()
    } else {
        path.display().to_string()
    };
    let existing = match read {
        Ok(b) => b,
        Err(e) => {
            eprintln!(
                "mailcfg: {} is out of date: cannot read it: {}",
                name,
                source::io_message(&e)
            );
            return 1;
        }
    };
    if existing == bytes {
        if !super::quiet() {
            eprintln!("mailcfg: {} is up to date", name);
        }
        return 0;
    }
    let old = match Store::parse(&existing) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("mailcfg: {} is out of date: {e}", name);
            return 1;
        }
    };
    let plan = diff::plan(&old, store);
    let mut text = diff::render_human(&plan, &old, store);
    if plan.identical {
        text =
            "The content is the same but the bytes differ (edited by hand, or written by another \
                mailcfg version).\n"
                .into();
    }
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
    eprintln!(
        "mailcfg: {} is out of date: run `mailcfg compile` and commit the result",
        name
    );
    1
}
