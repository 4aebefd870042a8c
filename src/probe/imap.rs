//! The few IMAP4rev1 commands the probe needs (RFC 3501): CAPABILITY, STARTTLS, LOGIN,
//! AUTHENTICATE, EXAMINE (read-only: nothing is marked read), LIST, LOGOUT.

use super::net::{Conn, NetError};
use super::Reply;

pub struct Imap {
    tag: u32,
}

/// A tagged completion plus the untagged lines before it.
pub struct Response {
    pub untagged: Vec<String>,
    pub reply: Reply,
}

impl Imap {
    pub fn new() -> Imap {
        Imap { tag: 0 }
    }

    pub fn greeting(&mut self, c: &mut Conn) -> Result<Reply, NetError> {
        let line = c.read_line()?;
        let ok = line.starts_with("* OK") || line.starts_with("* PREAUTH");
        if !ok && !line.starts_with("* BYE") {
            return Err(NetError::Garbage(format!(
                "expected an IMAP greeting (\"* OK …\"), got {}",
                super::show_line(&line)
            )));
        }
        Ok(parse_reply(ok, line.get(2..).unwrap_or("")))
    }

    /// A line with any `{n}` literals inlined (mailbox names in LIST may come as literals).
    fn read_full_line(&mut self, c: &mut Conn) -> Result<String, NetError> {
        let mut line = c.read_line()?;
        while let Some(n) = literal_len(&line) {
            let data = c.read_exact(n)?;
            line.push_str(&String::from_utf8_lossy(&data));
            line.push_str(&c.read_line()?);
        }
        Ok(line)
    }

    fn next_tag(&mut self) -> String {
        self.tag += 1;
        format!("m{}", self.tag)
    }

    pub fn command(&mut self, c: &mut Conn, cmd: &str) -> Result<Response, NetError> {
        let tag = self.next_tag();
        c.send_line(&format!("{tag} {cmd}"))?;
        self.finish(c, &tag, None)
    }

    /// Reads up to the tagged completion. A continuation request is answered with `cont`
    /// once, then with an empty line (which aborts a SASL exchange after an error challenge).
    fn finish(
        &mut self,
        c: &mut Conn,
        tag: &str,
        mut cont: Option<String>,
    ) -> Result<Response, NetError> {
        let mut untagged = Vec::new();
        loop {
            let line = self.read_full_line(c)?;
            if let Some(rest) = line.strip_prefix(tag).and_then(|r| r.strip_prefix(' ')) {
                let (word, text) = rest.split_once(' ').unwrap_or((rest, ""));
                let ok = word.eq_ignore_ascii_case("OK");
                let mut reply = parse_reply(ok, text);
                reply.bad = word.eq_ignore_ascii_case("BAD");
                return Ok(Response { untagged, reply });
            }
            if line.starts_with('+') {
                c.send_line(&cont.take().unwrap_or_default())?;
                continue;
            }
            if line.starts_with("* ") {
                untagged.push(line);
                continue;
            }
            return Err(NetError::Garbage(format!(
                "unexpected IMAP line {}",
                super::show_line(&line)
            )));
        }
    }

    pub fn capabilities(&mut self, c: &mut Conn) -> Result<Vec<String>, NetError> {
        let r = self.command(c, "CAPABILITY")?;
        let mut caps = Vec::new();
        for l in &r.untagged {
            if let Some(rest) = strip_prefix_ci(l, "* CAPABILITY ") {
                caps.extend(rest.split_whitespace().map(str::to_string));
            }
        }
        if !r.reply.ok {
            return Err(NetError::Garbage(format!(
                "CAPABILITY failed: {}",
                r.reply.text
            )));
        }
        Ok(caps)
    }

    pub fn login(&mut self, c: &mut Conn, user: &str, pass: &str) -> Result<Reply, NetError> {
        if !is_quotable(user) || !is_quotable(pass) {
            // Never fall back to a literal here: AUTHENTICATE PLAIN handles any bytes.
            return self.authenticate(c, "PLAIN", &super::sasl_plain(user, pass), false);
        }
        Ok(self
            .command(c, &format!("LOGIN {} {}", quote(user), quote(pass)))?
            .reply)
    }

