use super::{Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};
use crate::model::CredentialType;

pub static META: RuleMeta = RuleMeta {
    name: "office365-credential-on-pop-imap",
    level: Level::Warning,
    summary: "a POP or IMAP account uses an Office 365 credential; the CSM page names Google credentials only",
    fixable: false,
    source: "CSM 10.4, \"Define Global POP or IMAP Account Settings\", steps 5c and 7c (only Google credentials are named)",
    docs: r#"## What it checks
An `incoming` or `outgoing` block whose `credential` names a `credential` of `type "office365"`.

## Why
For POP and IMAP accounts the CSM page offers credentials-based authentication "to use Google
Authentication for G Suite accounts" (step 5c), and its Credentials field says "Select the Google
credential you want to use" (step 7c). It does not say that an Office 365 credential can be
chosen there. mailcfg cannot tell whether your CSM accepts one, so this is a warning: check the
account in CSM, and suppress the finding with a reason once you have.

## Example
```kdl bad
account "Billing" {
    protocol "imap"
    incoming {
        server "outlook.office365.com"
        security "ssl"
        user "billing@example.com"
        credential "billing-o365"
    }
    outgoing {
        server "smtp.office365.com"
        security "tls"
        port 587
        auth "same-as-incoming"
    }
    conversation-id "subject"
}
system {
    conversation-prefix "ACME"
}
credential "billing-o365" {
    type "office365"
    tenant-id "00000000-0000-0000-0000-000000000000"
    client-id "11111111-1111-1111-1111-111111111111"
    client-secret env="BILLING_CLIENT_SECRET"
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

pub fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for acc in &cx.project.accounts {
        for side in super::sides(&acc.value) {
            let Some(name) = side.credential else {
                continue;
            };
            let Some(cred) = cx.credential(name) else {
                continue;
            };
            if cred.value.kind != CredentialType::Office365 {
                continue;
            }
            out.push(
                cx.diag(
                    &META,
                    acc,
                    &side.rel("credential"),
                    Part::Value,
                    format!(
                        "credential {name:?} is an Office 365 credential; the CSM page for POP and IMAP accounts names Google credentials only"
                    ),
                )
                .with_related(cx.label(cred, "type", Part::Value).with_text("office365"))
                .with_help("check in CSM that this account accepts the credential, then suppress this finding with a reason"),
            );
        }
    }
}
