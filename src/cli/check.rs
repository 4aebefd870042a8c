//! `mailcfg check`.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::ValueEnum;

use mailcfg::diagnostics::Level;
use mailcfg::render::{self, Format, Report};
use mailcfg::source::{self, Sources};
use mailcfg::workspace::{Named, Verdict, Workspace};

#[derive(clap::Args)]
pub struct CheckArgs {
    /// Files or directories to check (default: `.`); `-` reads one document from stdin.
    ///
    /// Paths are checked within their project (the nearest ancestor directory with
    /// `mailcfg.kdl` or `.git`; without one, the files beside them): the whole project is
    /// loaded so names and references resolve, but only the named files (and the files under
    /// named directories) are reported on. A file is read once however it is named. A named
    /// `mailcfg.kdl` is validated as configuration, never as an account file. A folder below
    /// the root with its own `mailcfg.kdl` or `.git` is a separate project: its files are
    /// still reported, each checked with its own project's configuration and context.
    paths: Vec<PathBuf>,
    /// Output format on stdout: human, concise, json, sarif, github, gitlab.
    #[arg(long, value_name = "FORMAT", default_value = "human",
          value_parser = PossibleValuesParser::new(Format::NAMES).map(|s| s.parse::<Format>().expect("listed format")))]
    format: Format,
    /// Also write a report in FORMAT to PATH (repeatable), e.g. `--output sarif=mailcfg.sarif`.
    #[arg(long = "output", value_name = "FORMAT=PATH", value_parser = parse_output)]
    outputs: Vec<(Format, PathBuf)>,
    /// Exit with 1 when a finding at or above this level is reported.
    #[arg(long, value_enum, value_name = "LEVEL", default_value_t = FailOn::Error)]
    fail_on: FailOn,
    /// Same as `--fail-on warning`.
    #[arg(long)]
    deny_warnings: bool,
    /// Report findings but exit with 0 even when some are at or above `--fail-on` (usage, I/O
    /// and internal errors still exit with 2 and 3).
    #[arg(long)]
    exit_zero: bool,
    /// With `-`: the path the stdin document stands for. It names the document in diagnostics
    /// and places it in its project, replacing the file on disk, so cross-file rules see the rest.
    #[arg(long, value_name = "PATH")]
    stdin_filename: Option<PathBuf>,
    /// When to use colours in the human format: auto (a terminal without NO_COLOR), always, never.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
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

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Info,
}

impl FailOn {
    fn level(self) -> Level {
        match self {
            FailOn::Error => Level::Error,
            FailOn::Warning => Level::Warning,
            FailOn::Info => Level::Info,
        }
    }
}

