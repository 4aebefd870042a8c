use super::{Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};

pub static META: RuleMeta = RuleMeta {
    name: "locked-blank-credentials",
    level: Level::Error,
    summary: "the credentials padlock is locked but no complete login is given: nobody can log in",
    fixable: false,
    docs: r#"## What it checks
An account with `lock credentials=#true` whose `incoming` block lacks a `user`, or lacks both a
`password` and a `credential`.

## Why
A locked padlock stops users from entering their own user name and password. CSM allows blank
credentials only with the padlock unlocked (each user then supplies theirs); locked and blank,
the account can never log in, neither for users nor for the E-mail and Event Monitor. Source:
CSM documentation, "Define a global POP/IMAP account", padlocks.

## Example
```kdl bad
account "Agents" {
    protocol "imap"
    available-to-users #true
    incoming {
        server "imap.example.com"
        security "ssl"
    }
    from {
        allow-user-address #true
    }
    lock credentials=#true
}
```

```kdl good
account "Agents" {
    protocol "imap"
    available-to-users #true
    incoming {
        server "imap.example.com"
        security "ssl"
    }
    from {
        allow-user-address #true
    }
    lock credentials=#false
}
```
"#,
};

pub fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for acc in &cx.project.accounts {
        let a = &acc.value;
        if !a.lock().credentials() || a.incoming.has_credentials() {
            continue;
        }
        out.push(
            cx.diag(
                &META,
                acc,
                "lock/credentials",
                Part::Node,
                format!(
                    "account {:?} locks the credentials but gives {}: nobody can ever log in",
                    a.name,
                    missing(&a.incoming)
                ),
            )
            .with_related(cx.label(acc, "incoming", Part::Key).with_text("no complete login here"))
            .with_help("add `user` and `password env=\"…\"` (or `credential`) to `incoming`, or unlock the padlock so users supply their own"),
        );
    }
}

/// "no user", "no password or credential", or both.
pub fn missing(inc: &crate::model::Incoming) -> &'static str {
    match (
        inc.user.is_some(),
        inc.password.is_some() || inc.credential.is_some(),
    ) {
        (false, false) => "no user and no password or credential",
        (false, true) => "no user",
        _ => "no password or credential",
    }
}
