//! `mailcfg check`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::ValueEnum;

use mailcfg::diagnostics::{Diagnostic, Level};
use mailcfg::source;
use mailcfg::{check, render, Input};

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
