//! Secret redaction by structure: the one place every renderer, report and store goes through.
//!
//! Secrets are found by their place in the syntax, read with the project's one lexer in its
//! tolerant mode (so files that do not parse, and KDL v1 files, are covered): every value of
//! every entry of a secret-bearing node ([`SECRET_NAMES`]), argument or property, in any literal
//! form (quoted, raw, multi-line, v1 raw, number, keyword, bare word, or a broken token that
//! runs to the end of its line or file) — except the `env=` and `file=` references — and the
//! value of any property named like a secret node. Inside a secret node's children block every
//! value is a secret too.
//!
//! A masked value is replaced by [`MASK`], whatever its length (the width never tells the
//! length); its line breaks are kept, so line numbers stay right, and [`Redacted`] maps byte
//! offsets of the original text to the masked one, so spans stay right.

use std::borrow::Cow;

use crate::diagnostics::Span;
use crate::parse::lexer::{self, Dialect, ErrorKind, Lexer, Token, TokenKind};
use crate::source::{Redacted, SourceFile};

pub use crate::model::SECRET_NAMES;

pub use crate::source::MASK;

/// Property keys of a secret node whose value is a reference, not the secret.
pub const REFERENCE_KEYS: &[&str] = &["env", "file"];

/// Byte spans of every literal secret value in `text` (whole tokens: quotes included), sorted
/// and disjoint.
pub fn secret_spans(text: &str) -> Vec<Span> {
    let (mut spans, newline_in_string) = spans_in(text, Dialect::V2);
    // A one-line string that runs into a newline is either a broken v2 string or a v1 string
    // spanning lines: mask what both readings call a secret.
    if newline_in_string {
        spans.extend(spans_in(text, Dialect::V1).0);
        spans.sort_unstable_by_key(|s| (s.start, s.end));
        let mut merged: Vec<Span> = Vec::with_capacity(spans.len());
        for s in spans {
            match merged.last_mut() {
                Some(last) if s.start <= last.end => last.end = last.end.max(s.end),
                _ => merged.push(s),
            }
        }
        spans = merged;
    }
    spans
}

/// Walks the tokens of `text` node by node, streaming (nothing is held but the open blocks).
/// Also says whether a one-line string ran into a newline (the file may be KDL v1).
fn spans_in(text: &str, dialect: Dialect) -> (Vec<Span>, bool) {
    let mut newline_in_string = false;
    let mut toks = Lexer::with_dialect(text, dialect)
        .filter(|t| !t.kind.is_trivia())
        .inspect(|t| {
            if let TokenKind::Error(e) = t.kind {
                newline_in_string |= matches!(e.kind, ErrorKind::NewlineInString(_));
            }
        })
        .peekable();
    let mut out = Vec::new();
    // For each open block: whether it belongs to a secret node.
    let mut blocks: Vec<bool> = Vec::new();
    // Node start: separators and slashdashes, a type annotation, then the name.
    while let Some(first) = toks.next() {
        match first.kind {
            TokenKind::Newline | TokenKind::Semicolon | TokenKind::Slashdash => continue,
            TokenKind::CloseBrace => {
                blocks.pop();
                continue;
            }
            _ => {}
        }
        let name = if first.kind == TokenKind::OpenParen {
            skip_type(&mut toks);
            toks.next_if(|t| t.kind.is_string_like())
        } else {
            Some(first).filter(|t| t.kind.is_string_like())
        };
        let in_secret_block = blocks.last().copied().unwrap_or(false);
        let mut secret = in_secret_block;
        if let Some(t) = name {
            // In a secret's block even a name may be the secret (`password { "hunter2" }`).
            if in_secret_block {
                out.push(t.span);
            }
            secret |= is_secret_name(&ident_text(text, &t));
        } else if first.kind != TokenKind::OpenParen {
            // Not a name: read it as the node's first entry.
            if let Some(t) = Some(first).filter(|t| is_value_or_error(t.kind) && secret) {
                out.push(t.span);
            }
            if matches!(first.kind, TokenKind::Newline | TokenKind::Semicolon) {
                continue;
            }
            if first.kind == TokenKind::OpenBrace {
                blocks.push(secret);
                continue;
            }
        }
        // Entries up to the node's end; a `\` continues the node past a newline.
        let mut continued = false;
        while let Some(t) = toks.peek().copied() {
            match t.kind {
                TokenKind::Newline if continued => {
                    continued = false;
                }
                TokenKind::Newline | TokenKind::Semicolon | TokenKind::CloseBrace => break,
                TokenKind::OpenBrace => {
                    toks.next();
                    blocks.push(secret);
                    break;
                }
                TokenKind::LineContinuation => continued = true,
                TokenKind::OpenParen => {
                    toks.next();
                    skip_type(&mut toks);
                    continue;
                }
                TokenKind::Slashdash | TokenKind::Equals => {}
                _ => {
                    toks.next();
                    // A value, or the key of a property.
                    if t.kind.is_string_like()
                        && toks.next_if(|n| n.kind == TokenKind::Equals).is_some()
                    {
                        let key = ident_text(text, &t);
                        if toks.next_if(|n| n.kind == TokenKind::OpenParen).is_some() {
                            skip_type(&mut toks);
                        }
                        if let Some(value) = toks.next_if(|v| is_value_or_error(v.kind)) {
                            let reference = REFERENCE_KEYS.contains(&key.as_ref());
                            if (secret && !reference) || is_secret_name(&key) {
                                out.push(value.span);
                            }
                        }
                    } else if secret {
                        out.push(t.span);
                    }
                    continue;
                }
            }
            toks.next();
        }
    }
    drop(toks);
    (out, newline_in_string)
}

