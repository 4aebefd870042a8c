use super::{Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};

pub static META: RuleMeta = RuleMeta {
    name: "no-from-address",
    level: Level::Error,
    summary: "an account available to users offers no From address at all",
    fixable: false,
    docs: r#"## What it checks
An account with `available-to-users #true` whose `from` block is missing, or allows neither
the user's own address (`allow-user-address`) nor any address (`allow-arbitrary`) and lists no
`address`.

## Why
Agents choose this account to send mail, but CSM has no From address to put on the message, so
sending fails for every user. Source: CSM documentation, "Define a global POP/IMAP account",
From addresses.

## Example
```kdl bad
account "HR" {
    protocol "imap"
    available-to-users #true
    incoming {
        server "imap.example.com"
        security "ssl"
        user "hr@example.com"
        password env="HR_PASSWORD"
    }
    lock credentials=#true
}
```

```kdl good
account "HR" {
    protocol "imap"
    available-to-users #true
    incoming {
        server "imap.example.com"
        security "ssl"
        user "hr@example.com"
        password env="HR_PASSWORD"
    }
    from {
        address "Human Resources <hr@example.com>" default=#true
    }
    lock credentials=#true
}
```
"#,
};

pub fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for acc in &cx.project.accounts {
        let a = &acc.value;
        if !a.available_to_users {
            continue;
        }
        let usable = a
            .from
            .as_ref()
            .is_some_and(|f| f.allow_user_address || f.allow_arbitrary || !f.address.is_empty());
        if usable {
            continue;
        }
        let (rel, part) = if a.from.is_some() {
            ("from", Part::Key)
        } else {
            ("available-to-users", Part::Node)
        };
        out.push(
            cx.diag(
                &META,
                acc,
                rel,
                part,
                format!(
                    "account {:?} is available to users but offers no From address",
                    a.name
                ),
            )
            .with_help("add `from { address \"name@example.com\" default=#true }`, or `allow-user-address #true`"),
        );
    }
}
