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
An account available to users that gives shared credentials — a `password` or `credential` in
`incoming`, or in `outgoing` with `auth "log-on"` — while that section's credentials padlock is
open (`credentials=#false`, the default).

## Why
The page's defaults unlock credentials "so that Users can enter their own user names and
passwords", and its step 7b note says to provide credentials "if all Users will use the same
credentials". Both at once is allowed, so this is information only: each user may replace the
shared login with their own, and the account then behaves differently per user. If everyone
should use the shared login, lock the padlock; if each user should log in as themselves, leave
the shared password out.

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
        let incoming_open = !a.incoming_lock().credentials;
        // The outgoing login that users could replace: "Log on Using" with the padlock open.
        let outgoing = a
            .outgoing
            .as_ref()
            .filter(|o| !a.outgoing_lock().credentials && o.auth() == AuthMode::LogOn);
        let rel = if incoming_open && inc.password.is_some() {
            "incoming/password"
        } else if incoming_open && inc.credential.is_some() {
            "incoming/credential"
        } else if outgoing.is_some_and(|o| o.password.is_some()) {
            "outgoing/password"
        } else if outgoing.is_some_and(|o| o.credential.is_some()) {
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
