use super::{lock_rel, Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};

pub static META: RuleMeta = RuleMeta {
    name: "server-settings-unlocked",
    level: Level::Info,
    summary: "users may override the server, security and port (`lock server=#false`)",
    fixable: false,
    source: "CSM 10.4, \"Define Global POP or IMAP Account Settings\", introduction note (\"By default, server settings are locked and credentials are unlocked\")",
    docs: r#"## What it checks
An `incoming` or `outgoing` section whose server padlock is open: its own
`lock server=#false`, or the account's.

## Why
"By default, server settings are locked" (the page's introduction): the server, security and
port are the administrator's choice. Unlocked, each user can point the account at another server or weaken its security
(for example to `basic`), and those per-user settings are not in this file, so the file no
longer describes what is deployed.

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
    outgoing {
        server "smtp.example.com"
        security "ssl"
        auth "same-as-incoming"
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
        let a = &acc.value;
        for (block, locks) in [
            ("incoming", a.incoming_lock()),
            ("outgoing", a.outgoing_lock()),
        ] {
            if locks.server {
                continue;
            }
            out.push(
                cx.diag(
                    &META,
                    acc,
                    &lock_rel(cx, acc, block, "server"),
                    Part::Node,
                    format!(
                        "users may override the {block} server, security and port of account {:?}",
                        a.name
                    ),
                )
                .with_help("remove `server=#false` to keep the padlock locked (the default)"),
            );
        }
    }
}