fn is_value_or_error(kind: TokenKind) -> bool {
    kind.is_value() || matches!(kind, TokenKind::Error(_))
}

fn is_secret_name(name: &str) -> bool {
    SECRET_NAMES.contains(&name)
}

/// Past a `(type)` annotation whose `(` was just read (tolerant: stops before a node's end).
fn skip_type(toks: &mut std::iter::Peekable<impl Iterator<Item = Token>>) {
    while let Some(t) = toks.peek() {
        match t.kind {
            TokenKind::CloseParen => {
                toks.next();
                return;
            }
            TokenKind::Newline
            | TokenKind::Semicolon
            | TokenKind::OpenBrace
            | TokenKind::CloseBrace => return,
            _ => {
                toks.next();
            }
        }
    }
}

/// A name as written, without its quotes (escapes are not decoded: no secret name has any).
fn ident_text<'a>(text: &'a str, t: &Token) -> Cow<'a, str> {
    let raw = t.text(text);
    match t.kind {
        TokenKind::String(form) => Cow::Borrowed(form.body(raw)),
        _ => Cow::Borrowed(raw),
    }
}

/// `original` with every literal secret masked: what [`view`] caches for a file.
pub fn redact(original: &str) -> Redacted {
    let spans = secret_spans(original);
    if spans.is_empty() {
        return Redacted::default();
    }
    let mut text = String::with_capacity(original.len());
    let mut replaced = Vec::with_capacity(spans.len());
    let values = values_of(original, &spans);
    // Secrets that touch (`"a"]` in a broken file) become one mask: two masks side by side
    // would read as one mask of another width.
    let mut merged: Vec<Span> = Vec::with_capacity(spans.len());
    for s in spans {
        match merged.last_mut() {
            Some(last) if s.start <= last.end => last.end = last.end.max(s.end),
            _ => merged.push(s),
        }
    }
    let mut from = 0;
    for s in merged {
        text.push_str(&original[from..s.start]);
        let start = text.len();
        text.push_str(MASK);
        // Keep the value's line breaks: every later line keeps its number.
        text.extend(
            original[s.start..s.end]
                .chars()
                .filter(|&c| c == '\n' || c == '\r'),
        );
        replaced.push((s, Span::new(start, text.len())));
        from = s.end;
    }
    text.push_str(&original[from..]);
    Redacted::from_parts(text, replaced, values)
}

/// The text of `file` with every literal secret masked, made on first use and kept with the file.
pub fn view(file: &SourceFile) -> &Redacted {
    file.redacted_or_init(redact)
}

/// Longest value quoted in a message, in characters.
pub const CLIP_CHARS: usize = 60;

