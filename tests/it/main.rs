//! The integration tests, in one binary (one link instead of one per file): each module tests one
//! capability through the real `mailcfg` binary or the library; `harness` holds what they share.
//! Tests that need servers (probe, discover, pre-commit, editors) find them started by
//! scripts/test.sh.

mod harness;

mod architecture;
mod check;
mod codes;
mod compile;
mod config;
mod deliverability;
mod discover;
mod dns_server;
mod fast_path;
mod fix;
mod fmt;
mod formats;
mod fuzz_corpus;
mod kdl_differential;
mod kdl_spec;
mod lsp;
mod newcomer;
mod precommit;
mod probe;
mod robustness;
mod rules;
mod suppressions;
