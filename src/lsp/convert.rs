//! Between the engine's byte spans and file paths and LSP's UTF-16 positions and URIs.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use lsp_types as lsp;

use crate::diagnostics::{Diagnostic, Level, Span};
use crate::parse::redact;
use crate::source::{SourceFile, Sources};

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
    fn positions_count_utf16_units() {
        let f = SourceFile::new("x", "a \"😀é\" b\n".to_string());
        let b = f.text.find(" b").unwrap() + 1;
        // 😀 is two UTF-16 units, é one: `a "` (3) + 2 + 1 + `" ` (2) = 8.
        assert_eq!(position(&f, b), lsp::Position::new(0, 8));
        assert_eq!(offset(&f, lsp::Position::new(0, 8)), b);
    }
}
