use super::{sides, Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};

pub static META: RuleMeta = RuleMeta {
    name: "unused-credential",
    level: Level::Warning,
    summary: "a credential is defined but no account uses it",
    fixable: false,
    source: "CSM 10.4, \"Define Global POP or IMAP Account Settings\", step 7c; OWASP Secrets Management Cheat Sheet (remove unused secrets)",
    docs: r#"## What it checks
A top-level `credential "name"` that no `incoming` block, and no `outgoing` block with
`auth "log-on"`, of any checked file references. (An `outgoing` block with another `auth`
ignores its `credential`; see `outgoing-login-ignored`.)

## Why
An unused credential is usually a leftover or a typo on the referencing side; either way it keeps
a live secret (a private key, a client secret) deployed for nothing. Remove it, or fix the
reference.

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
    outgoing {
        server "smtp.example.com"
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

```kdl good
account "Support" {
    protocol "imap"
    incoming {
        server "imap.example.com"
        security "ssl"
        user "support@example.com"
        password env="SUPPORT_PASSWORD"
    }
    outgoing {
        server "smtp.example.com"
        security "ssl"
        auth "same-as-incoming"
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
    let mut used: crate::lower::FastSet<&str> = Default::default();
    // Credentials named only where CSM ignores them: an outgoing block without auth "log-on".
    let mut ignored: crate::lower::FastMap<&str, &str> = Default::default();
    for acc in &cx.project.accounts {
        for side in sides(&acc.value) {
            let Some(c) = side.credential else { continue };
            if side.own_login {
                used.insert(c);
            } else {
                ignored.entry(c).or_insert(acc.value.name.as_str());
            }
        }
    }
    for cred in &cx.project.credentials {
        let name = cred.value.name.as_str();
        if used.contains(name) {
            continue;
        }
        let message = match ignored.get(name) {
            Some(account) => format!(
                "credential {name:?} is referenced only by the outgoing server of account {account:?}, which ignores it (auth is not \"log-on\")"
            ),
            None => format!("credential {name:?} is not used by any account"),
        };
        out.push(
            cx.diag(&META, cred, "name", Part::Value, message)
                .with_help("remove the credential, or reference it with `credential \"name\"` in an `incoming` block or an `outgoing` block with `auth \"log-on\"`"),
        );
    }
}
