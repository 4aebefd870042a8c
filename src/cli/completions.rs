//! `mailcfg completions SHELL` and `mailcfg man`: generated from the same clap definition that
//! parses the arguments, so they list exactly the commands and options mailcfg accepts.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::ValueEnum;
use clap_complete::Shell;

use mailcfg::source;

#[derive(clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    shell: CompletionShell,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

impl From<CompletionShell> for Shell {
    fn from(s: CompletionShell) -> Shell {
        match s {
            CompletionShell::Bash => Shell::Bash,
            CompletionShell::Zsh => Shell::Zsh,
            CompletionShell::Fish => Shell::Fish,
            CompletionShell::Powershell => Shell::PowerShell,
        }
    }
}

/// Prints the completion script for `args.shell` of the command line `cli`.
pub fn completions(args: CompletionsArgs, mut cli: clap::Command) -> u8 {
    let name = cli.get_name().to_string();
    let mut script = Vec::new();
    clap_complete::generate(Shell::from(args.shell), &mut cli, name, &mut script);
    write_stdout(&script)
}

#[derive(clap::Args)]
pub struct ManArgs {
    /// Write one page per command (mailcfg.1, mailcfg-check.1, …) into DIR instead of printing
    /// the page of `mailcfg` itself.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

/// Prints the man page of `cli`, or writes the pages of it and every subcommand into a directory.
pub fn man(args: ManArgs, cli: clap::Command) -> u8 {
    let Some(dir) = args.out else {
        let mut page = Vec::new();
        clap_mangen::Man::new(cli)
            .render(&mut page)
            .expect("rendering into memory cannot fail");
        return write_stdout(&page);
    };
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!(
            "mailcfg: cannot create {}: {}",
            dir.display(),
            source::io_message(&e)
        );
        return 2;
    }
    match write_pages(&dir, cli) {
        Ok(n) => {
            if !super::quiet() {
                eprintln!("mailcfg: wrote {n} man pages to {}", dir.display());
            }
            0
        }
        Err(msg) => {
            eprintln!("mailcfg: {msg}");
            2
        }
    }
}

/// `mailcfg.1` and one `mailcfg-COMMAND.1` per command; returns how many were written.
fn write_pages(dir: &Path, cli: clap::Command) -> Result<usize, String> {
    let count = 1 + cli.get_subcommands().count();
    clap_mangen::generate_to(cli, dir).map_err(|e| {
        format!(
            "cannot write man pages to {}: {}",
            dir.display(),
            source::io_message(&e)
        )
    })?;
    Ok(count)
}

fn write_stdout(bytes: &[u8]) -> u8 {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => 0,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!(
                "mailcfg: cannot write to stdout: {}",
                source::io_message(&e)
            );
            2
        }
    }
}
