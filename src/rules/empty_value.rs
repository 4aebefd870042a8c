use super::{Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};
use crate::model::{Account, Credential, Outgoing, Secret, TrustedAgent};

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

/// Calls `f` with every free-text field of an account: (path under the account, value, kind).
/// The paths are fixed strings, so walking a clean account allocates nothing.
pub fn account_fields<'a>(a: &'a Account, mut f: impl FnMut(&'static str, &'a str, FieldKind)) {
    f("name", &a.name, FieldKind::Name);
    let inc = &a.incoming;
    for (rel, v) in [
        ("incoming/user", &inc.user),
        ("incoming/credential", &inc.credential),
        ("incoming/mailbox", &inc.mailbox),
        ("outgoing/user", outgoing(a, |o| &o.user)),
        ("outgoing/credential", outgoing(a, |o| &o.credential)),
    ] {
        if let Some(v) = v {
            f(rel, v, FieldKind::Name);
        }
    }
    for (rel, env, file, s) in [
        (
            "incoming/password",
            "incoming/password/env",
            "incoming/password/file",
            &inc.password,
        ),
        (
            "outgoing/password",
            "outgoing/password/env",
            "outgoing/password/file",
            outgoing(a, |o| &o.password),
        ),
    ] {
        if let Some(s) = s {
            secret_field(s, [rel, env, file], &mut f);
        }
    }
    if let Some(TrustedAgent::Group { group }) = &a.trusted_agent {
        f("trusted-agent/group", group, FieldKind::Name);
    }
}

/// A field of the outgoing block, absent with the block.
fn outgoing<'a, T>(a: &'a Account, field: impl Fn(&'a Outgoing) -> &'a Option<T>) -> &'a Option<T> {
    a.outgoing.as_ref().map_or(&None, field)
}

/// The same for a credential.
pub fn credential_fields<'a>(
    c: &'a Credential,
    mut f: impl FnMut(&'static str, &'a str, FieldKind),
) {
    f("name", &c.name, FieldKind::Name);
    for (rel, v) in [
        ("service-account", &c.service_account),
        ("tenant-id", &c.tenant_id),
        ("client-id", &c.client_id),
    ] {
        if let Some(v) = v {
            f(rel, v, FieldKind::Name);
        }
    }
    for (rels, s) in [
        (
            ["private-key", "private-key/env", "private-key/file"],
            &c.private_key,
        ),
        (
            ["certificate", "certificate/env", "certificate/file"],
            &c.certificate,
        ),
        (
            ["client-secret", "client-secret/env", "client-secret/file"],
            &c.client_secret,
        ),
        (["token", "token/env", "token/file"], &c.token),
    ] {
        if let Some(s) = s {
            secret_field(s, rels, &mut f);
        }
    }
}

/// A secret: its `env=` or `file=` reference is a name; a literal is a secret value.
/// `rels` are the paths of the literal, the `env` and the `file` form.
fn secret_field<'a>(
    s: &'a Secret,
    [literal, env_rel, file_rel]: [&'static str; 3],
    f: &mut impl FnMut(&'static str, &'a str, FieldKind),
) {
    match s {
        Secret::Env { env } => f(env_rel, env, FieldKind::Name),
        Secret::File { file } => f(file_rel, file, FieldKind::Name),
        Secret::Literal(v) => f(literal, v, FieldKind::SecretValue),
    }
}

pub fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for acc in &cx.project.accounts {
        account_fields(&acc.value, |rel, value, _| {
            if value.is_empty() {
                out.push(diag(cx, acc, rel));
            }
        });
    }
    for cred in &cx.project.credentials {
        credential_fields(&cred.value, |rel, value, _| {
            if value.is_empty() {
                out.push(diag(cx, cred, rel));
            }
        });
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
