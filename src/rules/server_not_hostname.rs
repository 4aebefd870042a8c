use super::text::{dns_name_problem, hostname_problem, HostProblem};
use super::{sides, Context, Part, RuleMeta, Side};
use crate::diagnostics::{Diagnostic, Edit, Fix, Level};
use crate::model::{Account, Located};

pub static META: RuleMeta = RuleMeta {
    name: "server-not-hostname",
    level: Level::Error,
    summary:
        "`server` is not a host name or IP address (a URL, `host:port`, a path, spaces, bad labels)",
    fixable: true,
    source: "CSM 10.4, \"Define Global POP or IMAP Account Settings\", steps 6a and 9a (\"Provide the name of the … server\"); RFC 1123 §2.1; RFC 1035 §2.3.1 (labels); RFC 3986 §3.2.2",
    docs: r#"## What it checks
A `server` value that is not a plain host name (letters, digits and inner hyphens, RFC 1123
§2.1; labels of 1–63 characters, RFC 1035 §2.3.1) or an IPv4/IPv6 address. Recognised mistakes:
- a scheme: `imaps://imap.example.com`;
- a port: `imap.example.com:993` (the port belongs in the `port` node);
- a path: `mail.example.com/owa`;
- spaces, underscores or other characters that cannot appear in a host name.

## Why
CSM passes the field to the DNS resolver as it is, so the connection fails with "host not found"
only when the account is first used. `mailcfg check --fix` moves a `host:port` port into its own
`port` node when there is none yet: on a line of its own below `server`, or as `; port N` after
it in a one-line block or before a trailing comment; `[2001:db8::1]:993` becomes
`server "2001:db8::1"` and `port 993`. When `port` already gives the same port, the fix only
removes it from `server`; a different `port` is left for you to decide.

## Example
```kdl bad
account "Support" {
    protocol "imap"
    incoming {
        server "imaps://imap.example.com:993"
        security "ssl"
        user "support@example.com"
        password env="SUPPORT_PASSWORD"
    }
    outgoing {
        server "smtp.example.com"
        security "ssl"
        auth "same-as-incoming"
    }
    conversation-id "subject"
}
system {
    conversation-prefix "ACME"
}
```

```kdl good
account "Support" {
    protocol "imap"
    incoming {
        server "imap.example.com"
        security "ssl"
        user "support@example.com"
        password env="SUPPORT_PASSWORD"
    }
    outgoing {
        server "smtp.example.com"
        security "ssl"
        auth "same-as-incoming"
    }
    conversation-id "subject"
}
system {
    conversation-prefix "ACME"
}
```
"#,
};

pub fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for acc in &cx.project.accounts {
        for side in sides(&acc.value) {
            let Some(problem) = hostname_problem(side.server) else {
                continue;
            };
            let (message, help) = describe(&problem, &side);
            let mut d = cx
                .diag(&META, acc, &side.rel("server"), Part::Value, message)
                .with_help(help);
            if let HostProblem::Port { host, port } = &problem {
                if let Some(fix) = move_port(cx, acc, &side, host, *port) {
                    d = d.with_fix(fix);
                }
            }
            out.push(d);
        }
    }
}

fn describe(problem: &HostProblem, side: &Side<'_>) -> (String, String) {
    let what = format!("{} server", side.block);
    match problem {
        HostProblem::Empty => (
            format!("the {what} is empty"),
            "give the server's host name, e.g. \"imap.example.com\"".into(),
        ),
        HostProblem::Scheme { scheme, host, port } => (
            format!("the {what} is a URL (`{scheme}://…`), not a host name"),
            match port {
                Some(p) => format!(
                    "write `server \"{host}\"` and `port {p}`; security is set with `security`"
                ),
                None => format!("write `server \"{host}\"`; security is set with `security`"),
            },
        ),
        HostProblem::Port { host, port } => (
            format!("the {what} includes a port (`:{port}`)"),
            format!("write `server \"{host}\"` and put the port in its own node: `port {port}`"),
        ),
        HostProblem::Path { host } => (
            format!("the {what} includes a path"),
            format!("write only the host name: `server \"{host}\"`"),
        ),
        HostProblem::Whitespace => (
            format!("the {what} contains spaces"),
            "a host name has no spaces; check for a pasted display name or a typo".into(),
        ),
        HostProblem::Label(label) => (
            format!("the {what} is not a valid host name: {label:?} is not a valid label"),
            if label.is_ascii() {
                "host name labels use letters, digits and hyphens (not at either end), 1–63 characters each; or give an IP address".into()
            } else {
                "write an internationalised name in its ASCII (punycode, `xn--…`) form".into()
            },
        ),
    }
}

/// `server "host:993"` → `server "host"` plus `port 993` ([`crate::parse::edit::insert_after_node`]:
/// a line of its own below, or `; port 993` after the node in a one-line block or before a
/// trailing comment), when no port is written yet. `[IPv6]:port` keeps the address.
fn move_port(
    cx: &Context<'_>,
    acc: &Located<Account>,
    side: &Side<'_>,
    host: &str,
    port: u32,
) -> Option<Fix> {
    let ip = host.parse::<std::net::IpAddr>().is_ok();
    if side.port.is_some_and(|p| p != port)
        || !(1..=65535).contains(&port)
        || (!ip && dns_name_problem(host).is_some())
    {
        return None;
    }
    let entry = cx
        .span_map(acc.file)
        .get(&format!("{}/{}", acc.pointer, side.rel("server")))?;
    let strip = Edit {
        file: acc.file,
        span: entry.value,
        replacement: format!("\"{host}\""),
    };
    if side.port.is_some() {
        // The same port is written in `port` already: only the server changes.
        return Some(Fix {
            description: format!("remove `:{port}` from `server` (`port {port}` is set)"),
            edits: vec![strip],
        });
    }
    let text = &cx.sources.get(acc.file).text;
    let (at, insert) =
        crate::parse::edit::insert_after_node(text, entry.node, &format!("port {port}"));
    Some(Fix {
        description: format!("move port {port} out of `server` into `port {port}`"),
        edits: vec![
            strip,
            Edit {
                file: acc.file,
                span: at,
                replacement: insert,
            },
        ],
    })
}
