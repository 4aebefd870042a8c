//! Between the engine's byte spans and file paths and LSP's UTF-16 positions and URIs.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use lsp_types as lsp;

use crate::diagnostics::{Diagnostic, Level, Span};
use crate::parse::redact;
use crate::source::{self, SourceFile, Sources};

/// `file:///a/b%20c.kdl` → `/a/b c.kdl`. Other schemes have no path.
pub fn uri_to_path(uri: &lsp::Uri) -> Option<PathBuf> {
    let s = uri.as_str();
    let rest = s.strip_prefix("file://")?;
    // `file://host/path` is not a local file; `file:///path` has an empty host.
    let path = rest.strip_prefix("localhost").unwrap_or(rest);
    if !path.starts_with('/') {
        return None;
    }
    let bytes = percent_decode(path.split(['?', '#']).next().unwrap_or(path));
    Some(PathBuf::from(String::from_utf8(bytes).ok()?))
}

pub fn path_to_uri(path: &Path) -> lsp::Uri {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let mut s = String::from("file://");
    for b in abs.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    lsp::Uri::from_str(&s).unwrap_or_else(|_| lsp::Uri::from_str("file:///").expect("valid URI"))
}

fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

pub fn position(file: &SourceFile, offset: usize) -> lsp::Position {
    let (line, col) = file.line_col_utf16(offset);
    lsp::Position::new(line as u32, col as u32)
}

pub fn range(file: &SourceFile, span: Span) -> lsp::Range {
    lsp::Range::new(position(file, span.start), position(file, span.end))
}

pub fn offset(file: &SourceFile, pos: lsp::Position) -> usize {
    file.offset_of_utf16(pos.line as usize, pos.character as usize)
}

/// Byte offset of `pos` in `text`, without a table of line starts (an edit's position, on a
/// text about to change): lines end at LF, CRLF or a lone CR, as LSP counts them; a column past
/// the end of its line is the line's end, and a line past the last the end of the text.
pub fn offset_in(text: &str, pos: lsp::Position) -> usize {
    let b = text.as_bytes();
    let mut start = 0;
    for _ in 0..pos.line {
        let Some(i) = memchr::memchr2(b'\n', b'\r', &b[start..]) else {
            return text.len();
        };
        let at = start + i;
        start = at + if b[at..].starts_with(b"\r\n") { 2 } else { 1 };
    }
    let end = memchr::memchr2(b'\n', b'\r', &b[start..]).map_or(text.len(), |i| start + i);
    let mut units = 0;
    for (i, ch) in text[start..end].char_indices() {
        if units >= pos.character as usize {
            return start + i;
        }
        units += ch.len_utf16();
    }
    end
}

/// Brings `lines`, the editor's line starts of a text ([`source::editor_line_starts`]), to
/// `text`: the same text after `old` (a byte range of the text before) was replaced with
/// `inserted` bytes. Only the starts near the edit are looked for again
/// ([`source::is_editor_line_start`] depends on the two bytes around a start); the others
/// before it stay and those after it move.
pub fn edit_line_starts(
    lines: &mut Vec<usize>,
    text: &str,
    old: std::ops::Range<usize>,
    inserted: usize,
) {
    let b = text.as_bytes();
    let (a, e) = (old.start, old.end);
    // Starts before the edit depend on bytes before it only; starts more than one byte after
    // its end, on bytes after it only.
    let keep = lines.partition_point(|&q| q < a);
    let moved_from = lines.partition_point(|&q| q <= e + 1);
    let mut near: Vec<usize> = Vec::new();
    if a == 0 {
        near.push(0);
    }
    for q in a.max(1)..=(a + inserted + 1).min(b.len()) {
        if source::is_editor_line_start(b, q) {
            near.push(q);
        }
    }
    lines.splice(keep..moved_from, near.iter().copied());
    for q in &mut lines[keep + near.len()..] {
        *q = *q - e + a + inserted;
    }
}

