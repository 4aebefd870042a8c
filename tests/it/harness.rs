//! What the integration tests share: the binary under test, the checkout, and small helpers to
//! run the binary and write files. Each test module keeps only helpers of its own subject.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The `mailcfg` binary cargo built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_mailcfg");
/// The checkout: examples/, docs/, tests/data/.
pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// `mailcfg ARGS` in `dir`, with `stdin` (or an empty one) as standard input.
pub fn run(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run mailcfg");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(s) = stdin {
        input.write_all(s.as_bytes()).expect("write stdin");
    }
    drop(input);
    child.wait_with_output().expect("wait for mailcfg")
}

/// `mailcfg check --color never ARGS` in `dir`.
pub fn check_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(["check", "--color", "never"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run mailcfg")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Writes `text` to `dir/rel`, creating the folders on the way; returns the path.
pub fn write(dir: &Path, rel: &str, text: &str) -> PathBuf {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().expect("a file in a folder")).expect("create folders");
    std::fs::write(&p, text).expect("write file");
    p
}

/// The fenced block of the checkout's `file` (e.g. `docs/probe.md`) whose info string ends with
/// ` TAG`: the documentation examples that tests run as written.
pub fn doc_block(file: &str, tag: &str) -> String {
    let doc = std::fs::read_to_string(Path::new(ROOT).join(file)).unwrap();
    let start = doc
        .find(&format!(" {tag}\n"))
        .unwrap_or_else(|| panic!("no ``` block tagged {tag} in {file}"));
    let body = &doc[start + tag.len() + 2..];
    body[..body.find("```").unwrap()].to_string()
}
