use super::empty_value::{account_fields, credential_fields, FieldKind};
use super::{Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};

pub static META: RuleMeta = RuleMeta {
    name: "padded-value",
    level: Level::Warning,
    summary: "a name, login, mailbox, group or secret reference starts or ends with spaces",
    fixable: false,
    source: "mailcfg: leading or trailing spaces in a name are kept verbatim and rarely meant",
    docs: r#"## What it checks
The fields `empty-value` checks (names, `user`, `mailbox`, `credential` references,
`trusted-agent group=`, `env=` and `file=` references, a credential's IDs) when they start or
end with whitespace. Literal secret values are not checked: spaces may belong to a password.

## Why
The spaces are kept as written: `account " Support"` and `account "Support"` are different
names, `user "support@example.com "` is a different login, `env="PASSWORD "` a different
variable. This is almost never meant, so it is a warning rather than an error.

## Example
```kdl bad
account " Support" {
    protocol "imap"
    incoming {
        server "imap.example.com"
        security "ssl"
        user "support@example.com "
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

fn padded(v: &str) -> bool {
    let starts = v.starts_with(char::is_whitespace);
    let ends = v.ends_with(char::is_whitespace);
    (starts || ends) && !v.trim().is_empty()
}

pub fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for acc in &cx.project.accounts {
        account_fields(&acc.value, |rel, value, kind| {
            if kind == FieldKind::Name && padded(value) {
                out.push(diag(cx, acc, rel, value));
            }
        });
    }
    for cred in &cx.project.credentials {
        credential_fields(&cred.value, |rel, value, kind| {
            if kind == FieldKind::Name && padded(value) {
                out.push(diag(cx, cred, rel, value));
            }
        });
    }
}

fn diag<T>(
    cx: &Context<'_>,
    item: &crate::model::Located<T>,
    rel: &str,
    value: &str,
) -> Diagnostic {
    let what = cx.kdl_path(item, rel);
    cx.diag(
        &META,
        item,
        rel,
        Part::Value,
        format!("`{what}` has leading or trailing spaces: {value:?}"),
    )
    .with_help(format!("write {:?}", value.trim()))
}
