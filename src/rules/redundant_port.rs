use super::{sides, Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Fix, Level};

pub static META: RuleMeta = RuleMeta {
    name: "redundant-port",
    level: Level::Info,
    summary: "the custom port equals the default for the protocol and security",
    fixable: true,
    source: "CSM 10.4, \"Define Global POP or IMAP Account Settings\", steps 6c and 9c (\"Custom Port: … different than the default\")",
    docs: r#"## What it checks
A `port` equal to the port CSM uses anyway for the server's protocol and security: POP3 110 /
995 (`ssl`, `ssl-no-auth`), IMAP 143 / 993, SMTP 25 / 465.

## Why
A redundant port is one more value to keep in step: when someone later changes `security`, the
stale port silently contradicts it. Leaving it out lets the default follow the security mode.
`mailcfg check --fix` removes the `port` node (with its line when it has one to itself); a
port that holds a comment or slash-dashed arguments (`port 993 /* why */ /-995`) is slash-dashed
(`/-port 993 …`) instead, so none of that text is lost.

## Example
```kdl bad
account "Support" {
    protocol "imap"
    incoming {
        server "imap.example.com"
        security "ssl"
        port 993
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
            let Some(port) = side.port else { continue };
            let default = side.service.default_port(side.security());
            if port != u32::from(default) {
                continue;
            }
            let rel = side.rel("port");
            let mut d = cx
                .diag(
                    &META,
                    acc,
                    &rel,
                    Part::Value,
                    format!(
                        "port {port} is already the {} default for security \"{}\"",
                        side.service.display(),
                        side.security()
                    ),
                )
                .with_help("remove `port`; the default follows `security` if it ever changes");
            if let Some(edit) = cx.remove_node(acc, &rel) {
                d = d.with_fix(Fix {
                    description: format!("remove the redundant `port {port}`"),
                    edits: vec![edit],
                });
            }
            out.push(d);
        }
    }
}
