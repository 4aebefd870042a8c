use super::google_password_auth::password_logins;
use super::{Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};

pub static META: RuleMeta = RuleMeta {
    name: "microsoft-basic-auth",
    level: Level::Warning,
    summary:
        "outlook.office365.com / smtp.office365.com is used with password (basic) authentication",
    fixable: false,
    docs: r#"## What it checks
An `incoming` server `outlook.office365.com` or an `outgoing` server `smtp.office365.com` (or the
reverse) that logs in with a password rather than a `credential`.

## Why
Microsoft retired basic authentication for IMAP and POP in Exchange Online: password logins are
refused. SMTP AUTH with a password still exists but is disabled per tenant by default and is
being retired as well. Use credentials-based authentication (an Entra ID app registration,
`type "office365"`). Source: CSM documentation, "Credentials-based authentication"; Microsoft
Learn, "Deprecation of Basic authentication in Exchange Online".

## Example
```kdl bad
account "Billing" {
    protocol "imap"
    incoming {
        server "outlook.office365.com"
        security "ssl"
        user "billing@example.com"
        password env="BILLING_PASSWORD"
    }
    conversation-id "subject"
}
system {
    conversation-prefix "ACME"
}
```

```kdl good
account "Billing" {
    protocol "imap"
    incoming {
        server "outlook.office365.com"
        security "ssl"
        user "billing@example.com"
        credential "m365-billing"
    }
    conversation-id "subject"
}
system {
    conversation-prefix "ACME"
}
credential "m365-billing" {
    type "office365"
    tenant-id "11111111-2222-3333-4444-555555555555"
    client-id "66666666-7777-8888-9999-000000000000"
    client-secret env="M365_BILLING_CLIENT_SECRET"
}
```
"#,
};

const HOSTS: &[&str] = &["outlook.office365.com", "smtp.office365.com"];

pub fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for (acc, block, host) in password_logins(cx, HOSTS) {
        let why = if block == "incoming" {
            "basic authentication is retired for IMAP and POP in Exchange Online"
        } else {
            "SMTP AUTH with a password is disabled per tenant by default in Exchange Online"
        };
        out.push(
            cx.diag(
                &META,
                acc,
                &format!("{block}/server"),
                Part::Value,
                format!("{host} is used with password authentication: {why}"),
            )
            .with_help("use credentials-based authentication: `credential \"name\"` with a `credential { type \"office365\" … }`"),
        );
    }
}
