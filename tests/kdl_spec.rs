//! The KDL v2 specification's conformance suite (tests/data/kdl-spec, CC BY-SA 4.0, see its
//! README) against the project's reader: every `_fail` input rejected with a located
//! diagnostic, every other input accepted with the same data as its expected file.

use std::fs;
use std::path::Path;

use mailcfg::parse::{self, reader};
use mailcfg::source::FileId;

fn cases() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/kdl-spec/test_cases/input");
    let mut out: Vec<(String, String)> = fs::read_dir(&dir)
        .expect("spec suite present")
        .map(|e| {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (
                name,
                fs::read_to_string(&path).expect("spec inputs are UTF-8"),
            )
        })
        .collect();
    out.sort();
    assert!(out.len() > 300, "the suite has 336 cases");
    out
}

#[test]
fn every_fail_case_is_rejected_with_a_location() {
    let mut accepted = Vec::new();
    for (name, text) in cases() {
        if !name.trim_end_matches(".kdl").ends_with("_fail") {
            continue;
        }
        let read = reader::read(FileId(0), &text);
        if read.diagnostics.is_empty() {
            accepted.push(name);
            continue;
        }
        for d in &read.diagnostics {
            assert!(
                d.primary.span.end <= text.len(),
                "{name}: span outside the text"
            );
            assert_eq!(d.rule, parse::SYNTAX_ERROR, "{name}");
        }
    }
    assert!(
        accepted.is_empty(),
        "accepted invalid inputs: {accepted:#?}"
    );
}

#[test]
fn every_valid_case_is_accepted_with_the_expected_data() {
    let expected_dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/kdl-spec/test_cases/expected_kdl");
    let mut problems = Vec::new();
    let mut checked = 0;
    for (name, text) in cases() {
        if name.trim_end_matches(".kdl").ends_with("_fail") {
            continue;
        }
        let read = reader::read(FileId(0), &text);
        if let Some(d) = read.diagnostics.first() {
            problems.push(format!(
                "{name}: rejected: {} at {:?}",
                d.message, d.primary.span
            ));
            continue;
        }
        let expected_text = fs::read_to_string(expected_dir.join(&name)).expect("expected file");
        // The expected files are canonical KDL; the kdl crate reads them independently.
        let expected = parse::parse_with_kdl_crate(&expected_text)
            .unwrap_or_else(|e| panic!("{name}: kdl crate cannot read the expected file: {e:?}"));
        let (ours, theirs) = (read.document.canonical(), expected.canonical());
        if ours != theirs {
            problems.push(format!("{name}:\n--- ours\n{ours}--- expected\n{theirs}"));
        }
        checked += 1;
    }
    assert!(checked > 200);
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
