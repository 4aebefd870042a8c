use super::{password_logins, Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};

pub static META: RuleMeta = RuleMeta {
    name: "microsoft-basic-auth",
    level: Level::Warning,
    summary:
        "outlook.office365.com / smtp.office365.com is used with password (basic) authentication",
    fixable: false,
    source: "Microsoft Learn, \"Deprecation of Basic authentication in Exchange Online\"",
    docs: r#"## What it checks
An `incoming` server `outlook.office365.com` or an `outgoing` server `smtp.office365.com` (or the
reverse) that logs in with a password rather than a `credential`.

## Why
Microsoft retired basic authentication for IMAP and POP in Exchange Online: password logins are
refused. SMTP AUTH with a password still exists but is disabled per tenant by default and is
being retired as well. The CSM page for POP and IMAP accounts names Google credentials only
for credentials-based authentication (steps 5c and 7c), so check what your CSM offers for
Microsoft 365 mailboxes (see `office365-credential-on-pop-imap`).

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
    outgoing {
        server "smtp.office365.com"
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
account "Billing" {
    protocol "imap"
    incoming {
        server "outlook.office365.com"
        security "ssl"
        user "billing@example.com"
        // mailcfg-ignore: office365-credential-on-pop-imap reason="checked in CSM: this account accepts the Office 365 credential"
        credential "m365-billing"
    }
    outgoing {
        server "smtp.office365.com"
        security "ssl"
        auth "same-as-incoming"
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
            .with_help("use an authentication your CSM offers for Microsoft 365 (the POP/IMAP page names Google credentials only), or suppress with a reason if the tenant still allows it"),
        );
    }
}
