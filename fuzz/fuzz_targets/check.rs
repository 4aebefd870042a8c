//! The whole `check` pipeline on one file of arbitrary bytes: never panics, and the human
//! report renders.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailcfg::{check, Input};

fuzz_target!(|data: &[u8]| {
    let checked = check(vec![Input {
        path: "fuzz.kdl".into(),
        content: Some(data.to_vec()),
    }]);
    let _ = mailcfg::render::human::render(&checked.diagnostics, &checked.sources, false);
});
