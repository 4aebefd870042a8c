//! One module per subcommand; `main.rs` only parses arguments and dispatches.

pub mod check;
pub mod compile;
pub mod completions;
pub mod diff;
pub mod discover;
pub mod fmt;
pub mod init;
pub mod lsp;
pub mod probe;
pub mod rules;
pub mod show;

use std::sync::atomic::{AtomicBool, Ordering};

/// `--quiet`, given to any command: print findings and failures only, no progress or clean
/// summaries. One switch for the process, set once from the command line before the command
/// runs, so the commands that have something to keep quiet read it where they print.
static QUIET: AtomicBool = AtomicBool::new(false);

pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}
