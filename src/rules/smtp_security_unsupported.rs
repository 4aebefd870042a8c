use super::{Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};
use crate::model::Security;

pub static META: RuleMeta = RuleMeta {
    name: "smtp-security-unsupported",
    level: Level::Error,
    summary: "the outgoing (SMTP) server uses `ssl-no-auth`, which CSM does not offer for SMTP",
    fixable: false,
    source: "CSM 10.4, \"Define Global POP or IMAP Account Settings\", step 9b (the outgoing Security list: Auto, Basic, SSL, TLS)",
    docs: r#"## What it checks
An `outgoing` block with `security "ssl-no-auth"`.

## Why
The outgoing Security drop-down (step 9b) lists Auto, Basic, SSL and TLS only; "SSL with No
Authentication" exists for IMAP servers (step 6b). The file describes a setting CSM does not
have.

## Example
```kdl bad
account "Sales" {
    protocol "imap"
    incoming {
        server "imap.example.com"
        security "ssl"
        user "sales@example.com"
        password env="SALES_PASSWORD"
    }
    outgoing {
        server "smtp.example.com"
        security "ssl-no-auth"
        auth "same-as-incoming"
    }
    conversation-id "subject"
}
system {
    conversation-prefix "ACME"
}
```

```kdl good
account "Sales" {
    protocol "imap"
    incoming {
        server "imap.example.com"
        security "ssl"
        user "sales@example.com"
        password env="SALES_PASSWORD"
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
        let Some(o) = &acc.value.outgoing else {
            continue;
        };
        if o.security() != Security::SslNoAuth {
            continue;
        }
        out.push(
            cx.diag(
                &META,
                acc,
                "outgoing/security",
                Part::Value,
                "security \"ssl-no-auth\" is not offered for the outgoing (SMTP) server",
            )
            .with_help("use \"ssl\" (implicit TLS, port 465) or \"tls\" (STARTTLS, port 587)"),
        );
    }
}
