//! Syntax checks shared by several rules: host names (RFC 1123) and e-mail mailboxes (RFC 5322).

use std::net::{Ipv4Addr, Ipv6Addr};

/// Why `s` is not a host name or IP literal, or `None` when it is one.
pub fn hostname_problem(s: &str) -> Option<HostProblem> {
    if s.is_empty() {
        return Some(HostProblem::Empty);
    }
    // The usual case, a name of letters, digits, dots and hyphens, in one pass: it has no
    // scheme, port, path or space, and is an IPv4 address or a DNS name. The searches below
    // cost more than the check itself for every server of every account.
    if s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    {
        if s.as_bytes()[0].is_ascii_digit() && s.parse::<Ipv4Addr>().is_ok() {
            return None;
        }
        return dns_name_problem(s).map(HostProblem::Label);
    }
    if let Some(i) = s.find("://") {
        let rest = &s[i + 3..];
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        let (host, port) = split_port(host);
        return Some(HostProblem::Scheme {
            scheme: s[..i].to_string(),
            host: host.to_string(),
            port,
        });
    }
    if s.chars().any(char::is_whitespace) {
        return Some(HostProblem::Whitespace);
    }
    if let Some(i) = s.find('/') {
        return Some(HostProblem::Path {
            host: s[..i].to_string(),
        });
    }
    let bare = s
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .unwrap_or(s);
    if bare.parse::<Ipv6Addr>().is_ok() {
        return None;
    }
    let (host, port) = split_port(s);
    if let Some(port) = port {
        return Some(HostProblem::Port {
            host: host.to_string(),
            port,
        });
    }
    if s.contains(':') {
        return Some(HostProblem::Label(s.to_string()));
    }
    if s.parse::<Ipv4Addr>().is_ok() {
        return None;
    }
    dns_name_problem(s).map(HostProblem::Label)
}

/// `host:993` → (`host`, Some(993)).
fn split_port(s: &str) -> (&str, Option<u32>) {
    match s.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() && !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()) => {
            (
                h.trim_start_matches('[').trim_end_matches(']'),
                p.parse().ok(),
            )
        }
        _ => (s, None),
    }
}

/// The first invalid label of a DNS host name (letters, digits, inner hyphens; 1–63 characters
/// per label, 253 in all; the last label not all digits).
pub fn dns_name_problem(s: &str) -> Option<String> {
    let name = s.strip_suffix('.').unwrap_or(s);
    if name.is_empty() {
        return Some(s.to_string());
    }
    if name.len() > 253 {
        return Some("(longer than 253 characters)".into());
    }
    // Split on bytes: host names are checked for every server and From domain of every
    // account, and `str::split(char)` costs a searcher per label.
    let mut last: &[u8] = b"";
    for label in name.as_bytes().split(|&c| c == b'.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && label
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || *c == b'-')
            && label[0] != b'-'
            && label[label.len() - 1] != b'-';
        if !ok {
            return Some(String::from_utf8_lossy(label).into_owned());
        }
        last = label;
    }
    if last.iter().all(u8::is_ascii_digit) {
        return Some(String::from_utf8_lossy(last).into_owned());
    }
    None
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostProblem {
    Empty,
    Scheme {
        scheme: String,
        host: String,
        port: Option<u32>,
    },
    Port {
        host: String,
        port: u32,
    },
    Path {
        host: String,
    },
    Whitespace,
    /// The offending label (or the whole text).
    Label(String),
}

/// A parsed From address: `local@domain`, optionally with a display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox<'a> {
    pub display: Option<&'a str>,
    pub local: &'a str,
    pub domain: &'a str,
}

impl Mailbox<'_> {
    /// `local@domain` with the domain lower-cased: what servers compare.
    pub fn key(&self) -> String {
        format!("{}@{}", self.local, self.domain.to_ascii_lowercase())
    }
}

/// Parses `a@b` or `Display Name <a@b>` (RFC 5322 name-addr / addr-spec, RFC 6532 UTF-8
/// allowed in display names), or says what is wrong.
pub fn parse_mailbox(s: &str) -> Result<Mailbox<'_>, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("the address is empty".into());
    }
    // Byte searches: a char searcher costs more than these short texts (three rules parse
    // every From address).
    if let Some(open) = t.bytes().rposition(|b| b == b'<') {
        let Some(inner) = t[open + 1..].strip_suffix('>') else {
            return Err("`<` is not closed by a `>` at the end".into());
        };
        let display = t[..open].trim();
        check_display(display)?;
        let (local, domain) = addr_spec(inner.trim())?;
        return Ok(Mailbox {
            display: (!display.is_empty()).then_some(display),
            local,
            domain,
        });
    }
    if t.bytes().any(|b| b == b'>') {
        return Err("`>` without a matching `<`".into());
    }
    let (local, domain) = addr_spec(t)?;
    Ok(Mailbox {
        display: None,
        local,
        domain,
    })
}

