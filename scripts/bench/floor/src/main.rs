//! Floors under `mailcfg check` for the benchmark:
//!
//!     mailcfg-bench-floor MODE PATH
//!
//! PATH is a file or a directory of them (not recursive): `.kdl` files, or `.json` files for
//! `serde-json`; files are spread over rayon's pool like `mailcfg check` does. MODE:
//!   read        read every file into memory (the in-process I/O floor)
//!   kdl         kdl 6.7.1 `KdlDocument::parse_v2`
//!   reader      mailcfg's own KDL reader (`mailcfg::parse::reader::read`), the whole tree
//!   stream      what `mailcfg check` reads a valid file with: the text straight into the typed
//!               model (`mailcfg::lower::stream::each_item`); a refused file counts as an error
//!   serde-json  serde_json parse of the same accounts as JSON (the lowered form the peers
//!               validate) straight into mailcfg's model (`mailcfg::model::File`): what the
//!               best Rust parser costs for the same data and the same result
//! Prints `files=… bytes=… nodes=… errors=…`; exits 1 if any file failed to parse.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use rayon::prelude::*;

fn files(path: &Path, extension: &str) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_path_buf()];
    }
    let mut v: Vec<PathBuf> = std::fs::read_dir(path)
        .expect("read dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == extension))
        .collect();
    v.sort();
    v
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(mode), Some(path)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: mailcfg-bench-floor read|kdl|reader|stream|serde-json PATH");
        return ExitCode::from(2);
    };
    let mode = mode.as_str();
    let extension = if mode == "serde-json" { "json" } else { "kdl" };
    let list = files(Path::new(path), extension);
    let (bytes, nodes, errors) = list
        .par_iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).expect("read file");
            let (n, e) = match mode {
                "read" => (0, 0),
                "kdl" => match kdl::KdlDocument::parse_v2(&text) {
                    Ok(d) => (d.nodes().len(), 0),
                    Err(_) => (0, 1),
                },
                "reader" => {
                    let r = mailcfg::parse::reader::read(mailcfg::source::FileId(0), &text);
                    (r.document.nodes.len(), r.diagnostics.len().min(1))
                }
                "stream" => {
                    let mut n = 0;
                    match mailcfg::lower::stream::each_item(&text, |_, _| n += 1) {
                        Ok(()) => (n, 0),
                        Err(_) => (0, 1),
                    }
                }
                "serde-json" => match serde_json::from_str::<mailcfg::model::File>(&text) {
                    Ok(f) => (
                        f.account.len() + f.credential.len() + usize::from(f.system.is_some()),
                        0,
                    ),
                    Err(_) => (0, 1),
                },
                other => panic!("unknown mode {other}"),
            };
            (text.len(), n, e)
        })
        .reduce(|| (0, 0, 0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2));
    println!("files={} bytes={bytes} nodes={nodes} errors={errors}", list.len());
    if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
