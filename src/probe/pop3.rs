//! A small POP3 client (RFC 1939, CAPA/STLS RFC 2449/2595, AUTH RFC 5034): only what the probe
//! needs. STAT is the last command: nothing is ever retrieved or deleted.

use super::net::{Conn, NetError};
use super::Reply;

fn parse(line: &str) -> Result<Reply, NetError> {
    let (ok, text) = if let Some(t) = line.strip_prefix("+OK") {
        (true, t)
    } else if let Some(t) = line.strip_prefix("-ERR") {
        (false, t)
    } else {
        return Err(NetError::Garbage(format!(
            "expected a POP3 reply (\"+OK\" or \"-ERR\"), got {}",
            super::show_line(line)
        )));
    };
    let text = text.trim_start();
    let code = text
        .strip_prefix('[')
        .and_then(|r| r.split_once(']'))
        .map(|(c, _)| c.to_ascii_uppercase());
    Ok(Reply {
        ok,
        bad: false,
        code,
        text: text.to_string(),
    })
}

pub fn greeting(c: &mut Conn) -> Result<Reply, NetError> {
    parse(&c.read_line()?)
}

pub fn command(c: &mut Conn, line: &str) -> Result<Reply, NetError> {
    c.send_line(line)?;
    parse(&c.read_line()?)
}

/// CAPA's list, or None when the server does not know CAPA.
pub fn capa(c: &mut Conn) -> Result<Option<Vec<String>>, NetError> {
    let r = command(c, "CAPA")?;
    if !r.ok {
        return Ok(None);
    }
    let mut caps = Vec::new();
    loop {
        let line = c.read_line()?;
        if line == "." {
            return Ok(Some(caps));
        }
        caps.push(line.strip_prefix('.').map(str::to_string).unwrap_or(line));
    }
}

/// SASL mechanisms from a CAPA list (`SASL PLAIN LOGIN`).
pub fn sasl_mechs(caps: &[String]) -> Vec<String> {
    caps.iter()
        .filter_map(|c| {
            let (k, v) = c.split_once(' ')?;
            k.eq_ignore_ascii_case("SASL").then_some(v)
        })
        .flat_map(|v| v.split_whitespace().map(str::to_ascii_uppercase))
        .collect()
}

/// AUTH with an initial response (RFC 5034); an error challenge is answered with an empty
/// line so the server sends its verdict.
pub fn auth(c: &mut Conn, mech: &str, initial: &[u8]) -> Result<Reply, NetError> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(initial);
    c.send_line(&format!("AUTH {mech} {b64}"))?;
    loop {
        let line = c.read_line()?;
        if line.starts_with('+') && !line.starts_with("+OK") {
            c.send_line("")?;
            continue;
        }
        return parse(&line);
    }
}

pub fn user_pass(c: &mut Conn, user: &str, pass: &str) -> Result<Reply, NetError> {
    let r = command(c, &format!("USER {user}"))?;
    if !r.ok {
        return Ok(r);
    }
    command(c, &format!("PASS {pass}"))
}

/// `(messages, octets)` from a STAT reply.
pub fn stat_counts(r: &Reply) -> Option<(u64, u64)> {
    let mut it = r.text.split_whitespace();
    Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
}

pub fn quit(c: &mut Conn) {
    let _ = command(c, "QUIT");
}
