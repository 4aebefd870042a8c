//! The language server driven in-process by a fuzzed editor session (see
//! `mailcfg::lsp::session` for the input's format): no panic, not even one the server catches
//! and logs; every request answered; no diagnostic range that ends before it starts; the server
//! stops at `exit`, all within the session's time bound.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailcfg::lsp::session;

fuzz_target!(|data: &[u8]| {
    let outcome = session::replay(data);
    assert!(outcome.problems.is_empty(), "{:#?}", outcome.problems);
    assert_eq!(outcome.answered, outcome.requests, "{outcome:?}");
});
