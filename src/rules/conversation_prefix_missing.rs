use super::{Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};

pub static META: RuleMeta = RuleMeta {
    name: "conversation-prefix-missing",
    level: Level::Info,
    summary: "accounts use conversation IDs but no `system` conversation prefix is set",
    fixable: false,
    docs: r#"## What it checks
At least one account sets `conversation-id`, and no checked file has
`system { conversation-prefix "…" }`. Reported once, on the first such account.

## Why
Without a configured prefix CSM generates a random one. It works, but it differs between
environments (test, production) and changes if the setting is reset, after which replies to
older mail are no longer matched to their records. Source: CSM documentation, "Global Email
Settings", Conversation ID prefix.

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
    if cx
        .project
        .systems
        .iter()
        .any(|s| s.value.conversation_prefix.is_some())
    {
        return;
    }
    let Some(acc) = cx
        .project
        .accounts
        .iter()
        .find(|a| a.value.conversation_id.is_some())
    else {
        return;
    };
    out.push(
        cx.diag(
            &META,
            acc,
            "conversation-id",
            Part::Node,
            "conversation IDs are on, but no `system` conversation prefix is set: CSM picks a random one",
        )
        .with_help("add `system { conversation-prefix \"ACME\" }` (2–8 letters or digits) to one file"),
    );
}
