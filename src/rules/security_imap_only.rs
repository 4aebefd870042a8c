use super::{Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};
use crate::model::{Protocol, Security};

pub static META: RuleMeta = RuleMeta {
    name: "security-imap-only",
    level: Level::Error,
    summary: "POP3 accounts cannot use `tls` (STARTTLS) or `ssl-no-auth` security",
    fixable: false,
    source: "CSM 10.4, \"Define Global POP or IMAP Account Settings\", step 6b (\"SSL with No Authentication (IMAP only)\", \"TLS (IMAP only)\")",
    docs: r#"## What it checks
A POP account whose incoming `security` is `tls` or `ssl-no-auth`.

## Why
The incoming Security drop-down (step 6b) lists "SSL with No Authentication (IMAP only)"
(`ssl-no-auth`) and "TLS (IMAP only)" (`tls`): neither is offered for a POP account, so the file
describes a setting CSM does not have.

## Example
```kdl bad
account "Helpdesk" {
    protocol "pop"
    incoming {
        server "pop.example.com"
        security "tls"
        user "helpdesk@example.com"
        password env="HELPDESK_PASSWORD"
    }
    outgoing {
        server "smtp.example.com"
        security "ssl"
        auth "same-as-incoming"
    }
}
```

```kdl good
account "Helpdesk" {
    protocol "pop"
    incoming {
        server "pop.example.com"
        security "ssl"
        user "helpdesk@example.com"
        password env="HELPDESK_PASSWORD"
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
        let a = &acc.value;
        let sec = a.incoming.security();
        if a.protocol == Protocol::Pop && matches!(sec, Security::Tls | Security::SslNoAuth) {
            out.push(
                cx.diag(
                    &META,
                    acc,
                    "incoming/security",
                    Part::Value,
                    format!("security \"{sec}\" is offered for IMAP accounts only; account {:?} uses POP", a.name),
                )
                .with_related(cx.label(acc, "protocol", Part::Value).with_text("POP account"))
                .with_help("use \"ssl\" (implicit TLS, port 995) for POP3, or switch the account to protocol \"imap\""),
            );
        }
    }
}
