//! Imports run in one direction (ARCHITECTURE.md, "Layers"): a module may name only modules
//! below it in [`LAYERS`]. The test reads every `crate::` (and, in the binary, `mailcfg::`) path
//! outside comments, string literals and `#[cfg(test)]` items, so a new import against the
//! direction fails here with its file and line.

use std::collections::BTreeSet;
use std::path::Path;

use crate::harness::ROOT;

/// The top-level modules of `src/`, lowest first. `diagnostics` is the leaf core (span, file id,
/// level, label, edit, fix, diagnostic, code name): it imports nothing of the crate. `model`
/// (the account types) sits below `parse` and `lower` because redaction needs its secret node
/// names and the schema is generated from it; in the data flow it is the stage after `schema`.
const LAYERS: &[&str] = &[
    "diagnostics",
    "source",
    "model",
    "parse",
    "lower",
    "schema",
    "rules",
    "facts",
    "registry",
    "policy",
    "render",
    "pipeline",
    "workspace",
    "fix",
    "fmt",
    "compile",
    "probe",
    "discover",
    "lsp",
    "cli",
];

/// Names the crate root re-exports, and the module each belongs to.
const ROOT_REEXPORTS: &[(&str, &str)] = &[
    ("check", "pipeline"),
    ("check_with", "pipeline"),
    ("Checked", "pipeline"),
    ("Input", "pipeline"),
];

fn rank(module: &str) -> Option<usize> {
    LAYERS.iter().position(|m| *m == module)
}

/// The top-level module a file of `src/` belongs to: `src/x.rs` and `src/x/…` are `x`; the
/// binary's `main.rs` belongs with `cli`; `lib.rs` only declares modules.
fn module_of(relative: &Path) -> Option<String> {
    let first = relative.components().next()?.as_os_str().to_str()?;
    match first {
        "lib.rs" => None,
        "main.rs" => Some("cli".into()),
        _ => Some(first.trim_end_matches(".rs").to_string()),
    }
}

/// `source` with comments, string and char literals blanked (newlines kept, so line numbers
/// stay) and every `#[cfg(test)]` item removed.
fn code_only(source: &str) -> String {
    let b = source.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let blank = |out: &mut Vec<u8>, bytes: &[u8]| {
        out.extend(bytes.iter().map(|&c| if c == b'\n' { b'\n' } else { b' ' }))
    };
    while i < b.len() {
        let rest = &b[i..];
        if rest.starts_with(b"//") {
            let end = rest.iter().position(|&c| c == b'\n').unwrap_or(rest.len());
            blank(&mut out, &rest[..end]);
            i += end;
        } else if rest.starts_with(b"/*") {
            let mut depth = 0;
            let mut j = 0;
            while j < rest.len() {
                if rest[j..].starts_with(b"/*") {
                    depth += 1;
                    j += 2;
                } else if rest[j..].starts_with(b"*/") {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            blank(&mut out, &rest[..j]);
            i += j;
        } else if let Some(len) = raw_string_len(rest) {
            blank(&mut out, &rest[..len]);
            i += len;
        } else if rest[0] == b'"' || rest.starts_with(b"b\"") {
            let mut j = if rest[0] == b'"' { 1 } else { 2 };
            while j < rest.len() && rest[j] != b'"' {
                j += if rest[j] == b'\\' { 2 } else { 1 };
            }
            let len = (j + 1).min(rest.len());
            blank(&mut out, &rest[..len]);
            i += len;
        } else if rest[0] == b'\'' {
            // A char literal ('x', '\n', '\u{..}'), not a lifetime ('a).
            let len = if rest.get(1) == Some(&b'\\') {
                rest[2..].iter().position(|&c| c == b'\'').map(|p| p + 3)
            } else {
                let ch = std::str::from_utf8(&rest[1..rest.len().min(5)])
                    .ok()
                    .or_else(|| std::str::from_utf8(&rest[1..rest.len().min(2)]).ok())
                    .and_then(|s| s.chars().next());
                ch.and_then(|c| {
                    let after = 1 + c.len_utf8();
                    (rest.get(after) == Some(&b'\'')).then_some(after + 1)
                })
            };
            let len = len.unwrap_or(1);
            blank(&mut out, &rest[..len]);
            i += len;
        } else {
            out.push(rest[0]);
            i += 1;
        }
    }
    let text = String::from_utf8(out).expect("blanking keeps UTF-8 boundaries");
    strip_test_items(&text)
}

/// `r"…"`, `r#"…"#`, `br"…"`: the literal's length, if one starts here.
fn raw_string_len(rest: &[u8]) -> Option<usize> {
    let prefix = if rest.starts_with(b"br") {
        2
    } else if rest.starts_with(b"r") {
        1
    } else {
        return None;
    };
    let hashes = rest[prefix..].iter().take_while(|&&c| c == b'#').count();
    if rest.get(prefix + hashes) != Some(&b'"') {
        return None;
    }
    let mut close = vec![b'"'];
    close.extend(std::iter::repeat_n(b'#', hashes));
    let body = prefix + hashes + 1;
    rest[body..]
        .windows(close.len())
        .position(|w| w == close.as_slice())
        .map(|p| body + p + close.len())
}

/// Removes each `#[cfg(test)]` item (a `mod tests { … }`, a function, a `use`): tests may use
/// anything. Runs on code whose comments and literals are already blanked.
fn strip_test_items(code: &str) -> String {
    let mut out = code.to_string();
    while let Some(at) = out.find("#[cfg(test)]") {
        let after = at + "#[cfg(test)]".len();
        let bytes = out.as_bytes();
        // The item ends at its block's closing brace, or at `;` for an item without a block.
        let mut j = after;
        let mut depth = 0usize;
        while j < bytes.len() {
            match bytes[j] {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        j += 1;
                        break;
                    }
                }
                b';' if depth == 0 => {
                    j += 1;
                    break;
                }
                _ => {}
            }
            j += 1;
        }
        let removed: String = out[at..j]
            .chars()
            .map(|c| if c == '\n' { '\n' } else { ' ' })
            .collect();
        out.replace_range(at..j, &removed);
    }
    out
}

