//! Hostile and unusual input through the real binary: every case ends in diagnostics with a
//! location (never a crash or hang), and the other files of the run are still checked.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

/// Exactly one finding under the full rule catalogue: offered to users who type their own login,
/// so no credential or monitor rule applies.
const GOOD: &str = "account \"A\" {\n    protocol \"pop\"; available-to-users #true; from { allow-user-address #true; }\n    incoming {\n        server \"x\"\n        security \"tls\"\n    }\n    outgoing {\n        server \"smtp.example.com\"\n        security \"tls\"\n    }\n}\n";

/// The output, shortened for assertion messages (some inputs echo huge lines).
fn short(out: &str) -> String {
    out.lines()
        .map(|l| {
            if l.len() > 200 {
                &l[..l.floor_char_boundary_compat(200)]
            } else {
                l
            }
        })
        .take(80)
        .collect::<Vec<_>>()
        .join("\n")
}

trait FloorCharBoundary {
    fn floor_char_boundary_compat(&self, at: usize) -> usize;
}

impl FloorCharBoundary for str {
    fn floor_char_boundary_compat(&self, mut at: usize) -> usize {
        while !self.is_char_boundary(at) {
            at -= 1;
        }
        at
    }
}

fn check(dir: &Path) -> (Option<i32>, String) {
    let o: Output = Command::new(crate::harness::BIN)
        .args(["check", "--color", "never", dir.to_str().unwrap()])
        .env_remove("NO_COLOR")
        .output()
        .expect("run mailcfg");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("panicked"), "{err}");
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}

/// A directory with the hostile file and one ordinary file whose finding
/// (`security-imap-only`) proves it was still checked.
fn run(name: &str, content: &[u8]) -> (Option<i32>, String) {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join(name), content).unwrap();
    fs::write(tmp.path().join("other.kdl"), GOOD).unwrap();
    let (code, out) = check(tmp.path());
    assert!(
        out.contains("security-imap-only"),
        "the other file was not checked:\n{}",
        short(&out)
    );
    (code, out)
}

fn count(out: &str, rule: &str) -> usize {
    out.lines().filter(|l| *l == rule).count()
}

#[test]
fn hundred_thousand_levels_of_nesting() {
    let deep = "a {".repeat(100_000) + &"}".repeat(100_000);
    let (code, out) = run("deep.kdl", deep.as_bytes());
    assert_eq!(code, Some(1), "{}", short(&out));
    assert_eq!(count(&out, "nesting-too-deep"), 1, "{}", short(&out));
    // The 65th `{` is the one over the limit: "a {" is 3 bytes, so column 3 * 64 + 3.
    assert!(out.contains("deep.kdl:1:195]"), "{}", short(&out));
}

#[test]
fn hundred_thousand_unclosed_and_slashdashed_levels() {
    let unclosed = "/- a {".to_string() + &"b {".repeat(100_000);
    let (code, out) = run("unclosed.kdl", unclosed.as_bytes());
    assert_eq!(code, Some(1), "{}", short(&out));
    assert_eq!(count(&out, "nesting-too-deep"), 1, "{}", short(&out));
}

#[test]
fn nul_bytes() {
    // At the start: a binary file.
    let (code, out) = run("nul-start.kdl", b"\0account \"A\" {}\n");
    assert_eq!(code, Some(1), "{}", short(&out));
    assert_eq!(count(&out, "binary-file"), 1, "{}", short(&out));
    // Inside otherwise valid UTF-8 text: a syntax error at the NUL's line and column.
    let mut text = GOOD.replace("\"A\"", "\"B\"").into_bytes();
    text.extend_from_slice(b"account \"C\" {\n    protocol \"imap\"\n    port \0 1\n}\n");
    let (code, out) = run("nul-inside.kdl", &text);
    assert_eq!(code, Some(1), "{}", short(&out));
    assert!(count(&out, "syntax-error") >= 1, "{}", short(&out));
    assert!(out.contains("nul-inside.kdl:14:10]"), "{}", short(&out));
    assert!(out.contains("U+0000"), "{}", short(&out));
}

#[test]
fn invalid_utf8() {
    let (code, out) = run(
        "latin1.kdl",
        b"account \"A\" {\n    protocol \"imap\"\n    server \"caf\xe9\"\n}\n",
    );
    assert_eq!(code, Some(1), "{}", short(&out));
    assert_eq!(count(&out, "invalid-utf8"), 1, "{}", short(&out));
    assert!(out.contains("latin1.kdl:3:16]"), "{}", short(&out));
}

#[test]
fn crlf_and_bom_files_read_like_lf_files() {
    let crlf = GOOD.replace('\n', "\r\n");
    let (_, out) = run("crlf.kdl", crlf.as_bytes());
    // Same single finding as for the LF original, for both files.
    assert_eq!(count(&out, "security-imap-only"), 2, "{}", short(&out));
    assert_eq!(count(&out, "syntax-error"), 0, "{}", short(&out));
    let bom = format!("\u{FEFF}{}", GOOD.replace("\"A\"", "\"B\""));
    let (_, out) = run("bom.kdl", bom.as_bytes());
    assert_eq!(count(&out, "security-imap-only"), 2, "{}", short(&out));
    assert_eq!(count(&out, "syntax-error"), 0, "{}", short(&out));
    // Errors in a CRLF file point at the right line and column.
    let bad = "account \"C\" {\r\n    protocol \"imap\r\n}\r\n";
    let (code, out) = run("crlf-bad.kdl", bad.as_bytes());
    assert_eq!(code, Some(1), "{}", short(&out));
    assert!(out.contains("crlf-bad.kdl:2:14]"), "{}", short(&out));
}

