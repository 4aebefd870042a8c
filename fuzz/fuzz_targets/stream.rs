//! The streaming fast path (`lower::stream`: text → model) on arbitrary text: never panics, and
//! whatever it accepts the reader reads without a problem into the same items at the same
//! offsets (through `lower::typed`): same model or the stream refuses.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailcfg::lower::{stream, typed};
use mailcfg::parse::reader;
use mailcfg::source::FileId;

fn json(item: typed::Item) -> String {
    match item {
        typed::Item::Account(a) => format!("{a:?}"),
        typed::Item::Credential(c) => format!("{c:?}"),
        typed::Item::System(s) => format!("{s:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut streamed = Vec::new();
    if stream::each_item(text, |start, item| streamed.push((start, json(item)))).is_err() {
        return;
    }
    let read = reader::read(FileId(0), text);
    assert!(read.diagnostics.is_empty() && !read.too_deep, "the reader refused");
    let tree: Vec<(usize, String)> = read
        .document
        .nodes
        .iter()
        .map(|n| (n.span.start, json(typed::item(n).expect("typed refused"))))
        .collect();
    assert_eq!(streamed, tree, "the stream and the tree differ");
});
