use super::{Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};
use crate::model::AuthMode;

pub static META: RuleMeta = RuleMeta {
    name: "outgoing-login-ignored",
    level: Level::Warning,
    summary: "an outgoing `user`, `password` or `credential` is given but `auth` is not \"log-on\"",
    fixable: false,
    source: "CSM 10.4, \"Define Global POP or IMAP Account Settings\", step 10a (the user name and password belong to \"Log on Using\")",
    docs: r#"## What it checks
An `outgoing` block with a `user`, `password` or `credential` while `auth` is `"none"` (or
absent) or `"same-as-incoming"`.

## Why
In CSM the outgoing server's own user name and password belong to the "Log on Using" choice
under "Requires Authentication" (step 10a). With "Use Same Settings as My Incoming Server" the
incoming login is used; with the check box cleared there is no login. Either way the values
written here are ignored: `mailcfg compile` leaves them out of the store, and a reader of the
file is misled about how the account logs in. Use `auth "log-on"` if they are meant, or remove
them.

## Example
```kdl bad
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
        user "alerts-smtp@example.com"
        password env="ALERTS_SMTP_PASSWORD"
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
        auth "log-on"
        user "alerts-smtp@example.com"
        password env="ALERTS_SMTP_PASSWORD"
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
        let auth = o.auth();
        if auth == AuthMode::LogOn {
            continue;
        }
        let given = [
            ("user", o.user.is_some()),
            ("password", o.password.is_some()),
            ("credential", o.credential.is_some()),
        ];
        for (node, _) in given.iter().filter(|(_, set)| *set) {
            out.push(
                cx.diag(
                    &META,
                    acc,
                    &format!("outgoing/{node}"),
                    Part::Key,
                    format!(
                        "outgoing `{node}` is ignored: auth is \"{}\", and only auth \"log-on\" (Log on Using) uses it",
                        auth.as_str()
                    ),
                )
                .with_help("set `auth \"log-on\"` if this login is meant, or remove it"),
            );
        }
    }
}