/// atext (RFC 5322 §3.2.3) by byte, every byte of a non-ASCII character included (RFC 6532
/// §3.2): a table, since every byte of every From address is looked up.
static ATEXT: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c >= 0x80
            || c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'/'
                    | b'='
                    | b'?'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'{'
                    | b'|'
                    | b'}'
                    | b'~'
            );
        b += 1;
    }
    table
};

fn is_atext(c: char) -> bool {
    !c.is_ascii() || ATEXT[c as usize]
}

/// Words of atext separated by single dots (RFC 5322 §3.2.3 dot-atom-text).
fn is_dot_atom(s: &[u8]) -> bool {
    // A leading dot is an empty first word.
    let mut after_dot = true;
    for &b in s {
        if b == b'.' {
            if after_dot {
                return false;
            }
            after_dot = true;
        } else if ATEXT[usize::from(b)] {
            after_dot = false;
        } else {
            return false;
        }
    }
    !after_dot
}

fn check_display(d: &str) -> Result<(), String> {
    if d.is_empty() {
        return Ok(());
    }
    if d.len() >= 2 && d.starts_with('"') && d.ends_with('"') {
        return Ok(());
    }
    // An unquoted phrase: words of atext, spaces and dots (obs-phrase).
    match d
        .chars()
        .find(|&c| !(is_atext(c) || c == ' ' || c == '.' || c == '\t'))
    {
        None => Ok(()),
        Some(c) => Err(format!(
            "the display name contains `{c}`; put it in double quotes, e.g. \"\\\"{d}\\\" <…>\""
        )),
    }
}

fn addr_spec(s: &str) -> Result<(&str, &str), String> {
    let Some(at) = s.bytes().rposition(|b| b == b'@') else {
        return Err(format!("{s:?} has no `@`"));
    };
    let (local, domain) = (&s[..at], &s[at + 1..]);
    if local.is_empty() {
        return Err("the part before `@` is empty".into());
    }
    let quoted = local.len() >= 2 && local.starts_with('"') && local.ends_with('"');
    if !quoted && !is_dot_atom(local.as_bytes()) {
        return Err(format!(
            "{local:?} is not a valid local part (letters, digits, and !#$%&'*+-/=?^_`{{|}}~, with single dots between)"
        ));
    }
    if domain.is_empty() {
        return Err("the part after `@` is empty".into());
    }
    let literal = domain.starts_with('[') && domain.ends_with(']');
    if !literal {
        if let Some(bad) = dns_name_problem(domain) {
            return Err(format!(
                "the domain {domain:?} is not a valid host name ({bad:?})"
            ));
        }
    }
    Ok((local, domain))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names() {
        assert_eq!(hostname_problem("imap.example.com"), None);
        assert_eq!(hostname_problem("10.0.0.1"), None);
        assert_eq!(hostname_problem("::1"), None);
        assert_eq!(hostname_problem("[2001:db8::1]"), None);
        assert_eq!(
            hostname_problem("imap.example.com:993"),
            Some(HostProblem::Port {
                host: "imap.example.com".into(),
                port: 993
            })
        );
        assert!(matches!(
            hostname_problem("imaps://imap.example.com"),
            Some(HostProblem::Scheme { .. })
        ));
        assert!(matches!(
            hostname_problem("mail/x"),
            Some(HostProblem::Path { .. })
        ));
        assert_eq!(
            hostname_problem("mail example.com"),
            Some(HostProblem::Whitespace)
        );
        assert_eq!(
            hostname_problem("mail_1.example.com"),
            Some(HostProblem::Label("mail_1".into()))
        );
        assert_eq!(
            hostname_problem("10.0.0.300"),
            Some(HostProblem::Label("300".into()))
        );
        assert_eq!(hostname_problem(""), Some(HostProblem::Empty));
    }

    #[test]
    fn mailboxes() {
        let m = parse_mailbox("Service Desk <desk@Example.com>").unwrap();
        assert_eq!(m.display, Some("Service Desk"));
        assert_eq!(m.key(), "desk@example.com");
        assert!(parse_mailbox("\"Desk, Service\" <desk@example.com>").is_ok());
        assert!(parse_mailbox("Desk, Service <desk@example.com>").is_err());
        assert!(parse_mailbox("desk@").is_err());
        assert!(parse_mailbox("desk.example.com").is_err());
        assert!(parse_mailbox("Desk <desk@example.com").is_err());
        assert!(parse_mailbox("a..b@example.com").is_err());
        assert!(parse_mailbox("Zoë Müller <zoe@example.de>").is_ok());
        assert!(parse_mailbox("zoë.müller@example.de").is_ok());
        for bad in [
            ".a@example.com",
            "a.@example.com",
            "a b@example.com",
            "(a)@example.com",
        ] {
            assert!(parse_mailbox(bad).is_err(), "{bad}");
        }
        assert!(parse_mailbox("o'brien+tag@example.com").is_ok());
    }
}
