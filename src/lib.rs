//! mailcfg: e-mail account configuration as code.
//!
//! One pipeline: source → parse → lower → schema → model → rules → policy → render, over the
//! leaf core `diagnostics`; compile, probe, lsp, fmt and the CLI above it. ARCHITECTURE.md is the
//! map; tests/it/architecture.rs keeps the imports in one direction.

pub mod compile;
pub mod diagnostics;
pub mod discover;
pub mod facts;
pub mod fix;
pub mod fmt;
pub mod lower;
pub mod lsp;
pub mod model;
pub mod parse;
pub mod pipeline;
pub mod policy;
pub mod probe;
pub mod registry;
pub mod render;
pub mod rules;
pub mod schema;
pub mod source;
pub mod workspace;

pub use pipeline::{check, check_with, Checked, Input};
