//! `mailcfg check`.

use std::collections::HashSet;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::ValueEnum;

use mailcfg::diagnostics::config::{self, Config};
use mailcfg::diagnostics::Level;
use mailcfg::pipeline::Checked;
use mailcfg::render::{self, Format, Report};
use mailcfg::source::{self, Sources};
use mailcfg::{check_with, Input};

/// The file that marks a project root (as does `.git`): the configuration, never an account file.
pub const PROJECT_FILE: &str = config::FILE_NAME;

#[derive(clap::Args)]
pub struct CheckArgs {
    /// Files or directories to check (default: `.`); `-` reads one document from stdin.
    ///
    /// Files named explicitly are checked within their project (the nearest ancestor directory
    /// with `mailcfg.kdl` or `.git`): the whole project is loaded so names and references
    /// resolve, but only the named files are reported on.
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

/// What to read: the files reported on and the project files loaded only for context, in one
/// order that does not depend on which files were named (so order-sensitive rules such as
/// duplicate names point at the same file in a partial run as in a full one).
struct Plan {
    inputs: Vec<Input>,
    /// Per input: is it reported on?
    reported: Vec<bool>,
    /// Paths that could not be walked: (path, message), reported as `io-error`.
    problems: Vec<(PathBuf, String)>,
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
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    // The configuration is looked for from where the checked document is (or stands for).
    let config_from = match (&args.stdin_filename, stdin_mode) {
        (Some(name), _) => vec![name.clone()],
        (None, true) => vec![PathBuf::from(".")],
        (None, false) => paths.clone(),
    };
    let config = match load_config(&config_from, args.config.as_deref(), use_color(args.color)) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if args.fix || args.diff {
        let files = source::discover(&paths, Some(config::FILE_NAME)).files;
        let run = mailcfg::fix::fix_files(&files, &config);
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
    let mut nothing_found = false;
    let plan = if stdin_mode {
        let mut bytes = Vec::new();
        if let Err(e) = std::io::stdin()
            .lock()
            .take(source::MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
        {
            return usage(&format!("cannot read stdin: {}", source::io_message(&e)));
        }
        plan_stdin(bytes, args.stdin_filename.as_deref())
    } else {
        let plan = plan_paths(&paths);
        if !plan.reported.contains(&true) && plan.problems.is_empty() {
            // Still write the (empty) reports below: a CI step uploading them should find them.
            eprintln!("mailcfg: no .kdl files found in {}", show_paths(&paths));
            nothing_found = true;
        }
        plan
    };
    let Plan {
        inputs,
        reported,
        problems,
    } = plan;
    let mut checked = check_with(inputs, &config);
    // Findings in files read only for context are dropped, unless they point into a reported
    // file: a new account named like an existing one must fail the check of the new file even
    // when the duplicate is flagged at the other definition.
    let is_reported = |f: source::FileId| reported.get(f.index()).copied().unwrap_or(false);
    checked
        .diagnostics
        .retain(|d| is_reported(d.primary.file) || d.related.iter().any(|r| is_reported(r.file)));
    let reported = reported.iter().filter(|r| **r).count();
    // Paths that could not be walked become I/O diagnostics on an empty file entry of their own.
    for (path, msg) in &problems {
        let id = checked
            .sources
            .add(source::SourceFile::new(path, String::new()));
        checked.diagnostics.push(source::input_diagnostic(
            id,
            source::IO_ERROR,
            msg.clone(),
            Default::default(),
        ));
    }
    let threshold = if args.deny_warnings {
        args.fail_on.level().min(Level::Warning)
    } else {
        args.fail_on.level()
    };
    let mut code = if nothing_found {
        2
    } else {
        exit_code(&checked, threshold, args.exit_zero)
    };
    let report = Report {
        diagnostics: &checked.diagnostics,
        sources: &checked.sources,
        files: reported + problems.len(),
        exit_code: code,
    };
    let color = args.format == Format::Human && use_color(args.color);
    let out = render::render(args.format, &report, color);
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
    // The process ends right after this: freeing every span table and model value one by one
    // would only add to the run time (measured: ~10 % on 10,000 accounts).
    std::mem::forget(out);
    std::mem::forget(checked);
    code
}

/// The configuration given with `--config`, or found walking up from `paths`. Problems in it are
/// printed (with their location) and mean exit code 2.
pub fn load_config(paths: &[PathBuf], explicit: Option<&Path>, color: bool) -> Result<Config, u8> {
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

/// 2 for I/O problems; 1 for findings at or above `threshold` (unless `exit_zero`); else 0.
fn exit_code(checked: &Checked, threshold: Level, exit_zero: bool) -> u8 {
    if checked.has_io_errors() {
        return 2;
    }
    let failing = checked.diagnostics.iter().any(|d| d.level >= threshold);
    u8::from(failing && !exit_zero)
}

pub fn show_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The directory holding `mailcfg.kdl` or `.git` nearest above `path`, if any.
pub fn project_root(path: &Path) -> Option<PathBuf> {
    let abs = source::absolute(path);
    abs.ancestors()
        .skip(1)
        .find(|d| d.join(PROJECT_FILE).is_file() || d.join(".git").exists())
        .map(Path::to_path_buf)
}

/// What identifies a file across spellings (symlinks, `./`, `..`): its canonical path, or for a
/// file that does not exist (a `--stdin-filename`), its canonical directory plus its name.
/// [`identity`] for many files: a file that is not a symbolic link is its directory's
/// identity (resolved once per directory) joined with its name, which saves resolving every
/// path component of every file again.
fn identity_in(path: &Path, dirs: &mut std::collections::HashMap<PathBuf, PathBuf>) -> PathBuf {
    let is_link = std::fs::symlink_metadata(path).map_or(true, |m| m.file_type().is_symlink());
    match (is_link, path.parent(), path.file_name()) {
        (false, Some(dir), Some(name)) => {
            let dir = dirs
                .entry(dir.to_path_buf())
                .or_insert_with(|| identity(dir));
            dir.join(name)
        }
        _ => identity(path),
    }
}

fn identity(path: &Path) -> PathBuf {
    if let Ok(p) = std::fs::canonicalize(path) {
        return p;
    }
    let abs = source::absolute(path);
    match (abs.parent(), abs.file_name()) {
        (Some(dir), Some(name)) => std::fs::canonicalize(dir)
            .map(|d| d.join(name))
            .unwrap_or(abs),
        _ => abs,
    }
}

/// A path for display: relative to the current directory when it is inside it.
fn shown(path: &Path) -> PathBuf {
    match std::env::current_dir() {
        Ok(cwd) => match path.strip_prefix(&cwd) {
            Ok(rel) if rel.as_os_str().is_empty() => PathBuf::from("."),
            Ok(rel) => rel.to_path_buf(),
            Err(_) => path.to_path_buf(),
        },
        Err(_) => path.to_path_buf(),
    }
}

/// The `.kdl` files of the projects around `files`, except those in `skip`, with their identity.
fn context(files: &[PathBuf], skip: &HashSet<PathBuf>) -> Vec<(PathBuf, Input)> {
    let mut roots: Vec<PathBuf> = files.iter().filter_map(|f| project_root(f)).collect();
    roots.sort();
    roots.dedup();
    // A root inside another root is walked with it already.
    let roots: Vec<PathBuf> = roots
        .iter()
        .filter(|r| !roots.iter().any(|o| o != *r && r.starts_with(o)))
        .map(|r| shown(r))
        .collect();
    let mut seen = skip.clone();
    source::discover(&roots, Some(PROJECT_FILE))
        .files
        .into_iter()
        .filter_map(|f| {
            let id = identity(&f);
            seen.insert(id.clone()).then(|| (id, Input::file(f)))
        })
        .collect()
}

/// Reported files and context files in one order: by canonical path, as a directory walk of
/// the whole project would give them.
fn ordered(
    reported: Vec<(PathBuf, Input)>,
    context: Vec<(PathBuf, Input)>,
) -> (Vec<Input>, Vec<bool>) {
    let mut all: Vec<(PathBuf, bool, Input)> = reported
        .into_iter()
        .map(|(id, i)| (id, true, i))
        .chain(context.into_iter().map(|(id, i)| (id, false, i)))
        .collect();
    all.sort_by(|a, b| a.0.cmp(&b.0));
    all.into_iter().map(|(_, r, i)| (i, r)).unzip()
}

fn plan_paths(paths: &[PathBuf]) -> Plan {
    // `mailcfg.kdl` marks the project; it is not an account file (unless named explicitly).
    let found = source::discover(paths, Some(PROJECT_FILE));
    let explicit: Vec<PathBuf> = paths.iter().filter(|p| p.is_file()).cloned().collect();
    let mut skip = HashSet::new();
    let mut named = Vec::new();
    let mut dirs = std::collections::HashMap::new();
    for f in found.files {
        let id = identity_in(&f, &mut dirs);
        if skip.insert(id.clone()) {
            named.push((id, Input::file(f)));
        }
    }
    let around = context(&explicit, &skip);
    let (inputs, reported) = ordered(named, around);
    Plan {
        inputs,
        reported,
        problems: found.problems,
    }
}

fn plan_stdin(bytes: Vec<u8>, name: Option<&Path>) -> Plan {
    let Some(name) = name else {
        return Plan {
            inputs: vec![Input {
                path: PathBuf::from("<stdin>"),
                content: Some(bytes),
            }],
            reported: vec![true],
            problems: Vec::new(),
        };
    };
    let id = identity(name);
    let named = vec![(
        id.clone(),
        Input {
            path: name.to_path_buf(),
            content: Some(bytes),
        },
    )];
    let around = context(&[name.to_path_buf()], &HashSet::from([id]));
    let (inputs, reported) = ordered(named, around);
    Plan {
        inputs,
        reported,
        problems: Vec::new(),
    }
}