#[test]
fn a_million_tiny_nodes() {
    let text = "x\n".repeat(1_000_000);
    let (code, out) = run("tiny.kdl", text.as_bytes());
    assert_eq!(code, Some(1), "{}", short(&out));
    // A million findings would help nobody: the per-file limit applies.
    let limit = mailcfg::pipeline::MAX_DIAGNOSTICS_PER_FILE;
    // Findings start with their rule name alone on a line; one is other.kdl's.
    let findings = out
        .lines()
        .filter(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        .count();
    // other.kdl's own findings, whatever the rule catalogue says about it.
    let alone = tempfile::tempdir().unwrap();
    fs::write(alone.path().join("other.kdl"), GOOD).unwrap();
    let (_, other_out) = check(alone.path());
    let other = other_out
        .lines()
        .filter(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        .count();
    let in_file = findings - other;
    assert_eq!(in_file, limit + 1, "{}", short(&out));
    assert_eq!(count(&out, "too-many-diagnostics"), 1, "{}", short(&out));
    let more: usize = out
        .split(" more problems in this file")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("count of hidden problems");
    assert!(more >= 1_000_000 - limit - 1, "{}", short(&out));
}

#[test]
fn fifty_megabyte_file() {
    let mut text = GOOD.replace("\"A\"", "\"Big\"").into_bytes();
    text.resize(50 * 1024 * 1024, b'\n');
    let (code, out) = run("big.kdl", &text);
    assert_eq!(code, Some(1), "{}", short(&out));
    assert_eq!(count(&out, "file-too-large"), 1, "{}", short(&out));
}

#[test]
fn syntax_errors_per_file_are_capped() {
    let text = "a \"unterminated\n".repeat(500);
    let (code, out) = run("many.kdl", text.as_bytes());
    assert_eq!(code, Some(1), "{}", short(&out));
    let n = count(&out, "syntax-error");
    assert_eq!(
        n,
        mailcfg::parse::reader::MAX_SYNTAX_ERRORS + 1,
        "{}",
        short(&out)
    );
    assert!(
        out.contains("more than 50 syntax errors"),
        "{}",
        short(&out)
    );
}

#[test]
fn over_long_strings_are_reported() {
    let text = format!("account \"{}\" {{\n}}\n", "x".repeat(100_000));
    let (code, out) = run("long.kdl", text.as_bytes());
    assert_eq!(code, Some(1), "{}", short(&out));
    assert_eq!(count(&out, "string-too-long"), 1, "{}", short(&out));
    assert!(out.contains("long.kdl:1:9]"), "{}", short(&out));
}

#[test]
fn many_files_are_checked_with_few_file_descriptors() {
    // Files are read one at a time per worker and closed before parsing, so a low limit on
    // open files is enough for any number of them.
    let tmp = tempfile::tempdir().unwrap();
    for i in 0..2000 {
        let text = GOOD.replace("\"A\"", &format!("\"A{i}\""));
        fs::write(tmp.path().join(format!("a{i:04}.kdl")), text).unwrap();
    }
    let o = Command::new("sh")
        .arg("-c")
        .arg("ulimit -n 32 && exec \"$0\" check --color never \"$1\"")
        .arg(crate::harness::BIN)
        .arg(tmp.path())
        .output()
        .expect("run mailcfg under ulimit");
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{}", short(&out));
    assert_eq!(count(&out, "security-imap-only"), 2000, "{}", short(&out));
    assert_eq!(count(&out, "io-error"), 0, "{}", short(&out));
}

/// A 3.3 MB file on one line: whatever is wrong in it, the human report shows a window of the
/// line around each finding, never the line (nor a long value) itself.
#[test]
fn human_output_of_a_huge_one_line_file_stays_small() {
    const SIZE: usize = 3_300_000;
    let pad = "x".repeat(SIZE);
    let digits = "1".repeat(SIZE);
    let cases = [
        // A string over the length limit, in the middle of the line.
        format!("account \"A\" {{ protocol \"pop\"; incoming {{ server \"{pad}\"; security \"tls\" }} }}"),
        // A syntax error at the far end of the line, after a long comment.
        format!("account \"A\" {{ protocol \"pop\"; incoming {{ server \"x\"; security \"tls\" }} }} /* {pad} */ ]"),
        // An invalid number millions of characters long.
        format!("account \"A\" {{ protocol \"pop\"; port {digits}z }}"),
    ];
    for text in cases {
        assert!(text.len() > SIZE && !text.contains('\n'));
        let (code, out) = run("one-line.kdl", text.as_bytes());
        assert_eq!(code, Some(1), "{}", short(&out));
        assert!(
            out.len() < 10_000,
            "{} bytes of output:\n{}",
            out.len(),
            short(&out)
        );
        assert!(out.contains('…'), "the line is shown cut: {}", short(&out));
    }
}