    /// AUTHENTICATE with one client response (`initial`, already raw bytes).
    pub fn authenticate(
        &mut self,
        c: &mut Conn,
        mech: &str,
        initial: &[u8],
        sasl_ir: bool,
    ) -> Result<Reply, NetError> {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(initial);
        let tag = self.next_tag();
        if sasl_ir {
            c.send_line(&format!("{tag} AUTHENTICATE {mech} {b64}"))?;
            Ok(self.finish(c, &tag, None)?.reply)
        } else {
            c.send_line(&format!("{tag} AUTHENTICATE {mech}"))?;
            Ok(self.finish(c, &tag, Some(b64))?.reply)
        }
    }

    /// EXAMINE (read-only SELECT); the number of messages when it succeeds.
    pub fn examine(
        &mut self,
        c: &mut Conn,
        mailbox: &str,
    ) -> Result<(Reply, Option<u64>), NetError> {
        let r = self.command(c, &format!("EXAMINE {}", quote(&encode_mutf7(mailbox))))?;
        let exists = r.untagged.iter().find_map(|l| {
            let rest = l.strip_prefix("* ")?;
            let (n, word) = rest.split_once(' ')?;
            word.eq_ignore_ascii_case("EXISTS")
                .then(|| n.parse().ok())?
        });
        Ok((r.reply, exists))
    }

    /// Every mailbox name the server lists (decoded from modified UTF-7).
    pub fn list(&mut self, c: &mut Conn) -> Result<Vec<String>, NetError> {
        let r = self.command(c, "LIST \"\" \"*\"")?;
        Ok(r.untagged
            .iter()
            .filter_map(|l| strip_prefix_ci(l, "* LIST "))
            .filter_map(list_name)
            .map(|n| decode_mutf7(&n))
            .collect())
    }

    /// Message sequence numbers whose Message-ID header matches (for the tests and docs).
    pub fn search_message_id(&mut self, c: &mut Conn, id: &str) -> Result<Vec<u64>, NetError> {
        let r = self.command(c, &format!("SEARCH HEADER Message-ID {}", quote(id)))?;
        Ok(r.untagged
            .iter()
            .filter_map(|l| strip_prefix_ci(l, "* SEARCH"))
            .flat_map(|rest| rest.split_whitespace().filter_map(|n| n.parse().ok()))
            .collect())
    }

    pub fn logout(&mut self, c: &mut Conn) {
        let _ = self.command(c, "LOGOUT");
    }
}

