use super::{Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};

pub static META: RuleMeta = RuleMeta {
    name: "server-settings-unlocked",
    level: Level::Info,
    summary: "users may override the server, security and port (`lock server=#false`)",
    fixable: false,
    docs: r#"## What it checks
An account with `lock server=#false`.

## Why
The server padlock is locked by default: the server, security and port are the administrator's
choice. Unlocked, each user can point the account at another server or weaken its security
(for example to `basic`), and those per-user settings are not in this file, so the file no
longer describes what is deployed. Source: CSM documentation, "Define a global POP/IMAP
account", padlocks.

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
    lock server=#false
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
    conversation-id "subject"
    lock server=#true
}
system {
    conversation-prefix "ACME"
}
```
"#,
};

pub fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for acc in &cx.project.accounts {
        if acc.value.lock().server() {
            continue;
        }
        out.push(
            cx.diag(
                &META,
                acc,
                "lock/server",
                Part::Node,
                format!(
                    "users may override the server, security and port of account {:?}",
                    acc.value.name
                ),
            )
            .with_help("remove `server=#false` to keep the padlock locked (the default)"),
        );
    }
}
