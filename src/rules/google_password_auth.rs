use super::{password_logins, Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};

pub static META: RuleMeta = RuleMeta {
    name: "google-password-auth",
    level: Level::Warning,
    summary: "a Google server (imap/pop/smtp.gmail.com) is used with password authentication",
    fixable: false,
    source: "CSM 10.4, \"Define Global POP or IMAP Account Settings\", step 5c (\"To use Google Authentication for G Suite accounts, select the Use Credentials-Based Authentication check box\"); Google Workspace Admin Help, \"Transition from less secure apps to OAuth\"",
    docs: r#"## What it checks
An `incoming` or `outgoing` server `imap.gmail.com`, `pop.gmail.com` or `smtp.gmail.com` that
logs in with a password rather than a `credential`: the incoming block has no `credential`, or
the outgoing block logs on (directly, or `same-as-incoming`) without one.

## Why
Google Workspace no longer accepts account passwords over IMAP, POP and SMTP ("less secure
apps" are turned off): it needs OAuth, which CSM provides as credentials-based authentication
with a Google service account. A password only works if it is an app password (which requires
2-step verification on the mailbox); if that is what you use, suppress this rule with a reason.

## Example
```kdl bad
account "Support" {
    protocol "imap"
    incoming {
        server "imap.gmail.com"
        security "ssl"
        user "support@example.org"
        password env="SUPPORT_PASSWORD"
    }
    outgoing {
        server "smtp.gmail.com"
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
        server "imap.gmail.com"
        security "ssl"
        user "support@example.org"
        credential "google-support"
    }
    outgoing {
        server "smtp.gmail.com"
        security "ssl"
        auth "same-as-incoming"
    }
    conversation-id "subject"
}
system {
    conversation-prefix "ACME"
}
credential "google-support" {
    type "google"
    service-account "mail@project.iam.gserviceaccount.com"
    private-key file="secrets/google-support.json"
}
```
"#,
};

const HOSTS: &[&str] = &["imap.gmail.com", "pop.gmail.com", "smtp.gmail.com"];

pub fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for (acc, block, host) in password_logins(cx, HOSTS) {
        out.push(
            cx.diag(
                &META,
                acc,
                &format!("{block}/server"),
                Part::Value,
                format!("{host} is used with password authentication; Google requires OAuth"),
            )
            .with_help("use credentials-based authentication: `credential \"name\"` with a `credential { type \"google\" … }`; an app password also works (suppress this rule with a reason)"),
        );
    }
}
