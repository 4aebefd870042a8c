use super::{Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};
use crate::model::{Account, Credential, Secret, TrustedAgent};

pub static META: RuleMeta = RuleMeta {
    name: "empty-value",
    level: Level::Error,
    summary: "a name, login, mailbox, group or secret reference is the empty string",
    fixable: false,
    source: "CSM 10.4, \"Define Global POP or IMAP Account Settings\", steps 5a, 6a, 7a, 7b, 7d, 9a and 14 (each field is to be provided, or left out)",
    docs: r#"## What it checks
An empty string `""` as an account or credential name, a `user`, a `mailbox`, a `credential`
reference, a `trusted-agent group=`, a secret (`password ""`, `password env=""`,
`password file=""`, and the same for a credential's secrets), or a credential's
`service-account`, `tenant-id` or `client-id`.

## Why
Each of these is a field the CSM page asks you to provide ("Name: Provide a name for the
account", "User Name: Provide the user name", "Mailbox (IMAP only): Select the mailbox") or to
leave blank. An empty string is neither: it is written down, so mailcfg would compile it into
the store, but it names nothing. A blank user name and password are written by leaving the
nodes out (step 7b note). `env=""` and `file=""` name no variable and no file.

## Example
```kdl bad
account "Support" {
    protocol "imap"
    incoming {
        server "imap.example.com"
        security "ssl"
        user ""
        password env=""
        mailbox ""
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

```kdl good
account "Support" {
    protocol "imap"
    incoming {
        server "imap.example.com"
        security "ssl"
        user "support@example.com"
        password env="SUPPORT_PASSWORD"
        mailbox "INBOX"
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

/// What a text field holds, for the wording and for what may be checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// A name or login: neither empty nor padded.
    Name,
    /// A secret's literal value: never quoted back, and spaces may be part of it.
    SecretValue,
}

/// Every free-text field of an account: (path under the account, value, kind).
pub fn account_fields(a: &Account) -> Vec<(String, &str, FieldKind)> {
    let mut out = vec![("name".to_string(), a.name.as_str(), FieldKind::Name)];
    let sides = [
        (
            "incoming",
            a.incoming.user.as_deref(),
            a.incoming.password.as_ref(),
            a.incoming.credential.as_deref(),
        ),
        (
            "outgoing",
            a.outgoing.user.as_deref(),
            a.outgoing.password.as_ref(),
            a.outgoing.credential.as_deref(),
        ),
    ];
    for (block, user, password, credential) in sides {
        if let Some(u) = user {
            out.push((format!("{block}/user"), u, FieldKind::Name));
        }
        if let Some(c) = credential {
            out.push((format!("{block}/credential"), c, FieldKind::Name));
        }
        if let Some(p) = password {
            out.push(secret_field(&format!("{block}/password"), p));
        }
    }
    if let Some(m) = &a.incoming.mailbox {
        out.push(("incoming/mailbox".into(), m, FieldKind::Name));
    }
    if let Some(TrustedAgent::Group { group }) = &a.trusted_agent {
        out.push(("trusted-agent/group".into(), group, FieldKind::Name));
    }
    out
}

/// Every free-text field of a credential.
pub fn credential_fields(c: &Credential) -> Vec<(String, &str, FieldKind)> {
    let mut out = vec![("name".to_string(), c.name.as_str(), FieldKind::Name)];
    for (rel, v) in [
        ("service-account", &c.service_account),
        ("tenant-id", &c.tenant_id),
        ("client-id", &c.client_id),
    ] {
        if let Some(v) = v {
            out.push((rel.into(), v, FieldKind::Name));
        }
    }
    for (rel, s) in [
        ("private-key", &c.private_key),
        ("certificate", &c.certificate),
        ("client-secret", &c.client_secret),
        ("token", &c.token),
    ] {
        if let Some(s) = s {
            out.push(secret_field(rel, s));
        }
    }
    out
}

fn secret_field<'a>(rel: &str, s: &'a Secret) -> (String, &'a str, FieldKind) {
    match s {
        Secret::Env { env } => (format!("{rel}/env"), env, FieldKind::Name),
        Secret::File { file } => (format!("{rel}/file"), file, FieldKind::Name),
        Secret::Literal(v) => (rel.to_string(), v, FieldKind::SecretValue),
    }
}

pub fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for acc in &cx.project.accounts {
        for (rel, value, _) in account_fields(&acc.value) {
            if value.is_empty() {
                out.push(diag(cx, acc, &rel));
            }
        }
    }
    for cred in &cx.project.credentials {
        for (rel, value, _) in credential_fields(&cred.value) {
            if value.is_empty() {
                out.push(diag(cx, cred, &rel));
            }
        }
    }
}

fn diag<T>(cx: &Context<'_>, item: &crate::model::Located<T>, rel: &str) -> Diagnostic {
    let what = cx.kdl_path(item, rel);
    cx.diag(
        &META,
        item,
        rel,
        Part::Value,
        format!("`{what}` is empty"),
    )
    .with_help("write the value, or leave the node out (a blank user name and password are written by omitting them)")
}
