use super::{users_supply_credentials, Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};
use crate::model::AuthMode;

pub static META: RuleMeta = RuleMeta {
    name: "smtp-same-as-incoming-empty",
    level: Level::Error,
    summary: "outgoing `auth \"same-as-incoming\"` but the incoming server has no login to reuse",
    fixable: false,
    source: "CSM 10.4, \"Define Global POP or IMAP Account Settings\", step 10a (\"Use Same Settings as My Incoming Server\")",
    docs: r#"## What it checks
An `outgoing` block with `auth "same-as-incoming"` while the `incoming` block has no complete
login (a `user` plus a `password` or `credential`) and users cannot supply one (the account is
not available to users, or its credentials padlock is locked).

## Why
"Same as incoming" reuses the incoming server's user name and password for SMTP. With nothing
to reuse and nobody to type it, every message the account sends is rejected by the SMTP server.

## Example
```kdl bad
account "Alerts" {
    protocol "imap"
    incoming {
        server "imap.example.com"
        security "ssl"
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
account "Alerts" {
    protocol "imap"
    incoming {
        server "imap.example.com"
        security "ssl"
        user "alerts@example.com"
        password env="ALERTS_PASSWORD"
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
        let Some(o) = &a.outgoing else {
            continue;
        };
        if o.auth() != AuthMode::SameAsIncoming
            || a.incoming.has_credentials()
            || users_supply_credentials(a)
        {
            continue;
        }
        out.push(
            cx.diag(
                &META,
                acc,
                "outgoing/auth",
                Part::Value,
                "auth \"same-as-incoming\" reuses the incoming login, but the incoming server has none and users cannot supply one",
            )
            .with_related(cx.label(acc, "incoming", Part::Key).with_text("no complete login"))
            .with_help("give the incoming server a `user` and `password` (or `credential`), or use `auth \"log-on\"` with its own login"),
        );
    }
}
