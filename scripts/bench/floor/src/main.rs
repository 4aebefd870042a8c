//! Floors under `mailcfg check` for the benchmark:
//!
//!     mailcfg-bench-floor MODE PATH
//!
//! PATH is a `.kdl` file or a directory of them (not recursive); files are spread over rayon's
//! pool like `mailcfg check` does. MODE:
//!   read    read every file into memory (the in-process I/O floor)
//!   kdl     kdl 6.7.1 `KdlDocument::parse_v2`
//!   reader  mailcfg's own KDL reader (`mailcfg::parse::reader::read`), the whole tree
//!   stream  what `mailcfg check` reads a valid file with: the text straight into the typed
//!           model (`mailcfg::lower::stream::each_item`); a refused file counts as an error
//! Prints `files=… bytes=… nodes=… errors=…`; exits 1 if any file failed to parse.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use rayon::prelude::*;

fn files(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_path_buf()];
    }
    let mut v: Vec<PathBuf> = std::fs::read_dir(path)
        .expect("read dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "kdl"))
        .collect();
    v.sort();
    v
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(mode), Some(path)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: mailcfg-bench-floor read|kdl|reader|stream PATH");
        return ExitCode::from(2);
    };
    let mode = mode.as_str();
    let list = files(Path::new(path));
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