fn severity(level: Level) -> lsp::DiagnosticSeverity {
    match level {
        Level::Error => lsp::DiagnosticSeverity::ERROR,
        Level::Warning => lsp::DiagnosticSeverity::WARNING,
        Level::Info => lsp::DiagnosticSeverity::INFORMATION,
    }
}

/// One engine diagnostic as the editor shows it: the rule as `code`, the help under the
/// message, related spans (in any file) as related information; the literal `secrets` of the
/// workspace scrubbed from every text, as every other renderer does.
pub fn diagnostic(d: &Diagnostic, sources: &Sources, secrets: &[String]) -> lsp::Diagnostic {
    let file = sources.get(d.primary.file);
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let related: Vec<lsp::DiagnosticRelatedInformation> = d
        .related
        .iter()
        .filter(|l| l.file.index() < sources.len())
        .map(|l| {
            let f = sources.get(l.file);
            lsp::DiagnosticRelatedInformation {
                location: lsp::Location::new(path_to_uri(&f.path), range(f, l.span)),
                message: redact::scrub(l.text.as_deref().unwrap_or("related"), secrets),
            }
        })
        .collect();
    lsp::Diagnostic {
        range: range(file, d.primary.span),
        severity: Some(severity(d.level)),
        code: Some(lsp::NumberOrString::String(d.rule.to_string())),
        code_description: None,
        source: Some("mailcfg".into()),
        message: redact::scrub(&message, secrets),
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: None,
    }
}

/// The edit that replaces the whole of `text` with `new`.
pub fn whole_text_edit(text: &str, new: String) -> lsp::TextEdit {
    let file = SourceFile::new("", text.to_string());
    lsp::TextEdit::new(
        lsp::Range::new(lsp::Position::new(0, 0), position(&file, text.len())),
        new,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_and_paths_round_trip() {
        let p = Path::new("/tmp/my accounts/é.kdl");
        let uri = path_to_uri(p);
        assert_eq!(uri.as_str(), "file:///tmp/my%20accounts/%C3%A9.kdl");
        assert_eq!(uri_to_path(&uri).as_deref(), Some(p));
        let other = lsp::Uri::from_str("untitled:Untitled-1").unwrap();
        assert_eq!(uri_to_path(&other), None);
    }

    #[test]
    fn line_starts_kept_across_edits_are_those_of_the_edited_text() {
        let mut rng = crate::lsp::differential_tests::Rng(0x2545_F491_4F6C_DD1Du64);
        let mut next = |n: usize| rng.below(n);
        let mut text = String::from("a\nb\r\nc\rd\n\n");
        let mut lines = source::editor_line_starts(&text);
        for _ in 0..3000 {
            let a = next(text.len() + 1);
            let e = (a + next(4)).min(text.len());
            let pieces = ["", "\n", "\r", "\r\n", "x", "\n\r", "é", "ab\ncd"];
            let piece = pieces[next(pieces.len())];
            if !text.is_char_boundary(a) || !text.is_char_boundary(e) {
                continue;
            }
            text.replace_range(a..e, piece);
            edit_line_starts(&mut lines, &text, a..e, piece.len());
            assert_eq!(lines, source::editor_line_starts(&text), "{text:?}");
        }
    }

    #[test]
    fn edit_offsets_agree_with_the_line_table() {
        let text = "a\r\nbé😀c\rd\n\ne";
        let file = SourceFile::new("", text.to_string());
        for line in 0..7 {
            for character in 0..8 {
                let pos = lsp::Position::new(line, character);
                assert_eq!(offset_in(text, pos), offset(&file, pos), "{pos:?}");
            }
        }
    }

    #[test]
    fn positions_count_utf16_units() {
        let f = SourceFile::new("x", "a \"😀é\" b\n".to_string());
        let b = f.text.find(" b").unwrap() + 1;
        // 😀 is two UTF-16 units, é one: `a "` (3) + 2 + 1 + `" ` (2) = 8.
        assert_eq!(position(&f, b), lsp::Position::new(0, 8));
        assert_eq!(offset(&f, lsp::Position::new(0, 8)), b);
    }
}
