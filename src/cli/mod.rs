//! One module per subcommand; `main.rs` only parses arguments and dispatches.

pub mod check;
pub mod compile;
pub mod diff;
pub mod discover;
pub mod fmt;
pub mod lsp;
pub mod probe;
pub mod rules;
