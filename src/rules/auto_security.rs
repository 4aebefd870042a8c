use super::{sides, Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};
use crate::model::Security;

pub static META: RuleMeta = RuleMeta {
    name: "auto-security",
    level: Level::Info,
    summary: "security is `auto` (or not given), which may fall back to cleartext",
    fixable: false,
    source: "CSM 10.4, \"Define Global POP or IMAP Account Settings\", steps 6b and 9b (\"Auto: … if possible\"); RFC 3207 §6 (SMTP) and RFC 2595 §9 (IMAP, POP3): STARTTLS stripping",
    docs: r#"## What it checks
An `incoming` or `outgoing` block whose `security` is `"auto"` or absent (absent means `auto`).

## Why
With `auto` the client uses TLS when the server offers it and otherwise continues without: an
attacker who strips the STARTTLS offer downgrades the connection to cleartext without anyone
noticing ("A man-in-the-middle attack can be launched by deleting the "250 STARTTLS" response
from the server", RFC 3207 §6; for IMAP and POP3 an attacker "can remove STARTTLS from the
capability list", RFC 2595 §9). Pinning `ssl` (implicit TLS) or `tls` (STARTTLS) makes a missing TLS a visible error
instead.

## Example
```kdl bad
account "Support" {
    protocol "imap"
    incoming {
        server "imap.example.com"
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
            let d = match side.security {
                Some(Security::Auto) => cx.diag(
                    &META,
                    acc,
                    &side.rel("security"),
                    Part::Value,
                    format!("security \"auto\" on the {} server may fall back to cleartext", side.block),
                ),
                None => cx.diag(
                    &META,
                    acc,
                    &side.rel("server"),
                    Part::Key,
                    format!(
                        "no `security` on the {} server: it defaults to \"auto\", which may fall back to cleartext",
                        side.block
                    ),
                ),
                Some(_) => continue,
            };
            out.push(d.with_help("pin security \"ssl\" (implicit TLS) or \"tls\" (STARTTLS)"));
        }
    }
}