/// A value as a message may quote it: at most [`CLIP_CHARS`] characters, then `…` and the
/// length (a message never grows with the input).
pub fn clip(value: &str) -> Cow<'_, str> {
    match value.char_indices().nth(CLIP_CHARS) {
        None => Cow::Borrowed(value),
        Some((cut, _)) => Cow::Owned(format!("{}… ({} bytes)", &value[..cut], value.len())),
    }
}

/// Masks, in the messages, help and label texts of `diagnostics` about `text`, every secret
/// whose span meets the diagnostic's primary span: for messages built from the text around an
/// error (a syntax error quotes the token it could not read).
pub fn mask_messages(text: &str, diagnostics: &mut [crate::diagnostics::Diagnostic]) {
    if diagnostics.is_empty() {
        return;
    }
    let spans = secret_spans(text);
    if spans.is_empty() {
        return;
    }
    for d in diagnostics {
        let at = d.primary.span;
        let first = spans.partition_point(|s| s.end < at.start);
        let mut secrets: Vec<&str> = Vec::new();
        for s in spans[first..].iter().take_while(|s| s.start <= at.end) {
            let raw = &text[s.start..s.end];
            secrets.push(raw);
            secrets.push(string_body(raw));
        }
        // Like `scrub`: a one- or two-character token (a stray `]`) is not worth mangling the
        // message for.
        secrets.retain(|s| s.len() >= MIN_SECRET_LEN);
        secrets.sort_unstable_by_key(|s| std::cmp::Reverse(s.len()));
        let hide = |m: &str| {
            secrets
                .iter()
                .fold(m.to_string(), |acc, s| acc.replace(s, MASK))
        };
        if !secrets.is_empty() {
            d.message = hide(&d.message);
            d.help = d.help.as_deref().map(hide);
            d.primary.text = d.primary.text.as_deref().map(hide);
        }
    }
}

/// `text` with every literal secret replaced by [`MASK`].
pub fn mask(text: &str) -> String {
    redact(text).text(text).to_string()
}

/// The literal secret values in `text`, for scrubbing rendered output as a last line of defence:
/// each as written, decoded, and (for multi-line ones) line by line.
pub fn secret_values(text: &str) -> Vec<String> {
    values_of(text, &secret_spans(text))
}

fn values_of(text: &str, spans: &[Span]) -> Vec<String> {
    let mut all = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut add = |v: String| {
        if v.len() >= MIN_SECRET_LEN && seen.insert(v.clone()) {
            all.push(v);
        }
    };
    for s in spans {
        let raw = &text[s.start..s.end];
        let body = string_body(raw);
        // (`body` is the whole token when it is not a string.)
        add(body.to_string());
        add(lexer::decode_escapes(body));
        if body.contains('\n') {
            for line in body.lines() {
                add(line.trim().to_string());
                add(lexer::decode_escapes(line.trim()));
            }
        }
    }
    all
}

/// The text between a string token's delimiters, or the token itself when it is not a string.
fn string_body(raw: &str) -> &str {
    let Some(t) = Lexer::new(raw).next() else {
        return raw;
    };
    if t.span.end != raw.len() {
        return raw;
    }
    match t.kind {
        TokenKind::String(form) => form.body(raw),
        TokenKind::Error(e) => match e.kind {
            ErrorKind::UnterminatedString(form) | ErrorKind::NewlineInString(form) => {
                raw.get(form.delimiters().0..).unwrap_or(raw)
            }
            _ => raw,
        },
        _ => raw,
    }
}

/// Shorter strings are not treated as secrets: scrubbing them would mangle unrelated text.
const MIN_SECRET_LEN: usize = 3;