/// Every crate module named in `code`, with its line: `crate::x…`, `mailcfg::x…` and the
/// first segments of `use crate::{a, b::c}` groups.
fn imports(code: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for prefix in ["crate::", "mailcfg::"] {
        let mut from = 0;
        while let Some(pos) = code[from..].find(prefix) {
            let at = from + pos;
            from = at + prefix.len();
            let before = code[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
                continue;
            }
            let line = code[..at].matches('\n').count() + 1;
            let rest = &code[from..];
            if let Some(group) = rest.strip_prefix('{') {
                let end = matching_brace(group);
                let mut depth = 0;
                let mut segment_start = true;
                for (k, c) in group[..end].char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        ',' if depth == 0 => segment_start = true,
                        c if segment_start && depth == 0 && (c.is_alphanumeric() || c == '_') => {
                            let name: String = group[k..]
                                .chars()
                                .take_while(|c| c.is_alphanumeric() || *c == '_')
                                .collect();
                            let line = line + group[..k].matches('\n').count();
                            found.push((line, name));
                            segment_start = false;
                        }
                        _ => {}
                    }
                }
            } else {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    found.push((line, name));
                }
            }
        }
    }
    found
}

fn matching_brace(group: &str) -> usize {
    let mut depth = 1;
    for (k, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return k;
                }
            }
            _ => {}
        }
    }
    group.len()
}

/// The module a path's first segment names (`check` → `pipeline`), or `None` for a name that
/// is not a module (a macro, `self`).
fn target_module(name: &str) -> Option<&str> {
    ROOT_REEXPORTS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, m)| *m)
        .or_else(|| rank(name).map(|r| LAYERS[r]))
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_module_of_src_has_a_place_in_the_layers() {
    let src = Path::new(ROOT).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<String> = files
        .iter()
        .filter_map(|f| module_of(f.strip_prefix(&src).unwrap()))
        .collect();
    let unplaced: Vec<&String> = modules.iter().filter(|m| rank(m).is_none()).collect();
    assert!(
        unplaced.is_empty(),
        "modules missing from LAYERS (place them in tests/it/architecture.rs and ARCHITECTURE.md): {unplaced:?}"
    );
    // And every layer still exists, so the list does not rot.
    let gone: Vec<&&str> = LAYERS.iter().filter(|m| !modules.contains(**m)).collect();
    assert!(
        gone.is_empty(),
        "LAYERS names modules src/ no longer has: {gone:?}"
    );
}

#[test]
fn imports_run_in_one_direction() {
    let src = Path::new(ROOT).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut violations = Vec::new();
    let mut edges = 0;
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let Some(module) = module_of(relative) else {
            continue;
        };
        let own = rank(&module).expect("placed (see the other test)");
        let code = code_only(&std::fs::read_to_string(file).expect("read source"));
        for (line, name) in imports(&code) {
            let Some(target) = target_module(&name) else {
                continue;
            };
            if target == module {
                continue;
            }
            edges += 1;
            if rank(target).unwrap() > own {
                violations.push(format!(
                    "src/{}:{line}: `{module}` imports `{target}`, which sits above it",
                    relative.display()
                ));
            }
        }
    }
    // The scan found the crate's imports at all (a scanner that sees nothing passes vacuously).
    assert!(edges > 100, "only {edges} cross-module imports found");
    assert!(
        violations.is_empty(),
        "imports against the direction of ARCHITECTURE.md (\"Layers\"):\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_core_imports_nothing_of_the_crate() {
    let core = code_only(
        &std::fs::read_to_string(Path::new(ROOT).join("src/diagnostics.rs")).expect("read core"),
    );
    let named: Vec<_> = imports(&core)
        .into_iter()
        .filter(|(_, n)| target_module(n).is_some_and(|m| m != "diagnostics"))
        .collect();
    assert!(named.is_empty(), "the leaf core imports {named:?}");
}

#[test]
fn the_scanner_sees_imports_and_skips_comments_strings_and_tests() {
    let code = code_only(
        r##"use crate::parse::lexer;
use crate::{rules::{self, Context}, schema};
// use crate::lsp;
const S: &str = "crate::probe";
const R: &str = r#"crate::compile"#;
fn f<'a>(c: char) -> bool { c == '{' && crate::fmt::quote("").is_empty() }
#[cfg(test)]
mod tests { use crate::cli; fn g() { let _ = "}"; } }
fn h() { crate::check(); }
"##,
    );
    let found: Vec<(usize, String)> = imports(&code);
    let names: Vec<&str> = found.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(names, ["parse", "rules", "schema", "fmt", "check"]);
    assert_eq!(found[3].0, 6, "line numbers survive blanking");
    assert_eq!(target_module("check"), Some("pipeline"));
}
