use super::{Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};
use crate::model::AuthMode;

pub static META: RuleMeta = RuleMeta {
    name: "smtp-auth-on-relay-port",
    level: Level::Warning,
    summary: "authenticated SMTP on port 25 (the relay port); use 587 or 465",
    fixable: false,
    source: "RFC 6409 §3.1 (Submission Identification) and §1 (sites block port 25); RFC 8314 §3.3 (Implicit TLS for SMTP Submission)",
    docs: r#"## What it checks
An `outgoing` block with `auth "same-as-incoming"` or `auth "log-on"` whose port is 25, given
explicitly or by default (the SMTP default is 25 unless `security` is `ssl`).

## Why
Port 25 is for server-to-server relay. Mail submission by clients, with authentication, belongs
on port 587 (STARTTLS) or 465 (implicit TLS); many providers and networks block or refuse AUTH
on 25.

## Example
```kdl bad
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
        security "tls"
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
        security "tls"
        port 587
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
        if o.auth() == AuthMode::None || o.effective_port() != 25 {
            continue;
        }
        let (rel, how) = if o.port.is_some() {
            ("outgoing/port", "port 25")
        } else {
            ("outgoing/auth", "the default port 25")
        };
        out.push(
            cx.diag(
                &META,
                acc,
                rel,
                Part::Value,
                format!(
                    "authenticated submission (auth \"{}\") on {how}, the relay port",
                    o.auth().as_str()
                ),
            )
            .with_help("use port 587 with security \"tls\", or security \"ssl\" (port 465)"),
        );
    }
}