fn parse_output(s: &str) -> Result<(Format, PathBuf), String> {
    let (format, path) = s
        .split_once('=')
        .ok_or_else(|| format!("expected FORMAT=PATH, e.g. sarif=mailcfg.sarif; got {s:?}"))?;
    if path.is_empty() {
        return Err(format!("no path after {format:?}="));
    }
    Ok((format.parse()?, PathBuf::from(path)))
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

fn usage(msg: &str) -> u8 {
    eprintln!("mailcfg: {msg}");
    2
}

pub fn run(args: CheckArgs) -> u8 {
    // A test hook for the exit code of internal errors; it has no other use.
    if std::env::var_os("MAILCFG_TEST_INTERNAL_ERROR").is_some() {
        panic!("internal error requested by MAILCFG_TEST_INTERNAL_ERROR");
    }
    let stdin_mode = args.paths.iter().any(|p| p.as_os_str() == "-");
    if stdin_mode && args.paths.len() > 1 {
        return usage("`-` (stdin) cannot be combined with other paths");
    }
    if args.stdin_filename.is_some() && !stdin_mode {
        return usage("--stdin-filename needs `-` as the path to check");
    }
    if stdin_mode && (args.fix || args.diff) {
        return usage("--fix and --diff change files; they cannot be used with `-` (stdin)");
    }
    let named = if stdin_mode {
        let mut bytes = Vec::new();
        if let Err(e) = std::io::stdin()
            .lock()
            .take(source::MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
        {
            return usage(&format!("cannot read stdin: {}", source::io_message(&e)));
        }
        Named::Stdin {
            bytes,
            filename: args.stdin_filename.clone(),
        }
    } else {
        Named::Paths(args.paths.clone())
    };
    let color = use_color(args.color);
    let workspace = match plan(named, args.config.as_deref(), color) {
        Ok(w) => w,
        Err(code) => return code,
    };
    if args.fix || args.diff {
        let run = mailcfg::fix::fix_workspace(&workspace);
        for r in &run.refused {
            eprintln!("mailcfg: {r}");
        }
        let fixed = run.files;
        if args.diff {
            let mut stdout = std::io::stdout().lock();
            for f in &fixed {
                let _ = stdout.write_all(mailcfg::fix::unified_diff(f).as_bytes());
            }
            return u8::from(!fixed.is_empty() || !run.refused.is_empty());
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
    let nothing_found = workspace.is_empty();
    if nothing_found {
        // Still write the (empty) reports below: a CI step uploading them should find them.
        let paths = if args.paths.is_empty() {
            vec![PathBuf::from(".")]
        } else {
            args.paths.clone()
        };
        eprintln!("mailcfg: no .kdl files found in {}", show_paths(&paths));
    }
    let verdict = workspace.check();
    let threshold = if args.deny_warnings {
        args.fail_on.level().min(Level::Warning)
    } else {
        args.fail_on.level()
    };
    let mut code = if nothing_found {
        2
    } else {
        exit_code(&verdict, threshold, args.exit_zero)
    };
    let checked = &verdict.checked;
    let report = Report {
        diagnostics: &checked.diagnostics,
        sources: &checked.sources,
        files: verdict.reported_files(),
        exit_code: code,
    };
    let color = args.format == Format::Human && use_color(args.color);
    let text_format = matches!(args.format, Format::Human | Format::Concise);
    let out = if nothing_found && text_format {
        // "no .kdl files found" is on stderr; a summary of 0 files would contradict exit 2.
        String::new()
    } else if super::quiet() && code == 0 {
        render::render_quiet(args.format, &report, color)
    } else {
        render::render(args.format, &report, color)
    };
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
    {
        // A reader that stopped early (`| head`) is not an error; a full disk is.
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!(
                "mailcfg: cannot write to stdout: {}",
                source::io_message(&e)
            );
            code = 2;
        }
    }
    for (format, path) in &args.outputs {
        let text = render::render(*format, &report, false);
        if let Err(e) = std::fs::write(path, text) {
            eprintln!(
                "mailcfg: cannot write {} report to {}: {}",
                format,
                path.display(),
                source::io_message(&e)
            );
            code = 2;
        }
    }
    // The process ends right after this: freeing every span table, model value and planned
    // path one by one would only add to the run time (measured: ~10 % on 10,000 accounts).
    std::mem::forget(out);
    std::mem::forget(verdict);
    std::mem::forget(workspace);
    code
}

/// Plans a run through the [`Workspace`]. An invalid configuration is printed (with its
/// location) and means exit code 2.
pub fn plan(named: Named, config: Option<&Path>, color: bool) -> Result<Workspace, u8> {
    Workspace::plan(named, config).map_err(|e| {
        let mut sources = Sources::default();
        let error = *e.error;
        sources.add(error.source);
        let out = render::human::render(&error.diagnostics, &sources, color);
        eprint!("{out}");
        eprintln!("mailcfg: the configuration {} is invalid", e.path.display());
        2
    })
}

/// 2 for I/O problems; 1 for findings at or above `threshold` (unless `exit_zero`); else 0.
fn exit_code(verdict: &Verdict, threshold: Level, exit_zero: bool) -> u8 {
    if verdict.has_io_errors() {
        return 2;
    }
    u8::from(verdict.fails_at(threshold) && !exit_zero)
}

pub fn show_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
