use super::{lock_rel, missing_login, Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};

pub static META: RuleMeta = RuleMeta {
    name: "locked-blank-credentials",
    level: Level::Error,
    summary: "the credentials padlock is locked but no complete login is given: nobody can log in",
    fixable: false,
    source: "CSM 10.4, \"Define Global POP or IMAP Account Settings\", step 7b note (\"Leave the user name and password blank to allow Users to provide their own credentials. Also, ensure the padlock button is unlocked\")",
    docs: r#"## What it checks
An account whose incoming credentials padlock is locked (`incoming { lock credentials=#true }`,
or the account's `lock credentials=#true`) while its `incoming` block lacks a `user`, or lacks
both a `password` and a `credential`.

## Why
Step 7b's note: "Leave the user name and password blank to allow Users to provide their own
credentials. Also, ensure the padlock button is unlocked … If it is locked, click it and select
Users Can Change Credentials." Blank and locked, nobody can provide a login: neither users nor
the E-mail and Event Monitor.

## Example
```kdl bad
account "Agents" {
    protocol "imap"
    available-to-users #true
    incoming {
        server "imap.example.com"
        security "ssl"
    }
    outgoing {
        server "smtp.example.com"
        security "ssl"
        auth "same-as-incoming"
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
    outgoing {
        server "smtp.example.com"
        security "ssl"
        auth "same-as-incoming"
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
        if !a.incoming_lock().credentials || a.incoming.has_credentials() {
            continue;
        }
        out.push(
            cx.diag(
                &META,
                acc,
                &lock_rel(cx, acc, "incoming", "credentials"),
                Part::Node,
                format!(
                    "account {:?} locks the credentials but gives {}: nobody can ever log in",
                    a.name,
                    missing_login(&a.incoming)
                ),
            )
            .with_related(cx.label(acc, "incoming", Part::Key).with_text("no complete login here"))
            .with_help("add `user` and `password env=\"…\"` (or `credential`) to `incoming`, or unlock the padlock so users supply their own"),
        );
    }
}