/// Replaces every occurrence of any secret in `output`, longest first (so a secret that contains
/// another is replaced whole). Callers may pass secrets in any order, with repeats.
pub fn scrub(output: &str, secrets: &[String]) -> String {
    let mut order: Vec<&str> = secrets
        .iter()
        .map(String::as_str)
        .filter(|s| s.len() >= MIN_SECRET_LEN)
        .collect();
    order.sort_unstable_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    order.dedup();
    let mut out = output.to_string();
    for s in order {
        if out.contains(s) {
            out = out.replace(s, MASK);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(text: &str) -> String {
        mask(text)
    }

    #[test]
    fn masks_literal_passwords_and_keeps_references() {
        let text = "incoming {\n  password \"hunter2\"\n  token=#\"abc\"def\"#\n}\noutgoing { password env=\"PW\" }\n";
        let m = masked(text);
        assert_eq!(
            m,
            "incoming {\n  password ********\n  token=********\n}\noutgoing { password env=\"PW\" }\n"
        );
        let values = secret_values(text);
        assert!(values.contains(&"hunter2".to_string()), "{values:?}");
        assert!(values.contains(&"abc\"def".to_string()), "{values:?}");
        // An escaped quote inside a secret: the decoded value is scrubbed too.
        let escaped = secret_values("password \"pa\\\"ss\"\n");
        assert!(escaped.contains(&"pa\"ss".to_string()), "{escaped:?}");
        assert_eq!(scrub("x pa\"ss y", &escaped), "x ******** y");
        // A secret containing another is replaced whole, whatever order they come in.
        let nested = ["abc".to_string(), "abcdef".to_string()];
        assert_eq!(scrub("k=abcdef", &nested), "k=********");
    }

    #[test]
    fn every_literal_form_and_position_is_masked_with_a_fixed_width() {
        let cases = [
            "password \"\"\"\n  MultiLineSecret\n  \"\"\"\n",
            "password r\"RawV1Secret\"\n",
            "password r#\"RawV1\"Secret\"#\n",
            "password 12345678\n",
            "password #true\n",
            "password value=\"XSecret\"\n",
            "password env=\"A\" value=\"XSecret\"\n",
            "password \"a\" \"SecondArg\"\n",
            "password (t)\"Typed\"\n",
            "password /-\"Slashdashed\"\n",
            "password \\\n  \"Continued\"\n",
            "private-key #\"\"\"\n  PEM\n  \"\"\"#\n",
            "\"client-secret\" BareSecret\n",
            "password \"Unterminated\n",
            "password \"\"\"\n  Runs to the end\n",
            "password 1x2y\n",
            "password { value \"Nested\" }\n",
            "password {\n  \"NestedName\"\n}\n",
            "password \"v1 spans\nlines\" port=1\n",
            "account { token=\"Prop\" }\n",
        ];
        for text in cases {
            let r = redact(text);
            assert!(!r.is_unchanged(), "{text:?}: nothing masked");
            for word in [
                "Secret",
                "PEM",
                "Second",
                "Typed",
                "Slashdashed",
                "Continued",
                "Unterminated",
                "Runs",
                "1x2y",
                "Nested",
                "12345678",
                "#true",
                "spans",
                "lines",
                "Prop",
            ] {
                assert!(
                    !r.text(text).contains(word),
                    "{text:?} → {:?}",
                    r.text(text)
                );
            }
            assert_eq!(
                r.text(text).matches('\n').count(),
                text.matches('\n').count(),
                "{text:?}: line breaks kept"
            );
            for run in r.text(text).split(|c| c != '*').filter(|s| !s.is_empty()) {
                assert_eq!(run, MASK, "{text:?}: only whole masks");
            }
        }
        // References and other nodes' values stay.
        let text = "password env=\"PW\" file=\"pw.txt\"\nuser \"alice\" port=993\n";
        assert_eq!(masked(text), text);
    }

    #[test]
    fn offsets_map_around_masks() {
        let text = "password \"long-secret-value\" /* c */\nuser \"x\"\n";
        let r = redact(text);
        assert_eq!(r.text(text), "password ******** /* c */\nuser \"x\"\n");
        let comment = text.find("/*").unwrap();
        assert_eq!(r.offset(comment), r.text(text).find("/*").unwrap());
        let secret = Span::new(9, 28);
        assert_eq!(r.span(secret), Span::new(9, 17));
        // A span inside the secret covers the mask.
        assert_eq!(r.span(Span::new(12, 14)), Span::new(9, 17));
        assert_eq!(r.offset(0), 0);
        let user = text.find("user").unwrap();
        assert_eq!(r.offset(user), r.text(text).find("user").unwrap());
    }
}
