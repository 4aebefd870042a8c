//! The KDL reader on arbitrary text: never panics, every span inside the text, and on text the
//! kdl crate also accepts, the same document data.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailcfg::parse::{self, reader};
use mailcfg::source::FileId;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let read = reader::read(FileId(0), text);
    for d in &read.diagnostics {
        assert!(d.primary.span.start <= d.primary.span.end && d.primary.span.end <= text.len());
    }
    if read.diagnostics.is_empty() && !read.too_deep {
        if let Ok(theirs) = parse::parse_with_kdl_crate(text) {
            assert_eq!(read.document.canonical(), theirs.canonical(), "data differs");
        }
    }
});
