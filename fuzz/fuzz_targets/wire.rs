//! The language server's transport on raw bytes (see `mailcfg::lsp::session::replay_wire`):
//! whatever arrives between `initialize` and `shutdown`/`exit` (bad headers, wrong lengths,
//! bodies that are not UTF-8 or not JSON), the server does not panic (not even a panic it
//! catches), stops at `exit` and writes only well-framed JSON-RPC.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use mailcfg::lsp::session;

fuzz_target!(|data: &[u8]| {
    let (outcome, _log) = session::replay_wire(data, Duration::from_secs(20));
    assert!(outcome.problems.is_empty(), "{:#?}", outcome.problems);
});
