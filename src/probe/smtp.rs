//! A small SMTP client (RFC 5321, STARTTLS RFC 3207, AUTH RFC 4954): greeting, EHLO, STARTTLS,
//! AUTH, MAIL/RCPT/RSET to test senders without sending, and DATA for `--send-test-to`.

use super::net::{Conn, NetError};

#[derive(Debug, Clone)]
pub struct SmtpReply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl SmtpReply {
    pub fn ok(&self) -> bool {
        (200..400).contains(&self.code)
    }
    /// The reply as one line, e.g. `535 5.7.8 Error: authentication failed`.
    pub fn text(&self) -> String {
        format!("{} {}", self.code, self.lines.join(" / "))
    }
    pub fn first(&self) -> &str {
        self.lines.first().map(String::as_str).unwrap_or("")
    }
}

pub fn read_reply(c: &mut Conn) -> Result<SmtpReply, NetError> {
    let mut lines = Vec::new();
    loop {
        let line = c.read_line()?;
        let bytes = line.as_bytes();
        let code = line
            .get(..3)
            .and_then(|s| s.parse::<u16>().ok())
            .filter(|_| bytes.len() == 3 || matches!(bytes[3], b' ' | b'-'));
        let Some(code) = code else {
            return Err(NetError::Garbage(format!(
                "expected an SMTP reply (\"220 …\"), got {}",
                super::show_line(&line)
            )));
        };
        lines.push(line.get(4..).unwrap_or("").to_string());
        if bytes.len() == 3 || bytes[3] == b' ' {
            return Ok(SmtpReply { code, lines });
        }
        if lines.len() > 1000 {
            return Err(NetError::Garbage("endless multi-line SMTP reply".into()));
        }
    }
}

pub fn command(c: &mut Conn, line: &str) -> Result<SmtpReply, NetError> {
    c.send_line(line)?;
    read_reply(c)
}

/// EHLO's extension keywords (the first line is the server's name).
pub fn extensions(r: &SmtpReply) -> Vec<String> {
    r.lines.iter().skip(1).cloned().collect()
}

/// The AUTH mechanisms an EHLO reply offers.
pub fn auth_mechs(exts: &[String]) -> Vec<String> {
    exts.iter()
        .filter_map(|e| {
            let upper = e.to_ascii_uppercase();
            let rest = upper
                .strip_prefix("AUTH ")
                .or_else(|| upper.strip_prefix("AUTH="))?
                .to_string();
            Some(rest)
        })
        .flat_map(|r| r.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .collect()
}

pub fn has_ext(exts: &[String], name: &str) -> bool {
    exts.iter().any(|e| {
        e.split_whitespace()
            .next()
            .is_some_and(|k| k.eq_ignore_ascii_case(name))
    })
}

/// AUTH with an initial response. An error challenge (`334`, e.g. XOAUTH2's JSON status) is
/// answered with an empty line, which makes the server send its real verdict (`535 …`).
pub fn auth(c: &mut Conn, mech: &str, initial: &[u8]) -> Result<SmtpReply, NetError> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(initial);
    let mut r = command(c, &format!("AUTH {mech} {b64}"))?;
    let mut rounds = 0;
    while r.code == 334 && rounds < 3 {
        r = command(c, "")?;
        rounds += 1;
    }
    Ok(r)
}

/// AUTH LOGIN: user and password in two challenges.
pub fn auth_login(c: &mut Conn, user: &str, pass: &str) -> Result<SmtpReply, NetError> {
    use base64::Engine;
    let e = |s: &str| base64::engine::general_purpose::STANDARD.encode(s.as_bytes());
    let r = command(c, "AUTH LOGIN")?;
    if r.code != 334 {
        return Ok(r);
    }
    let r = command(c, &e(user))?;
    if r.code != 334 {
        return Ok(r);
    }
    command(c, &e(pass))
}

/// DATA with dot-stuffing; `message` is the complete RFC 5322 message with CRLF line ends.
pub fn data(c: &mut Conn, message: &[u8]) -> Result<SmtpReply, NetError> {
    let r = command(c, "DATA")?;
    if r.code != 354 {
        return Ok(r);
    }
    let mut out = Vec::with_capacity(message.len() + 16);
    let mut at_line_start = true;
    for &b in message {
        if at_line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        at_line_start = b == b'\n';
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    c.send(&out)?;
    read_reply(c)
}

pub fn quit(c: &mut Conn) {
    let _ = command(c, "QUIT");
}
