//! The KDL v2 specification's conformance suite (tests/data/kdl-spec, CC BY-SA 4.0, see its
//! README) against the project's reader: every `_fail` input rejected with a located
//! diagnostic, every other input accepted with the same data as its expected file.

use std::fs;
use std::path::Path;

use mailcfg::parse::{self, reader};
use mailcfg::source::FileId;

fn cases() -> Vec<(String, String)> {
    let dir = Path::new(crate::harness::ROOT).join("tests/data/kdl-spec/test_cases/input");
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
        Path::new(crate::harness::ROOT).join("tests/data/kdl-spec/test_cases/expected_kdl");
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

/// `mailcfg fmt` over the suite: every valid input is formatted (no refusal), the result means
/// what the expected file means, formatting it again changes nothing; every invalid input is
/// rejected as a syntax error, as `check` rejects it.
#[test]
fn fmt_formats_every_valid_case_and_rejects_every_invalid_one() {
    let expected_dir =
        Path::new(crate::harness::ROOT).join("tests/data/kdl-spec/test_cases/expected_kdl");
    let mut refusals = Vec::new();
    let mut problems = Vec::new();
    let mut formatted = 0;
    let mut read_as_v1 = Vec::new();
    for (name, text) in cases() {
        let result = mailcfg::fmt::format(FileId(0), &text);
        if name.trim_end_matches(".kdl").ends_with("_fail") {
            // A few are valid KDL v1, which `check` reads with a warning and `fmt` rewrites
            // as v2; every other one is a syntax error for both.
            let check_rejects = parse::parse(FileId(0), &text)
                .diagnostics
                .iter()
                .any(|d| d.rule == parse::SYNTAX_ERROR);
            if check_rejects && !matches!(result, Err(mailcfg::fmt::FmtError::Syntax(_))) {
                problems.push(format!("{name}: invalid input not rejected: {result:?}"));
            }
            if let Err(e @ mailcfg::fmt::FmtError::Refused { .. }) = &result {
                refusals.push(format!("{name} (read as KDL v1): {e}"));
            }
            if !check_rejects {
                read_as_v1.push(format!(
                    "{name}: {}",
                    if result.is_ok() {
                        "rewritten as v2"
                    } else {
                        "refused"
                    }
                ));
            }
            continue;
        }
        let out = match result {
            Ok(out) => out,
            Err(e) => {
                refusals.push(format!("{name}: {e} at {:?}", e.at()));
                continue;
            }
        };
        formatted += 1;
        let expected_text = fs::read_to_string(expected_dir.join(&name)).expect("expected file");
        let expected = parse::parse_with_kdl_crate(&expected_text).expect("expected file reads");
        let read = reader::read(FileId(0), &out);
        if !read.diagnostics.is_empty() {
            problems.push(format!("{name}: the formatted text does not read:\n{out}"));
            continue;
        }
        if read.document.canonical() != expected.canonical() {
            problems.push(format!(
                "{name}: formatted text means something else:\n{out}"
            ));
        }
        match mailcfg::fmt::format(FileId(0), &out) {
            Ok(again) if again == out => {}
            other => problems.push(format!("{name}: not idempotent: {out:?} → {other:?}")),
        }
    }
    eprintln!(
        "fmt over the spec suite: {formatted} valid inputs formatted, {} refused; invalid v2 inputs read as KDL v1 by check: {read_as_v1:?}",
        refusals.len()
    );
    assert!(formatted > 200, "{formatted}");
    assert!(
        refusals.is_empty(),
        "{} formatter refusals on valid inputs:\n{}",
        refusals.len(),
        refusals.join("\n")
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
