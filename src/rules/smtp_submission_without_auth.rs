use super::{Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};
use crate::model::AuthMode;

pub static META: RuleMeta = RuleMeta {
    name: "smtp-submission-without-auth",
    level: Level::Warning,
    summary: "the submission port (587 or 465) is used with `auth \"none\"`",
    fixable: false,
    source: "RFC 6409 §4.3 (Require Authentication: an MSA MUST by default reject MAIL from an unauthenticated session)",
    docs: r#"## What it checks
An `outgoing` block whose port is 587 or 465 (given, or 465 by default with `security "ssl"`)
while `auth` is `"none"` or absent (absent means `none`).

## Why
Ports 587 and 465 are submission ports: servers require authentication there and answer
`530 Authentication required` to every message. Either the account needs `auth
"same-as-incoming"` / `auth "log-on"`, or it is meant to relay unauthenticated on port 25.

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
        port 587
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
        let port = o.effective_port();
        if o.auth() != AuthMode::None || !(port == 587 || port == 465) {
            continue;
        }
        let rel = if o.auth.is_some() {
            "outgoing/auth"
        } else if o.port.is_some() {
            "outgoing/port"
        } else {
            "outgoing/security"
        };
        out.push(
            cx.diag(
                &META,
                acc,
                rel,
                Part::Value,
                format!("port {port} is a submission port, but the outgoing server does not authenticate (auth \"none\")"),
            )
            .with_help("add `auth \"same-as-incoming\"` or `auth \"log-on\"` with a user and password"),
        );
    }
}
