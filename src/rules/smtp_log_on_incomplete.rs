use super::{users_supply_outgoing_credentials, Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};
use crate::model::AuthMode;

pub static META: RuleMeta = RuleMeta {
    name: "smtp-log-on-incomplete",
    level: Level::Error,
    summary: "outgoing `auth \"log-on\"` without a user, or without a password/credential nobody can supply",
    fixable: false,
    source: "CSM 10.4, \"Define Global POP or IMAP Account Settings\", step 10a (\"Log on Using\") and its note",
    docs: r#"## What it checks
An `outgoing` block with `auth "log-on"` that has no `user`, or has neither `password` nor
`credential` while users cannot supply one (the account is not available to users, or its
credentials padlock is locked).

## Why
"Log on using" authenticates to the SMTP server with its own user name and password. Without a
user the login cannot even be attempted; without a password that nobody can type, every
message is rejected.

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
        auth "log-on"
        user "alerts@example.com"
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
        user "alerts@example.com"
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
        let a = &acc.value;
        let Some(o) = &a.outgoing else {
            continue;
        };
        if o.auth() != AuthMode::LogOn {
            continue;
        }
        let no_secret = o.password.is_none() && o.credential.is_none();
        // Step 10 note: a blank user name and password with the padlock open is how users are
        // let to enter their own login.
        let users_supply = users_supply_outgoing_credentials(a);
        let problem = match (o.user.is_none(), no_secret, users_supply) {
            (true, true, true) | (false, false, _) | (false, true, true) => continue,
            (true, true, false) => {
                "no user and no password or credential, and users cannot supply them"
            }
            (true, false, _) => "no user",
            (false, true, false) => "no password or credential, and users cannot supply one",
        };
        out.push(
            cx.diag(
                &META,
                acc,
                "outgoing/auth",
                Part::Value,
                format!("auth \"log-on\" but the outgoing block has {problem}"),
            )
            .with_help("add `user` and `password env=\"…\"` (or `credential`) to `outgoing`, or use `auth \"same-as-incoming\"`"),
        );
    }
}
