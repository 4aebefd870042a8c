//! A discovered account as KDL: complete (it passes `mailcfg check` with no error or warning)
//! and with a comment naming the source of each server.

use super::{Discovery, Server};
use crate::fmt::quote;
use crate::model::Protocol;

pub struct RenderOptions {
    /// The account's name (default: the address).
    pub name: Option<String>,
    /// `available-to-users #true`.
    pub available: bool,
    /// The login name (default: the address, which most providers use).
    pub user: Option<String>,
    /// The environment variable the password is read from.
    pub password_env: Option<String>,
}

/// `HELPDESK_PASSWORD` for `helpdesk@…`: a name the shell accepts.
fn default_password_env(address: &str) -> String {
    let local = address.split('@').next().unwrap_or("MAIL");
    let mut var: String = local
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    if var.starts_with(|c: char| c.is_ascii_digit()) || var.is_empty() {
        var.insert_str(0, "MAIL_");
    }
    var.push_str("_PASSWORD");
    var
}

pub fn render(d: &Discovery, opts: &RenderOptions) -> String {
    let name = opts.name.clone().unwrap_or_else(|| d.address.clone());
    let user = opts
        .user
        .clone()
        .or_else(|| d.user.clone())
        .unwrap_or_else(|| d.address.clone());
    let password_env = opts
        .password_env
        .clone()
        .unwrap_or_else(|| default_password_env(&d.address));
    let mut out = String::new();
    out.push_str(&format!(
        "// Written by `mailcfg discover {}`.\n",
        d.address
    ));
    for note in &d.notes {
        let mut first = true;
        for line in wrap(&comment(note), 90) {
            let lead = if first { "// Note: " } else { "//       " };
            out.push_str(&format!("{lead}{line}\n"));
            first = false;
        }
    }
    out.push_str(&format!("account {} {{\n", quote(&name)));
    out.push_str(&format!("    protocol {}\n", quote(d.protocol.as_str())));
    if opts.available {
        out.push_str("    available-to-users #true\n");
    }
    out.push_str("    incoming {\n");
    server_lines(&mut out, &d.incoming);
    out.push_str(&format!("        user {}\n", quote(&user)));
    out.push_str(&format!("        password env={}\n", quote(&password_env)));
    if d.protocol == Protocol::Imap {
        // The default, written so the file shows which folder the monitor reads.
        out.push_str("        mailbox \"INBOX\"\n");
    }
    out.push_str("    }\n");
    out.push_str("    outgoing {\n");
    server_lines(&mut out, &d.outgoing);
    // Submission (RFC 6409 §4.3) requires authentication: the incoming login is used.
    out.push_str("        auth \"same-as-incoming\"\n");
    out.push_str("    }\n");
    out.push_str("    from {\n");
    out.push_str(&format!(
        "        address {} default=#true\n",
        quote(&d.address)
    ));
    out.push_str("    }\n}\n");
    out
}

fn server_lines(out: &mut String, s: &Server) {
    out.push_str(&format!("        // {}\n", comment(&s.source.describe())));
    out.push_str(&format!("        server {}\n", quote(&s.host)));
    out.push_str(&format!(
        "        security {}\n",
        quote(s.security.as_str())
    ));
    if let Some(p) = s.written_port() {
        out.push_str(&format!("        port {p}\n"));
    }
}

/// Text for a `//` comment: names from DNS may hold any byte, and a line break would end the
/// comment and inject KDL.
fn comment(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// Words into lines of at most `width` characters (a longer word gets a line of its own).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_wrapped_without_losing_words() {
        let text = "a long note about _imaps._tcp.example.com and its records ".repeat(4);
        let lines = wrap(&text, 30);
        assert!(lines.iter().all(|l| l.chars().count() <= 30), "{lines:?}");
        assert_eq!(lines.join(" "), text.trim_end());
        assert_eq!(
            wrap("averyveryverylongword x", 5),
            vec!["averyveryverylongword", "x"]
        );
    }

    #[test]
    fn password_variables_are_shell_names() {
        assert_eq!(
            default_password_env("help-desk@x.com"),
            "HELP_DESK_PASSWORD"
        );
        assert_eq!(default_password_env("1st@x.com"), "MAIL_1ST_PASSWORD");
    }
}
