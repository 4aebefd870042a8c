//! One module per subcommand; `main.rs` only parses arguments and dispatches.

pub mod check;
pub mod compile;
pub mod completions;
pub mod diff;
pub mod fmt;
pub mod init;
pub mod lsp;
pub mod probe;
pub mod rules;
pub mod show;
