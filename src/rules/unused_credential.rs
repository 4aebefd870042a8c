use super::{sides, Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};

pub static META: RuleMeta = RuleMeta {
    name: "unused-credential",
    level: Level::Warning,
    summary: "a credential is defined but no account uses it",
    fixable: false,
    docs: r#"## What it checks
A top-level `credential "name"` that no `incoming` or `outgoing` block of any checked file
references.

## Why
An unused credential is usually a leftover or a typo on the referencing side; either way it keeps
a live secret (a private key, a client secret) deployed for nothing. Remove it, or fix the
reference. Source: CSM documentation, "Credentials-based authentication"; OWASP Secrets
Management Cheat Sheet (remove unused secrets).

## Example
```kdl bad
account "Support" {
    protocol "imap"
    incoming {
        server "imap.example.com"
        security "ssl"
        user "support@example.com"
        password env="SUPPORT_PASSWORD"
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

```kdl good
account "Support" {
    protocol "imap"
    incoming {
        server "imap.example.com"
        security "ssl"
        user "support@example.com"
        password env="SUPPORT_PASSWORD"
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
    let used: crate::lower::FastSet<&str> = cx
        .project
        .accounts
        .iter()
        .flat_map(|acc| sides(&acc.value))
        .filter_map(|side| side.credential)
        .collect();
    for cred in &cx.project.credentials {
        if used.contains(cred.value.name.as_str()) {
            continue;
        }
        out.push(
            cx.diag(
                &META,
                cred,
                "name",
                Part::Value,
                format!("credential {:?} is not used by any account", cred.value.name),
            )
            .with_help("remove the credential, or reference it with `credential \"name\"` in an `incoming` or `outgoing` block"),
        );
    }
}
