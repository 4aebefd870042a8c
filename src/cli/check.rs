//! `mailcfg check`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::ValueEnum;

use mailcfg::diagnostics::config::{self, Config};
use mailcfg::diagnostics::{Diagnostic, Level};
use mailcfg::source::{self, Sources};
use mailcfg::{check_with, render, Input};

#[derive(clap::Args)]
pub struct CheckArgs {
    /// Files or directories to check.
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// When to use colours: auto (a terminal without NO_COLOR), always, never.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
    /// Exit with 1 when warnings are found, not only errors.
    #[arg(long)]
    deny_warnings: bool,
    /// The configuration file (rule levels, per-path overrides). Default: the first
    /// `mailcfg.kdl` found walking up from the checked paths.
    #[arg(long, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Apply the safe fixes (e.g. remove a redundant port) to the files, then report what is left.
    /// Comments and formatting are kept.
    #[arg(long, conflicts_with = "diff")]
    fix: bool,
    /// Print what --fix would change as a unified diff, without writing; exit 1 if anything would
    /// change, 0 otherwise.
    #[arg(long)]
    diff: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

pub fn use_color(c: Color) -> bool {
    match c {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    }
}

pub fn run(args: CheckArgs) -> u8 {
    let config = match load_config(&args.paths, args.config.as_deref(), use_color(args.color)) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if args.fix || args.diff {
        let files = source::discover(&args.paths, Some(config::FILE_NAME)).files;
        let fixed = mailcfg::fix::fix_files(&files, &config);
        if args.diff {
            let mut stdout = std::io::stdout().lock();
            for f in &fixed {
                let _ = stdout.write_all(mailcfg::fix::unified_diff(f).as_bytes());
            }
            return u8::from(!fixed.is_empty());
        }
        let mut n = 0;
        for f in &fixed {
            if let Err(e) = std::fs::write(&f.path, &f.fixed) {
                eprintln!(
                    "mailcfg: cannot write {}: {}",
                    f.path.display(),
                    source::io_message(&e)
                );
                return 2;
            }
            n += f.fixes;
        }
        if n > 0 {
            eprintln!(
                "mailcfg: applied {n} fix{} in {} file{}",
                if n == 1 { "" } else { "es" },
                fixed.len(),
                if fixed.len() == 1 { "" } else { "s" }
            );
        }
    }
    let found = source::discover(&args.paths, Some(config::FILE_NAME));
    let mut inputs: Vec<Input> = found.files.into_iter().map(Input::file).collect();
    let problems = found.problems;
    let first_problem = inputs.len();
    inputs.extend(problems.iter().map(|(p, _)| Input::text(p.clone(), "")));
    let mut checked = check_with(inputs, &config);
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
    exit_code(&checked.diagnostics, args.deny_warnings)
}

fn show_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// 2 for I/O problems, 1 for errors (or warnings with `--deny-warnings`), else 0.
fn exit_code(diags: &[Diagnostic], deny_warnings: bool) -> u8 {
    if diags.iter().any(|d| d.rule == source::IO_ERROR) {
        return 2;
    }
    let failing = diags
        .iter()
        .any(|d| d.level == Level::Error || (deny_warnings && d.level == Level::Warning));
    u8::from(failing)
}

/// The configuration given with `--config`, or found walking up from `paths`. Problems in it are
/// printed (with their location) and mean exit code 2.
pub fn load_config(
    paths: &[PathBuf],
    explicit: Option<&std::path::Path>,
    color: bool,
) -> Result<Config, u8> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => match config::find(paths) {
            Some(p) => p,
            None => return Ok(Config::default()),
        },
    };
    config::load(&path).map_err(|e| {
        let mut sources = Sources::default();
        sources.add(e.source);
        let out = render::human::render(&e.diagnostics, &sources, color);
        eprint!("{out}");
        eprintln!("mailcfg: the configuration {} is invalid", path.display());
        2
    })
}
