//! CI's smoke pass over the fuzzing corpus: every checked-in seed (fuzz/seeds) and every input
//! that once crashed (fuzz/regressions) goes through the reader's invariants and, as `.kdl`
//! files, through the real `mailcfg check`, which must finish with a report and exit 0 or 1.
//! The `lsp` target's seeds (fuzz/seeds/lsp), and every other seed and regression too, are
//! replayed as editor sessions through the same in-process driver the fuzz target uses; the
//! `wire` target's seeds (fuzz/seeds/wire), and every other input too, as raw bytes through the
//! server's transport.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use mailcfg::lsp::session;
use mailcfg::parse::{self, reader};
use mailcfg::source::FileId;

fn inputs() -> Vec<PathBuf> {
    files_in(&["seeds", "regressions"])
}

fn files_in(dirs: &[&str]) -> Vec<PathBuf> {
    let root = Path::new(crate::harness::ROOT).join("fuzz");
    let mut v = Vec::new();
    for dir in dirs {
        for e in fs::read_dir(root.join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() && p.file_name().is_some_and(|n| n != "README.md") {
                v.push(p);
            }
        }
    }
    v.sort();
    v
}

#[test]
fn reader_invariants_hold_on_the_corpus() {
    let files = inputs();
    assert!(files.len() >= 20, "corpus has {} files", files.len());
    for f in &files {
        let bytes = fs::read(f).unwrap();
        let Ok(text) = std::str::from_utf8(&bytes) else {
            continue;
        };
        let read = reader::read(FileId(0), text);
        for d in &read.diagnostics {
            assert!(d.primary.span.end <= text.len(), "{}", f.display());
        }
        if read.diagnostics.is_empty() {
            if let Ok(theirs) = parse::parse_with_kdl_crate(text) {
                assert_eq!(
                    read.document.canonical(),
                    theirs.canonical(),
                    "{}",
                    f.display()
                );
            }
        }
    }
}

#[test]
fn check_reports_on_every_corpus_file() {
    let tmp = tempfile::tempdir().unwrap();
    let files = inputs();
    for (i, f) in files.iter().enumerate() {
        fs::copy(f, tmp.path().join(format!("input-{i:04}.kdl"))).unwrap();
    }
    let o = Command::new(crate::harness::BIN)
        .args(["check", "--color", "never", tmp.path().to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "exit {:?}: {err}",
        o.status
    );
    let out = String::from_utf8_lossy(&o.stdout);
    let summary = out.lines().last().unwrap_or("");
    assert!(
        summary.ends_with(&format!("in {} files", files.len())),
        "{summary}"
    );
}

#[test]
fn lsp_sessions_answer_every_request_on_the_corpus() {
    let scripts = files_in(&["seeds/lsp"]);
    assert!(scripts.len() >= 8, "{} lsp seeds", scripts.len());
    let mut all = scripts.clone();
    all.extend(inputs());
    let mut requests = 0;
    for f in &all {
        let outcome = session::replay(&fs::read(f).unwrap());
        assert!(
            outcome.problems.is_empty(),
            "{}: {:#?}",
            f.display(),
            outcome.problems
        );
        assert_eq!(outcome.answered, outcome.requests, "{}", f.display());
        // initialize and shutdown, and at least one step: the session really ran.
        assert!(
            outcome.requests >= 2 && outcome.steps >= 1,
            "{}: {outcome:?}",
            f.display()
        );
        if scripts.contains(f) {
            // Each session script asks several questions besides initialize and shutdown.
            assert!(outcome.requests >= 6, "{}: {outcome:?}", f.display());
            requests += outcome.requests;
        }
    }
    assert!(
        requests >= 60,
        "the lsp seeds sent only {requests} requests"
    );
}

/// The driver is not blind: a panic the server catches and logs is a problem of the session.
#[test]
fn lsp_session_reports_a_caught_panic() {
    // Only this request method panics, and no seed sends it, so the other tests are unaffected.
    std::env::set_var("MAILCFG_LSP_DEBUG_PANIC", "1");
    let outcome = session::replay(
        b"@open 0\naccount \"A\" {}\n@raw\n{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"mailcfg/debugPanic\"}\n@diag 0\n",
    );
    assert_eq!(outcome.answered, outcome.requests, "{outcome:?}");
    assert_eq!(outcome.requests, 4, "{outcome:?}");
    assert!(
        outcome
            .problems
            .iter()
            .any(|p| p.contains("internal error") && p.contains("mailcfg/debugPanic")),
        "{outcome:?}"
    );
}

#[test]
fn wire_sessions_survive_the_corpus_as_raw_bytes() {
    let seeds = files_in(&["seeds/wire"]);
    assert!(seeds.len() >= 8, "{} wire seeds", seeds.len());
    let mut all = seeds.clone();
    all.extend(inputs());
    let mut shutdowns = 0;
    for f in &all {
        let bytes = fs::read(f).unwrap();
        let (outcome, log) = session::replay_wire(&bytes, std::time::Duration::from_secs(20));
        assert!(
            outcome.problems.is_empty(),
            "{}: {:#?}",
            f.display(),
            outcome.problems
        );
        // The seeds are self-contained: whatever is wrong in them, the server is still
        // answering when the shutdown after them arrives.
        if seeds.contains(f) {
            assert!(outcome.answered >= 3, "{}: {outcome:?}", f.display());
            assert!(outcome.shutdown_answered, "{}: {outcome:?}", f.display());
            shutdowns += 1;
        }
        for line in &log {
            assert!(!line.contains("account"), "{}: logged {line}", f.display());
        }
    }
    assert_eq!(shutdowns, seeds.len());
}
