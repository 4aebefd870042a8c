//! `mailcfg fmt`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use mailcfg::fmt::{format, FmtError};
use mailcfg::parse::redact;
use mailcfg::source::{self, FileId, SourceFile};
use mailcfg::workspace::Workspace;

#[derive(clap::Args)]
pub struct FmtArgs {
    /// Files or directories to format (`-` formats standard input to standard output).
    ///
    /// Directories are walked as `mailcfg check` walks them (hidden folders and `target/`
    /// skipped); `mailcfg.kdl` is formatted too. A file is formatted once however it is named.
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// Do not write; list the files that are not formatted and exit with 1 if there are any.
    #[arg(long)]
    check: bool,
    /// Do not write; show what would change as a unified diff (exit 1 if anything would).
    #[arg(long)]
    diff: bool,
}

pub fn run(args: FmtArgs) -> u8 {
    if args.paths.iter().any(|p| p.as_os_str() == "-") {
        if args.paths.len() > 1 {
            eprintln!("mailcfg fmt: `-` (standard input) cannot be combined with other paths");
            return 2;
        }
        return stdin(&args);
    }
    // The files `check` plans for the same paths, and the configuration files among them.
    let found = Workspace::plan_format(&args.paths);
    let mut io_problem = !found.problems.is_empty();
    for (path, msg) in &found.problems {
        eprintln!("mailcfg fmt: {}: {msg}", path.display());
    }
    if found.files.is_empty() && found.problems.is_empty() {
        eprintln!("mailcfg fmt: no .kdl files found");
        return 2;
    }
    let mut would_change = 0usize;
    // Valid files the formatter refused (a bug): never let them pass as formatted. Files that
    // do not parse are `check`'s to report.
    let mut refused = 0usize;
    let mut stdout = std::io::stdout().lock();
    for path in &found.files {
        let (file, problem) = source::read_file(path);
        if let Some((_, message, _)) = problem {
            eprintln!("mailcfg fmt: {}: {message}", file.display_path());
            io_problem = true;
            continue;
        }
        let formatted = match format(FileId(0), &file.text) {
            Ok(f) => f,
            Err(e) => {
                report_skip(&file, &e);
                refused += usize::from(matches!(e, FmtError::Refused { .. }));
                continue;
            }
        };
        if formatted == *file.text {
            continue;
        }
        would_change += 1;
        if args.check {
            let _ = writeln!(stdout, "{}", file.display_path());
        }
        if args.diff {
            let _ = stdout.write_all(diff(&file.display_path(), &file.text, &formatted).as_bytes());
        }
        if !args.check && !args.diff {
            if let Err(e) = std::fs::write(path, &formatted) {
                eprintln!(
                    "mailcfg fmt: {}: cannot write: {}",
                    file.display_path(),
                    source::io_message(&e)
                );
                io_problem = true;
            }
        }
    }
    let _ = stdout.flush();
    if io_problem {
        2
    } else if refused > 0 {
        eprintln!(
            "mailcfg fmt: {refused} file{} could not be formatted",
            if refused == 1 { "" } else { "s" }
        );
        1
    } else if (args.check || args.diff) && would_change > 0 {
        if args.check {
            eprintln!(
                "mailcfg fmt: {would_change} file{} would be reformatted (run `mailcfg fmt`)",
                if would_change == 1 { "" } else { "s" }
            );
        }
        1
    } else {
        0
    }
}

fn stdin(args: &FmtArgs) -> u8 {
    let mut bytes = Vec::new();
    if let Err(e) = std::io::stdin().lock().read_to_end(&mut bytes) {
        eprintln!(
            "mailcfg fmt: cannot read standard input: {}",
            source::io_message(&e)
        );
        return 2;
    }
    let (file, problem) = source::from_bytes(Path::new("<stdin>"), bytes);
    if let Some((_, message, _)) = problem {
        eprintln!("mailcfg fmt: <stdin>: {message}");
        return 2;
    }
    let mut stdout = std::io::stdout().lock();
    match format(FileId(0), &file.text) {
        Ok(formatted) => {
            let changed = formatted != *file.text;
            if args.diff {
                if changed {
                    let _ = stdout.write_all(diff("<stdin>", &file.text, &formatted).as_bytes());
                }
            } else if args.check {
                if changed {
                    let _ = writeln!(stdout, "<stdin>");
                }
            } else {
                let _ = stdout.write_all(formatted.as_bytes());
            }
            u8::from(changed && (args.check || args.diff))
        }
        Err(e) => {
            report_skip(&file, &e);
            // Filters must not eat the text they could not format.
            if !args.check && !args.diff {
                let _ = stdout.write_all(file.text.as_bytes());
            }
            u8::from(matches!(e, FmtError::Refused { .. }))
        }
    }
}

/// A file that was left alone, one line on stderr; `mailcfg check` shows the details.
fn report_skip(file: &SourceFile, e: &FmtError) {
    let at = e.at().map(|s| {
        let (line, col) = file.line_col(s.start);
        format!(":{line}:{col}")
    });
    eprintln!(
        "mailcfg fmt: {}{}: not formatted: {e}",
        file.display_path(),
        at.unwrap_or_default()
    );
}

/// A unified diff with literal secrets masked on both sides (line breaks kept, so the hunks'
/// line numbers are the files'), then every secret value of either side scrubbed: a
/// formatting that moved a value out of its secret node still does not show it.
fn diff(name: &str, old_text: &str, new_text: &str) -> String {
    let (old, new) = (redact::mask(old_text), redact::mask(new_text));
    let diff = similar::TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(3)
        .header(&prefixed("a", name), &prefixed("b", name))
        .to_string();
    let mut secrets = redact::secret_values(old_text);
    secrets.extend(redact::secret_values(new_text));
    redact::scrub(&diff, &secrets)
}

/// `a/path` as git writes it (absolute paths and `<stdin>` are shown as they are).
fn prefixed(side: &str, name: &str) -> String {
    if name.starts_with('/') || name.starts_with('<') {
        name.to_string()
    } else {
        format!("{side}/{name}")
    }
}
