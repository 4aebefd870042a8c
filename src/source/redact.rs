//! Secret redaction: the one place every renderer, report and store goes through.
//!
//! Literal secrets are found textually (so files that do not even parse are covered) and masked
//! byte for byte, which keeps every span valid.

/// Nodes and properties whose string value is a secret.
pub const SECRET_NAMES: &[&str] = &[
    "password",
    "private-key",
    "certificate",
    "client-secret",
    "token",
];

/// Byte ranges of literal secret strings (the quoted text, quotes excluded).
pub fn secret_ranges(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let b = text.as_bytes();
    for name in SECRET_NAMES {
        let mut from = 0;
        while let Some(i) = text[from..].find(name) {
            let start = from + i;
            from = start + name.len();
            let before_ok =
                start == 0 || matches!(b[start - 1], b' ' | b'\t' | b'\n' | b'\r' | b'{' | b';');
            if !before_ok {
                continue;
            }
            let mut j = from;
            while j < b.len() && matches!(b[j], b' ' | b'\t' | b'=') {
                j += 1;
            }
            if j == from {
                continue;
            }
            if let Some((s, e)) = string_at(b, j) {
                out.push((s, e));
            }
        }
    }
    out.sort_unstable();
    out
}

/// The contents of a quoted or raw string starting at `i`, if one does.
fn string_at(b: &[u8], i: usize) -> Option<(usize, usize)> {
    let hashes = b[i..].iter().take_while(|&&c| c == b'#').count();
    let q = i + hashes;
    if b.get(q) != Some(&b'"') {
        return None;
    }
    let start = q + 1;
    let mut j = start;
    while j < b.len() {
        if hashes == 0 && b[j] == b'\\' {
            j += 2;
            continue;
        }
        if b[j] == b'"'
            && b[j + 1..]
                .iter()
                .take(hashes)
                .filter(|&&c| c == b'#')
                .count()
                == hashes
        {
            return Some((start, j));
        }
        if hashes == 0 && b[j] == b'\n' {
            return Some((start, j));
        }
        j += 1;
    }
    Some((start, b.len().min(j)))
}

/// `text` with every literal secret replaced by `*` (same byte length, so spans stay valid).
pub fn mask(text: &str) -> String {
    let ranges = secret_ranges(text);
    if ranges.is_empty() {
        return text.to_string();
    }
    let mut bytes = text.as_bytes().to_vec();
    for (s, e) in ranges {
        for byte in &mut bytes[s..e.min(text.len())] {
            *byte = b'*';
        }
    }
    String::from_utf8(bytes).expect("ASCII replacement keeps UTF-8 valid")
}

/// The literal secret values in `text`, for scrubbing rendered output as a last line of defence.
pub fn secret_values(text: &str) -> Vec<String> {
    secret_ranges(text)
        .into_iter()
        .filter(|(s, e)| e > s)
        .filter_map(|(s, e)| text.get(s..e))
        // Both the spelling in the file and the decoded value: either could reach an output.
        .flat_map(|raw| [raw.to_string(), unescape(raw)])
        .filter(|v| v.len() >= MIN_SECRET_LEN)
        .fold(
            (Vec::new(), std::collections::HashSet::new()),
            |(mut all, mut seen), v| {
                if seen.insert(v.clone()) {
                    all.push(v);
                }
                (all, seen)
            },
        )
        .0
}

/// The common KDL string escapes, decoded (enough to recognise a secret's value).
fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
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
            out = out.replace(s, "********");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_literal_passwords_and_keeps_references() {
        let text = "incoming {\n  password \"hunter2\"\n  token=#\"abc\"def\"#\n}\noutgoing { password env=\"PW\" }\n";
        let masked = mask(text);
        assert!(!masked.contains("hunter2"));
        assert!(!masked.contains("abc\"def"));
        assert!(masked.contains("env=\"PW\""));
        assert_eq!(masked.len(), text.len());
        let values = secret_values(text);
        assert_eq!(values, vec!["hunter2".to_string(), "abc\"def".to_string()]);
        // An escaped quote inside a secret: the decoded value is scrubbed too.
        let escaped = secret_values("password \"pa\\\"ss\"\n");
        assert!(escaped.contains(&"pa\"ss".to_string()), "{escaped:?}");
        assert_eq!(scrub("x pa\"ss y", &escaped), "x ******** y");
        // A secret containing another is replaced whole, whatever order they come in.
        let nested = ["abc".to_string(), "abcdef".to_string()];
        assert_eq!(scrub("k=abcdef", &nested), "k=********");
    }
}
