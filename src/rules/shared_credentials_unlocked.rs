use super::{Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};
use crate::model::AuthMode;

pub static META: RuleMeta = RuleMeta {
    name: "shared-credentials-unlocked",
    level: Level::Info,
    summary: "shared credentials are given, but users may replace them (credentials padlock open)",
    fixable: false,
    source: "CSM 10.4, \"Define Global POP or IMAP Account Settings\", introduction note and step 7b note (\"If all Users will use the same credentials … provide credentials here\")",
    docs: r#"## What it checks
An account available to users with the credentials padlock open (`lock credentials=#false`, the
default) that nevertheless gives shared credentials: a `password` or `credential` in `incoming`,
or in `outgoing` with `auth "log-on"`.

## Why
Shared credentials mean everyone sends and reads as the same mailbox. With the padlock open each
user may replace them with their own, so the account behaves differently per user and the
shared password is exposed to the editing form. If everyone should use the shared login, lock
it; if each user should log in as themselves, remove the shared password.

## Example
```kdl bad
account "HR" {
    protocol "imap"
    available-to-users #true
    incoming {
        server "imap.example.com"
        security "ssl"
        user "hr@example.com"
        password env="HR_PASSWORD"
    }
    outgoing {
        server "smtp.example.com"
        security "ssl"
        auth "same-as-incoming"
    }
    from {
        address "Human Resources <hr@example.com>" default=#true
    }
}
```

```kdl good
account "HR" {
    protocol "imap"
    available-to-users #true
    incoming {
        server "imap.example.com"
        security "ssl"
        user "hr@example.com"
        password env="HR_PASSWORD"
    }
    outgoing {
        server "smtp.example.com"
        security "ssl"
        auth "same-as-incoming"
    }
    from {
        address "Human Resources <hr@example.com>" default=#true
    }
    lock credentials=#true
}
```
"#,
};

pub fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for acc in &cx.project.accounts {
        let a = &acc.value;
        if !a.available_to_users {
            continue;
        }
        let inc = &a.incoming;
        let o = &a.outgoing;
        let incoming_open = !a.incoming_lock().credentials;
        let outgoing_open = !a.outgoing_lock().credentials && o.auth() == AuthMode::LogOn;
        let rel = if incoming_open && inc.password.is_some() {
            "incoming/password"
        } else if incoming_open && inc.credential.is_some() {
            "incoming/credential"
        } else if outgoing_open && o.password.is_some() {
            "outgoing/password"
        } else if outgoing_open && o.credential.is_some() {
            "outgoing/credential"
        } else {
            continue;
        };
        out.push(
            cx.diag(
                &META,
                acc,
                rel,
                Part::Key,
                format!(
                    "account {:?} gives shared credentials, but users may replace them",
                    a.name
                ),
            )
            .with_help("add `lock credentials=#true`, or remove the shared password so each user logs in as themselves"),
        );
    }
}
