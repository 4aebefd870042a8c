use super::{Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};
use crate::model::{Credential, CredentialType};

pub static META: RuleMeta = RuleMeta {
    name: "credential-incomplete",
    level: Level::Error,
    summary: "a credential lacks a required field, or has both alternatives of a one-of pair",
    fixable: false,
    source: "Google Cloud, \"Create and delete service account keys\"; Microsoft identity platform, \"OAuth 2.0 client credentials flow\"",
    docs: r#"## What it checks
- `type "google"`: `service-account` is required, and exactly one of `private-key` /
  `certificate`.
- `type "office365"`: `tenant-id` and `client-id` are required, and exactly one of
  `client-secret` / `certificate`.

## Why
CSM's credentials-based authentication needs the complete record to obtain an OAuth token: a
Google service account signs its token request with its private key (or certificate); an Entra
ID (Office 365) app registration authenticates with its tenant, client ID and either a client
secret or a certificate. An incomplete record fails at the first mail poll; two alternatives
leave it unclear which one is deployed.

## Example
```kdl bad
account "Billing" {
    protocol "imap"
    incoming {
        server "outlook.office365.com"
        security "ssl"
        user "billing@example.com"
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
    client-id "66666666-7777-8888-9999-000000000000"
    client-secret env="M365_BILLING_CLIENT_SECRET"
}
```

```kdl good
account "Support" {
    protocol "imap"
    incoming {
        server "imap.gmail.com"
        security "ssl"
        user "support@example.com"
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

/// A field name and whether it is given.
type Field = (&'static str, bool);

pub fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for cred in &cx.project.credentials {
        let c: &Credential = &cred.value;
        let (kind, required, pair): (&str, Vec<Field>, [Field; 2]) = match c.kind {
            CredentialType::Google => (
                "google",
                vec![("service-account", c.service_account.is_some())],
                [
                    ("private-key", c.private_key.is_some()),
                    ("certificate", c.certificate.is_some()),
                ],
            ),
            CredentialType::Office365 => (
                "office365",
                vec![
                    ("tenant-id", c.tenant_id.is_some()),
                    ("client-id", c.client_id.is_some()),
                ],
                [
                    ("client-secret", c.client_secret.is_some()),
                    ("certificate", c.certificate.is_some()),
                ],
            ),
        };
        for (field, present) in required {
            if !present {
                out.push(
                    cx.diag(
                        &META,
                        cred,
                        "name",
                        Part::Value,
                        format!("{kind} credential {:?} has no `{field}`", c.name),
                    )
                    .with_help(format!("add `{field} \"…\"` inside the credential")),
                );
            }
        }
        match pair {
            [(a, false), (b, false)] => out.push(
                cx.diag(
                    &META,
                    cred,
                    "name",
                    Part::Value,
                    format!("{kind} credential {:?} has neither `{a}` nor `{b}`", c.name),
                )
                .with_help(format!(
                    "add exactly one of `{a} file=\"…\"` or `{b} file=\"…\"`"
                )),
            ),
            [(a, true), (b, true)] => out.push(
                cx.diag(
                    &META,
                    cred,
                    b,
                    Part::Node,
                    format!("{kind} credential {:?} has both `{a}` and `{b}`", c.name),
                )
                .with_related(
                    cx.label(cred, a, Part::Node)
                        .with_text(format!("`{a}` given here")),
                )
                .with_help(format!("keep exactly one of `{a}` and `{b}`")),
            ),
            _ => {}
        }
    }
}