impl Default for Imap {
    fn default() -> Self {
        Imap::new()
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// `OK [CODE args] text` → reply with its response code.
fn parse_reply(ok: bool, text: &str) -> Reply {
    let text = text.trim_start();
    let text = text
        .strip_prefix("OK ")
        .or_else(|| text.strip_prefix("NO "))
        .or_else(|| text.strip_prefix("BAD "))
        .or_else(|| text.strip_prefix("BYE "))
        .or_else(|| text.strip_prefix("PREAUTH "))
        .unwrap_or(text);
    let code = text
        .strip_prefix('[')
        .and_then(|r| r.split_once(']'))
        .map(|(c, _)| {
            c.split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_uppercase()
        });
    Reply {
        ok,
        bad: false,
        code,
        text: text.to_string(),
    }
}

fn literal_len(line: &str) -> Option<usize> {
    let rest = line.strip_suffix('}')?;
    let open = rest.rfind('{')?;
    rest[open + 1..].trim_end_matches('+').parse().ok()
}

fn is_quotable(s: &str) -> bool {
    s.bytes().all(|b| (0x20..0x7f).contains(&b))
}

pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        if ch == '"' || ch == '\\' {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('"');
    out
}

/// The mailbox name of a LIST line's remainder: `(\flags) "/" name`.
fn list_name(rest: &str) -> Option<String> {
    let after_flags = rest.split_once(')')?.1.trim_start();
    // delimiter: NIL or a quoted char
    let after_delim = if let Some(r) = after_flags.strip_prefix("NIL") {
        r
    } else {
        let r = after_flags.strip_prefix('"')?;
        let mut chars = r.char_indices();
        let (_, c) = chars.next()?;
        let skip = if c == '\\' { 2 } else { 1 };
        let idx = r.char_indices().nth(skip)?.0;
        r[idx..].strip_prefix('"')?
    }
    .trim_start();
    if let Some(q) = after_delim.strip_prefix('"') {
        let mut out = String::new();
        let mut esc = false;
        for ch in q.chars() {
            if esc {
                out.push(ch);
                esc = false;
            } else if ch == '\\' {
                esc = true;
            } else if ch == '"' {
                return Some(out);
            } else {
                out.push(ch);
            }
        }
        Some(out)
    } else {
        Some(after_delim.to_string())
    }
}

/// Modified UTF-7 (RFC 3501 §5.1.3), which IMAP uses for non-ASCII mailbox names.
pub fn encode_mutf7(s: &str) -> String {
    use base64::Engine;
    let mut out = String::new();
    let mut pending: Vec<u16> = Vec::new();
    let flush = |pending: &mut Vec<u16>, out: &mut String| {
        if pending.is_empty() {
            return;
        }
        let bytes: Vec<u8> = pending.iter().flat_map(|u| u.to_be_bytes()).collect();
        let b64 = base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes);
        out.push('&');
        out.push_str(&b64.replace('/', ","));
        out.push('-');
        pending.clear();
    };
    for ch in s.chars() {
        if (' '..='~').contains(&ch) {
            flush(&mut pending, &mut out);
            if ch == '&' {
                out.push_str("&-");
            } else {
                out.push(ch);
            }
        } else {
            let mut buf = [0u16; 2];
            pending.extend_from_slice(ch.encode_utf16(&mut buf));
        }
    }
    flush(&mut pending, &mut out);
    out
}

pub fn decode_mutf7(s: &str) -> String {
    use base64::Engine;
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let Some(end) = after.find('-') else {
            out.push_str(&rest[i..]);
            return out;
        };
        let chunk = &after[..end];
        if chunk.is_empty() {
            out.push('&');
        } else {
            let decoded = base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(chunk.replace(',', "/"))
                .ok()
                .map(|b| {
                    let units: Vec<u16> = b
                        .chunks_exact(2)
                        .map(|p| u16::from_be_bytes([p[0], p[1]]))
                        .collect();
                    String::from_utf16_lossy(&units)
                });
            match decoded {
                Some(d) => out.push_str(&d),
                None => out.push_str(&rest[i..i + 2 + end]),
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modified_utf7_round_trips() {
        for s in ["INBOX", "Entwürfe", "A&B", "日本語/受信", "Shared/HR"] {
            assert_eq!(decode_mutf7(&encode_mutf7(s)), s);
        }
        assert_eq!(encode_mutf7("Entwürfe"), "Entw&APw-rfe");
        assert_eq!(encode_mutf7("A&B"), "A&-B");
    }

    #[test]
    fn list_lines_give_names() {
        assert_eq!(
            list_name(r#"(\HasNoChildren) "." "Sent Items""#).as_deref(),
            Some("Sent Items")
        );
        assert_eq!(
            list_name(r#"(\HasNoChildren) "/" INBOX"#).as_deref(),
            Some("INBOX")
        );
        assert_eq!(list_name(r#"() NIL Archive"#).as_deref(), Some("Archive"));
    }

    #[test]
    fn hostile_lines_do_not_panic() {
        assert_eq!(strip_prefix_ci("* CAPABILITé", "* CAPABILITY "), None);
        assert_eq!(strip_prefix_ci("é", "* LIST "), None);
        assert_eq!(list_name("é"), None);
        assert_eq!(literal_len("{é}"), None);
        let _ = decode_mutf7("&é-&&-&");
    }

    #[test]
    fn reply_codes_are_parsed() {
        let r = parse_reply(false, "[AUTHENTICATIONFAILED] Authentication failed.");
        assert_eq!(r.code.as_deref(), Some("AUTHENTICATIONFAILED"));
        assert_eq!(literal_len("* LIST () \"/\" {5}"), Some(5));
    }
}
